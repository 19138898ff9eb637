"""Permission-scoped reads of courses, appointments and today's board (404 outside the user's clinics)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Model, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.reads import record_read
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act
from kairos.courses import hooks
from kairos.courses.models import Appointment, AppointmentKind, AppointmentStatus, Chair, Course

# Board states, in order (the dosing app refines 'expected'; see board_states below).
BOARD_STATES = (
    "expected",
    "checked_in",
    "prechecks_done",
    "dosing",
    "monitoring",
    "ready_for_discharge",
    "discharged",
)


# Minimum necessary: what a role without Act.CLINICAL_DETAIL (front desk, clinic admin) sees of a session's
# state on the board: whether the patient is expected, has arrived, is in the chair, may leave or has left.
# Why a patient waits (pre-checks, a pre-dose hold) and the dosing phases are clinical.
IN_SESSION = "in_session"
ARRIVAL_STATE = {
    "prechecks_done": IN_SESSION,
    "ready_to_dose": IN_SESSION,
    "dosing": IN_SESSION,
    "monitoring": IN_SESSION,
    "held": IN_SESSION,
}

_M = TypeVar("_M", bound=Model)


def _scoped(user: Viewer, action: str, model_qs: QuerySet[_M]) -> QuerySet[_M]:
    return model_qs.filter(clinic_id__in=policies.clinic_ids_for(user, action))


def courses_for(
    user: Viewer, *, patient_id: int | None = None, status: str | None = None
) -> QuerySet[Course]:
    qs = _scoped(user, Act.SCHEDULE_VIEW, Course.objects.select_related("patient", "clinic"))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(appointment_count=Count("appointments"))


def get_course(user: Viewer, course_id: Any, action: str = Act.SCHEDULE_VIEW) -> Course:
    try:
        pk = int(course_id)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    course = (
        Course.objects.select_related("patient", "clinic", "created_by")
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related("chair", "therapist").order_by("starts_at", "id"),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if course is None:
        raise Http404("not found")
    policies.require(user, action, course.clinic_id)
    return course


def get_appointment(user: Viewer, appointment_id: Any, action: str = Act.SCHEDULE_VIEW) -> Appointment:
    try:
        pk = int(appointment_id)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    appt = Appointment.objects.select_related("clinic", "patient", "course", "chair").filter(pk=pk).first()
    if appt is None:
        raise Http404("not found")
    policies.require(user, action, appt.clinic_id)
    return appt


def read_course(user: Viewer, course_id: Any) -> Course:
    """:func:`get_course` for a view showing the patient's schedule: audited once."""
    course = get_course(user, course_id)
    record(Action.READ, actor=user, patient=course.patient, obj=course, summary="course opened")
    return course


# --- chart section ----------------------------------------------------------------------------------------


@dataclass
class ChartCourses:
    courses: Sequence[Course]  # annotated with appointment_count and done_count
    upcoming: list[Appointment]


def chart_courses(patient: Any, *, upcoming_limit: int = 8, now: dt.datetime | None = None) -> ChartCourses:
    """Two queries whatever the history size: courses with appointment counts, and the next appointments."""
    when = now or timezone.now()
    courses = list(
        Course.objects.filter(patient=patient)
        .annotate(
            appointment_count=Count(
                "appointments", filter=~Q(appointments__status=AppointmentStatus.CANCELLED)
            ),
            done_count=Count(
                "appointments",
                filter=Q(
                    appointments__status=AppointmentStatus.COMPLETED,
                    appointments__kind=AppointmentKind.DOSING,
                ),
            ),
        )
        .order_by("-start_date", "-id")[:10]
    )
    upcoming = list(
        Appointment.objects.filter(patient=patient, status=AppointmentStatus.BOOKED, ends_at__gte=when)
        .select_related("chair", "therapist")
        .order_by("starts_at", "id")[:upcoming_limit]
    )
    return ChartCourses(courses, upcoming)


# --- today's board ----------------------------------------------------------------------------------------


@dataclass
class BoardRow:
    chair: Chair | None
    appointments: list[tuple[Appointment, str]]


def board(
    user: Viewer, clinic: Clinic, day: dt.date, *, audit: bool = True, throttle: bool = False
) -> list[BoardRow]:
    """Every chair and its patients on ``day`` (clinic time), plus a row for therapy sessions without a chair.

    Audited as one read of (clinic, day); ``throttle`` (the polled partial): at most once per user, clinic,
    day and ``KAIROS_AUDIT_READ_THROTTLE_MINUTES`` (see :mod:`kairos.audit.reads`).

    Constant queries: chairs, appointments of the day (with patient/chair/therapist), the dosing states."""
    policies.require(user, Act.BOARD_VIEW, clinic.pk)
    tz = clinic.tz
    lo = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
    hi = lo + dt.timedelta(days=1)
    chairs = list(Chair.objects.filter(clinic=clinic).order_by("name", "pk"))
    appts = list(
        Appointment.objects.filter(clinic=clinic, starts_at__gte=lo, starts_at__lt=hi)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "chair", "therapist")
        .order_by("starts_at", "id")
    )
    clinical = policies.can(user, Act.CLINICAL_DETAIL, clinic.pk)
    states = hooks.board_states(clinic, day)
    by_chair: dict[int | None, list[tuple[Appointment, str]]] = {c.pk: [] for c in chairs}
    by_chair[None] = []
    for a in appts:
        state = states.get(a.pk) or ("discharged" if a.status == AppointmentStatus.COMPLETED else "expected")
        if a.status == AppointmentStatus.MISSED:
            state = "missed"
        if not clinical:
            state = ARRIVAL_STATE.get(state, state)
        by_chair.setdefault(a.chair_id, []).append((a, state))
    rows = [BoardRow(c, by_chair[c.pk]) for c in chairs if c.active or by_chair[c.pk]]
    if by_chair[None]:
        rows.append(BoardRow(None, by_chair[None]))
    if audit and appts:
        record_read(
            user,
            clinic=clinic,
            object_type="courses.board",
            object_id=day.isoformat(),
            summary=f"today's board {day.isoformat()} ({len(appts)} appointments)",
            throttle=throttle,
        )
    return rows


def board_clinics(user: Viewer) -> list[Clinic]:
    ids = policies.clinic_ids_for(user, Act.BOARD_VIEW)
    if not ids:
        raise PermissionDenied("your role has no access to the board")
    return list(Clinic.objects.filter(pk__in=ids).order_by("name"))


def appointments_on_local_date(
    user: Viewer, day: dt.date, *, clinic_id: int | None = None
) -> list[Appointment]:
    """The appointments of ``day`` in each visible clinic's own calendar (filtered in SQL: one
    [local midnight, next local midnight) range per clinic), each annotated with ``session_id`` (the dosing
    session started from it, or None). ``clinic_id`` narrows to one clinic (another clinic's id: nothing)."""
    clinics = Clinic.objects.filter(pk__in=policies.clinic_ids_for(user, Act.SCHEDULE_VIEW))
    if clinic_id is not None:
        clinics = clinics.filter(pk=clinic_id)
    cond = Q(pk__in=[])
    for c in clinics:
        start = dt.datetime.combine(day, dt.time(), tzinfo=c.tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=c.tz)
        cond |= Q(clinic_id=c.pk, starts_at__gte=start, starts_at__lt=end)
    return list(
        Appointment.objects.filter(cond)
        .select_related("chair")
        .annotate(session_id=F("dosing_session__id"))
        .order_by("starts_at", "pk")
    )
