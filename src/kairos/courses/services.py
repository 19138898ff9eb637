"""Writes for courses and appointments (creating and booking a course, booking, moving, cancelling):
atomic, permission-checked, audited in the same transaction. The plan is made in
:mod:`kairos.courses.planning`, the calendar and clinic settings live in :mod:`kairos.courses.calendar`,
course status changes in :mod:`kairos.courses.status`.

Booking: every booking of a clinic locks the clinic's chair rows and the patient row
(``select_for_update``), re-reads the day's booked appointments and refuses an overlap of chair, patient
or therapist; the partial unique constraints in :mod:`kairos.courses.models` are the last line of defence
(an ``IntegrityError`` becomes a ``ValidationError`` naming the field).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import changes, record
from kairos.clinical import schedule as clinical_schedule
from kairos.clinical.protocols import get_protocol
from kairos.clinical.rules.schedule import RULES as SCHEDULE_RULES
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.reasons import require_reason
from kairos.core.roles import Role
from kairos.courses import domain
from kairos.courses.calendar import calendar_row, clinical_calendar, within_horizon
from kairos.courses.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Chair,
    ClinicCalendar,
    Course,
    CourseStatus,
)
from kairos.courses.planning import apply_moves, dated_sessions, preview_plan
from kairos.patients.models import Patient

# Scheduling granularity and the default length of a therapy (integration/preparation) booking: clinic
# operations, not clinical thresholds. Session (chair) lengths come from the protocol (Protocol.session_min).
SLOT_STEP_MIN = 15
THERAPY_SESSION_MIN = 60


# --- booking ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int | None
    therapist_id: int | None


def _aware(day: dt.date, t: dt.time, clinic: Clinic) -> dt.datetime:
    return dt.datetime.combine(day, t, tzinfo=clinic.tz)


def _busy(
    clinic: Clinic,
    days: Iterable[dt.date],
    patient_id: int,
    therapist_ids: Iterable[int],
    exclude_pk: int | None = None,
) -> list[tuple[Any, ...]]:
    days = sorted(set(days))
    if not days:
        return []
    lo = _aware(days[0], dt.time(0, 0), clinic) - dt.timedelta(days=1)
    hi = _aware(days[-1], dt.time(0, 0), clinic) + dt.timedelta(days=2)
    qs = Appointment.objects.filter(status=AppointmentStatus.BOOKED, starts_at__lt=hi, ends_at__gt=lo).filter(
        Q(clinic=clinic) | Q(patient_id=patient_id) | Q(therapist_id__in=list(therapist_ids))
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.values_list("starts_at", "ends_at", "chair_id", "patient_id", "therapist_id"))


def _overlaps(
    busy: list[tuple[Any, ...]], start: dt.datetime, end: dt.datetime, idx: int, value: int | None
) -> bool:
    if value is None:
        return False
    return any(b[idx] == value and b[0] < end and start < b[1] for b in busy)


def _conflict_field(busy: list[tuple[Any, ...]], slot: Slot, patient_id: int) -> str | None:
    if _overlaps(busy, slot.starts_at, slot.ends_at, 2, slot.chair_id):
        return "chair"
    if _overlaps(busy, slot.starts_at, slot.ends_at, 3, patient_id):
        return "patient"
    if _overlaps(busy, slot.starts_at, slot.ends_at, 4, slot.therapist_id):
        return "therapist"
    return None


def _lock(clinic: Clinic, patient_id: int, therapist_ids: Iterable[int] = ()) -> list[int]:
    """Serialise bookings: lock the clinic's chairs, the patient and the therapists (in id order)."""
    chairs = list(
        Chair.objects.select_for_update()
        .filter(clinic=clinic, active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True).first()
    ids = sorted(set(therapist_ids))
    if ids:
        list(
            get_user_model()
            .objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return chairs


def _find_slot(
    clinic: Clinic,
    cal: ClinicCalendar,
    day: dt.date,
    minutes: int,
    busy: list[tuple[Any, ...]],
    patient_id: int,
    chairs: Sequence[int],
    therapists: Sequence[int],
    not_before: dt.datetime | None = None,
) -> Slot | None:
    start = _aware(day, cal.opens_at, clinic)
    close = _aware(day, cal.closes_at, clinic)
    step = dt.timedelta(minutes=SLOT_STEP_MIN)
    length = dt.timedelta(minutes=minutes)
    if not_before is not None and not_before > start:
        start = not_before
    while start + length <= close:
        end = start + length
        if not _overlaps(busy, start, end, 3, patient_id):
            for chair in chairs or [None]:  # type: ignore[list-item]
                if chair is not None and _overlaps(busy, start, end, 2, chair):
                    continue
                for th in therapists or [None]:  # type: ignore[list-item]
                    if th is not None and _overlaps(busy, start, end, 4, th):
                        continue
                    return Slot(start, end, chair, th)
        start += step
    return None


def _save(appt: Appointment) -> Appointment:
    try:
        with transaction.atomic():
            appt.save(force_insert=appt.pk is None)
    except IntegrityError:
        raise ValidationError(
            {"starts_at": "that time is already booked (chair, patient or therapist)"}
        ) from None
    return appt


def therapists_of(clinic: Clinic) -> list[Any]:
    return list(
        get_user_model()
        .objects.filter(memberships__clinic=clinic, memberships__role=Role.THERAPIST, is_active=True)
        .order_by("last_name", "username")
    )


@transaction.atomic
def create_course(
    actor: Actor,
    patient: Patient,
    *,
    protocol_id: str,
    start_date: dt.date,
    indication: str = "",
    moves: dict[int, dt.date] | None = None,
    therapist_id: int | None = None,
    book: bool = True,
) -> Course:
    """Create a planned course from the clinical core's plan (with the clinician's validated date changes)
    and, if ``book``, book every session: dosing sessions in a free chair, therapy sessions with a therapist."""
    policies.require(actor, Act.COURSE_PLAN, patient.clinic_id)
    plan = preview_plan(actor, patient, protocol_id, start_date)
    clinic = patient.clinic
    cal_core = clinical_calendar(clinic, around=start_date)
    sessions = apply_moves(plan.protocol_id, dated_sessions(plan), moves or {}, cal_core)
    protocol = get_protocol(plan.protocol_id)
    course = Course.objects.create(
        clinic=clinic,
        patient=patient,
        protocol_id=plan.protocol_id,
        indication=(indication or protocol.indication)[:200],
        status=CourseStatus.PLANNED,
        start_date=start_date,
        plan=plan.to_dict() | {"moves": {str(k): v.isoformat() for k, v in (moves or {}).items()}},
        created_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=course,
        new=course.audit_snapshot(),
        summary=f"course planned ({plan.protocol_id})",
    )
    if book:
        book_plan(actor, course, plan, sessions, therapist_id=therapist_id, cal_core=cal_core)
    return course


def book_plan(
    actor: Actor,
    course: Course,
    plan: clinical_schedule.Plan,
    sessions: Sequence[domain.DatedSession],
    *,
    therapist_id: int | None = None,
    cal_core: clinical_schedule.ClinicCalendar,
) -> list[Appointment]:
    policies.require(actor, Act.SCHEDULE_BOOK, course.clinic_id)
    clinic = course.clinic
    cal = calendar_row(clinic)
    therapist_ids = [u.pk for u in therapists_of(clinic)]
    if therapist_id is not None:
        if therapist_id not in therapist_ids:
            raise ValidationError({"therapist": "therapist must be a therapist of this clinic"})
        therapist_ids = [therapist_id]
    chairs = _lock(clinic, course.patient_id, therapist_ids)
    if not chairs:
        raise ValidationError(
            {"chair": "the clinic has no active treatment chair; add one in clinic settings"}
        )
    dose_days = [s.date for s in sessions]
    integration_days: list[tuple[int, dt.date]] = []
    if plan.integration:
        for s in sessions:
            _, _, booked, _ = clinical_schedule.integration_window(s.date, cal_core, dose_days)
            if booked is not None:
                integration_days.append((s.number, booked))
    all_days = dose_days + [d for _, d in integration_days] + [t.date for t in plan.preparation]
    busy = _busy(clinic, all_days, course.patient_id, therapist_ids)
    created = _book_preparation(actor, course, plan, cal, busy, therapist_ids)
    dose_appts = _book_dosing(actor, course, plan, sessions, cal, busy, chairs)
    created += dose_appts.values()
    created += _book_integration(actor, course, integration_days, dose_appts, cal, busy, therapist_ids)
    record(
        Action.CREATE,
        actor=actor,
        patient=course.patient,
        obj=course,
        new={"appointments": len(created)},
        summary=f"course booked: {len(created)} appointments",
    )
    return created


def _book_preparation(
    actor: Actor,
    course: Course,
    plan: clinical_schedule.Plan,
    cal: ClinicCalendar,
    busy: list[tuple[Any, ...]],
    therapist_ids: Sequence[int],
) -> list[Appointment]:
    """Book the plan's preparation sessions with a therapist (``busy`` grows with each booking)."""
    clinic = course.clinic
    created: list[Appointment] = []
    for t in plan.preparation:
        slot = _find_slot(
            clinic,
            cal,
            t.date,
            t.duration_min or THERAPY_SESSION_MIN,
            busy,
            course.patient_id,
            [],
            therapist_ids,
        )
        if slot is None:
            raise ValidationError({"preparation": f"no free therapist time on {t.date.isoformat()}"})
        created.append(_book(actor, course, slot, AppointmentKind.INTEGRATION, phase=t.phase, number=None))
        busy.append((slot.starts_at, slot.ends_at, None, course.patient_id, slot.therapist_id))
    return created


def _book_dosing(
    actor: Actor,
    course: Course,
    plan: clinical_schedule.Plan,
    sessions: Sequence[domain.DatedSession],
    cal: ClinicCalendar,
    busy: list[tuple[Any, ...]],
    chairs: Sequence[int],
) -> dict[int, Appointment]:
    """Book each dosing session in a free chair: session number -> appointment, in session order."""
    clinic = course.clinic
    by_number = {s.number: s for s in plan.sessions}
    dose_appts: dict[int, Appointment] = {}
    for s in sessions:
        ps = by_number[s.number]
        slot = _find_slot(clinic, cal, s.date, ps.duration_min, busy, course.patient_id, chairs, [])
        if slot is None:
            raise ValidationError(
                {f"session_{s.number}": f"no free chair on {s.date.isoformat()} for {ps.duration_min} min"}
            )
        appt = _book(
            actor,
            course,
            slot,
            AppointmentKind.DOSING,
            phase=s.phase,
            number=s.number,
            dose_mg=ps.dose_mg,
            drug=ps.drug,
            route=ps.route,
        )
        dose_appts[s.number] = appt
        busy.append((slot.starts_at, slot.ends_at, slot.chair_id, course.patient_id, None))
    return dose_appts


def _book_integration(
    actor: Actor,
    course: Course,
    integration_days: Sequence[tuple[int, dt.date]],
    dose_appts: dict[int, Appointment],
    cal: ClinicCalendar,
    busy: list[tuple[Any, ...]],
    therapist_ids: Sequence[int],
) -> list[Appointment]:
    """Book each integration session with a therapist, after the protocol's minimum hours if that day allows."""
    clinic = course.clinic
    created: list[Appointment] = []
    for number, day in integration_days:
        dose = dose_appts[number]
        not_before = dose.starts_at + dt.timedelta(hours=SCHEDULE_RULES.num("integration.min_hours"))
        slot = _find_slot(
            clinic,
            cal,
            day,
            THERAPY_SESSION_MIN,
            busy,
            course.patient_id,
            [],
            therapist_ids,
            not_before=not_before,
        )
        if slot is None:
            slot = _find_slot(
                clinic, cal, day, THERAPY_SESSION_MIN, busy, course.patient_id, [], therapist_ids
            )
        if slot is None:
            raise ValidationError(
                {
                    "therapist": f"no free therapist time on {day.isoformat()} for the integration session after session {number}"
                }
            )
        created.append(
            _book(
                actor,
                course,
                slot,
                AppointmentKind.INTEGRATION,
                phase="integration",
                number=number,
                linked=dose,
            )
        )
        busy.append((slot.starts_at, slot.ends_at, None, course.patient_id, slot.therapist_id))
    return created


def _book(
    actor: Actor,
    course: Course,
    slot: Slot,
    kind: str,
    *,
    phase: str,
    number: int | None,
    dose_mg: float | None = None,
    drug: str = "",
    route: str = "",
    linked: Appointment | None = None,
) -> Appointment:
    return _save(
        Appointment(
            course=course,
            patient_id=course.patient_id,
            clinic_id=course.clinic_id,
            kind=kind,
            number=number,
            phase=phase,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            chair_id=slot.chair_id,
            therapist_id=slot.therapist_id,
            planned_dose_mg=Decimal(str(dose_mg)).quantize(Decimal("0.01")) if dose_mg is not None else None,
            planned_drug=drug,
            planned_route=route,
            linked_dose_appointment=linked,
            created_by=actor,
        )
    )


@transaction.atomic
def book_appointment(
    actor: Actor,
    patient: Patient,
    *,
    kind: str,
    starts_at: dt.datetime,
    minutes: int,
    chair: Chair | None = None,
    therapist_id: int | None = None,
    course: Course | None = None,
) -> Appointment:
    """Book one appointment at a given time, refusing any overlap (chair, patient, therapist)."""
    policies.require(actor, Act.SCHEDULE_BOOK, patient.clinic_id)
    if kind not in AppointmentKind.values:
        raise ValidationError({"kind": f"kind must be one of {', '.join(AppointmentKind.values)}"})
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "starts_at must carry a time zone"})
    if not 5 <= minutes <= 12 * 60:
        raise ValidationError({"minutes": "minutes must be between 5 and 720"})
    if chair is not None and (chair.clinic_id != patient.clinic_id or not chair.active):
        raise ValidationError({"chair": "chair must be an active chair of the patient's clinic"})
    if kind == AppointmentKind.DOSING and chair is None:
        raise ValidationError({"chair": "a dosing session needs a chair"})
    if course is not None and course.patient_id != patient.pk:
        raise ValidationError({"course": "course belongs to another patient"})
    if therapist_id is not None and therapist_id not in {u.pk for u in therapists_of(patient.clinic)}:
        raise ValidationError({"therapist": "therapist must be a therapist of this clinic"})
    clinic = patient.clinic
    _lock(clinic, patient.pk, [therapist_id] if therapist_id else [])
    slot = Slot(
        starts_at, starts_at + dt.timedelta(minutes=minutes), chair.pk if chair else None, therapist_id
    )
    local = starts_at.astimezone(clinic.tz).date()
    busy = _busy(clinic, [local], patient.pk, [therapist_id] if therapist_id else [])
    field = _conflict_field(busy, slot, patient.pk)
    if field is not None:
        raise ValidationError(
            {field: f"the {field} is already booked at {starts_at.astimezone(clinic.tz):%Y-%m-%d %H:%M}"}
        )
    appt = _save(
        Appointment(
            course=course,
            patient=patient,
            clinic=clinic,
            kind=kind,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            chair_id=slot.chair_id,
            therapist_id=therapist_id,
            created_by=actor,
        )
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=appt,
        new=appt.audit_snapshot(),
        summary=f"{kind} appointment booked",
    )
    return appt


