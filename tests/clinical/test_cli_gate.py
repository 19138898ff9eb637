"""`kairos gate predose|monitoring|discharge` (issue #12 §7): the pure gates on the command line."""

import json
import subprocess
import sys

import pytest

from kairos.cli.main import main

ESK = ["--protocol", "esketamine-trd"]
NORMAL = ["--bp", "120/80", "--hr", "70", "--rr", "14", "--spo2", "98"]


def gate(capsys, *argv):
    code = main(["gate", *argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_normal_predose_reading_is_ok_and_lists_what_it_did_not_assess(capsys):
    data = gate(capsys, "predose", *ESK, *NORMAL)
    assert data["decision"] == "ok"
    assert data["findings"] == []
    assert data["route"] == "esketamine"
    assert [n.split(" (")[0] for n in data["not_assessed"]] == [
        "fasting",
        "ride home",
        "no-driving acknowledgement",
    ]


def test_finding_shape_and_value(capsys):
    data = gate(capsys, "predose", *ESK, *NORMAL, "--ride-home", "no")
    assert data["decision"] == "hold"
    (finding,) = data["findings"]
    assert set(finding) == {"rule_id", "outcome", "message", "value", "source"}
    assert finding["rule_id"] == "no_ride_home"
    assert finding["outcome"] == "hold"
    assert finding["source"]


def test_worst_finding_decides_escalate_over_hold(capsys):
    data = gate(capsys, "predose", *ESK, *NORMAL, "--ride-home", "no", "--symptom", "chest_pain")
    assert {f["rule_id"] for f in data["findings"]} == {"no_ride_home", "hypertensive_crisis_symptoms"}
    assert data["decision"] == "escalate"


def test_fasting_is_judged_when_given(capsys):
    data = gate(
        capsys, "predose", *ESK, *NORMAL, "--minutes-since-food", "60", "--minutes-since-liquid", "45"
    )
    assert [f["rule_id"] for f in data["findings"]] == ["recent_food"]
    assert data["decision"] == "caution"
    assert not any(n.startswith("fasting") for n in data["not_assessed"])


def test_monitoring_bp_rise_boundary(capsys):
    below = gate(capsys, "monitoring", *ESK, "--bp", "159/104", "--hr", "70", "--rr", "14", "--spo2", "98",
                 "--baseline-bp", "120/80")  # fmt: skip
    assert below["decision"] == "ok"
    at = gate(capsys, "monitoring", *ESK, "--bp", "160/80", "--hr", "70", "--rr", "14", "--spo2", "98",
              "--baseline-bp", "120/80")  # fmt: skip
    assert [f["rule_id"] for f in at["findings"]] == ["bp_significant_rise"]
    assert at["findings"][0]["value"] == "160/80 mmHg (pre-dose 120/80)"
    assert at["decision"] == "caution"


def test_monitoring_without_baseline_says_rise_not_assessed(capsys):
    data = gate(capsys, "monitoring", *ESK, *NORMAL)
    assert data["not_assessed"] == ["BP rise from pre-dose (give --baseline-bp)"]


def discharge(capsys, *extra, protocol=ESK, minutes="130"):
    return gate(
        capsys,
        "discharge",
        *protocol,
        *NORMAL,
        "--moaas",
        "5",
        "--minutes-since-dose",
        minutes,
        "--baseline-bp",
        "120/80",
        "--escort",
        "yes",
        "--dissociation-resolved",
        "yes",
        *extra,
    )


def test_discharge_ready_is_ok(capsys):
    data = discharge(capsys)
    assert (data["decision"], data["ready"], data["findings"]) == ("ok", True, [])


@pytest.mark.parametrize(("minutes", "ready"), [("119", False), ("120", True)])
def test_discharge_not_ready_is_hold_esketamine_two_hours(capsys, minutes, ready):
    data = discharge(capsys, minutes=minutes)
    assert data["ready"] is ready
    assert data["decision"] == ("ok" if ready else "hold")
    if not ready:
        assert [f["rule_id"] for f in data["findings"]] == ["min_observation"]
        assert data["findings"][0]["value"] == "119 min since the first dose"


@pytest.mark.parametrize(("moaas", "decision"), [("4", "hold"), ("5", "ok")])
def test_discharge_moaas_boundary(capsys, moaas, decision):
    argv = ["discharge", *ESK, *NORMAL, "--minutes-since-dose", "130", "--baseline-bp", "120/80"]
    data = gate(capsys, *argv, "--moaas", moaas, "--escort", "yes", "--dissociation-resolved", "yes")
    assert data["decision"] == decision


def test_discharge_without_moaas_is_hold(capsys):
    argv = ["discharge", *ESK, *NORMAL, "--minutes-since-dose", "130", "--escort", "yes"]
    data = gate(capsys, *argv, "--dissociation-resolved", "yes")
    assert "moaas_missing" in [f["rule_id"] for f in data["findings"]]
    assert data["decision"] == "hold"


def test_discharge_iv_counts_from_the_end_of_the_infusion(capsys):
    iv = ["--protocol", "iv-racemic"]
    assert discharge(capsys, "--minutes-since-end", "30", protocol=iv, minutes="70")["decision"] == "ok"
    early = discharge(capsys, "--minutes-since-end", "29", protocol=iv, minutes="69")
    assert early["decision"] == "hold"


def test_human_output_one_line_per_finding_and_the_decision(capsys):
    assert main(["gate", "predose", *ESK, *NORMAL, "--ride-home", "no", "--symptom", "chest_pain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "escalate  hypertensive_crisis_symptoms [chest_pain]: Symptoms of hypertensive"
    )
    assert lines[1].startswith("hold      no_ride_home: ")
    assert lines[-1] == "decision: escalate"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["predose", "--protocol", "nope", *NORMAL], "--protocol: 'nope' is not one of"),
        (["predose", "--protocol", "sublingual-kap", *NORMAL], "--protocol: sublingual-kap (sublingual) has no"),
        (["predose", *ESK, "--bp", "120", "--hr", "70", "--rr", "14", "--spo2", "98"], "--bp: '120' is not SBP/DBP"),
        (["predose", *ESK, "--bp", "301/80", "--hr", "70", "--rr", "14", "--spo2", "98"],
         "--bp (systolic): '301' is outside the allowed range [50, 300] mmHg"),
        (["predose", *ESK, "--bp", "80/120", "--hr", "70", "--rr", "14", "--spo2", "98"],
         "--bp: diastolic 120 must be below systolic 80 mmHg"),
        (["predose", *ESK, "--bp", "120/80", "--hr", "251", "--rr", "14", "--spo2", "98"],
         "--hr: '251' is outside the allowed range [20, 250] /min"),
        (["predose", *ESK, "--bp", "120/80", "--hr", "70", "--rr", "1", "--spo2", "98"],
         "--rr: '1' is outside the allowed range [2, 80] /min"),
        (["predose", *ESK, "--bp", "120/80", "--hr", "70", "--rr", "14", "--spo2", "nan"],
         "--spo2: 'nan' is outside the allowed range [50, 100] %"),
        (["predose", *ESK, *NORMAL, "--moaas", "6"], "--moaas: '6' is not a whole number in [0, 5]"),
        (["discharge", *ESK, *NORMAL, "--moaas", "5"], "--minutes-since-dose: required for discharge"),
        (["discharge", "--protocol", "iv-racemic", *NORMAL, "--minutes-since-dose", "90"],
         "--minutes-since-end: required for discharge after an IV infusion"),
        (["discharge", *ESK, *NORMAL, "--minutes-since-dose", "-1"],
         "--minutes-since-dose: '-1' is outside the allowed range [0, 1440] min"),
        (["monitoring", *ESK, *NORMAL, "--baseline-bp", "abc"], "--baseline-bp: 'abc' is not SBP/DBP"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_naming_the_option_and_range(capsys, argv, message):
    assert main(["gate", *argv]) == 2
    err = capsys.readouterr().err
    assert f"kairos gate: error: {message}" in err


def test_missing_required_option_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["gate", "predose", *ESK, "--bp", "120/80", "--hr", "70", "--spo2", "98"])
    assert exc.value.code == 2


def test_gate_imports_no_django():
    code = (
        "import sys, json; from kairos.cli.main import main; "
        "main(['gate', 'predose', '--protocol', 'esketamine-trd', '--bp', '120/80', '--hr', '70', "
        "'--rr', '14', '--spo2', '98', '--json']); "
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')]"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"] == "ok"


# --- the reproduced cases (#12 §1, §3) through the command line ---------------------------------------


def codes(data):
    return {f["rule_id"]: f["outcome"] for f in data["findings"]}


def test_predose_hr_160_with_rr_4_holds(capsys):
    data = gate(capsys, "predose", *ESK, "--bp", "120/80", "--hr", "160", "--rr", "4", "--spo2", "98")
    assert data["decision"] == "hold"
    assert {f["value"] for f in data["findings"]} == {"160 /min", "4 /min"}


def test_in_session_rr_5_with_hr_35_escalates(capsys):
    data = gate(capsys, "monitoring", *ESK, "--bp", "120/80", "--hr", "35", "--rr", "5", "--spo2", "97",
                "--baseline-bp", "120/80")  # fmt: skip
    assert data["decision"] == "escalate"
    assert set(codes(data).values()) == {"escalate"}
    assert len(data["findings"]) == 2


def test_single_spo2_81_holds_predose(capsys):
    data = gate(capsys, "predose", *ESK, "--bp", "120/80", "--hr", "70", "--rr", "14", "--spo2", "81")
    assert data["decision"] == "hold"
    assert "hold" in codes(data).values()


@pytest.mark.parametrize(
    ("bp", "decision"), [("180/80", "hold"), ("160/120", "hold"), ("179/119", "caution")]
)
def test_esketamine_predose_crisis_level_holds(capsys, bp, decision):
    data = gate(capsys, "predose", *ESK, "--bp", bp, "--hr", "70", "--rr", "14", "--spo2", "98")
    assert data["decision"] == decision


def test_in_session_crisis_level_escalates(capsys):
    data = gate(capsys, "monitoring", *ESK, "--bp", "230/130", "--hr", "70", "--rr", "14", "--spo2", "97",
                "--baseline-bp", "120/80")  # fmt: skip
    assert data["decision"] == "escalate"


def test_discharge_185_108_is_not_ready(capsys):
    data = gate(capsys, "discharge", *ESK, "--bp", "185/108", "--hr", "70", "--rr", "14", "--spo2", "97",
                "--moaas", "5", "--minutes-since-dose", "200", "--baseline-bp", "160/100",
                "--escort", "yes", "--dissociation-resolved", "yes")  # fmt: skip
    assert data["ready"] is False
    assert data["decision"] == "hold"
