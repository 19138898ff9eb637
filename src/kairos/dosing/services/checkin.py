"""Create and cancel a dosing session; check-in and the pre-dose gate (recheck, prescriber override)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical.protocols import ProtocolError, get_protocol
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import parse_symptoms
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.dosing import hooks, selectors
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    CautionDecision,
    Decision,
    DoseRoute,
    DosingSession,
    Drug,
    Phase,
    PreCheck,
    PregnancyStatus,
    Reading,
    ReadingKind,
)
from kairos.dosing.services.common import (
    INTAKE_LOOKBACK,
    MAX_REASON,
    _aware,
    _charted_at,
    _err,
    _local,
    _lock,
    _move,
    _reason,
    _validate_vitals,
    _vitals_fields,
    caution_findings,
    pending_cautions,
)
from kairos.rulesets.selectors import effective_rules

# --- create / cancel ---------------------------------------------------------------------------------------


@transaction.atomic
def create_session(
    actor: Actor,
    patient: Any,
    *,
    protocol_id: str,
    scheduled_for: dt.datetime,
    responsible: Actor | None = None,
    course: Any = None,
    appointment: Any = None,
) -> DosingSession:
    policies.require(actor, Act.SESSION_CHART, patient.clinic_id)
    try:
        protocol = get_protocol(protocol_id)
    except ProtocolError as exc:
        raise _err("protocol_id", str(exc)) from None
    drug = Drug.ESKETAMINE if protocol.drug == "esketamine" else Drug.KETAMINE
    route = protocol.route.lower()
    if route not in DoseRoute.values:
        raise _err("protocol_id", f"{protocol_id} is given {route}; dosing sessions cover intranasal, iv, im")
    if timezone.is_naive(scheduled_for):
        raise _err("scheduled_for", "must include a time zone")
    responsible = responsible or actor
    if not policies.can(responsible, Act.SESSION_SIGN, patient.clinic_id):
        raise _err("responsible", "the responsible clinician must be a prescriber or nurse of this clinic")
    for obj, name in ((course, "course"), (appointment, "appointment")):
        if obj is not None and obj.patient_id != patient.pk:
            raise _err(name, f"{name} belongs to another patient")
    session = DosingSession.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        course=course,
        appointment=appointment,
        protocol_id=protocol.id,
        drug=drug,
        route=route,
        scheduled_for=scheduled_for,
        responsible_clinician=responsible,
        created_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=session,
        new={"protocol_id": protocol.id, "scheduled_for": scheduled_for},
        summary="dosing session created",
    )
    return session


@transaction.atomic
def cancel_session(
    actor: Actor, session: DosingSession, *, reason: str, version: int | None = None
) -> DosingSession:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    reason = _reason(reason, max_length=DosingSession._meta.get_field("cancel_reason").max_length or 300)
    _move(session, Status.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason)
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        new={"status": "cancelled"},
        reason=reason,
        summary="session cancelled",
    )
    return session


# --- check-in and the pre-dose gate ------------------------------------------------------------------------


# Over 80 lines: validates and writes every pre-check field in one transaction, in the form's field order.
@transaction.atomic
def check_in(
    actor: Actor,
    session: DosingSession,
    *,
    prescriber_on_site: Any,
    pulse_oximeter_on_site: bool,
    ride_home_confirmed: bool,
    no_driving_acknowledged: bool,
    vitals: Mapping[str, Any],
    weight_kg: Decimal | float | str | None = None,
    height_cm: Decimal | float | str | None = None,
    last_food_at: dt.datetime | None = None,
    last_liquid_at: dt.datetime | None = None,
    escort_name: str = "",
    medicines_taken_today: str = "",
    pregnancy_status: str = PregnancyStatus.NOT_APPLICABLE,
    symptoms: Iterable[str] = (),
    at: dt.datetime | None = None,
    version: int | None = None,
) -> DosingSession:
    """Check the patient in, record the pre-checks and pre-dose vitals, and run the REMS and pre-dose gates.

    The session moves to ``prechecks_done`` when both gates pass, to ``held`` (with the reasons) on a hold,
    and stays ``checked_in`` on a caution until a prescriber records a decision (:func:`decide_cautions`).
    ``height_cm`` (optional) is recorded as measured now; without it the latest height within
    ``height.max_age_days`` is used (the ideal/adjusted weight basis needs one).
    """
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    entered_at = timezone.now()
    # Check-in is the session's first step; the one before it is its scheduled day (clinic-local): a
    # check-in charted before that day is charting the wrong session (move the session first).
    tz = session.clinic.tz
    day_start = dt.datetime.combine(session.scheduled_for.astimezone(tz).date(), dt.time(), tzinfo=tz)
    now = _charted_at(session, at, "at", "check-in time", (("the start of the scheduled day", day_start),))
    if prescriber_on_site is not None and not policies.can(
        prescriber_on_site, Act.DOSE_ORDER, session.clinic_id
    ):
        raise _err("prescriber_on_site", "must be a prescriber of this clinic")
    if pregnancy_status not in PregnancyStatus.values:
        raise _err("pregnancy_status", f"one of {', '.join(PregnancyStatus.values)}")
    try:
        parsed_symptoms = [s.value for s in parse_symptoms(symptoms)]
    except ValueError as exc:
        raise _err("symptoms", str(exc).split(": ", 1)[1]) from None
    for name, value in (("last_food_at", last_food_at), ("last_liquid_at", last_liquid_at)):
        if value is not None:
            _aware(value, name)
            if value < now - INTAKE_LOOKBACK:
                raise _err(
                    name,
                    f"{_local(session, value)} is more than {INTAKE_LOOKBACK.days} days before check-in; "
                    "leave it blank if unknown",
                )
    vals = _vitals_fields(vitals)
    _validate_vitals(now, vals)
    weight = None
    if weight_kg not in (None, ""):
        from kairos.patients.services import record_weight

        assert weight_kg is not None
        weight = record_weight(actor, session.patient, weight_kg, measured_at=now)
    else:
        weight = selectors.weight_today(session)
    height = _height_for(actor, session, height_cm, now)
    _move(
        session,
        Status.CHECKED_IN,
        checked_in_at=now,
        prescriber_on_site=prescriber_on_site,
        pulse_oximeter_on_site=bool(pulse_oximeter_on_site),
    )
    precheck = PreCheck.objects.create(
        session=session,
        weight=weight,
        height=height,
        last_food_at=last_food_at,
        last_liquid_at=last_liquid_at,
        ride_home_confirmed=bool(ride_home_confirmed),
        no_driving_acknowledged=bool(no_driving_acknowledged),
        escort_name=escort_name.strip()[:120],
        medicines_taken_today=medicines_taken_today.strip(),
        pregnancy_status=pregnancy_status,
        symptoms=parsed_symptoms,
        recorded_by=actor,
        recorded_at=now,
    )
    if any(v is not None for v in vals.values()):
        Reading.objects.create(
            session=session,
            kind=ReadingKind.VITALS,
            phase=Phase.PRE_DOSE,
            taken_at=now,
            recorded_by=actor,
            symptoms=parsed_symptoms,
            **vals,
        )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=precheck,
        new={
            "vitals": vals,
            "weight_id": getattr(weight, "pk", None),
            "height_id": getattr(height, "pk", None),
            "checked_in_at": now,  # the charted time (may be retrospective)
            "entered_at": entered_at,  # when it was entered
        },
        summary="checked in; pre-checks recorded",
    )
    _apply_gate(actor, session, precheck, now)
    hooks.session_changed(session.pk)
    return session


def _height_for(actor: Actor, session: DosingSession, height_cm: Any, now: dt.datetime) -> Any:
    """The height a check-in records (``height_cm`` given: measured now) or the latest recent one on record
    (within ``height.max_age_days`` of the session day, clinic time), or None."""
    if height_cm not in (None, ""):
        from kairos.patients.services import record_height

        return record_height(actor, session.patient, height_cm, measured_at=now)
    latest = session.patient.heights.filter(measured_at__lte=now).first()
    if latest is None:
        return None
    age = (selectors.local_date(session, now) - selectors.local_date(session, latest.measured_at)).days
    max_age = effective_rules(session.clinic_id, "dosing").num("height.max_age_days")
    return latest if age <= int(max_age) else None


def _hold_reasons(rems: Any, gate: Any) -> list[dict[str, Any]]:
    """The findings of both gates that hold the session (HOLD or worse), as stored in ``hold_reasons``."""
    return [f.to_dict() for f in (*rems.findings, *gate.findings) if f.severity.rank >= Outcome.HOLD.rank]


def _apply_gate(actor: Actor, session: DosingSession, precheck: PreCheck, now: dt.datetime) -> None:
    rems = selectors.rems_result(session, now)
    gate = selectors.gate_result(session, precheck, now)
    precheck.rems_result = rems.to_dict()
    precheck.gate_result = gate.to_dict()
    worst = Outcome.worst([rems.outcome, gate.outcome])
    precheck.gate_outcome = worst.value
    precheck.save(update_fields=["rems_result", "gate_result", "gate_outcome"])
    if worst.rank >= Outcome.HOLD.rank:
        reasons = _hold_reasons(rems, gate)
        _move(session, Status.HELD, held_at=now, hold_reasons=reasons)
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "held", "reasons": [r["code"] for r in reasons]},
            summary="pre-dose gate: held",
        )
    elif caution_findings(precheck):
        _await_decision(actor, session, precheck)
    else:
        _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now, hold_reasons=[])
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "prechecks_done", "gate": worst.value},
            summary="pre-dose gate passed",
        )


def _await_decision(actor: Actor, session: DosingSession, precheck: PreCheck) -> None:
    """Cautions only: the session stays (or becomes) checked in until a prescriber decides (issue #12 §2)."""
    codes = [f["code"] for f in caution_findings(precheck)]
    if session.status != Status.CHECKED_IN:
        _move(session, Status.CHECKED_IN, hold_reasons=[])
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        new={"status": "checked_in", "gate": "caution", "awaiting_decision": codes},
        summary="pre-dose gate: cautions await the prescriber's decision",
    )


