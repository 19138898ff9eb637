"""Starting the dosing session of a booked appointment (#11 §1), service level (SQLite)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kairos.courses.models import Appointment, Chair, Course
from kairos.dosing import services
from kairos.dosing.models import DosingSession


def _appointment(org, patient, *, kind="dosing", status="booked", with_course=True):
    course = None
    if with_course:
        course = Course.objects.create(
            clinic=org.north,
            patient=patient,
            protocol_id="esketamine-trd",
            status="active",
            start_date=timezone.localdate(),
            created_by=org.prescriber,
        )
    starts = timezone.now() - dt.timedelta(hours=1)
    return Appointment.objects.create(
        course=course,
        patient=patient,
        clinic=org.north,
        kind=kind,
        number=1,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        chair=Chair.objects.create(clinic=org.north, name="Chair 1"),
        planned_dose_mg=Decimal("56"),
        status=status,
    )


def test_start_creates_session_from_appointment(org, patient):
    appt = _appointment(org, patient)
    session, created = services.start_session_from_appointment(org.nurse, appt)
    assert created is True
    assert session.appointment_id == appt.pk
    assert session.course_id == appt.course_id
    assert session.protocol_id == "esketamine-trd"
    assert session.drug == "esketamine"
    assert session.route == "intranasal"
    assert session.scheduled_for == appt.starts_at
    assert session.status == "expected"


def test_start_twice_returns_same_session(org, patient):
    appt = _appointment(org, patient)
    first, created1 = services.start_session_from_appointment(org.nurse, appt)
    second, created2 = services.start_session_from_appointment(org.nurse, appt)
    assert (created1, created2) == (True, False)
    assert first.pk == second.pk
    assert DosingSession.objects.filter(appointment=appt).count() == 1


def test_cancelled_appointment_refused(org, patient):
    appt = _appointment(org, patient, status="cancelled")
    with pytest.raises(services.StartRefused) as exc:
        services.start_session_from_appointment(org.nurse, appt)
    assert exc.value.code == "cancelled"
    assert DosingSession.objects.count() == 0


@pytest.mark.parametrize("kind", ["integration", "assessment"])
def test_non_dosing_appointment_refused(org, patient, kind):
    appt = _appointment(org, patient, kind=kind)
    with pytest.raises(services.StartRefused) as exc:
        services.start_session_from_appointment(org.nurse, appt)
    assert exc.value.code == "not_dosing"
    assert DosingSession.objects.count() == 0


def test_dosing_appointment_without_course_refused(org, patient):
    appt = _appointment(org, patient, with_course=False)
    with pytest.raises(services.StartRefused) as exc:
        services.start_session_from_appointment(org.nurse, appt)
    assert exc.value.code == "not_dosing"


def test_front_desk_cannot_start(org, patient):
    appt = _appointment(org, patient)
    with pytest.raises(PermissionDenied):
        services.start_session_from_appointment(org.frontdesk, appt)
    assert DosingSession.objects.count() == 0
