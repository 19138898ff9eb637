"""Courses API: ``GET /api/v1/courses`` (filters patient, status) and ``GET /api/v1/courses/{course_id}``.

Minimum necessary: a caller without ``Act.CLINICAL_DETAIL`` in the course's clinic (front desk, clinic
admin) gets the schedule facts only; the clinical fields keep their type but are empty: ``protocol_id``,
``indication``, ``phase``, ``planned_route`` and ``planned_drug`` are ``""``, ``planned_dose_mg`` is null.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.pagination import MAX_LIMIT, Page, page_of
from kairos.core.policies import Act
from kairos.courses import selectors
from kairos.courses.models import CourseStatus

router = Router(tags=["courses"])


class AppointmentOut(Schema):
    id: int
    kind: str
    number: int | None
    phase: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair: str | None
    therapist_id: int | None
    planned_dose_mg: Decimal | None
    planned_route: str
    planned_drug: str
    status: str
    linked_dose_appointment_id: int | None


class CourseOut(Schema):
    id: int
    clinic_id: int
    patient_id: int
    protocol_id: str
    indication: str
    status: str
    start_date: dt.date
    created_at: dt.datetime


class CourseDetailOut(CourseOut):
    appointments: list[AppointmentOut]


class CourseFilters(Schema):
    patient: int | None = Field(None, ge=1, le=2**63 - 1)
    status: CourseStatus | None = None
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


class CoursePage(Page[CourseOut]):
    """The one list shape of /api/v1 (:mod:`kairos.core.pagination`)."""


@router.get("", response=CoursePage, summary="Courses in your clinics")
def list_courses(request: HttpRequest, filters: Query[CourseFilters]) -> dict[str, object]:
    if not policies.any_clinic(request.user, Act.SCHEDULE_VIEW):
        raise PermissionDenied("your role has no access to schedules")
    qs = selectors.courses_for(request.user, patient_id=filters.patient, status=filters.status)
    rows = list(qs.order_by("-start_date", "-id")[filters.offset : filters.offset + filters.limit])
    clinical = set(policies.clinic_ids_for(request.user, Act.CLINICAL_DETAIL))
    out = [
        CourseOut(
            id=c.pk,
            clinic_id=c.clinic_id,
            patient_id=c.patient_id,
            protocol_id=c.protocol_id if c.clinic_id in clinical else "",
            indication=c.indication if c.clinic_id in clinical else "",
            status=c.status,
            start_date=c.start_date,
            created_at=c.created_at,
        )
        for c in rows
    ]
    for clinic_id in sorted({c.clinic_id for c in rows}):
        record(
            Action.READ,
            actor=request.user,
            clinic=clinic_id,
            object_type="courses.course",
            summary=f"API course list ({sum(c.clinic_id == clinic_id for c in rows)})",
        )
    return page_of(out)


@router.get("/{course_id}", response=CourseDetailOut, summary="One course with its appointments")
def get_course(request: HttpRequest, course_id: int) -> CourseDetailOut:
    course = selectors.read_course(request.user, course_id)
    clinical = policies.can(request.user, Act.CLINICAL_DETAIL, course.clinic_id)
    appts = [
        AppointmentOut(
            id=a.pk,
            kind=a.kind,
            number=a.number,
            phase=a.phase if clinical else "",
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            chair=a.chair.name if a.chair else None,
            therapist_id=a.therapist_id,
            planned_dose_mg=a.planned_dose_mg if clinical else None,
            planned_route=a.planned_route if clinical else "",
            planned_drug=a.planned_drug if clinical else "",
            status=a.status,
            linked_dose_appointment_id=a.linked_dose_appointment_id,
        )
        for a in course.appointments.all()
    ]
    return CourseDetailOut(
        id=course.pk,
        clinic_id=course.clinic_id,
        patient_id=course.patient_id,
        protocol_id=course.protocol_id if clinical else "",
        indication=course.indication if clinical else "",
        status=course.status,
        start_date=course.start_date,
        created_at=course.created_at,
        appointments=appts,
    )


appointments_router = Router(tags=["appointments"])


class DayAppointmentOut(Schema):
    id: int
    patient_id: int
    kind: str
    status: str
    starts_at: dt.datetime
    chair: str | None
    session_id: int | None  # the dosing session started from it; null when none


class DayFilters(Schema):
    date: dt.date
    clinic: int | None = Field(None, ge=1, le=2**63 - 1)


class DayAppointmentPage(Page[DayAppointmentOut]):
    """The one list shape of /api/v1 (:mod:`kairos.core.pagination`)."""


@appointments_router.get(
    "", response=DayAppointmentPage, summary="Appointments of one day (the clinic's local calendar)"
)
def list_day_appointments(request: HttpRequest, filters: Query[DayFilters]) -> dict[str, Any]:
    if not policies.any_clinic(request.user, Act.SCHEDULE_VIEW):
        raise PermissionDenied("your role may not schedule.view")
    rows = selectors.appointments_on_local_date(request.user, filters.date, clinic_id=filters.clinic)
    for clinic_id in sorted({a.clinic_id for a in rows}):
        record(
            Action.READ,
            actor=request.user,
            clinic=clinic_id,
            object_type="courses.appointments",
            summary=f"API appointments of {filters.date:%Y-%m-%d} ({sum(a.clinic_id == clinic_id for a in rows)})",
        )
    return page_of(
        [
            {
                "id": a.pk,
                "patient_id": a.patient_id,
                "kind": a.kind,
                "status": a.status,
                "starts_at": a.starts_at,
                "chair": a.chair.name if a.chair else None,
                "session_id": getattr(a, "session_id", None),  # annotated by the selector
            }
            for a in rows
        ]
    )
