"""Discharge (readiness), signature and amendments of the discharge note; integration notes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.dosing import selectors
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    DischargeNote,
    DosingSession,
    IntegrationNote,
    RemsForm,
    RiskCheck,
)
from kairos.dosing.services.common import (
    _aware,
    _charted_at,
    _err,
    _fresh,
    _lock,
    _move,
    _reason,
)

# --- discharge, signature, amendments ---------------------------------------------------------------------


@transaction.atomic
def mark_ready(
    actor: Actor,
    session: DosingSession,
    *,
    escort_present: bool,
    dissociation_resolved: bool,
    version: int | None = None,
) -> DosingSession:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    result = selectors.readiness(
        session, timezone.now(), escort_present=escort_present, dissociation_resolved=dissociation_resolved
    )
    if not result.ready:
        raise ValidationError({"readiness": [f"{f.code}: {f.message}" for f in result.findings]})
    _move(session, Status.READY, ready_at=timezone.now())
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        new={"status": "ready_for_discharge"},
        summary="ready for discharge",
    )
    return session


@transaction.atomic
def discharge(
    actor: Actor,
    session: DosingSession,
    *,
    escort_present: bool,
    dissociation_resolved: bool,
    summary: str,
    ready_to_leave_minutes: int | str | None = None,
    at: dt.datetime | None = None,
    version: int | None = None,
) -> DischargeNote:
    """Discharge when every readiness criterion is met, writing version 1 of the (unsigned) discharge note."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    entered_at = timezone.now()
    if session.status not in (Status.MONITORING, Status.READY):
        raise _err("status", f"cannot discharge: session is {session.get_status_display()}")
    # The steps before discharge with charted times (ready_at and an override's prechecks_done_at are
    # entry times, so they do not bound a retrospective discharge time).
    now = _charted_at(
        session,
        at,
        "at",
        "discharge time",
        (
            ("check-in", session.checked_in_at),
            ("the start of dosing", session.dosing_started_at),
            ("the end of dosing", session.dosing_ended_at),
        ),
    )
    result = selectors.readiness(
        session, now, escort_present=escort_present, dissociation_resolved=dissociation_resolved
    )
    if not result.ready:
        raise ValidationError({"readiness": [f"{f.code}: {f.message}" for f in result.findings]})
    if ready_to_leave_minutes is not None and ready_to_leave_minutes != "":
        try:
            rtl = int(ready_to_leave_minutes)
        except (TypeError, ValueError):
            raise _err("ready_to_leave_minutes", "whole minutes in [0, 600]") from None
        if not 0 <= rtl <= 600:
            raise _err("ready_to_leave_minutes", f"{rtl} is outside the allowed range [0, 600] min")
        ready_to_leave_minutes = rtl
    if not summary.strip():
        raise _err("summary", "required")
    readiness = result.to_dict()
    readiness["ready_to_leave_minutes"] = ready_to_leave_minutes
    note = DischargeNote.objects.create(
        session=session,
        version=1,
        discharged_at=now,
        readiness=readiness,
        escort_present=escort_present,
        dissociation_resolved=dissociation_resolved,
        summary=summary.strip(),
        author=actor,
    )
    _move(session, Status.DISCHARGED, discharged_at=now)
    if session.is_esketamine:
        RemsForm.objects.get_or_create(
            session=session, defaults={"due_date": selectors.rems_due_date(session)}
        )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=note,
        new={"discharged_at": now, "entered_at": entered_at, "readiness": result.outcome.value},
        summary="discharged",
    )
    return note


@transaction.atomic
def sign_note(actor: Actor, note: DischargeNote) -> DischargeNote:
    """The responsible clinician signs the note; it is locked from then on."""
    note = (
        DischargeNote.objects.select_for_update(of=("self",))
        .select_related("session__patient")
        .get(pk=note.pk)
    )
    session = note.session
    policies.require(actor, Act.SESSION_SIGN, session.clinic_id)
    if session.responsible_clinician_id != getattr(actor, "pk", None):
        raise _err("signed_by", "only the responsible clinician signs the discharge note")
    if note.signed_at is not None:
        raise _err("note", "already signed")
    note.signed_by, note.signed_at = actor, timezone.now()
    DischargeNote.objects.filter(pk=note.pk).update(signed_by=actor, signed_at=note.signed_at)
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=note,
        new={"version": note.version},
        summary=f"discharge note v{note.version} signed",
    )
    return note


@transaction.atomic
def amend_note(actor: Actor, note: DischargeNote, *, reason: str, summary: str) -> DischargeNote:
    """Correct a signed note: a new version row pointing at the previous one (never an edit)."""
    note = (
        DischargeNote.objects.select_for_update(of=("self",))
        .select_related("session__patient")
        .get(pk=note.pk)
    )
    session = note.session
    policies.require(actor, Act.SESSION_SIGN, session.clinic_id)
    if note.signed_at is None:
        raise _err("note", "sign the note first; an unsigned note is simply completed")
    if DischargeNote.objects.filter(previous_version=note).exists():
        raise _err("note", "this is not the latest version; amend the latest")
    reason = _reason(reason)
    if not summary.strip():
        raise _err("summary", "required")
    new = DischargeNote.objects.create(
        session=session,
        version=note.version + 1,
        previous_version=note,
        discharged_at=note.discharged_at,
        readiness=note.readiness,
        escort_present=note.escort_present,
        dissociation_resolved=note.dissociation_resolved,
        summary=summary.strip(),
        amendment_reason=reason,
        author=actor,
    )
    record(
        Action.AMEND,
        actor=actor,
        patient=session.patient,
        obj=new,
        old={"version": note.version, "summary": note.summary},
        new={"version": new.version, "summary": new.summary},
        reason=reason,
        summary=f"discharge note amended (v{new.version})",
    )
    return new


# --- integration notes -------------------------------------------------------------------------------------


@transaction.atomic
def write_integration_note(
    actor: Actor,
    session: DosingSession,
    *,
    experience: str,
    risk_check: str,
    insights: str = "",
    intentions: str = "",
    homework: str = "",
    risk_notes: str = "",
    held_at: dt.datetime | None = None,
    appointment: Any = None,
) -> IntegrationNote:
    policies.require(actor, Act.INTEGRATION_NOTE, session.clinic_id)
    session = _fresh(session)
    if session.dosing_started_at is None:
        raise _err("session", "integration follows a dose: this session has no administration")
    when = _aware(held_at, "held_at")
    if when < session.dosing_started_at:
        raise _err("held_at", "the integration session cannot be before the dose")
    if risk_check not in RiskCheck.values:
        raise _err("risk_check", f"one of {', '.join(RiskCheck.values)}")
    if risk_check != RiskCheck.NO_CONCERN and not risk_notes.strip():
        raise _err("risk_notes", "describe the risk and the action taken")
    if not experience.strip():
        raise _err("experience", "required")
    note = IntegrationNote.objects.create(
        session=session,
        appointment=appointment,
        held_at=when,
        experience=experience.strip(),
        insights=insights.strip(),
        intentions=intentions.strip(),
        homework=homework.strip(),
        risk_check=risk_check,
        risk_notes=risk_notes.strip(),
        author=actor,
        signed_by=actor,
        signed_at=timezone.now(),
    )
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=note,
        new={"risk_check": risk_check},
        summary="integration note signed",
    )
    return note
