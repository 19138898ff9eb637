"""Permission-matrix entries for the courses app (collected by kairos.access.tests.matrix)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kairos.access.tests.matrix import FOREIGN, Entry, World

SCHEDULE_READERS = frozenset({"prescriber", "nurse", "therapist", "frontdesk", "admin", "auditor"})
BOOKERS = frozenset({"prescriber", "nurse", "frontdesk"})
PRESCRIBER = frozenset({"prescriber"})


def _setup(w: World) -> Any:
    def make() -> Any:
        from kairos.courses.models import Chair, ClinicCalendar, Course

        ClinicCalendar.objects.get_or_create(clinic=w.org.north)
        chair = Chair.objects.get_or_create(clinic=w.org.north, name="Matrix chair")[0]
        from kairos.courses.models import Appointment

        course = Course.objects.create(
            clinic=w.org.north,
            patient=w.patient,
            protocol_id="iv-racemic",
            start_date=_monday(),
            created_by=w.org.prescriber,
        )
        start = dt.datetime.combine(_monday(), dt.time(9), tzinfo=w.org.north.tz)
        appt = Appointment.objects.create(
            course=course,
            patient=w.patient,
            clinic=w.org.north,
            kind="dosing",
            number=1,
            phase="induction",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=100),
            chair=chair,
        )
        return course, appt

    return w.once("courses", make)


def _monday() -> dt.date:
    from django.utils import timezone

    today = timezone.localdate()
    return today + dt.timedelta(days=14 - today.weekday())


def _course(w: World) -> dict[str, Any]:
    return {"course_id": _setup(w)[0].pk}


def _appt(w: World) -> dict[str, Any]:
    return {"appointment_id": _setup(w)[1].pk}


def _clinic(w: World) -> dict[str, Any]:
    return {"clinic_id": w.org.north.pk}


def _patient(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk}


def _with_course(w: World) -> dict[str, Any]:
    """No URL kwargs; builds north's course so that a list has a patient row to show (and audit)."""
    _setup(w)
    return {}


def _appointment_day(w: World) -> str:
    return f"day={_monday().isoformat()}"


def _appointment_today(w: World) -> dict[str, Any]:
    """A booked dosing appointment of north's patient an hour ago (#11 §1), built once per test."""

    def make() -> Any:
        from django.utils import timezone

        from kairos.courses.models import Appointment, Course

        course = Course.objects.create(
            clinic=w.org.north,
            patient=w.patient,
            protocol_id="esketamine-trd",
            status="active",
            start_date=timezone.localdate(),
            created_by=w.org.prescriber,
        )
        starts = timezone.now() - dt.timedelta(hours=1)
        return Appointment.objects.create(
            course=course,
            patient=w.patient,
            clinic=w.org.north,
            kind="dosing",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
        )

    return {"appointment_day": w.once("appointment_today", make).pk}


def _appointment_day_query(w: World) -> str:
    from kairos.courses.models import Appointment

    appt = Appointment.objects.get(pk=_appointment_today(w)["appointment_day"])
    return f"date={appt.starts_at.astimezone(w.org.north.tz):%Y-%m-%d}"


ENTRIES = [
    Entry(
        "courses:board",
        phi=True,
        allowed=SCHEDULE_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_with_course,
        query=_appointment_day,
    ),
    Entry(
        "courses:board_partial",
        phi=True,
        allowed=SCHEDULE_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_with_course,
        query=_appointment_day,
    ),
    Entry("courses:plan", phi=True, allowed=PRESCRIBER, kwargs=_patient),
    Entry(
        "courses:plan",
        phi=True,
        method="POST",
        allowed=PRESCRIBER,
        kwargs=_patient,
        data=lambda w: {
            "protocol_id": "iv-racemic",
            "start_date": _monday().isoformat(),
            "action": "preview",
        },
    ),
    Entry("courses:detail", phi=True, allowed=SCHEDULE_READERS, kwargs=_course),
    Entry(
        "courses:status",
        phi=True,
        method="POST",
        allowed=PRESCRIBER,
        kwargs=_course,
        data=lambda w: {"status": "active", "reason": ""},
    ),
    Entry(
        "courses:move",
        phi=True,
        method="POST",
        allowed=frozenset(
            {"prescriber"}
        ),  # a dosing session: changing it changes the plan (nurse/front desk 403)
        kwargs=_appt,
        data=lambda w: {"date": (_monday() + dt.timedelta(days=1)).isoformat(), "reason": "matrix"},
    ),
    Entry(
        "courses:cancel",
        phi=True,
        method="POST",
        allowed=BOOKERS,
        kwargs=_appt,
        data=lambda w: {"reason": "matrix"},
    ),
    Entry("courses:clinic_settings", phi=False, allowed=frozenset({"admin"}), kwargs=_clinic),
    Entry(
        "courses:clinic_settings",
        phi=False,
        method="POST",
        allowed=frozenset({"admin"}),
        kwargs=_clinic,
        data=lambda w: {
            "rems_certified": "on",
            "rems_certification_id": "REMS-M",
            "open_weekdays": ["0", "1", "2", "3", "4"],
            "opens_at": "08:00",
            "closes_at": "18:00",
        },
    ),
    Entry(
        "courses:chair_add",
        phi=False,
        method="POST",
        allowed=frozenset({"admin"}),
        kwargs=_clinic,
        data=lambda w: {"name": "New chair"},
    ),
    Entry(
        "courses:closure_add",
        phi=False,
        method="POST",
        allowed=frozenset({"admin"}),
        kwargs=_clinic,
        data=lambda w: {"date": (_monday() + dt.timedelta(days=30)).isoformat(), "reason": "matrix"},
    ),
    Entry(
        "GET /api/v1/courses",
        phi=True,
        allowed=SCHEDULE_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_with_course,
    ),
    Entry("GET /api/v1/courses/{course_id}", phi=True, allowed=SCHEDULE_READERS, kwargs=_course),
    Entry(
        "GET /api/v1/appointments",
        phi=True,
        allowed=SCHEDULE_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_appointment_today,
        query=_appointment_day_query,
    ),
]
