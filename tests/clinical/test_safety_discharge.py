"""Discharge readiness (clinical.md §1.3, §1.5, §2.1–2.2)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.safety.discharge import discharge_readiness
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import Vitals

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
BASE = Vitals(at=T0 - dt.timedelta(minutes=5), sbp=128, dbp=82, spo2=98)


def at(m):
    return T0 + dt.timedelta(minutes=m)


def ready(**kw):
    args = dict(
        route="esketamine",
        first_dose_at=T0,
        now=at(121),
        latest=Vitals(at=at(118), sbp=135, dbp=85, spo2=97, heart_rate=72, resp_rate=14),
        baseline=BASE,
        moaas=5,
        dissociation_resolved=True,
        escort_present=True,
    )
    args.update(kw)
    return discharge_readiness(**args)


def test_all_met_is_ready():
    result = ready()
    assert result.ready
    assert result.earliest_allowed == at(120)
    assert result.to_dict()["earliest_allowed"] == at(120).isoformat()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"now": at(119)}, "min_observation"),
        ({"latest": None}, "vitals_missing"),
        ({"latest": Vitals(at=at(118), spo2=97, heart_rate=72, resp_rate=14)}, "bp_missing"),
        (
            {  # +40 systolic from a 110/70 pre-dose, yet under the absolute limit 160/100
                "baseline": Vitals(at=at(-5), sbp=110, dbp=70, spo2=98),
                "latest": Vitals(at=at(118), sbp=150, dbp=85, spo2=97, heart_rate=72, resp_rate=14),
            },
            "bp_not_settled",
        ),
        ({"latest": Vitals(at=at(118), sbp=130, dbp=80, heart_rate=72, resp_rate=14)}, "spo2_missing"),
        ({"latest": Vitals(at=at(118), sbp=130, dbp=80, spo2=92, heart_rate=72, resp_rate=14)}, "spo2_low"),
        ({"moaas": 4}, "sedated"),
        ({"moaas": None}, "moaas_missing"),
        ({"dissociation_resolved": None}, "dissociation"),
        ({"escort_present": False}, "no_escort"),
    ],
)
def test_each_unmet_criterion_named(change, code):
    result = ready(**change)
    assert not result.ready
    assert result.codes == [code]
    assert result.outcome is Outcome.HOLD


def test_every_unmet_listed_at_once():
    result = ready(
        now=at(60),
        latest=Vitals(at=at(58), sbp=135, dbp=85, spo2=97, heart_rate=72, resp_rate=14),
        moaas=3,
        dissociation_resolved=False,
        escort_present=None,
    )
    assert set(result.codes) == {"min_observation", "sedated", "dissociation", "no_escort"}
    assert "60 min left" in result.findings[0].message


def test_crisis_symptoms_escalate():
    assert ready(symptoms=["chest_pain"]).outcome is Outcome.ESCALATE


def test_iv_counts_from_infusion_end():
    latest = Vitals(at=at(66), sbp=135, dbp=85, spo2=97, heart_rate=72, resp_rate=14)
    result = ready(route="iv", dosing_ended_at=at(40), now=at(69), latest=latest)
    assert result.earliest_allowed == at(70)
    assert result.codes == ["min_observation"]
    assert ready(route="iv", dosing_ended_at=at(40), now=at(70), latest=latest).ready


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"route": "iv"}, "dosing_ended_at"),
        ({"route": "iv", "dosing_ended_at": at(-1)}, "dosing_ended_at"),
        ({"moaas": 6}, "moaas"),
        ({"latest": Vitals(at=at(-10), sbp=120, dbp=80, spo2=98, heart_rate=72, resp_rate=14)}, "latest"),
        ({"now": dt.datetime(2026, 3, 2, 12)}, "now"),
    ],
)
def test_bad_input_names_field(change, field):
    with pytest.raises(ValueError, match=field):
        ready(**change)


@given(st.integers(0, 300))
def test_earliest_is_two_hours_from_first_device(minutes):
    # The discharge reading is taken at the discharge time (a reading must be recent, issue #12 §3).
    reading = Vitals(at=at(minutes), sbp=135, dbp=85, spo2=97, heart_rate=72, resp_rate=14)
    result = ready(now=at(minutes), latest=reading)
    assert result.earliest_allowed - T0 == dt.timedelta(hours=2)
    assert result.ready is (minutes >= 120)
