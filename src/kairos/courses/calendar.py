"""The clinic calendar and its settings: open weekdays and hours, closures, chairs, REMS certification.

Reads adapt the calendar rows to the clinical core's ``ClinicCalendar``; writes are atomic,
permission-checked and audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import changes, record
from kairos.clinical import schedule as clinical_schedule
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.courses.models import (
    Chair,
    ClinicCalendar,
    Closure,
)

# How far ahead anything may be booked, moved or closed (clinic operations, not a clinical threshold): a start
# within a year plus the longest course, with room to spare. Also keeps date arithmetic inside date.max.
BOOKING_HORIZON_DAYS = 2 * 366


def within_horizon(field: str, day: dt.date, today: dt.date, *, past_days: int = 0) -> None:
    """Refuse a day before ``today - past_days`` or after ``today + BOOKING_HORIZON_DAYS`` naming ``field``."""
    lo, hi = today - dt.timedelta(days=past_days), today + dt.timedelta(days=BOOKING_HORIZON_DAYS)
    if not lo <= day <= hi:
        raise ValidationError(
            {field: f"{field}: {day.isoformat()} must be between {lo.isoformat()} and {hi.isoformat()}"}
        )


# --- calendar ---------------------------------------------------------------------------------------------


def calendar_row(clinic: Clinic) -> ClinicCalendar:
    """The clinic's calendar settings (defaults when none saved; not written)."""
    cal = ClinicCalendar.objects.filter(clinic=clinic).first()
    return cal if cal is not None else ClinicCalendar(clinic=clinic)


def clinical_calendar(clinic: Clinic, *, around: dt.date | None = None) -> clinical_schedule.ClinicCalendar:
    """Adapter: the DB calendar (open weekdays and closures) as the clinical core's ``ClinicCalendar``."""
    row = calendar_row(clinic)
    closures = Closure.objects.filter(clinic=clinic)
    if around is not None:
        closures = closures.filter(
            date__gte=around - dt.timedelta(days=30), date__lte=around + dt.timedelta(days=400)
        )
    try:
        return clinical_schedule.ClinicCalendar(
            frozenset(int(d) for d in row.open_weekdays), frozenset(closures.values_list("date", flat=True))
        )
    except clinical_schedule.ScheduleError as exc:
        raise ValidationError({"open_weekdays": str(exc)}) from None


# --- clinic settings --------------------------------------------------------------------------------------


@transaction.atomic
def update_clinic_settings(
    actor: Actor,
    clinic: Clinic,
    *,
    rems_certified: bool,
    rems_certification_id: str,
    open_weekdays: Sequence[int],
    opens_at: dt.time,
    closes_at: dt.time,
) -> Clinic:
    """REMS certification of the setting (clinical.md §1.3) and the clinic calendar; audited."""
    policies.require(actor, Act.CLINIC_SETTINGS, clinic.pk)
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    cert_id = (rems_certification_id or "").strip()
    if rems_certified and not cert_id:
        raise ValidationError(
            {"rems_certification_id": "rems_certification_id is required when the clinic is REMS certified"}
        )
    if len(cert_id) > 64:
        raise ValidationError({"rems_certification_id": "rems_certification_id: at most 64 characters"})
    cal = ClinicCalendar.objects.select_for_update().filter(clinic=locked).first() or ClinicCalendar(
        clinic=locked
    )
    before = {
        "rems_certified": locked.rems_certified,
        "rems_certification_id": locked.rems_certification_id,
        "open_weekdays": list(cal.open_weekdays),
        "opens_at": cal.opens_at.isoformat(),
        "closes_at": cal.closes_at.isoformat(),
    }
    cal.open_weekdays = sorted({int(d) for d in open_weekdays})
    cal.opens_at, cal.closes_at = opens_at, closes_at
    cal.clean()
    locked.rems_certified, locked.rems_certification_id = rems_certified, cert_id
    after = {
        "rems_certified": locked.rems_certified,
        "rems_certification_id": locked.rems_certification_id,
        "open_weekdays": cal.open_weekdays,
        "opens_at": cal.opens_at.isoformat(),
        "closes_at": cal.closes_at.isoformat(),
    }
    old, new = changes(before, after)
    if not new:
        return locked
    locked.save(update_fields=["rems_certified", "rems_certification_id"])
    cal.updated_at = timezone.now()
    cal.save()
    record(
        Action.UPDATE,
        actor=actor,
        clinic=locked,
        obj=locked,
        old=old,
        new=new,
        summary="clinic settings changed",
    )
    return locked


@transaction.atomic
def add_chair(actor: Actor, clinic: Clinic, name: str) -> Chair:
    policies.require(actor, Act.CLINIC_SETTINGS, clinic.pk)
    name = (name or "").strip()
    if not 1 <= len(name) <= 60:
        raise ValidationError({"name": "name: 1–60 characters"})
    if Chair.objects.filter(clinic=clinic, name=name).exists():
        raise ValidationError({"name": f"a chair named {name!r} already exists"})
    chair = Chair.objects.create(clinic=clinic, name=name)
    record(Action.CREATE, actor=actor, clinic=clinic, obj=chair, new={"name": name}, summary="chair added")
    return chair


@transaction.atomic
def set_chair_active(actor: Actor, chair: Chair, active: bool) -> Chair:
    policies.require(actor, Act.CLINIC_SETTINGS, chair.clinic_id)
    if chair.active != active:
        chair.active = active
        chair.save(update_fields=["active"])
        record(
            Action.UPDATE,
            actor=actor,
            clinic=chair.clinic_id,
            obj=chair,
            old={"active": not active},
            new={"active": active},
            summary="chair changed",
        )
    return chair


@transaction.atomic
def add_closure(actor: Actor, clinic: Clinic, day: dt.date, reason: str = "") -> Closure:
    policies.require(actor, Act.CLINIC_SETTINGS, clinic.pk)
    within_horizon("date", day, timezone.localdate(timezone=clinic.tz))
    if Closure.objects.filter(clinic=clinic, date=day).exists():
        raise ValidationError({"date": f"{day.isoformat()} is already a closure"})
    closure = Closure.objects.create(clinic=clinic, date=day, reason=(reason or "")[:200])
    record(
        Action.CREATE,
        actor=actor,
        clinic=clinic,
        obj=closure,
        new={"date": day, "reason": closure.reason},
        summary="closure added",
    )
    return closure
