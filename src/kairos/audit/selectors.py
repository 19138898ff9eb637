"""Scoped reads of the audit trail for auditors and clinic admins."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from kairos.audit.models import GLOBAL_CHAIN, AuditEvent
from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act


def visible_events(user: Viewer, action: str = Act.AUDIT_VIEW) -> QuerySet[AuditEvent]:
    """Events of the user's audited clinics, plus sign-in events of those clinics' staff."""
    clinic_ids = policies.clinic_ids_for(user, action)
    # staff = users with a membership (accounts.Membership, related_name "memberships") in those clinics
    staff_ids = get_user_model()._default_manager.filter(memberships__clinic_id__in=clinic_ids).values("pk")
    return AuditEvent.objects.filter(
        Q(clinic_id__in=clinic_ids) | Q(chain=GLOBAL_CHAIN, actor_id__in=staff_ids)
    ).select_related("clinic", "patient")


def search(
    user: Viewer,
    *,
    action: str = "",
    actor: str = "",
    patient_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    perm: str = Act.AUDIT_VIEW,
) -> QuerySet[AuditEvent]:
    qs = visible_events(user, perm)
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_username__iexact=actor)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if since is not None:
        qs = qs.filter(occurred_at__date__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__date__lte=until)
    return qs.order_by("-occurred_at", "-id")
