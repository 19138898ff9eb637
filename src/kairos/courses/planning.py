"""Planning a course: the clinical core's dated plan for a patient and the clinician's date changes.

Nothing here writes; :func:`kairos.courses.services.create_course` saves and books the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone

from kairos.clinical import schedule as clinical_schedule
from kairos.clinical.protocols import PROTOCOL_IDS, ProtocolError
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.courses import domain
from kairos.courses.calendar import clinical_calendar, within_horizon
from kairos.patients.models import Patient

MAX_PLAN_MOVES = 100


# --- plan -------------------------------------------------------------------------------------------------


def _protocol_id(protocol_id: str) -> str:
    if protocol_id not in PROTOCOL_IDS:
        raise ValidationError({"protocol_id": f"protocol_id must be one of {', '.join(PROTOCOL_IDS)}"})
    return protocol_id


def latest_weight_kg(patient: Patient) -> float | None:
    w = patient.weights.order_by("-measured_at", "-id").values_list("weight_kg", flat=True).first()
    return float(w) if w is not None else None


def preview_plan(actor: Actor, patient: Patient, protocol_id: str, start: dt.date) -> clinical_schedule.Plan:
    """The clinical core's dated plan for this patient and clinic calendar (nothing is written)."""
    policies.require(actor, Act.COURSE_PLAN, patient.clinic_id)
    pid = _protocol_id(protocol_id)
    if start < timezone.localdate() - dt.timedelta(days=1):
        raise ValidationError({"start_date": "start_date cannot be in the past"})
    if start > timezone.localdate() + dt.timedelta(days=366):
        raise ValidationError({"start_date": "start_date must be within a year from today"})
    cal = clinical_calendar(patient.clinic, around=start)
    try:
        return clinical_schedule.generate_schedule(
            pid, start, calendar=cal, weight_kg=latest_weight_kg(patient)
        )
    except (clinical_schedule.ScheduleError, ProtocolError) as exc:
        raise ValidationError({"start_date": str(exc)}) from None


def dated_sessions(plan: clinical_schedule.Plan) -> list[domain.DatedSession]:
    return [domain.DatedSession(s.number, s.date, s.phase) for s in plan.sessions]


def apply_moves(
    protocol_id: str,
    sessions: Sequence[domain.DatedSession],
    moves: dict[int, dt.date],
    cal: clinical_schedule.ClinicCalendar,
) -> list[domain.DatedSession]:
    """Apply the clinician's date changes, refusing any that break the protocol's limits."""
    if len(moves) > MAX_PLAN_MOVES:
        raise ValidationError({"moves": f"at most {MAX_PLAN_MOVES} changed dates"})
    numbers = {s.number for s in sessions}
    result = list(sessions)
    for number, day in moves.items():
        if number not in numbers:
            raise ValidationError(
                {f"session_{number}": f"session {number} is not in the plan (1..{len(sessions)})"}
            )
        within_horizon(f"session_{number}", day, timezone.localdate(), past_days=1)
        result = domain.apply_move(result, number, day)
    before = set(domain.check_plan(protocol_id, sessions, cal))
    errors = [e for e in domain.check_plan(protocol_id, result, cal) if e not in before]
    if errors:
        raise ValidationError({"moves": errors})
    return result
