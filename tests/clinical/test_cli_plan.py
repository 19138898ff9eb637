"""`kairos plan` CLI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kairos.cli.main import main


def test_iv_plan_shows_admixture_and_rate(capsys):
    assert main(["plan", "iv-racemic", "--start", "2026-03-02", "--weight", "70"]) == 0
    out = capsys.readouterr().out
    assert "# 1  2026-03-02 Mon  induction" in out
    assert "35 mg base" in out
    assert "3.5 mL of 10 mg/mL in 100 mL" in out
    assert "150 mL/h over 40.0 min" in out
    assert out.count("induction") == 6


def test_kap_plan_shows_integration_windows(capsys):
    assert main(["plan", "sublingual-kap", "--start", "2026-03-02"]) == 0
    out = capsys.readouterr().out
    assert "prep  1  2026-03-02" in out
    assert "integration 2026-03-18..2026-03-20  booked 2026-03-18" in out


def test_json_output(capsys):
    assert main(["plan", "esketamine-trd", "--start", "2026-03-02", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["sessions"]) == 16
    assert data["sessions"][0]["dose_mg"] == 56


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["plan", "nope", "--start", "2026-03-02"], "PROTOCOL: 'nope' is not one of"),
        (
            ["plan", "iv-racemic", "--start", "2026-02-30", "--weight", "70"],
            "--start: '2026-02-30' is not a date",
        ),
        (["plan", "iv-racemic", "--start", "2026-03-02"], r"--weight: required for iv-racemic"),
        (["plan", "im-racemic", "--start", "2026-03-02"], r"--weight: required for im-racemic"),
        (["plan", "iv-racemic", "--start", "2026-03-02", "--weight", "abc"], r"\[30, 300\] kg"),
        (["plan", "iv-racemic", "--start", "2026-03-02", "--weight", "900"], r"\[30, 300\] kg"),
        (["plan", "iv-racemic", "--start", "2026-03-02", "--weight", "inf"], r"\[30, 300\] kg"),
        # a start so late that the plan would run past the last representable date (was an OverflowError)
        (
            ["plan", "esketamine-trd", "--start", "9999-12-31"],
            r"start: 9999-12-31 is too late; .* 9999-12-31",
        ),
    ],
)
def test_bad_input_exit_2(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "kairos plan: error:" in err
    import re

    assert re.search(msg, err)


def test_real_console_script():
    exe = Path(sys.executable).parent / "kairos"
    r = subprocess.run(
        [str(exe), "plan", "esketamine-mdsi", "--start", "2026-03-02"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "84 mg base" in r.stdout
    assert "3 device(s)" in r.stdout
    bad = subprocess.run(
        [str(exe), "plan", "esketamine-mdsi", "--start", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "--start" in bad.stderr
