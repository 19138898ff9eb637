"""Issue #12 §5: the scoring defects reproduced through the pure core and the CLI, now regression tests.

* QIDS-SR16 filled as its form instructs (one of items 6/7, one of 8/9) was never scored;
* the C-SSRS screener read blank items as "no" (all blank -> "none"; item 2 yes, 3-5 blank -> "low");
* AUDIT-C used >=4 for everyone, where its sources give >=4 for men and >=3 for women.

Expected values are written from the sources (clinical.md §4.5 / §4.7, Bush 1998, Bradley 2003), by hand.
"""

import datetime as dt
import json

import pytest

from kairos.cli.main import main
from kairos.clinical.config import Override
from kairos.clinical.instruments import ClinicOptions, SexError, get, score
from kairos.clinical.rules.alerts import evaluate_alerts
from kairos.clinical.rules.instruments import RULES as INSTRUMENT_RULES

pytestmark = pytest.mark.db_independent
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The example: `kairos score qids-sr16 1 2 3 0 2 1 - 2 - 1 1 0 2 2 1 3`
QIDS_FORM = ["1", "2", "3", "0", "2", "1", "-", "2", "-", "1", "1", "0", "2", "2", "1", "3"]


def as_answers(tokens):
    return {str(n): (None if t == "-" else int(t)) for n, t in enumerate(tokens, 1)}


def codes(items):
    return [x.code for x in items]


# --- QIDS-SR16 ----------------------------------------------------------------------------------


def test_qids_form_with_one_of_each_either_or_pair_is_scored_16():
    # By hand from clinical.md §4.5: sleep max(1,2,3,0) = 3; sad mood 2; appetite/weight max(1,-,2,-) = 2;
    # concentration 1; self-criticism 1; suicidal ideation 0; interest 2; energy 2; psychomotor max(1,3) = 3.
    # 3 + 2 + 2 + 1 + 1 + 0 + 2 + 2 + 3 = 16 -> "severe" (16-20, S26).
    s = score("qids_sr16", as_answers(QIDS_FORM))
    assert s.total == 16
    assert s.severity == "severe"
    assert dict(s.domains) == {
        "sleep": 3,
        "sad_mood": 2,
        "appetite_weight": 2,
        "concentration": 1,
        "self_criticism": 1,
        "suicidal_ideation": 0,
        "interest": 2,
        "energy": 2,
        "psychomotor": 3,
    }
    assert s.missing == ()
    assert s.flags == ()  # 7 and 9 blank is what the form asks for: no gap, no flag
    assert evaluate_alerts(s) == []


def test_qids_increased_appetite_and_weight_side_answered():
    # the other halves of the pairs: 7 = 3 and 9 = 0 answered, 6 and 8 blank -> appetite/weight 3
    a = as_answers(QIDS_FORM) | {"6": None, "7": 3, "8": None, "9": 0}
    s = score("qids_sr16", a)
    assert s.domains["appetite_weight"] == 3
    assert s.total == 17


def test_qids_domain_with_no_item_answered_is_not_scored():
    a = as_answers(QIDS_FORM) | {"6": None, "8": None}  # appetite/weight: nothing answered
    s = score("qids_sr16", a)
    assert s.total is None
    assert s.domains["appetite_weight"] is None
    assert s.missing == ("6", "7", "8", "9")
    assert s.has_flag("incomplete") and s.has_flag("not_scored")
    assert s.raw_total == 14  # 16 less the appetite/weight domain's 2


def test_qids_sleep_scored_from_answered_items_is_flagged():
    a = as_answers(QIDS_FORM) | {"3": None}
    s = score("qids_sr16", a)
    assert s.domains["sleep"] == 2  # max(1, 2, 0)
    assert s.total == 15
    flag = next(f for f in s.flags if f.code == "domain_partial")
    assert "domain sleep scored from item(s) 1, 2, 4" in flag.reason and "item(s) 3 blank" in flag.reason


def test_qids_whole_either_or_pair_blank_is_flagged_but_scored():
    a = as_answers(QIDS_FORM) | {"6": None}  # 6 and 7 blank, 8 answered
    s = score("qids_sr16", a)
    assert s.domains["appetite_weight"] == 2
    assert s.total == 16
    assert [f.reason for f in s.flags if f.code == "domain_partial"] == [
        "domain appetite_weight scored from item(s) 8 (max 2); item(s) 6, 7 blank"
    ]


