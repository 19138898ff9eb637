"""Every vital sign judged (issue #12 §1): heart rate, respiratory rate, a single-reading SpO₂ floor and
hypertensive-crisis blood pressure, pre-dose (hold) and in session (escalate), with boundaries both sides.

Expected values are written from the sources the params cite (ACC/AHA 2017 crisis ≥180/≥120 as issue #12
sets it; clinic-protocol defaults HR hold <40 / >120, caution <50 / >110; RR hold <8 / >30, caution <10 /
>24; SpO₂ floor <90 %), not recomputed from the rule set.
"""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.config import ConfigError, Override, Status
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.monitoring import evaluate_reading
from kairos.clinical.safety.predose import predose_gate
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import Vitals

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DOSE = T0 + dt.timedelta(minutes=15)
ROUTES = ["esketamine", "iv", "im", "sc"]
NORMAL = dict(sbp=124, dbp=78, heart_rate=72, spo2=98, resp_rate=14)


def pre(route="esketamine", rules=RULES, **values):
    reading = Vitals(at=T0, **{**NORMAL, **values})
    return predose_gate(
        route=route,
        readings=[reading],
        planned_dose_at=DOSE,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        last_food_at=T0 - dt.timedelta(hours=3),
        last_liquid_at=T0 - dt.timedelta(hours=1),
        rules=rules,
    )


def during(route="esketamine", rules=RULES, baseline=True, **values):
    base = Vitals(at=T0, **NORMAL) if baseline else None
    reading = Vitals(at=T0 + dt.timedelta(minutes=40), **{**NORMAL, **values})
    return evaluate_reading(route=route, reading=reading, baseline=base, rules=rules)


# --- reproduced cases ------------------------------------------------------------------------------------


def test_reproduced_predose_hr_160_rr_4_holds():
    result = pre(heart_rate=160, resp_rate=4)
    assert result.outcome is Outcome.HOLD
    assert set(result.codes) == {"tachycardia_severe", "respiratory_depression"}
    by_code = {f.code: f for f in result.findings}
    assert "Heart rate 160/min" in by_code["tachycardia_severe"].message
    assert "above 120/min" in by_code["tachycardia_severe"].message
    assert "Respiratory rate 4/min" in by_code["respiratory_depression"].message
    assert "below 8/min" in by_code["respiratory_depression"].message
    assert "⚠" in by_code["respiratory_depression"].source


def test_reproduced_in_session_rr_5_hr_35_escalates():
    result = during(resp_rate=5, heart_rate=35)
    assert result.outcome is Outcome.ESCALATE
    assert set(result.codes) == {"respiratory_depression", "bradycardia_severe"}
    assert all("stop further devices / the infusion" in f.message for f in result.findings)


@pytest.mark.parametrize("spo2", [80, 81, 82])
def test_reproduced_single_spo2_80_to_82_holds_pre_dose_and_escalates_in_session(spo2):
    p = pre(spo2=spo2)
    assert p.outcome is Outcome.HOLD
    assert "spo2_below_floor" in p.codes
    d = during(spo2=spo2)
    assert d.outcome is Outcome.ESCALATE
    assert "spo2_below_floor" in d.codes
    # the two-consecutive rule still stands beside it (a single low check alone asks for a re-check)
    assert "spo2_low_recheck" in d.codes


def test_reproduced_esketamine_220_130_pre_dose_holds():
    result = pre(sbp=220, dbp=130)
    assert result.outcome is Outcome.HOLD
    assert result.codes == ["bp_hypertensive_crisis"]
    assert "220/130 mmHg" in result.findings[0].message
    assert "ACC/AHA 2017" in result.findings[0].source


def test_reproduced_esketamine_230_130_in_session_escalates_and_stops_further_devices():
    result = during(sbp=230, dbp=130)
    assert result.outcome is Outcome.ESCALATE
    (crisis,) = [f for f in result.findings if f.code == "bp_hypertensive_crisis"]
    assert crisis.severity is Outcome.ESCALATE
    assert "stop further devices / the infusion" in crisis.message
    assert "230/130 mmHg" in crisis.message


