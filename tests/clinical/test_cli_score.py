"""``kairos score``: JSON and text output, missing answers, exit status 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kairos.cli.main import main

pytestmark = pytest.mark.db_independent


def run_json(capsys, *argv):
    rc = main(["score", *argv, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out) if rc == 0 else out


def test_phq9_json(capsys):
    rc, data = run_json(capsys, "phq9", "1", "2", "3", "0", "1", "0", "2", "3", "0")
    assert rc == 0
    assert data["total"] == 12
    assert data["severity"] == "moderate"
    assert data["flags"] == []
    assert data["alerts"] == []


def test_item9_alert_in_json(capsys):
    rc, data = run_json(capsys, "phq9", "0", "0", "0", "0", "0", "0", "0", "0", "1")
    assert rc == 0
    assert data["total"] == 1
    assert [a["code"] for a in data["alerts"]] == ["phq9_item9"]


def test_missing_answer_dash(capsys):
    rc, data = run_json(capsys, "phq9", "1", "2", "3", "0", "1", "-", "2", "3", "0")
    assert rc == 0
    assert data["total"] == 14
    assert data["prorated"] is True
    assert "prorated" in [f["code"] for f in data["flags"]]


def test_optional_difficulty_item_accepted(capsys):
    rc, data = run_json(capsys, "PHQ-9", *(["3"] * 10))
    assert rc == 0
    assert data["total"] == 27


def test_bad_answer_exits_2_naming_item(capsys):
    rc = main(["score", "phq9", "1", "2", "3", "0", "1", "0", "2", "3", "4"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "item 9" in err
    assert "0, 1, 2, 3" in err
    assert main(["score", "gad7", "1", "x", "0", "0", "0", "0", "0"]) == 2
    assert "item 2" in capsys.readouterr().err


def test_wrong_count_and_unknown_instrument_exit_2(capsys):
    assert main(["score", "gad7", "1", "2"]) == 2
    assert "needs 7 answers" in capsys.readouterr().err
    assert main(["score", "nope", "1"]) == 2
    assert "unknown instrument" in capsys.readouterr().err


def test_human_output(capsys):
    rc = main(["score", "madrs", *(["0"] * 9), "4"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "MADRS" in out
    assert "licence_not_declared" in out
    assert "ALERT [urgent] madrs_item10" in out
    rc = main(["score", "phq9", "1", "-", "1", "1", "1", "1", "1", "1", "0"])
    assert "prorated from raw 7" in capsys.readouterr().out
    assert main(["score", "cssrs", "0", "0", "-", "-", "-", "0", "-"]) == 0
    assert "C-SSRS Screener (v1.0.0): risk none" in capsys.readouterr().out


def test_real_console_script():
    exe = Path(sys.executable).with_name("kairos")
    proc = subprocess.run(
        [str(exe), "score", "gad7", "2", "3", "2", "1", "2", "1", "2", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"] == 13  # mii-gad7-01