def test_qids_suicide_item_never_prorated():
    s = score("qids_sr16", as_answers(QIDS_FORM) | {"12": None})
    assert s.total is None
    assert s.severity is None
    assert s.missing == ("12",)
    assert codes(s.flags) == ["safety_item_unanswered", "incomplete", "not_scored"]
    assert codes(evaluate_alerts(s)) == ["safety_item_unanswered"]


def test_cli_qids_form_prints_16(capsys):
    assert main(["score", "qids-sr16", *QIDS_FORM]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "QIDS-SR16 (v1.0.0): total 16 — severe"
    assert "not scored" not in out
    assert main(["score", "qids-sr16", *QIDS_FORM, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["total"], data["severity"], data["complete"]) == (16, "severe", True)


# --- C-SSRS screener ----------------------------------------------------------------------------

ITEMS = ["1", "2", "3", "4", "5", "6", "6b"]


def cssrs(*vals):
    return score("cssrs_screener", dict(zip(ITEMS, vals, strict=True)))


def test_cssrs_all_blank_is_not_assessed_not_none():
    s = cssrs(None, None, None, None, None, None, None)
    assert s.severity is None  # was "none"
    assert s.minimum_severity == "none"
    assert s.has_flag("not_assessed")
    alerts = evaluate_alerts(s)
    assert codes(alerts) == ["safety_item_unanswered"] * 3
    assert [a.item for a in alerts] == ["1", "2", "6"]
    assert {a.urgency for a in alerts} == {"urgent"}


def test_cssrs_item2_yes_with_3_to_5_blank_is_not_assessed_alert_kept():
    s = cssrs(0, 1, None, None, None, 0, None)
    assert s.severity is None  # was "low": a blank 4 or 5 could be "high"
    assert s.minimum_severity == "low"
    assert s.missing == ("3", "4", "5")
    alerts = evaluate_alerts(s)
    assert codes(alerts) == ["cssrs_low", "safety_item_unanswered", "safety_item_unanswered",
                             "safety_item_unanswered"]  # fmt: skip
    assert alerts[0].urgency == "routine"
    assert "not assessed" in alerts[0].reason and "at least low" in alerts[0].reason


def test_cssrs_blank_that_cannot_raise_the_level_keeps_it():
    # item 4 yes is already "high": blank item 3 cannot change it (§4.7: Q4 or Q5 yes -> high)
    s = cssrs(1, 1, None, 1, 0, 0, None)
    assert s.severity == "high"
    assert not s.has_flag("not_assessed")
    assert codes(evaluate_alerts(s))[0] == "cssrs_high"


def test_cssrs_lifetime_behaviour_with_6b_blank_is_at_least_moderate():
    s = cssrs(0, 0, None, None, None, 1, None)
    assert s.severity is None  # 6b yes (past 3 months) would be high
    assert s.minimum_severity == "moderate"
    alerts = evaluate_alerts(s)
    assert codes(alerts) == ["cssrs_moderate", "safety_item_unanswered"]
    assert alerts[0].urgency == "urgent"


def test_cssrs_item6_blank_after_item1_yes():
    s = cssrs(1, 0, None, None, None, None, None)
    assert s.severity is None  # item 6 unanswered: lifetime behaviour unknown
    assert s.minimum_severity == "low"
    assert s.missing == ("6",)


@pytest.mark.parametrize(
    ("vals", "level"),
    [
        ((0, 0, None, None, None, 0, None), "none"),  # 3-5 and 6b skipped by the skip logic, not blank
        ((1, 0, None, None, None, 0, None), "low"),
        ((1, 1, 0, 0, 0, 0, None), "low"),
        ((0, 0, None, None, None, 1, 0), "moderate"),
    ],
)
def test_cssrs_skipped_items_are_not_blanks(vals, level):
    s = cssrs(*vals)
    assert s.severity == level
    assert s.minimum_severity == level
    assert not s.has_flag("not_assessed")


def test_cli_cssrs_not_assessed(capsys):
    assert main(["score", "cssrs", "-", "-", "-", "-", "-", "-", "-"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "C-SSRS Screener (v1.0.0): risk not assessed (no item answered yes)"
    assert main(["score", "cssrs", "0", "1", "-", "-", "-", "0", "-"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "C-SSRS Screener (v1.0.0): risk not assessed (the items answered yes give at least low)"
    )
    assert "ALERT [routine] cssrs_low" in out
    assert out.count("ALERT [urgent] safety_item_unanswered") == 3
    assert main(["score", "cssrs", "0", "1", "-", "-", "-", "0", "-", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["severity"], data["minimum_severity"]) == (None, "low")
    assert [a["code"] for a in data["alerts"]][0] == "cssrs_low"


# --- AUDIT-C by sex -----------------------------------------------------------------------------


def audit_c(total, **kw):
    a = {"1": min(total, 4), "2": max(total - 4, 0), "3": 0}
    return score("audit_c", a, **kw)


def test_audit_c_cutoffs_are_cited_params_safer_lower():
    men = INSTRUMENT_RULES.param("audit_c.positive_screen_min_total_men")
    women = INSTRUMENT_RULES.param("audit_c.positive_screen_min_total_women")
    assert (men.value, women.value) == (4, 3)  # Bush 1998 (men >=4); Bradley 2003 (women >=3)
    assert men.safer == women.safer == "lower"
    assert "Bush" in men.source and "Bradley" in women.source
    assert (men.minimum, men.maximum, women.minimum, women.maximum) == (1, 12, 1, 12)
    assert set(get("audit_c").cutoff_keys) == {men.key, women.key}


@pytest.mark.parametrize(
    ("sex", "total", "positive"),
    [
        ("male", 2, False),
        ("male", 3, False),
        ("male", 4, True),
        ("female", 2, False),
        ("female", 3, True),
        ("female", 4, True),
    ],
)
def test_audit_c_boundaries_by_sex(sex, total, positive):
    s = audit_c(total, sex=sex)
    assert s.total == total
    assert s.severity == ("positive screen" if positive else "negative screen")
    assert not s.has_flag("lower_cutoff_used")


@pytest.mark.parametrize("sex", [None, "unknown", "other"])
@pytest.mark.parametrize(("total", "positive"), [(2, False), (3, True), (4, True)])
def test_audit_c_unrecorded_sex_uses_lower_cutoff_flagged(sex, total, positive):
    s = audit_c(total, sex=sex)
    assert s.severity == ("positive screen" if positive else "negative screen")
    flag = next(f for f in s.flags if f.code == "lower_cutoff_used")
    why = "sex recorded as 'other'" if sex == "other" else "sex not recorded"
    assert flag.reason.startswith(f"{why}: the lower cut-off (>=3) was used")


def test_audit_c_lower_cutoff_follows_clinic_overrides():
    rules = INSTRUMENT_RULES.with_overrides(
        [Override("audit_c.positive_screen_min_total_men", 2, "dr-a", NOW, "local protocol")]
    )
    opts = ClinicOptions(rules=rules)
    assert audit_c(2, sex="male", clinic_options=opts).severity == "positive screen"
    assert audit_c(2, sex="female", clinic_options=opts).severity == "negative screen"
    s = audit_c(2, clinic_options=opts)
    assert s.severity == "positive screen"  # the lower of 2 and 3
    assert ">=2" in next(f.reason for f in s.flags if f.code == "lower_cutoff_used")


def test_audit_c_bad_sex_names_field_and_choices():
    with pytest.raises(SexError, match=r"sex: 'f' is not one of female, male, other, unknown"):
        audit_c(3, sex="f")


def test_sex_does_not_change_other_instruments():
    a = {str(n): 1 for n in range(1, 10)}
    assert score("phq9", a, sex="female").to_dict() == score("phq9", a).to_dict()


def test_cli_audit_c_sex(capsys):
    assert main(["score", "audit-c", "2", "1", "0", "--sex", "female"]) == 0
    assert capsys.readouterr().out.splitlines() == ["AUDIT-C (v1.0.0): total 3 — positive screen"]
    assert main(["score", "audit-c", "2", "1", "0", "--sex", "male"]) == 0
    assert capsys.readouterr().out.splitlines() == ["AUDIT-C (v1.0.0): total 3 — negative screen"]
    assert main(["score", "audit-c", "2", "1", "0"]) == 0
    out = capsys.readouterr().out
    assert "total 3 — positive screen" in out
    assert "flag lower_cutoff_used: sex not recorded: the lower cut-off (>=3) was used" in out
    assert main(["score", "audit-c", "2", "1", "0", "--sex", "MALE", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["severity"] == "negative screen"


def test_cli_audit_c_bad_sex_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["score", "audit-c", "2", "1", "0", "--sex", "f"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--sex" in err and "'female'" in err and "'male'" in err
