"""Reads of clinics (issue #10: the clinic lookup moved here from ``kairos.courses.selectors``)."""

from __future__ import annotations

from typing import Any

from kairos.accounts.models import Clinic
from kairos.core.actor import Viewer
from kairos.core.clinics import get_in_clinic


def get_clinic(user: Viewer, clinic_id: Any, action: str) -> Clinic:
    """The clinic ``clinic_id``: 404 if it does not exist or the user is not a member, 403 for a member
    whose role may not perform ``action``."""
    return get_in_clinic(user, Clinic.objects.all(), clinic_id, action, clinic_attr="pk")