# --- blood pressure: crisis level on every route, label guide kept ---------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("sbp", "dbp", "crisis"),
    [((179), 119, False), (180, 119, True), (179, 120, True), (180, 120, True), (178, 100, False)],
)
def test_crisis_boundaries_every_route(route, sbp, dbp, crisis):
    p = pre(route=route, sbp=sbp, dbp=dbp)
    assert ("bp_hypertensive_crisis" in p.codes) is crisis
    d = during(route=route, sbp=sbp, dbp=dbp)
    assert ("bp_hypertensive_crisis" in d.codes) is crisis
    if crisis:
        assert p.outcome is Outcome.HOLD
        assert d.outcome is Outcome.ESCALATE
    else:
        assert d.outcome is not Outcome.ESCALATE


def test_esketamine_label_guide_is_kept_as_a_caution():
    assert pre(sbp=141, dbp=80).codes == ["bp_above_label_guide"]
    assert pre(sbp=141, dbp=80).outcome is Outcome.CAUTION
    assert pre(sbp=179, dbp=119).codes == ["bp_above_label_guide"]  # below crisis: still only a caution
    assert pre(sbp=140, dbp=90).outcome is Outcome.OK


# --- heart rate ------------------------------------------------------------------------------------------

# value → (pre-dose outcome, in-session outcome, code)
HR = [
    (39, Outcome.HOLD, Outcome.ESCALATE, "bradycardia_severe"),
    (40, Outcome.CAUTION, Outcome.CAUTION, "bradycardia"),
    (49, Outcome.CAUTION, Outcome.CAUTION, "bradycardia"),
    (50, Outcome.OK, Outcome.OK, None),
    (110, Outcome.OK, Outcome.OK, None),
    (111, Outcome.CAUTION, Outcome.CAUTION, "tachycardia"),
    (120, Outcome.CAUTION, Outcome.CAUTION, "tachycardia"),
    (121, Outcome.HOLD, Outcome.ESCALATE, "tachycardia_severe"),
]


@pytest.mark.parametrize(("hr", "before", "in_session", "code"), HR)
def test_heart_rate_bands(hr, before, in_session, code):
    p, d = pre(heart_rate=hr), during(heart_rate=hr)
    assert p.outcome is before
    assert d.outcome is in_session
    assert p.codes == ([code] if code else [])
    assert d.codes == ([code] if code else [])


# --- respiratory rate ------------------------------------------------------------------------------------

RR = [
    (7, Outcome.HOLD, Outcome.ESCALATE, "respiratory_depression"),
    (8, Outcome.CAUTION, Outcome.CAUTION, "resp_rate_low"),
    (9, Outcome.CAUTION, Outcome.CAUTION, "resp_rate_low"),
    (10, Outcome.OK, Outcome.OK, None),
    (24, Outcome.OK, Outcome.OK, None),
    (25, Outcome.CAUTION, Outcome.CAUTION, "resp_rate_high"),
    (30, Outcome.CAUTION, Outcome.CAUTION, "resp_rate_high"),
    (31, Outcome.HOLD, Outcome.ESCALATE, "resp_rate_high_severe"),
]


@pytest.mark.parametrize(("rr", "before", "in_session", "code"), RR)
def test_respiratory_rate_bands(rr, before, in_session, code):
    p, d = pre(resp_rate=rr), during(resp_rate=rr)
    assert p.outcome is before
    assert d.outcome is in_session
    assert p.codes == ([code] if code else [])
    assert d.codes == ([code] if code else [])


# --- SpO₂ single-reading floor ----------------------------------------------------------------------------


def test_spo2_floor_boundary():
    assert "spo2_below_floor" in pre(spo2=89).codes
    assert pre(spo2=89).outcome is Outcome.HOLD
    assert "spo2_below_floor" not in pre(spo2=90).codes
    assert during(spo2=89).outcome is Outcome.ESCALATE
    # 90 is below the 93 % alarm line: one such check is a re-check caution, not an escalation
    assert during(spo2=90).outcome is Outcome.CAUTION
    assert during(spo2=90).codes == ["spo2_low_recheck"]


# --- judged without a pre-dose baseline, on the latest value pre-dose --------------------------------------


def test_in_session_judged_without_a_baseline():
    result = during(baseline=False, resp_rate=5, heart_rate=35)
    assert result.outcome is Outcome.ESCALATE
    assert during(baseline=False).outcome is Outcome.OK


