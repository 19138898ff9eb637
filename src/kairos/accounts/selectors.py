"""Reads of clinics (issue #10: the clinic lookup moved here from ``kairos.courses.selectors``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.core.actor import Viewer
from kairos.core.clinics import get_in_clinic
from kairos.core.policies import Act


def get_clinic(user: Viewer, clinic_id: Any, action: str) -> Clinic:
    """The clinic ``clinic_id``: 404 if it does not exist or the user is not a member, 403 for a member
    whose role may not perform ``action``."""
    return get_in_clinic(user, Clinic.objects.all(), clinic_id, action, clinic_attr="pk")


@dataclass(frozen=True)
class AccessRow:
    """One member of a clinic in the quarterly access review."""

    username: str
    name: str
    email: str
    role: str
    status: str  # active | invited | deactivated
    member_since: dt.datetime
    last_sign_in: dt.datetime | None
    two_factor: bool
    active_tokens: int


ACCESS_REVIEW_COLUMNS = (
    "username",
    "name",
    "email",
    "role",
    "status",
    "member_since",
    "last_sign_in",
    "two_factor",
    "active_tokens",
)


def access_review(user: Viewer, clinic_id: Any) -> tuple[Clinic, list[AccessRow]]:
    """Who holds which role in the clinic, when they last signed in, two-factor and API tokens in use.
    Auditors and clinic admins (Act.AUDIT_VIEW); the caller audits the read."""
    from django.db.models import Count, Q
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kairos.accounts.models import Membership

    clinic = get_clinic(user, clinic_id, Act.AUDIT_VIEW)
    now = timezone.now()
    members = list(
        Membership.objects.filter(clinic=clinic)
        .select_related("user")
        .annotate(
            tokens=Count(
                "user__api_tokens",
                filter=Q(user__api_tokens__revoked_at__isnull=True, user__api_tokens__expires_at__gt=now),
            )
        )
        .order_by("role", "user__username")
    )
    ids = {m.user_id for m in members}
    enrolled = set(
        TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True)
    ) | set(StaticDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True))
    rows = []
    for m in members:
        u = m.user
        if not u.is_active:
            status = "deactivated"
        elif not u.has_usable_password():
            status = "invited"
        else:
            status = "active"
        rows.append(
            AccessRow(
                username=u.get_username(),
                name=u.get_full_name(),
                email=u.email,
                role=m.get_role_display(),
                status=status,
                member_since=m.created_at,
                last_sign_in=u.last_login,
                two_factor=u.pk in enrolled,
                active_tokens=m.tokens,
            )
        )
    return clinic, rows
