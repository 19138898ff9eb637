"""Reads of break-glass grants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from kairos.access.models import BreakGlassGrant
from kairos.core.actor import Viewer

if TYPE_CHECKING:
    from kairos.patients.models import Patient


def active_grant(user: Viewer, patient: Patient) -> BreakGlassGrant | None:
    """The user's unexpired break-glass grant to ``patient`` (latest expiry first), or None.
    Registered with :func:`kairos.patients.hooks.on_grant_lookup` in ``AccessConfig.ready``."""
    if not user.is_authenticated:
        return None
    return (
        BreakGlassGrant.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )
