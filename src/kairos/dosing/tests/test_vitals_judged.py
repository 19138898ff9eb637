"""Every vital sign judged through the dosing flow (issue #12 §1): check-in holds, flowsheet flags at entry.

Reproduced cases: pre-dose HR 160 with RR 4 → hold; in session RR 5 with HR 35 → escalate; one SpO₂ of
80–82 % → hold pre-dose, escalate in session; esketamine 220/130 pre-dose → hold; 230/130 in session →
escalate ("stop further devices / the infusion").
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kairos.audit.models import AuditEvent
from kairos.dosing import services

from .conftest import GOOD_VITALS, checked_in

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)


def _codes(session) -> list[str]:
    return [r["code"] for r in session.hold_reasons]


def _dosing(org, patient, t0):
    """An esketamine session dosed at t0 + 10 min with a normal pre-dose reading."""
    s = checked_in(org, patient, t0)
    assert s.status == "prechecks_done", s.hold_reasons
    services.order_dose(org.prescriber, s)
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="LOT1", at=t0 + 10 * M)
    return s, t0 + 10 * M


# --- pre-dose: the check-in gate holds ------------------------------------------------------------------------


def test_checkin_hr_160_rr_4_holds(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "heart_rate": 160, "resp_rate": 4})
    assert s.status == "held"
    assert {"tachycardia_severe", "respiratory_depression"} <= set(_codes(s))


def test_checkin_esketamine_220_130_holds(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "sbp": 220, "dbp": 130})
    assert s.status == "held"
    assert "bp_hypertensive_crisis" in _codes(s)
    (reason,) = [r for r in s.hold_reasons if r["code"] == "bp_hypertensive_crisis"]
    assert "220/130 mmHg" in reason["message"]


@pytest.mark.parametrize(("sbp", "held"), [(179, False), (180, True)])
def test_checkin_esketamine_crisis_boundary(org, patient, enrolled, site, t0, sbp, held):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "sbp": sbp, "dbp": 100})
    assert ("bp_hypertensive_crisis" in _codes(s)) is held
    assert (s.status == "held") is held


@pytest.mark.parametrize("spo2", [80, 82])
def test_checkin_single_low_spo2_holds(org, patient, enrolled, site, t0, spo2):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "spo2": spo2})
    assert s.status == "held"
    assert "spo2_below_floor" in _codes(s)


def test_checkin_caution_band_is_not_a_hold(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "heart_rate": 115, "resp_rate": 9})
    assert s.status != "held"
    assert "tachycardia_severe" not in _codes(s) and "respiratory_depression" not in _codes(s)


def test_recheck_still_low_rr_keeps_the_hold(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "resp_rate": 6})
    assert s.status == "held"
    services.recheck(org.nurse, s, vitals={**GOOD_VITALS, "resp_rate": 7}, at=t0 + 6 * M)
    s.refresh_from_db()
    assert s.status == "held"
    assert "respiratory_depression" in _codes(s)
    services.recheck(org.nurse, s, vitals=GOOD_VITALS, at=t0 + 12 * M)
    s.refresh_from_db()
    assert s.status == "prechecks_done"


# --- in session: flags at entry escalate -----------------------------------------------------------------------


def test_in_session_rr_5_hr_35_escalates(org, patient, enrolled, site, t0):
    s, first = _dosing(org, patient, t0)
    r = services.add_reading(
        org.nurse, s, taken_at=first + 20 * M, vitals={**GOOD_VITALS, "resp_rate": 5, "heart_rate": 35}
    )
    assert r.outcome == "escalate"
    assert {"respiratory_depression", "bradycardia_severe"} <= {f["code"] for f in r.findings}
    ev = AuditEvent.objects.filter(patient=patient, summary="flowsheet reading").latest("id")
    assert ev.new["outcome"] == "escalate"


def test_in_session_230_130_escalates_and_stops_further_devices(org, patient, enrolled, site, t0):
    s, first = _dosing(org, patient, t0)
    r = services.add_reading(
        org.nurse, s, taken_at=first + 40 * M, vitals={**GOOD_VITALS, "sbp": 230, "dbp": 130}
    )
    assert r.outcome == "escalate"
    (crisis,) = [f for f in r.findings if f["code"] == "bp_hypertensive_crisis"]
    assert "stop further devices / the infusion" in crisis["message"]


@pytest.mark.parametrize(("dbp", "outcome"), [(119, "caution"), (120, "escalate")])
def test_in_session_crisis_boundary(org, patient, enrolled, site, t0, dbp, outcome):
    s, first = _dosing(org, patient, t0)
    # +41 systolic from 124: a significant rise (caution) below crisis; at 120 diastolic, crisis.
    r = services.add_reading(
        org.nurse, s, taken_at=first + 40 * M, vitals={**GOOD_VITALS, "sbp": 165, "dbp": dbp}
    )
    assert r.outcome == outcome


@pytest.mark.parametrize("spo2", [80, 81, 82])
def test_in_session_single_low_spo2_escalates(org, patient, enrolled, site, t0, spo2):
    s, first = _dosing(org, patient, t0)
    r = services.add_reading(org.nurse, s, taken_at=first + 20 * M, vitals={"spo2": spo2})
    assert r.outcome == "escalate"
    assert "spo2_below_floor" in [f["code"] for f in r.findings]


def test_escalation_takes_a_ready_patient_back_to_monitoring(org, patient, enrolled, site, t0):
    s, first = _dosing(org, patient, t0)
    services.record_device(org.nurse, s, at=first + 5 * M)
    # marking ready happens now: the reading must be within the discharge window (#12 §3)
    services.add_reading(org.nurse, s, taken_at=timezone.now() - 2 * M, vitals=GOOD_VITALS, moaas=5)
    s.refresh_from_db()
    assert s.status == "monitoring"
    services.mark_ready(org.nurse, s, escort_present=True, dissociation_resolved=True)
    s.refresh_from_db()
    assert s.status == "ready_for_discharge"
    r = services.add_reading(
        org.nurse, s, taken_at=timezone.now() - M, vitals={**GOOD_VITALS, "resp_rate": 5}
    )
    assert r.outcome == "escalate"
    s.refresh_from_db()
    assert s.status == "monitoring"


def test_a_hold_level_pre_dose_reading_after_the_gate_puts_the_session_back_on_hold(
    org, patient, enrolled, site, t0
):
    """Issue #12 §1: a reading charted after pre-checks passed is judged too; the order then waits for a
    re-check or a prescriber's override."""
    from django.core.exceptions import ValidationError

    s = checked_in(org, patient, t0)
    assert s.status == "prechecks_done"
    services.add_reading(org.nurse, s, taken_at=t0 + 2 * M, vitals={**GOOD_VITALS, "sbp": 185, "dbp": 100})
    s.refresh_from_db()
    assert s.status == "held"
    assert "bp_hypertensive_crisis" in _codes(s)
    with pytest.raises(ValidationError, match="pre-checks pass"):
        services.order_dose(org.prescriber, s)


def test_a_normal_pre_dose_reading_after_the_gate_changes_nothing(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0)
    services.add_reading(org.nurse, s, taken_at=t0 + 2 * M, vitals=GOOD_VITALS)
    s.refresh_from_db()
    assert s.status == "prechecks_done"
