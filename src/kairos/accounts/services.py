"""Account writes: API tokens and two-factor devices. Audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.accounts.models import ApiToken, hash_token
from kairos.audit.models import Action
from kairos.audit.services import record


@transaction.atomic
def create_token(user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("name: 1–100 characters")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_token(raw), hint=raw[:12])
    record(
        Action.TOKEN,
        actor=user,
        obj=token,
        new={"name": name, "hint": token.hint},
        summary="API token created",
    )
    return token, raw


@transaction.atomic
def revoke_token(user: Any, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token_id, user=user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            Action.TOKEN,
            actor=user,
            obj=token,
            old={"active": True},
            new={"active": False},
            summary="API token revoked",
        )
    return token


def authenticate_token(raw: str) -> Any | None:
    if not raw.startswith("kairos_") or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def has_confirmed_device(user: Any) -> bool:
    """A confirmed authenticator app or recovery-code set: the user must verify every session."""
    return bool(user_has_device(user, confirmed=True))


@transaction.atomic
def start_totp(user: Any) -> TOTPDevice:
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_totp(user: Any, device: TOTPDevice, code: str, *, additional: bool = False) -> bool:
    """Confirm an enrolment with its first code. ``additional``: the user already had a device and
    added this one from a verified session after re-entering the password."""
    if not device.verify_token(code.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(
        Action.TWO_FACTOR,
        actor=user,
        object_type="otp_totp.totpdevice",
        object_id=device.pk,
        new={"confirmed": True, "additional": additional},
        summary="additional two-factor device confirmed" if additional else "two-factor device confirmed",
    )
    return True
