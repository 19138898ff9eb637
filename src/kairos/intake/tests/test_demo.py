"""The intake demo loader: the esketamine-TRD demo patients are treatment-resistant (two adequate failed
trials this episode), consistently with their course; loading twice adds nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.intake import selectors
from kairos.intake.demo import TRD_DEMO_MRNS, load_intake_demo
from kairos.intake.models import AntidepressantTrial
from kairos.patients.models import Patient

pytestmark = pytest.mark.django_db

MRNS = ("N-1001", "N-1002", "N-1003", "N-1004")


@pytest.fixture
def ctx(org):
    patients = {
        mrn: Patient.objects.create(
            clinic=org.north,
            mrn=mrn,
            given_name="Demo",
            family_name=mrn,
            date_of_birth=dt.date(1980, 1, 1),
            sex="female",
        )
        for mrn in MRNS
    }
    return {
        "organisation": org.north.organisation,
        "clinics": {"north": org.north, "south": org.south},
        "users": {"demo-admin": org.admin, "demo-nurse": org.nurse, "demo-prescriber": org.prescriber},
        "patients": patients,
    }


def test_trd_demo_patients_are_the_esketamine_trd_courses():
    from kairos.courses.demo import DEMO_COURSES

    assert set(TRD_DEMO_MRNS) == {mrn for mrn, protocol, *_ in DEMO_COURSES if protocol == "esketamine-trd"}


def test_esketamine_trd_demo_patients_are_treatment_resistant_and_loading_is_idempotent(ctx):
    load_intake_demo(ctx)
    for mrn, patient in ctx["patients"].items():
        summary = selectors.intake_summary(patient)
        if mrn in TRD_DEMO_MRNS:
            assert summary.eligibility is not None and summary.eligibility.decision == "eligible"
            assert summary.failed_adequate == 2 and summary.treatment_resistant, mrn
        else:  # N-1002 is on IV racemic ketamine (off-label): no TRD trials invented for it
            assert summary.failed_adequate == 0
    n = AntidepressantTrial.objects.count()
    assert n == 2 * len(TRD_DEMO_MRNS)
    load_intake_demo(ctx)
    assert AntidepressantTrial.objects.count() == n
