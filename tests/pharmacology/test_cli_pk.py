"""``kairos pk`` command-line contract."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

import pytest

from kairos.cli.main import main

pytestmark = pytest.mark.db_independent

T = TypeVar("T")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object] | None, str]:
    rc = main(["pk", *args])
    out = capsys.readouterr()
    data = json.loads(out.out) if rc == 0 and "--json" in args else None
    return rc, data, out.err


# The JSON is read untyped: these narrow one value, asserting its shape.
def _typed(kind: type[T], value: object) -> T:
    assert isinstance(value, kind), f"expected {kind.__name__}, got {value!r}"
    return value


def _num(value: object) -> float:
    assert isinstance(value, int | float), f"expected a number, got {value!r}"
    return value


def _nums(value: object) -> list[float]:
    return [_num(v) for v in _typed(list, value)]


def test_intranasal_all_devices_at_once_matches_reference(capsys: pytest.CaptureFixture[str]) -> None:
    rc, d, _ = _run(
        capsys,
        "--model",
        "perez-ruixo-2021",
        "--route",
        "intranasal",
        "--dose",
        "56",
        "--device-interval",
        "0",
        "--json",
    )
    assert rc == 0
    assert d is not None
    assert d["cmax_ng_per_ml"] == pytest.approx(73, rel=0.02)
    assert d["tmax_min"] == pytest.approx(38, rel=0.02)
    assert d["auc_ng_h_per_ml"] == pytest.approx(254, rel=0.02)
    assert d["bioavailability"] == pytest.approx(0.54, abs=0.006)
    assert _nums(d["times_min"])[:3] == [0.0, 5.0, 10.0]
    assert _nums(d["times_min"])[-1] == 1440.0
    assert d["covariates"] == {"weight_kg": 70.0, "age_y": 40.0}
    assert d["covariates_ignored"] == ["weight_kg"]
    assert _typed(str, d["metabolite_analyte"]).startswith("noresketamine")
    assert "1.4" in _typed(str, d["metabolite_note"])
    assert d["sampling_site"] == "venous plasma"
    assert d["model"] == "perez-ruixo-2021"
    assert len(_typed(list, d["dose_events"])) == 2


def test_default_device_spacing_and_tmax_not_on_grid(capsys: pytest.CaptureFixture[str]) -> None:
    rc, d, _ = _run(capsys, "--model", "perez-ruixo-2021", "--route", "intranasal", "--dose", "84", "--json")
    assert rc == 0
    assert d is not None
    assert [_typed(dict, e)["start_min"] for e in _typed(list, d["dose_events"])] == [0.0, 5.0, 10.0]
    assert 40 < _num(d["tmax_min"]) < 50
    assert _num(d["tmax_min"]) % 5 != 0
    assert _num(d["cmax_ng_per_ml"]) >= max(_nums(d["parent_ng_per_ml"]))


def test_racemic_adds_s_and_r_series_and_salt_conversion(capsys: pytest.CaptureFixture[str]) -> None:
    rc, d, _ = _run(
        capsys, "--model", "fanta-otto-2021", "--drug", "racemic", "--route", "iv", "--dose", "5.767", "--salt", "hcl",
        "--duration", "30", "--times", "0,30,60,120", "--json",
    )  # fmt: skip
    assert rc == 0
    assert d is not None
    assert d["dose_mg_base"] == pytest.approx(5.767 * 237.73 / 274.19)  # reference molar masses
    s, r, tot = _nums(d["parent_s_ng_per_ml"]), _nums(d["parent_r_ng_per_ml"]), _nums(d["parent_ng_per_ml"])
    assert all(math.isclose(a + b, c, rel_tol=1e-12) for a, b, c in zip(s, r, tot, strict=True))
    assert all(b >= a for a, b in zip(s[1:], r[1:], strict=True))  # R cleared more slowly (CL ratio < 1)
    assert d["metabolite_analyte"] == "S-norketamine"
    assert d["bioavailability"] == 1.0
    assert d["covariates_ignored"] == ["age_y"]


def test_oral_fanta_has_null_metabolite_and_never_nan(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "pk",
            "--model",
            "fanta-otto-2021",
            "--drug",
            "esketamine",
            "--route",
            "oral",
            "--dose",
            "50",
            "--json",
        ]
    )
    text = capsys.readouterr().out
    assert rc == 0
    assert "NaN" not in text
    d = json.loads(text)
    assert d["metabolite_ng_per_ml"] is None
    assert d["bioavailability"] == pytest.approx(0.08)


def test_covariate_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    rc, d, _ = _run(
        capsys,
        "--model",
        "simons-2022",
        "--route",
        "sublingual",
        "--dose",
        "200",
        "--weight",
        "120",
        "--age",
        "70",
        "--json",
    )
    assert rc == 0
    assert d is not None
    text = " ".join(_typed(str, w) for w in _typed(list, d["warnings"]))
    assert "weight_kg" in text
    assert "age_y" in text
    assert "50-100 mg" in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--model", "fanta-otto-2021", "--route", "iv", "--dose", "10"], "--drug"),
        (["--model", "perez-ruixo-2021", "--drug", "racemic", "--route", "iv", "--dose", "10"], "--drug"),
        (["--model", "domino-1984", "--route", "oral", "--dose", "10"], "supports iv"),
        (["--model", "perez-ruixo-2021", "--route", "intranasal", "--dose", "30"], "28 mg"),
        (["--model", "perez-ruixo-2021", "--route", "oral", "--dose", "84", "--duration", "5"], "--duration"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "35", "--weight", "20"], "30 and 250"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "35", "--age", "101"], "18 and 100"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "35", "--times", "0,10,5"], "increasing"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "35", "--times=-1,5"], "non-negative"),
        (["--model", "nope", "--route", "iv", "--dose", "35"], "--model"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "0"], "--dose"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "35", "--times", "a,b"], "--times"),
        (["--model", "domino-1984", "--route", "iv", "--dose", "nan"], "--dose"),
    ],
)
def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], args: list[str], fragment: str) -> None:
    rc = main(["pk", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert fragment in err


def test_text_output_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "pk.png"
    rc = main(
        [
            "pk",
            "--model",
            "clements-1981",
            "--route",
            "iv",
            "--dose",
            "35",
            "--times",
            "0,40,120",
            "--plot",
            str(png),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "Cmax" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_real_console_script() -> None:
    exe = Path(sys.executable).with_name("kairos")
    proc = subprocess.run(
        [str(exe), "pk", "--model", "domino-1984", "--route", "iv", "--dose", "35", "--times", "0,40", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["parent_ng_per_ml"][1] == pytest.approx(240, rel=0.01)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("pk.txt", "--plot: Format 'txt' is not supported"),  # was a matplotlib ValueError traceback
        ("missing-dir/pk.png", "--plot: cannot write"),
    ],
)
def test_bad_plot_path_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, fragment: str
) -> None:
    rc = main(
        ["pk", "--model", "domino-1984", "--route", "iv", "--dose", "35", "--plot", str(tmp_path / name)]
    )
    assert rc == 2
    assert fragment in capsys.readouterr().err
