"""Front desk marks arrival (#11 §1): arrived_at / arrived_by, audited, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kairos.audit.models import AuditEvent
from kairos.courses import services
from kairos.courses.models import Appointment, Course


def _appointment(org, patient, *, status="booked"):
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
        kind="dosing",
        number=1,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        status=status,
    )


def test_front_desk_marks_arrival_audited(org, patient):
    appt = _appointment(org, patient)
    at = timezone.now() - dt.timedelta(minutes=5)
    got = services.mark_arrived(org.frontdesk, appt, at=at)
    assert got.arrived_at == at
    assert got.arrived_by_id == org.frontdesk.pk
    ev = AuditEvent.objects.filter(action="update", patient=patient, summary="patient arrived")
    assert ev.count() == 1


def test_second_mark_keeps_first_arrival(org, patient):
    appt = _appointment(org, patient)
    first = timezone.now() - dt.timedelta(minutes=10)
    services.mark_arrived(org.frontdesk, appt, at=first)
    again = services.mark_arrived(org.nurse, appt)
    assert again.arrived_at == first
    assert again.arrived_by_id == org.frontdesk.pk


def test_cancelled_refused_naming_status(org, patient):
    appt = _appointment(org, patient, status="cancelled")
    with pytest.raises(ValidationError) as exc:
        services.mark_arrived(org.frontdesk, appt)
    assert "status" in exc.value.message_dict


def test_future_arrival_refused(org, patient):
    appt = _appointment(org, patient)
    with pytest.raises(ValidationError) as exc:
        services.mark_arrived(org.frontdesk, appt, at=timezone.now() + dt.timedelta(minutes=5))
    assert "arrived_at" in exc.value.message_dict


@pytest.mark.parametrize("who", ["therapist", "auditor", "researcher"])
def test_roles_without_booking_refused(org, patient, who):
    appt = _appointment(org, patient)
    with pytest.raises(PermissionDenied):
        services.mark_arrived(getattr(org, who), appt)
    appt.refresh_from_db()
    assert appt.arrived_at is None
