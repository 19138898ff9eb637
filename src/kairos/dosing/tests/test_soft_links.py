"""Dosing reads the REMS enrolment through intake's selector (was apps.get_model guessing field names)."""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.dosing import selectors
from kairos.intake import services as intake_services

pytestmark = pytest.mark.django_db


def test_patient_enrolled_at_reads_intakes_first_enrolment(org, patient):
    assert selectors.patient_enrolled_at(patient) is None
    intake_services.enrol_rems(org.nurse, patient, enrolled_on=dt.date(2025, 1, 2), confirmation_id="RP-1")
    intake_services.enrol_rems(org.nurse, patient, enrolled_on=dt.date(2025, 3, 4), confirmation_id="RP-2")
    at = selectors.patient_enrolled_at(patient)
    assert at == dt.datetime.combine(dt.date(2025, 1, 2), dt.time(), tzinfo=patient.clinic.tz)
