from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kairos.dosing import selectors, services
from kairos.dosing.models import RemsSiteProfile

GOOD_VITALS = {"sbp": 124, "dbp": 78, "heart_rate": 72, "spo2": 98, "resp_rate": 14}


@pytest.fixture
def enrolled(monkeypatch):
    """The patient is enrolled in the Spravato REMS (intake's RemsEnrolment is another app's model)."""
    when = timezone.now() - dt.timedelta(days=30)
    monkeypatch.setattr(selectors, "patient_enrolled_at", lambda patient: when)
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
