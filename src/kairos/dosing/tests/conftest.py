from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kairos.dosing import selectors, services
from kairos.dosing.models import RemsSiteProfile
from kairos.intake import services as intake_services

GOOD_VITALS = {"sbp": 124, "dbp": 78, "heart_rate": 72, "spo2": 98, "resp_rate": 14}


@pytest.fixture
def enrolled(org, patient):
    """The patient is enrolled in the Spravato REMS 30 days ago, recorded through intake's real service
    and read back through the real lookup (no stub: breaking the lookup fails the dosing tests)."""
    day = timezone.localdate(timezone=patient.clinic.tz) - dt.timedelta(days=30)
    intake_services.enrol_rems(org.nurse, patient, enrolled_on=day, confirmation_id="RP-TEST-30")
    when = selectors.patient_enrolled_at(patient)
    assert when == dt.datetime.combine(day, dt.time(), tzinfo=patient.clinic.tz)
    return when


@pytest.fixture
def site(org):
    org.prescriber.first_name, org.prescriber.last_name = "Dana", "Prescott"
    org.prescriber.save()
    return RemsSiteProfile.objects.create(
        clinic=org.north, address1="1 Main St", city="Boston", state="MA", zip="02110", phone="617-555-0100"
    )


@pytest.fixture
def t0():
    """A start time 3 h ago, so a whole session fits before 'now' (services refuse future times)."""
    return timezone.now() - dt.timedelta(hours=3)


def checked_in(org, patient, t0, *, protocol="esketamine-trd", vitals=None, **kw):
    s = services.create_session(
        org.nurse, patient, protocol_id=protocol, scheduled_for=t0, responsible=org.prescriber
    )
    defaults = dict(
        prescriber_on_site=org.prescriber,
        pulse_oximeter_on_site=True,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        vitals=vitals or GOOD_VITALS,
        weight_kg="80.0",
        last_food_at=t0 - dt.timedelta(hours=3),
        last_liquid_at=t0 - dt.timedelta(hours=1),
        escort_name="Sam (partner)",
        medicines_taken_today="sertraline 100 mg",
        pregnancy_status="negative_test",
        at=t0,
    )
    defaults.update(kw)
    return services.check_in(org.nurse, s, **defaults)
