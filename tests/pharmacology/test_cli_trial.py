import json
import subprocess
import sys
from pathlib import Path

import pytest

from kairos.cli.main import main


def test_trial_json(capsys):
    assert main(["trial", "--protocol", "iv-racemic", "--n", "64", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 64 and 0 <= out["response_rate"]["rate"] <= 1


def test_trial_compare_text_and_plot(capsys, tmp_path):
    png = tmp_path / "t.png"
    assert (
        main(
            [
                "trial",
                "--protocol",
                "iv-racemic",
                "--compare",
                "esketamine-trd",
                "--n",
                "32",
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    assert "difference A-B" in capsys.readouterr().out
    assert png.stat().st_size > 0


def test_progress_only_when_asked(capsys):
    assert main(["trial", "--protocol", "iv-racemic", "--n", "16", "--progress"]) == 0
    assert "chunks" in capsys.readouterr().err
    assert main(["trial", "--protocol", "iv-racemic", "--n", "16"]) == 0
    assert "chunks" not in capsys.readouterr().err


@pytest.mark.parametrize("protocol", ["im-racemic", "sublingual-kap"])
def test_protocols_without_a_pk_model_are_refused_by_name(capsys, protocol):
    """IM and racemic sublingual have no PK model in the library (reference: IM bioavailability only from
    an unconfirmed secondary source), so a trial refuses them instead of inventing parameters."""
    rc = main(["trial", "--protocol", protocol, "--n", "8"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "supported" in err.lower()


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--protocol", "nope", "--n", "5"], "protocol"),
        (["--protocol", "iv-racemic", "--n", "0"], "n:"),
        (["--protocol", "iv-racemic", "--n", "5", "--plot", "x.pdf"], "plot"),
        # n = 1 printed NaN confidence intervals in the JSON
        (["--protocol", "iv-racemic", "--n", "1", "--json"], "n: must be between 2 and 10000000"),
        # an empty --compare silently ran one arm
        (["--protocol", "iv-racemic", "--n", "5", "--compare", ""], "compare: must be one of"),
        # an unwritable plot path was a FileNotFoundError traceback after the whole simulation
        (["--protocol", "iv-racemic", "--n", "5", "--plot", "/nonexistent-dir/x.png"], "plot:"),
    ],
)
def test_bad_input_exits_2(capsys, argv, field):
    assert main(["trial", *argv]) == 2
    assert field in capsys.readouterr().err


def test_real_console_script():
    exe = Path(sys.executable).with_name("kairos")
    r = subprocess.run(
        [str(exe), "trial", "--protocol", "esketamine-trd", "--n", "8", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["regimen"] == "esketamine-trd"
