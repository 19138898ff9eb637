"""The append-only flowsheet (readings flagged at entry), adverse events and emergency actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical.instruments import AnswerError, score
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import parse_symptoms
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.dosing import hooks, selectors
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    SERIOUSNESS_CODES,
    AdverseEvent,
    DosingSession,
    EmergencyAction,
    Escalation,
    EventOutcome,
    EventType,
    Nausea,
    Phase,
    Reading,
    ReadingKind,
    Severity,
)
from kairos.dosing.services.common import (
    _aware,
    _err,
    _fresh,
    _lock,
    _move,
    _validate_vitals,
    _vitals_fields,
)

# --- flowsheet ---------------------------------------------------------------------------------------------

CHARTABLE = {
    Status.CHECKED_IN,
    Status.PRECHECKS_DONE,
    Status.HELD,
    Status.DOSING,
    Status.MONITORING,
    Status.READY,
}


# Over 80 lines: parse, plausibility, flags at entry, write and audit of one append-only row in one transaction.
@transaction.atomic
def add_reading(
    actor: Actor,
    session: DosingSession,
    *,
    taken_at: dt.datetime | None = None,
    vitals: Mapping[str, Any] | None = None,
    moaas: int | str | None = None,
    cadss6: Mapping[str, Any] | None = None,
    nausea: str = "",
    symptoms: Iterable[str] = (),
    other_effects: str = "",
    intervention: str = "",
) -> Reading:
    """Append one flowsheet row, flagged at entry. Implausible values are refused naming field and range."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = DosingSession.objects.select_related("clinic", "patient").get(pk=session.pk)
    if session.status not in CHARTABLE:
        raise _err(
            "status",
            f"readings are charted between check-in and discharge (session is {session.get_status_display()})",
        )
    now = _aware(taken_at, "taken_at")
    if session.checked_in_at and now < session.checked_in_at - dt.timedelta(hours=2):
        raise _err("taken_at", "is more than 2 h before check-in")
    vals = _vitals_fields(vitals or {})
    _validate_vitals(now, vals)
    moaas_value: int | None = None
    if moaas not in (None, ""):
        try:
            moaas_value = score("moaas", {"1": int(moaas)}).total
        except (AnswerError, ValueError, TypeError):
            raise _err("moaas", f"{moaas!r} is outside the MOAA/S range [0, 5]") from None
    cadss_items = None
    cadss_total = None
    if cadss6 and any(v not in (None, "") for v in cadss6.values()):
        try:
            answers = {str(k): int(v) for k, v in cadss6.items() if v not in (None, "")}
            cadss_score = score("cadss6", answers)
        except (AnswerError, ValueError, TypeError) as exc:
            raise _err("cadss6", f"{exc} (each item 0–4)") from None
        if cadss_score.missing:
            raise _err("cadss6", f"items {', '.join(cadss_score.missing)} missing (each item 0–4)")
        cadss_items, cadss_total = answers, cadss_score.total
    if nausea and nausea not in Nausea.values:
        raise _err("nausea", f"one of {', '.join(Nausea.values)}")
    try:
        parsed = [s.value for s in parse_symptoms(symptoms)]
    except ValueError as exc:
        raise _err("symptoms", str(exc).split(": ", 1)[1]) from None
    kind = (
        ReadingKind.VITALS
        if any(v is not None for v in vals.values())
        else ReadingKind.MOAAS
        if moaas_value is not None
        else ReadingKind.CADSS6
        if cadss_total is not None
        else ReadingKind.INTERVENTION
        if intervention.strip()
        else ReadingKind.EFFECT
    )
    if kind == ReadingKind.EFFECT and not (nausea or parsed or other_effects.strip()):
        raise _err("reading", "enter at least one value")
    phase = selectors.phase_at(session, now)
    result = selectors.evaluate_new(session, now, vals, moaas_value, parsed)
    reading = Reading.objects.create(
        session=session,
        kind=kind,
        phase=phase,
        taken_at=now,
        moaas=moaas_value,
        cadss6_items=cadss_items,
        cadss6_total=cadss_total,
        nausea=nausea,
        symptoms=parsed,
        other_effects=other_effects.strip()[:300],
        intervention=intervention.strip()[:300],
        outcome=result.outcome.value,
        findings=[f.to_dict() for f in result.findings],
        recorded_by=actor,
        **vals,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=reading,
        new={
            "kind": kind,
            "phase": phase,
            **vals,
            "moaas": moaas_value,
            "cadss6": cadss_total,
            "outcome": result.outcome.value,
        },
        summary="flowsheet reading",
    )
    if result.outcome is Outcome.ESCALATE and session.status == Status.READY:
        s = _lock(session, None)
        _move(s, Status.MONITORING, ready_at=None)
    elif (
        phase == Phase.PRE_DOSE
        and session.status in (Status.CHECKED_IN, Status.PRECHECKS_DONE)
        and result.outcome.rank >= Outcome.HOLD.rank
    ):
        # A hold-level pre-dose reading charted after the gate puts the session back on hold: the order needs
        # a re-check or a prescriber's override again (issue #12 §1: every vital sign judged, not only at
        # check-in).
        s = _lock(session, None)
        reasons = [f.to_dict() for f in result.findings if f.severity.rank >= Outcome.HOLD.rank]
        _move(s, Status.HELD, held_at=now, hold_reasons=reasons)
    hooks.session_changed(session.pk)
    return reading


