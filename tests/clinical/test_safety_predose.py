"""Pre-dose gate: label 'consider delaying' >140/90, clinic hold threshold, crisis symptoms, SpO₂, fasting."""

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.config import Override
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.fhir_vitals import vitals_from_bundle
from kairos.clinical.safety.predose import Vitals, VitalsError, predose_gate, validate_vitals
from kairos.clinical.safety.result import Outcome
from refdata import reference_file

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DOSE = T0 + dt.timedelta(minutes=15)


def gate(readings, route="esketamine", **kw):
    args = dict(
        route=route,
        readings=readings,
        planned_dose_at=DOSE,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        last_food_at=T0 - dt.timedelta(hours=3),
        last_liquid_at=T0 - dt.timedelta(hours=1),
    )
    args.update(kw)
    return predose_gate(**args)


def bp(sbp, dbp, minutes=0, spo2=98):
    return Vitals(at=T0 + dt.timedelta(minutes=minutes), sbp=sbp, dbp=dbp, spo2=spo2)


# (route, readings as (sbp, dbp, minute), expected outcome, expected code) — §1.5 label guide >140/90;
# §2.2 S18 hold anchors >180/110 on two readings 5 min apart or >200/120 once (clinic default for IV/IM).
CASES = [
    ("esketamine", [(120, 80, 0)], Outcome.OK, None),
    ("esketamine", [(140, 90, 0)], Outcome.OK, None),  # "above 140/90": equal is not above
    ("esketamine", [(141, 80, 0)], Outcome.CAUTION, "bp_above_label_guide"),
    ("esketamine", [(130, 91, 0)], Outcome.CAUTION, "bp_above_label_guide"),
    # Not a bp.hold_routes route, but hypertensive-crisis level (≥180 and/or ≥120, ACC/AHA 2017) holds every
    # route (issue #12 §1; this row was a caution before).
    ("esketamine", [(185, 115, 0), (186, 114, 6)], Outcome.HOLD, "bp_hypertensive_crisis"),
    ("esketamine", [(178, 115, 0), (179, 114, 6)], Outcome.CAUTION, "bp_above_label_guide"),
    ("iv", [(141, 80, 0)], Outcome.CAUTION, "bp_above_label_guide"),
    ("iv", [(179, 110, 0)], Outcome.CAUTION, "bp_above_label_guide"),  # at, not above, the hold line
    ("iv", [(180, 110, 0)], Outcome.HOLD, "bp_hypertensive_crisis"),  # crisis level is "at or above" 180
    ("iv", [(181, 100, 0)], Outcome.HOLD, "bp_hold_recheck"),
    ("iv", [(170, 111, 0)], Outcome.HOLD, "bp_hold_recheck"),
    ("iv", [(185, 100, 0), (183, 100, 3)], Outcome.HOLD, "bp_hold_recheck"),  # only 3 min apart
    ("iv", [(185, 100, 0), (183, 100, 5)], Outcome.HOLD, "bp_hold"),
    ("im", [(185, 100, 0), (150, 95, 5), (183, 100, 10)], Outcome.HOLD, "bp_hold_recheck"),  # run broken
    ("iv", [(185, 100, 0), (150, 95, 5)], Outcome.CAUTION, "bp_above_label_guide"),  # came down
    ("iv", [(201, 100, 0)], Outcome.HOLD, "bp_hold"),
    ("iv", [(170, 121, 0)], Outcome.HOLD, "bp_hold"),
]


@pytest.mark.parametrize(("route", "rows", "outcome", "code"), CASES)
def test_bp_table(route, rows, outcome, code):
    result = gate([bp(s, d, m) for s, d, m in rows], route=route)
    assert result.outcome is outcome
    assert (code in result.codes) if code else result.codes == []


def test_findings_are_readable_and_cited():
    result = gate([bp(175, 112, 0), bp(172, 113, 5)], route="iv")  # above 180/110's 110, below crisis
    (finding,) = result.findings
    assert "180/110" in finding.message
    assert "§2.2" in finding.source
    assert result.to_dict()["outcome"] == "hold"
    assert result.to_dict()["findings"][0]["code"] == "bp_hold"


