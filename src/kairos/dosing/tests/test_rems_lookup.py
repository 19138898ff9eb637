"""The real REMS enrolment lookup, tested directly (issue #17 §2): no stub between intake's record and the
esketamine session's REMS gate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kairos.dosing import selectors
from kairos.intake import services as intake_services

from .conftest import checked_in

pytestmark = pytest.mark.django_db


def _codes(session: Any) -> list[str]:
    return [r["code"] for r in session.hold_reasons or []]


def test_not_enrolled_is_none(patient):
    assert selectors.patient_enrolled_at(patient) is None


def test_first_enrolment_at_midnight_in_the_clinics_time_zone(org, patient):
    assert patient.clinic.time_zone == "America/New_York"
    intake_services.enrol_rems(org.nurse, patient, enrolled_on=dt.date(2025, 1, 2), confirmation_id="RP-1")
    intake_services.enrol_rems(org.nurse, patient, enrolled_on=dt.date(2025, 3, 4), confirmation_id="RP-2")
    at = selectors.patient_enrolled_at(patient)
    # 2025-01-02 00:00 in New York (EST, UTC−5) is 05:00 UTC; the later record does not move it
    assert at is not None
    assert at.astimezone(dt.UTC) == dt.datetime(2025, 1, 2, 5, 0, tzinfo=dt.UTC)


def test_another_patients_enrolment_does_not_count(org, patient, south_patient):
    intake_services.enrol_rems(
        org.south_prescriber, south_patient, enrolled_on=dt.date(2025, 1, 2), confirmation_id="RP-S"
    )
    assert selectors.patient_enrolled_at(patient) is None
    assert selectors.patient_enrolled_at(south_patient) is not None


def test_esketamine_gate_holds_without_a_recorded_enrolment(org, patient, site, t0):
    s = checked_in(org, patient, t0)
    assert s.status == "held"
    assert "rems_patient_not_enrolled" in _codes(s)


def test_esketamine_gate_passes_with_a_recorded_enrolment(org, patient, site, t0):
    intake_services.enrol_rems(
        org.nurse, patient, enrolled_on=t0.date() - dt.timedelta(days=7), confirmation_id="RP-7"
    )
    s = checked_in(org, patient, t0)
    assert "rems_patient_not_enrolled" not in _codes(s)
    assert s.status != "held", s.hold_reasons
