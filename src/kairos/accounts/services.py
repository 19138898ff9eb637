"""Account writes: API tokens and two-factor devices. Audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.accounts.models import TOKEN_PREFIX, ApiToken, Membership, hash_token
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies, reasons
from kairos.core.actor import Actor
from kairos.core.clinics import parse_pk
from kairos.core.policies import Act
from kairos.core.reasons import require_reason

TOKEN_DAYS_MIN, TOKEN_DAYS_MAX = 1, 365
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenRefused(Exception):
    """A known, active-looking token that may not be used for this request: expired (401) or a
    read-only token on a method that writes (403). ``detail`` is safe to show its owner."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@transaction.atomic
def create_token(
    user: Actor, name: str, *, days: int | None = None, read_only: bool = False
) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored. It expires after ``days``
    (default: settings.KAIROS_API_TOKEN_DAYS); a ``read_only`` token may only read (GET/HEAD)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("name: 1–100 characters")
    days = settings.KAIROS_API_TOKEN_DAYS if days is None else days
    if not TOKEN_DAYS_MIN <= days <= TOKEN_DAYS_MAX:
        raise ValueError(f"days: {TOKEN_DAYS_MIN}–{TOKEN_DAYS_MAX} (got {days})")
    raw = ApiToken.generate()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=hash_token(raw),
        hint=raw[:12],
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
        read_only=read_only,
    )
    record(
        Action.TOKEN,
        actor=user,
        obj=token,
        new={"name": name, "hint": token.hint, "expires_at": token.expires_at, "read_only": read_only},
        summary="API token created",
    )
    return token, raw


@transaction.atomic
def revoke_token(user: Actor, token_id: int) -> ApiToken:
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


def authenticate_token(raw: str, method: str = "GET") -> Any | None:
    """The token's user, or None for an unknown, revoked or malformed token (or an inactive user).
    Raises :class:`TokenRefused` for an expired token, and for a read-only token on a method that
    writes."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenRefused(
            401,
            f"token expired on {token.expires_at.date().isoformat()}; create a new one on your settings page",
        )
    if token.read_only and method.upper() not in SAFE_METHODS:
        raise TokenRefused(
            403, f"this token has the read-only scope: it may only use GET and HEAD, not {method.upper()}"
        )
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def has_confirmed_device(user: Actor) -> bool:
    """A confirmed authenticator app or recovery-code set: the user must verify every session."""
    return bool(user_has_device(user, confirmed=True))


@transaction.atomic
def start_totp(user: Actor) -> TOTPDevice:
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_totp(user: Actor, device: TOTPDevice, code: str, *, additional: bool = False) -> bool:
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


RECOVERY_CODE_COUNT = 10
_TOTP_CODE = re.compile(r"\d{6}")
_RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")  # StaticToken.random_token(): 5 random bytes, base32


@transaction.atomic
def issue_recovery_codes(user: Actor, *, regenerated: bool = False) -> list[str]:
    """Replace the user's recovery codes with ten fresh single-use ones (django-otp's static device).
    The codes are returned once, to be shown once; only the static device's own rows store them."""
    StaticToken.objects.filter(device__user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    record(
        Action.TWO_FACTOR,
        actor=user,
        object_type="otp_static.staticdevice",
        object_id=device.pk,
        new={"codes": RECOVERY_CODE_COUNT},
        summary="recovery codes regenerated" if regenerated else "recovery codes issued",
    )
    return codes


def verify_second_factor(user: Actor, code: str) -> Any | None:
    """The device that accepts ``code``: a 6-digit authenticator code, or an 8-character recovery code
    (used up by this call, so it fails the second time). Throttled by django-otp per device."""
    code = re.sub(r"[\s-]", "", code or "").lower()
    if _TOTP_CODE.fullmatch(code):
        model: Any = TOTPDevice
    elif _RECOVERY_CODE.fullmatch(code):
        model = StaticDevice
    else:
        return None
    with transaction.atomic():
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                if isinstance(device, StaticDevice):
                    record(
                        Action.TWO_FACTOR,
                        actor=user,
                        object_type="otp_static.staticdevice",
                        object_id=device.pk,
                        new={"remaining": device.token_set.count()},
                        summary="recovery code used",
                    )
                return device
    return None


RESET_REASON_MIN = reasons.SIGNED_MIN_LENGTH
RESET_REASON_MAX = reasons.SIGNED_MAX_LENGTH


@transaction.atomic
def reset_two_factor(admin: Actor, clinic_id: int, target_id: int, reason: str) -> int:
    """A lost device: a clinic admin removes all two-factor devices (authenticator apps and recovery
    codes) of a member of their clinic, with a reason; the user enrols again at the next sign-in, and a
    session verified with a removed device is no longer verified. Returns the number of devices removed.

    Not the admin's clinic: 404; a member without the clinic-admin role: 403; a user who is not a member
    of the clinic: 404; the admin's own devices: 403 (another admin must do it)."""
    policies.require(admin, Act.CLINIC_ADMIN, clinic_id)
    target_id = parse_pk(target_id)  # a URL id beyond 64 bits is not found, not an OverflowError
    if not Membership.objects.filter(clinic_id=clinic_id, user_id=target_id).exists():
        raise Http404("not found")
    if target_id == admin.pk:
        raise PermissionDenied("you may not reset your own two-factor devices: ask another clinic admin")
    reason = require_reason(
        reason, min_length=RESET_REASON_MIN, max_length=RESET_REASON_MAX, hint="say why the devices are reset"
    )
    target = get_user_model().objects.get(pk=target_id)
    totp_devices = TOTPDevice.objects.filter(user=target)
    static_devices = StaticDevice.objects.filter(user=target)
    old = {"totp_devices": totp_devices.count(), "recovery_code_sets": static_devices.count()}
    StaticToken.objects.filter(device__user=target).delete()
    static_devices.delete()
    totp_devices.delete()
    record(
        Action.TWO_FACTOR,
        actor=admin,
        clinic=clinic_id,
        object_type="auth.user",
        object_id=target.pk,
        old=old,
        new={"totp_devices": 0, "recovery_code_sets": 0},
        reason=reason,
        summary=f"two-factor devices reset for {target.get_username()}",
    )
    return int(old["totp_devices"] + old["recovery_code_sets"])