def _course_sessions(course: Course, exclude_id: int | None = None) -> list[domain.DatedSession]:
    tz = course.clinic.tz
    rows = course.appointments.filter(kind=AppointmentKind.DOSING, number__isnull=False).exclude(
        status=AppointmentStatus.CANCELLED
    )
    return [
        domain.DatedSession(a.number, a.starts_at.astimezone(tz).date(), a.phase)
        for a in rows
        if a.number is not None  # always, by the number__isnull filter; narrows the type
    ]


@transaction.atomic
def move_appointment(
    actor: Actor, appointment: Appointment, new_date: dt.date, *, reason: str = ""
) -> Appointment:
    """Move a booked appointment to another day (first free slot). A dosing session of a course is checked
    against the protocol's spacing limits first (:func:`kairos.courses.domain.check_move`)."""
    policies.require(actor, Act.SCHEDULE_BOOK, appointment.clinic_id)
    appt = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("clinic", "course")
        .get(pk=appointment.pk)
    )
    if appt.status != AppointmentStatus.BOOKED:
        raise ValidationError(
            {"status": f"only a booked appointment can be moved (this one is {appt.status})"}
        )
    clinic = appt.clinic
    if new_date < timezone.localdate(timezone=clinic.tz):
        raise ValidationError({"date": "date cannot be in the past"})
    within_horizon("date", new_date, timezone.localdate(timezone=clinic.tz))
    cal_core = clinical_calendar(clinic, around=new_date)
    if not cal_core.is_open(new_date):
        raise ValidationError({"date": f"{new_date.isoformat()} is not an open clinic day"})
    if appt.kind == AppointmentKind.DOSING and appt.course is not None and appt.number is not None:
        if not policies.can(actor, Act.COURSE_PLAN, clinic.pk):
            raise PermissionDenied(
                "moving a dosing session changes the treatment plan: a prescriber must do it"
            )
        errors = domain.check_move(
            appt.course.protocol_id, _course_sessions(appt.course), appt.number, new_date, cal_core
        )
        if errors:
            raise ValidationError({"date": errors})
    before = appt.audit_snapshot()
    minutes = int((appt.ends_at - appt.starts_at).total_seconds() // 60)
    therapists = [appt.therapist_id] if appt.therapist_id else []
    chairs = _lock(clinic, appt.patient_id, therapists)
    busy = _busy(clinic, [new_date], appt.patient_id, therapists, exclude_pk=appt.pk)
    preferred = [appt.chair_id] + [c for c in chairs if c != appt.chair_id] if appt.chair_id else []
    slot = _find_slot(
        clinic, calendar_row(clinic), new_date, minutes, busy, appt.patient_id, preferred, therapists
    )
    if slot is None:
        raise ValidationError(
            {"date": f"no free {'chair' if appt.chair_id else 'therapist'} time on {new_date.isoformat()}"}
        )
    appt.starts_at, appt.ends_at, appt.chair_id = slot.starts_at, slot.ends_at, slot.chair_id
    appt.updated_at = timezone.now()
    _save(appt)
    old, new = changes(before, appt.audit_snapshot())
    record(
        Action.UPDATE,
        actor=actor,
        patient=appt.patient,
        obj=appt,
        old=old,
        new=new,
        summary="appointment moved",
        reason=reason,
    )
    return appt


@transaction.atomic
def cancel_appointment(actor: Actor, appointment: Appointment, *, reason: str) -> Appointment:
    policies.require(actor, Act.SCHEDULE_BOOK, appointment.clinic_id)
    reason = require_reason(reason, hint="say why the appointment is cancelled")
    appt = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appt.status != AppointmentStatus.BOOKED:
        raise ValidationError(
            {"status": f"only a booked appointment can be cancelled (this one is {appt.status})"}
        )
    appt.status = AppointmentStatus.CANCELLED
    appt.updated_at = timezone.now()
    appt.save(update_fields=["status", "updated_at"])
    record(
        Action.UPDATE,
        actor=actor,
        patient=appt.patient,
        obj=appt,
        old={"status": "booked"},
        new={"status": "cancelled"},
        summary="appointment cancelled",
        reason=reason,
    )
    return appt


def mark_arrived(actor: Actor, appointment: Appointment, *, at: dt.datetime | None = None) -> Appointment:
    """The front desk records the patient's arrival for a booked appointment (#11 §1); audited.

    Marking an already-arrived appointment again keeps the first arrival (idempotent); a cancelled,
    completed or missed appointment is refused naming ``status``; ``at`` may not be in the future.
    """
    policies.require(actor, Act.SCHEDULE_BOOK, appointment.clinic_id)
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        raise ValidationError({"arrived_at": "arrived_at: must include a time zone"})
    if at > now + dt.timedelta(minutes=1):
        raise ValidationError({"arrived_at": "arrived_at: may not be in the future"})
    with transaction.atomic():
        appt = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appt.arrived_at is not None:
            return appt
        if appt.status != AppointmentStatus.BOOKED:
            raise ValidationError(
                {
                    "status": f"status: only a booked appointment can be marked arrived (this one is {appt.status})"
                }
            )
        appt.arrived_at = at
        appt.arrived_by = actor
        appt.updated_at = now
        appt.save(update_fields=["arrived_at", "arrived_by", "updated_at"])
        record(
            Action.UPDATE,
            actor=actor,
            patient=appt.patient,
            obj=appt,
            new={"arrived_at": at.isoformat()},
            summary="patient arrived",
        )
    return appt