def test_esketamine_hold_route_configurable():
    rules = RULES.with_overrides(
        [Override("bp.hold_routes", ("iv", "im", "esketamine"), "dr-a", T0, "local SOP")]
    )
    assert gate([bp(185, 100)], rules=rules).outcome is Outcome.HOLD


@pytest.mark.parametrize(
    "symptom", ["chest_pain", "severe_headache", "seizure", "focal_neurological_deficit"]
)
def test_crisis_symptoms_escalate_whatever_the_numbers(symptom):
    result = gate([bp(118, 76)], symptoms=[symptom])
    assert result.outcome is Outcome.ESCALATE
    assert "emergency" in result.findings[0].message


def test_unknown_symptom_names_field():
    with pytest.raises(ValueError, match="symptoms: 'itchy'"):
        gate([bp(118, 76)], symptoms=["itchy"])


def test_missing_bp_holds_and_missing_spo2_cautions():
    result = gate([Vitals(at=T0, heart_rate=70)])
    assert {"bp_missing", "spo2_missing"} <= set(result.codes)
    assert result.outcome is Outcome.HOLD


@pytest.mark.parametrize(
    ("spo2s", "outcome", "code"),
    [
        ((95, 93), Outcome.OK, None),
        ((95, 92), Outcome.CAUTION, "spo2_low_recheck"),
        ((92, 91), Outcome.HOLD, "spo2_alarm"),
        ((92, 95), Outcome.OK, None),
    ],
)
def test_spo2_two_consecutive(spo2s, outcome, code):
    readings = [bp(120, 80, i, spo2=s) for i, s in enumerate(spo2s)]
    result = gate(readings)
    assert result.outcome is outcome
    assert (code in result.codes) if code else result.codes == []


def test_fasting_esketamine_two_hours_food_thirty_minutes_liquids():
    result = gate(
        [bp(120, 80)],
        last_food_at=DOSE - dt.timedelta(minutes=119),
        last_liquid_at=DOSE - dt.timedelta(minutes=29),
    )
    assert set(result.codes) == {"recent_food", "recent_liquid"}
    assert result.outcome is Outcome.CAUTION
    assert (DOSE + dt.timedelta(minutes=1)).isoformat(timespec="minutes") in result.findings[0].message
    ok = gate(
        [bp(120, 80)],
        last_food_at=DOSE - dt.timedelta(minutes=120),
        last_liquid_at=DOSE - dt.timedelta(minutes=30),
    )
    assert ok.outcome is Outcome.OK


def test_fasting_not_recorded_and_not_checked_for_iv():
    assert set(gate([bp(120, 80)], last_food_at=None, last_liquid_at=None).codes) == {
        "food_not_recorded",
        "liquid_not_recorded",
    }
    assert gate([bp(120, 80)], route="iv", last_food_at=None, last_liquid_at=None).outcome is Outcome.OK


def test_fasting_time_after_dose_is_refused():
    with pytest.raises(ValueError, match="last_food_at"):
        gate([bp(120, 80)], last_food_at=DOSE + dt.timedelta(minutes=1))


def test_ride_and_driving_acknowledgements_hold():
    result = gate([bp(120, 80)], ride_home_confirmed=False, no_driving_acknowledged=False)
    assert set(result.codes) == {"no_ride_home", "driving_not_acknowledged"}
    assert result.outcome is Outcome.HOLD


