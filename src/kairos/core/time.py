"""Checks every app applies to a time recorded for a patient: one rule and one constant, not a copy per app."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

#: How far a recorded time may lead the server clock: workstation and device clocks drift. A software
#: tolerance (design decision), not a clinical number.
FUTURE_SLACK = dt.timedelta(minutes=5)


def is_future(when: dt.datetime) -> bool:
    """True if ``when`` lies beyond now + :data:`FUTURE_SLACK`."""
    return when > timezone.now() + FUTURE_SLACK


def check_not_future(when: dt.datetime, field: str) -> None:
    """Refuse a recorded time in the future, naming ``field``."""
    if is_future(when):
        raise ValidationError({field: f"{field} cannot be in the future"})
