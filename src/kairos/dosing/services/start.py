"""Start the dosing session of a booked dosing appointment (#11 §1).

One session per appointment at most (``DosingSession.appointment`` is a one-to-one field, so the database
enforces it). Starting twice returns the existing session; a race between two starts is resolved by the
unique constraint: the loser re-reads and returns the winner's session.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.dosing.models import DosingSession
from kairos.dosing.services.checkin import create_session


class StartRefused(Exception):
    """The appointment cannot start a dosing session; ``code`` is ``"cancelled"`` or ``"not_dosing"``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def start_session_from_appointment(actor: Actor, appointment: Any) -> tuple[DosingSession, bool]:
    """The session of ``appointment`` and whether it was created now.

    The caller has already fetched ``appointment`` clinic-scoped (another clinic's appointment is a 404 there).
    Refuses (:class:`StartRefused`) a cancelled or non-dosing appointment or one without a course.
    """
    policies.require(actor, Act.SESSION_CHART, appointment.clinic_id)
    existing = DosingSession.objects.filter(appointment_id=appointment.pk).first()
    if existing is not None:
        return existing, False
    if appointment.kind != "dosing":
        raise StartRefused(
            "not_dosing",
            f"appointment {appointment.pk} is a {appointment.kind} appointment, not a dosing one",
        )
    if appointment.status == "cancelled":
        raise StartRefused("cancelled", f"appointment {appointment.pk} was cancelled")
    if appointment.course_id is None:
        raise StartRefused("not_dosing", f"appointment {appointment.pk} belongs to no course (no protocol)")
    try:
        with transaction.atomic():
            session = create_session(
                actor,
                appointment.patient,
                protocol_id=appointment.course.protocol_id,
                scheduled_for=appointment.starts_at,
                course=appointment.course,
                appointment=appointment,
            )
    except IntegrityError:
        winner = DosingSession.objects.filter(appointment_id=appointment.pk).first()
        if winner is None:
            raise
        return winner, False
    return session, True