def test_readings_after_dose_and_naive_times_refused():
    with pytest.raises(ValueError, match="readings"):
        gate([bp(120, 80, 30)])
    with pytest.raises(ValueError, match="planned_dose_at"):
        gate([bp(120, 80)], planned_dose_at=dt.datetime(2026, 3, 2, 9))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sbp": 400, "dbp": 80}, "sbp"),
        ({"sbp": 120, "dbp": 5}, "dbp"),
        ({"sbp": 120, "dbp": 130}, "dbp"),
        ({"sbp": 120}, "dbp"),
        ({"dbp": 80}, "sbp"),
        ({"spo2": 101}, "spo2"),
        ({"heart_rate": float("nan")}, "heart_rate"),
        ({"resp_rate": 0}, "resp_rate"),
        ({"heart_rate": True}, "heart_rate"),
    ],
)
def test_validate_vitals_names_field_and_range(kwargs, field):
    with pytest.raises(VitalsError, match=f"^{field}: ") as err:
        validate_vitals(Vitals(at=T0, **kwargs))
    assert err.value.field == field


def test_validate_vitals_message_gives_range_and_naive_time():
    with pytest.raises(VitalsError, match=r"sbp: 400 is outside the plausible range \[50, 300\] mmHg"):
        validate_vitals(Vitals(at=T0, sbp=400, dbp=80))
    with pytest.raises(VitalsError, match="at: "):
        validate_vitals(Vitals(at=dt.datetime(2026, 1, 1), sbp=120, dbp=80))
    with pytest.raises(VitalsError, match="sbp"):
        gate([bp(400, 80)])


def test_bad_plausible_rule_is_reported():
    from kairos.clinical.safety.vitals import _bounds

    with pytest.raises(ValueError, match="safety.bp.hold_routes"):
        _bounds(RULES, "bp.hold_routes")


# --- Hypothesis: raising blood pressure never makes the gate less severe ------------------------------------

pressures = st.tuples(st.integers(60, 250), st.integers(30, 150)).filter(lambda p: p[1] < p[0])


@given(
    route=st.sampled_from(["esketamine", "iv", "im"]),
    rows=st.lists(pressures, min_size=1, max_size=4),
    bump=st.tuples(st.integers(0, 40), st.integers(0, 30)),
    index=st.integers(0, 3),
)
def test_gate_outcome_monotone_in_bp(route, rows, bump, index):
    index %= len(rows)
    before = [bp(s, d, 5 * i) for i, (s, d) in enumerate(rows)]
    s, d = rows[index]
    raised = list(before)
    new_s = min(s + bump[0], 300)
    raised[index] = bp(new_s, min(d + bump[1], new_s - 1), 5 * index)
    assert gate(raised, route=route).outcome.rank >= gate(before, route=route).outcome.rank


# --- Synthea golden: Liz Conn's 181/108 trips the BP rule ---------------------------------------------------


def _liz_conn():
    path = reference_file(
        "synthea/smart-on-fhir-generated-sample-data-R4/Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json"
    )
    return list(vitals_from_bundle(json.loads(path.read_text(encoding="utf-8"))))


def test_synthea_bp_observations_parsed():
    readings = _liz_conn()
    assert [(round(v.sbp), round(v.dbp)) for v in readings] == [(165, 105), (181, 108), (152, 95)]


def test_synthea_181_108_trips_bp_rule():
    (reading,) = [v for v in _liz_conn() if round(v.sbp) == 181]
    kwargs = dict(
        readings=[reading],
        planned_dose_at=reading.at + dt.timedelta(minutes=10),
        last_food_at=reading.at - dt.timedelta(hours=3),
        last_liquid_at=reading.at - dt.timedelta(hours=1),
    )
    esk = gate(route="esketamine", **kwargs)
    # 181 systolic is at hypertensive-crisis level (≥180, ACC/AHA 2017): a hold on every route since
    # issue #12 §1 (it was the label's caution only before).
    assert esk.outcome is Outcome.HOLD
    assert esk.codes[0] == "bp_hypertensive_crisis"
    iv = gate(route="iv", **kwargs)
    assert iv.outcome is Outcome.HOLD
    assert "bp_hold_recheck" in iv.codes
    recheck = Vitals(at=reading.at + dt.timedelta(minutes=5), sbp=reading.sbp, dbp=reading.dbp)
    confirmed = gate(route="iv", **{**kwargs, "readings": [reading, recheck]})
    assert "bp_hold" in confirmed.codes