def test_predose_judges_the_latest_value_of_each_sign():
    early = Vitals(at=T0, sbp=124, dbp=78, heart_rate=130, resp_rate=14, spo2=98)
    later = Vitals(at=T0 + dt.timedelta(minutes=5), sbp=124, dbp=78, heart_rate=88, spo2=98)
    result = predose_gate(
        route="iv",
        readings=[early, later],
        planned_dose_at=DOSE,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
    )
    assert result.outcome is Outcome.OK  # the re-check came down; RR from the earlier reading is normal


# --- clinic overrides move the lines, within the allowed range ---------------------------------------------


def test_clinic_override_moves_a_threshold():
    rules = RULES.with_overrides([Override("rr.hold_below", 10, "dr-a", T0, "local respiratory SOP")])
    assert pre(resp_rate=9, rules=rules).outcome is Outcome.HOLD
    assert pre(resp_rate=9).outcome is Outcome.CAUTION


@pytest.mark.parametrize(
    ("key", "bad"), [("bp.crisis_sbp", 221), ("hr.brady_hold_below", 29), ("spo2.hold_below", 96)]
)
def test_override_outside_range_refused_naming_param(key, bad):
    with pytest.raises(ConfigError, match=key):
        RULES.with_overrides([Override(key, bad, "dr-a", T0, "x")])


# --- the params themselves ---------------------------------------------------------------------------------

PARAMS = {
    # key: (value, safer, status)
    "bp.crisis_sbp": (180, "lower", Status.UNCONFIRMED),
    "bp.crisis_dbp": (120, "lower", Status.UNCONFIRMED),
    "hr.brady_hold_below": (40, "higher", Status.UNCONFIRMED),
    "hr.brady_caution_below": (50, "higher", Status.UNCONFIRMED),
    "hr.tachy_caution_above": (110, "lower", Status.UNCONFIRMED),
    "hr.tachy_hold_above": (120, "lower", Status.UNCONFIRMED),
    "rr.hold_below": (8, "higher", Status.UNCONFIRMED),
    "rr.caution_below": (10, "higher", Status.UNCONFIRMED),
    "rr.caution_above": (24, "lower", Status.UNCONFIRMED),
    "rr.hold_above": (30, "lower", Status.UNCONFIRMED),
    "spo2.hold_below": (90, "higher", Status.UNCONFIRMED),
}


@pytest.mark.parametrize("key", sorted(PARAMS))
def test_new_params_cited_bounded_and_directed(key):
    value, safer, status = PARAMS[key]
    p = RULES.param(key)
    assert (p.value, p.safer, p.status) == (value, safer, status)
    assert p.minimum is not None and p.maximum is not None
    assert p.minimum <= value <= p.maximum
    assert "⚠" in p.source  # none of these numbers is in clinical.md as a confirmed value


def test_every_numeric_safety_param_says_which_direction_is_safer():
    numeric = [p for p in RULES if isinstance(p.value, int | float) and not isinstance(p.value, bool)]
    missing = [p.key for p in numeric if p.safer is None]
    assert missing == ["monitor.esketamine_post_min"]  # a timing matched to the label, not a threshold


# --- properties ---------------------------------------------------------------------------------------------


def _expected_hr(hr: int) -> Outcome:
    if hr < 40 or hr > 120:
        return Outcome.HOLD
    if hr < 50 or hr > 110:
        return Outcome.CAUTION
    return Outcome.OK


@given(st.integers(20, 250))
def test_heart_rate_property(hr):
    assert pre(heart_rate=hr).outcome is _expected_hr(hr)


def _expected_rr_in_session(rr: int) -> Outcome:
    if rr < 8 or rr > 30:
        return Outcome.ESCALATE
    if rr < 10 or rr > 24:
        return Outcome.CAUTION
    return Outcome.OK


@given(st.integers(2, 80))
def test_respiratory_rate_property_in_session(rr):
    assert during(resp_rate=rr).outcome is _expected_rr_in_session(rr)


@given(st.integers(2, 79))
def test_a_slower_rate_below_normal_is_never_judged_less_severe(rr):
    if rr < 14:  # below the normal 14/min used as the resting value here
        assert pre(resp_rate=rr).outcome.rank >= pre(resp_rate=rr + 1).outcome.rank


@given(st.integers(50, 100))
def test_spo2_floor_property(spo2):
    assert ("spo2_below_floor" in pre(spo2=spo2).codes) is (spo2 < 90)
    assert ("spo2_below_floor" in during(spo2=spo2).codes) is (spo2 < 90)