def _refuse_same_minute_recheck(session: DosingSession, now: dt.datetime) -> None:
    """Issue #11 §4: a re-check is a new reading, so it is charted in a later minute than the pre-dose
    reading it re-checks (same minute refused, the next minute accepted)."""
    last = (
        Reading.objects.filter(session_id=session.pk, phase=Phase.PRE_DOSE, kind=ReadingKind.VITALS)
        .order_by("-taken_at", "-pk")
        .values_list("taken_at", flat=True)
        .first()
    )
    if last is not None and now.replace(second=0, microsecond=0) <= last.replace(second=0, microsecond=0):
        raise _err(
            "at",
            f"re-check in the same minute as the reading it re-checks ({last.isoformat(timespec='minutes')}):"
            " a re-check is charted at least one minute later",
        )


@transaction.atomic
def recheck(
    actor: Actor,
    session: DosingSession,
    *,
    vitals: Mapping[str, Any],
    at: dt.datetime | None = None,
    version: int | None = None,
) -> DosingSession:
    """A held session, or one checked in with cautions (awaiting or delayed by the prescriber's decision):
    record repeat pre-dose vitals and run both gates again. A new evaluation needs a new decision on its
    cautions."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    has_precheck = PreCheck.objects.filter(session_id=session.pk).exists()
    if not (session.status == Status.HELD or (session.status == Status.CHECKED_IN and has_precheck)):
        raise _err("status", "only a held session, or one checked in with cautions, is re-checked")
    now = _aware(at, "at")
    _refuse_same_minute_recheck(session, now)
    vals = _vitals_fields(vitals)
    _validate_vitals(now, vals)
    Reading.objects.create(
        session=session,
        kind=ReadingKind.VITALS,
        phase=Phase.PRE_DOSE,
        taken_at=now,
        recorded_by=actor,
        **vals,
    )
    hooks.session_changed(session.pk)
    precheck = session.precheck
    rems = selectors.rems_result(session, now)
    gate = selectors.gate_result(session, precheck, now)
    precheck.rems_result, precheck.gate_result = rems.to_dict(), gate.to_dict()
    worst = Outcome.worst([rems.outcome, gate.outcome])
    precheck.gate_outcome = worst.value
    precheck.gate_run += 1
    precheck.save(update_fields=["rems_result", "gate_result", "gate_outcome", "gate_run"])
    if worst.rank < Outcome.HOLD.rank and caution_findings(precheck):
        _await_decision(actor, session, precheck)
    elif worst.rank < Outcome.HOLD.rank:
        _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now, hold_reasons=[])
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "prechecks_done"},
            summary="re-check passed",
        )
    elif session.status == Status.CHECKED_IN:
        reasons = _hold_reasons(rems, gate)
        _move(session, Status.HELD, held_at=now, hold_reasons=reasons)
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "held", "reasons": [r["code"] for r in reasons]},
            summary="re-check: held",
        )
    else:
        # Still held: the hold now rests on the re-check's findings (e.g. a hold confirmed by a second
        # reading, ``bp_hold``, replaces the first reading's ``bp_hold_recheck``), so an override that
        # follows records what was actually confirmed.
        previous = [r["code"] for r in session.hold_reasons]
        reasons = _hold_reasons(rems, gate)
        session.hold_reasons = reasons
        session.updated_at = timezone.now()
        DosingSession.objects.filter(pk=session.pk).update(
            version=F("version") + 1, hold_reasons=reasons, updated_at=session.updated_at
        )
        session.version += 1
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            old={"reasons": previous},
            new={"gate": worst.value, "reasons": [r["code"] for r in reasons]},
            summary="re-check: still held",
        )
    return session


@transaction.atomic
def override_hold(
    actor: Actor, session: DosingSession, *, reason: str, version: int | None = None
) -> DosingSession:
    """A prescriber proceeds despite a pre-dose HOLD, with a reason. REMS hard stops and emergencies
    (crisis symptoms) can never be overridden."""
    policies.require(actor, Act.GATE_OVERRIDE, session.clinic_id)
    session = _lock(session, version)
    if session.status != Status.HELD:
        raise _err("status", "only a held session can be overridden")
    reason = _reason(reason)
    precheck = session.precheck
    blocking = [
        r for r in session.hold_reasons if r["severity"] in (Outcome.HARD_STOP.value, Outcome.ESCALATE.value)
    ]
    if blocking:
        raise _err(
            "override", "cannot override " + "; ".join(f"{r['code']} ({r['severity']})" for r in blocking)
        )
    now = timezone.now()
    precheck.override_by, precheck.override_reason, precheck.override_at = actor, reason, now
    precheck.save(update_fields=["override_by", "override_reason", "override_at"])
    cautions = pending_cautions(session)
    if cautions:
        # The prescriber who overrides the hold decides the evaluation's cautions too, with the same reason.
        _record_decision(actor, session, precheck, cautions, Decision.PROCEED, reason, now, via_override=True)
    _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now)
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        old={"status": "held"},
        new={"status": "prechecks_done", "override": [r["code"] for r in session.hold_reasons]},
        reason=reason,
        summary="pre-dose hold overridden by prescriber",
    )
    return session


# --- the prescriber's decision on pre-dose cautions (issue #12 §2) ---------------------------------------


def _record_decision(
    actor: Actor,
    session: DosingSession,
    precheck: PreCheck,
    cautions: list[dict[str, Any]],
    decision: str,
    reason: str,
    now: dt.datetime,
    *,
    via_override: bool = False,
) -> CautionDecision:
    row = CautionDecision.objects.create(
        session=session,
        gate_run=precheck.gate_run,
        codes=[f["code"] for f in cautions],
        findings=cautions,
        decision=decision,
        reason=reason,
        via_override=via_override,
        decided_by=actor,
        decided_at=now,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=row,
        new={"decision": decision, "codes": row.codes, "via_override": via_override},
        reason=reason,
        summary=f"pre-dose caution decision: {decision}",
    )
    return row


@transaction.atomic
def decide_cautions(
    actor: Actor, session: DosingSession, *, decision: str, reason: str, version: int | None = None
) -> CautionDecision:
    """The prescriber's recorded decision on the pending pre-dose cautions: ``proceed`` (pre-checks done,
    the dose may be ordered), ``delay`` (stays checked in, no order; re-check or decide again later) or
    ``cancel`` (the session is cancelled with the reason). Prescribers only (``gate.override``)."""
    policies.require(actor, Act.GATE_OVERRIDE, session.clinic_id)
    session = _lock(session, version)
    if decision not in Decision.values:
        raise _err("decision", f"{decision!r} is not one of {', '.join(Decision.values)}")
    if session.status != Status.CHECKED_IN:
        raise _err(
            "status",
            "a caution decision is made while the session is checked in with cautions "
            f"(session is {session.get_status_display()})",
        )
    cautions = pending_cautions(session)
    if not cautions:
        raise _err("decision", "no pre-dose caution awaits a decision")
    max_length = DosingSession._meta.get_field("cancel_reason").max_length or 300
    reason = _reason(reason, max_length=max_length if decision == Decision.CANCEL else MAX_REASON)
    now = timezone.now()
    precheck = session.precheck
    row = _record_decision(actor, session, precheck, cautions, decision, reason, now)
    if decision == Decision.PROCEED:
        _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now, hold_reasons=[])
        summary = "cautions decided: proceed"
    elif decision == Decision.CANCEL:
        _move(session, Status.CANCELLED, cancelled_at=now, cancel_reason=reason)
        summary = "cautions decided: session cancelled"
    else:
        session.updated_at = now
        DosingSession.objects.filter(pk=session.pk).update(version=F("version") + 1, updated_at=now)
        session.version += 1
        summary = "cautions decided: dosing delayed"
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        new={"status": session.status, "decision": decision, "codes": row.codes},
        reason=reason,
        summary=summary,
    )
    hooks.session_changed(session.pk)
    return row