# --- events and emergencies --------------------------------------------------------------------------------


@transaction.atomic
def record_adverse_event(
    actor: Actor,
    session: DosingSession,
    *,
    event_type: str,
    description: str,
    onset_at: dt.datetime | None,
    severity: str,
    serious: bool = False,
    seriousness: Iterable[str] = (),
    action_taken: str = "",
    outcome: str = EventOutcome.UNKNOWN,
) -> AdverseEvent:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _fresh(session)
    for value, choices, name in (
        (event_type, EventType, "event_type"),
        (severity, Severity, "severity"),
        (outcome, EventOutcome, "outcome"),
    ):
        if value not in choices.values:
            raise _err(name, f"one of {', '.join(choices.values)}")
    crit = list(seriousness)
    unknown = [c for c in crit if c not in SERIOUSNESS_CODES]
    if unknown:
        raise _err(
            "seriousness", f"unknown {', '.join(unknown)}; allowed {', '.join(sorted(SERIOUSNESS_CODES))}"
        )
    if serious and not crit:
        raise _err("seriousness", "a serious event needs at least one seriousness criterion")
    if crit and not serious:
        serious = True
    if not description.strip():
        raise _err("description", "required")
    onset = _aware(onset_at, "onset_at")
    event = AdverseEvent.objects.create(
        session=session,
        event_type=event_type,
        description=description.strip(),
        onset_at=onset,
        severity=severity,
        serious=serious,
        seriousness=crit,
        action_taken=action_taken.strip()[:300],
        outcome=outcome,
        recorded_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=event,
        new={"type": event_type, "severity": severity, "serious": serious},
        summary="adverse event recorded",
    )
    hooks.session_changed(session.pk)
    return event


@transaction.atomic
def record_emergency_action(
    actor: Actor,
    session: DosingSession,
    *,
    action: str,
    escalation: str = Escalation.NONE,
    at: dt.datetime | None = None,
) -> EmergencyAction:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _fresh(session)
    if escalation not in Escalation.values:
        raise _err("escalation", f"one of {', '.join(Escalation.values)}")
    if not action.strip():
        raise _err("action", "required")
    row = EmergencyAction.objects.create(
        session=session,
        at=_aware(at, "at"),
        action=action.strip()[:300],
        escalation=escalation,
        recorded_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=row,
        new={"action": row.action, "escalation": escalation},
        summary="emergency action",
    )
    return row
