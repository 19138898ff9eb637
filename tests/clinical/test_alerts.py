"""Safety alerts: one cited table; item alerts are never suppressed by a low total."""

import datetime as dt

import pytest

from kairos.clinical.config import ConfigError, Override, Status
from kairos.clinical.instruments import all_instruments, score
from kairos.clinical.rules.alerts import ITEM_ALERTS, RULES, Alert, evaluate_alerts

pytestmark = pytest.mark.db_independent
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def zeros(n):
    return {str(i): 0 for i in range(1, n + 1)}


def codes(alerts):
    return [a.code for a in alerts]


@pytest.mark.parametrize("v9", [1, 2, 3])
def test_phq9_item9_alert_with_minimal_total(v9):
    s = score("phq9", zeros(9) | {"9": v9})
    assert s.severity == "none/minimal"  # total 1-3: a low total must not suppress the item alert
    alerts = evaluate_alerts(s)
    assert codes(alerts) == ["phq9_item9"]
    assert alerts[0].urgency == "urgent"
    assert alerts[0].item == "9"
    assert "§4.3" in alerts[0].source


def test_phq9_item9_zero_no_alert_and_variant_alerts():
    assert evaluate_alerts(score("phq9", zeros(9))) == []
    assert codes(evaluate_alerts(score("phq9_24h", zeros(9) | {"9": 1}))) == ["phq9_item9"]


@pytest.mark.parametrize(
    ("iid", "n", "item", "below", "at"),
    [("qids_sr16", 16, "12", 0, 1), ("madrs", 10, "10", 3, 4), ("hamd17", 17, "3", 0, 1)],
)
def test_item_thresholds_from_reference(iid, n, item, below, at):
    assert evaluate_alerts(score(iid, zeros(n) | {item: below})) == []
    alerts = evaluate_alerts(score(iid, zeros(n) | {item: at}))
    assert len(alerts) == 1
    assert alerts[0].urgency == "urgent"
    assert alerts[0].item == item


def test_qids_alert_survives_unscored_total():
    a = zeros(16) | {"12": 2, "5": None}  # sad mood (a one-item domain) blank: no total
    s = score("qids_sr16", a)
    assert s.total is None
    assert codes(evaluate_alerts(s)) == ["qids_item12"]


@pytest.mark.parametrize(
    ("answers", "code", "urgency"),
    [
        ({"1": 1, "2": 0, "6": 0}, "cssrs_low", "routine"),
        ({"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0}, "cssrs_moderate", "urgent"),
        ({"1": 1, "2": 1, "3": 0, "4": 0, "5": 1, "6": 0}, "cssrs_high", "urgent"),
    ],
)
def test_cssrs_levels(answers, code, urgency):
    alerts = evaluate_alerts(score("cssrs_screener", answers))
    assert [(a.code, a.urgency) for a in alerts] == [(code, urgency)]


def test_cssrs_none_no_alert():
    assert evaluate_alerts(score("cssrs_screener", {"1": 0, "2": 0, "6": 0})) == []


def test_blank_safety_item_alerts():
    alerts = evaluate_alerts(score("phq9", zeros(9) | {"9": None}))
    assert codes(alerts) == ["safety_item_unanswered"]
    assert alerts[0].item == "9"


def test_moaas_and_bladder_alerts():
    assert codes(evaluate_alerts(score("moaas", {"1": 0}))) == ["moaas_loss_of_consciousness"]
    assert evaluate_alerts(score("moaas", {"1": 1})) == []
    assert codes(evaluate_alerts(score("bladder_sx", zeros(5) | {"5": 1}))) == ["bladder_pain_or_haematuria"]
    routine = evaluate_alerts(score("bladder_sx", zeros(5) | {"1": 1}))
    assert [(a.code, a.urgency) for a in routine] == [("bladder_any_symptom", "routine")]
    assert evaluate_alerts(score("bladder_sx", zeros(5))) == []


def test_clinic_override_of_threshold_and_urgency():
    rules = RULES.with_overrides(
        [
            Override("madrs_item10.min_value", 2, "dr-a", NOW, "local SOP"),
            Override("cssrs_low.urgency", "urgent", "dr-a", NOW, "local SOP"),
        ]
    )
    assert codes(evaluate_alerts(score("madrs", zeros(10) | {"10": 2}), rules)) == ["madrs_item10"]
    assert evaluate_alerts(score("cssrs_screener", {"1": 1, "2": 0, "6": 0}), rules)[0].urgency == "urgent"
    with pytest.raises(ConfigError):
        RULES.with_overrides([Override("cssrs_low.urgency", "later", "dr-a", NOW, "x")])


def test_table_is_cited_and_unconfirmed_marked():
    assert RULES.name == "alerts"
    for p in RULES:
        assert p.source
    unconfirmed = {p.key for p in RULES.unconfirmed()}
    assert {"qids_item12.min_value", "madrs_item10.min_value", "hamd_item3.min_value"} <= unconfirmed
    for rule in ITEM_ALERTS:
        RULES.param(rule.threshold_key)
    assert RULES.param("phq9_item9.min_value").status is Status.PARTIAL


def test_instrument_alert_codes_consistent_with_table():
    declared = {c for i in all_instruments() for c in i.alert_codes}
    table = {r.code for r in ITEM_ALERTS} | {
        "cssrs_low", "cssrs_moderate", "cssrs_high", "bladder_pain_or_haematuria", "bladder_any_symptom",
    }  # fmt: skip
    assert declared == table
    for code in declared:
        RULES.param(f"{code}.urgency")


def test_alert_to_dict():
    a = Alert("x", "urgent", "why", "src", "9")
    assert a.to_dict() == {"code": "x", "urgency": "urgent", "reason": "why", "source": "src", "item": "9"}
