"""Staff administration by a clinic admin (issue #11 §6): invite a member (an e-mailed, single-use,
expiring link to set a password), change a member's role, deactivate and reactivate a member. Every
change is audited with the actor.

Rules:
* the clinic must be one the admin administers (another clinic: 404; a member without the clinic-admin
  role: 403); the target must be a member of that clinic (else 404);
* an admin may not change their own role or deactivate themselves: another admin must (403);
* deactivation is of the account (sign-in, sessions and API tokens are the user's, not the clinic's), so
  an admin may deactivate or reactivate only a user all of whose clinics they administer (403 otherwise);
* deactivation ends the user's sessions at once (their session rows are deleted), revokes their active
  API tokens and their pending invitations.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kairos.accounts.models import ApiToken, Clinic, Invitation, Membership, hash_token
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.clinics import parse_pk
from kairos.core.policies import Act
from kairos.core.roles import Role

log = logging.getLogger(__name__)

#: How long an invitation link works (a software policy, not a clinical number).
INVITATION_HOURS = 72
NAME_MAX = 150
EMAIL_MAX = 150  # the e-mail address is the new user's username (150 characters at most)
ROLE_CHOICES_TEXT = ", ".join(Role.values)


def _role(value: str) -> str:
    value = (value or "").strip()
    if value not in Role.values:
        raise ValidationError({"role": f"role: one of {ROLE_CHOICES_TEXT} (got {value[:40]!r})"})
    return value


def _email(value: str) -> str:
    value = (value or "").strip().lower()
    try:
        if not value or len(value) > EMAIL_MAX:
            raise ValidationError("bad length")
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            {"email": f"email: a valid e-mail address of at most {EMAIL_MAX} characters (got {value[:60]!r})"}
        ) from None
    return value


def _name(value: str) -> tuple[str, str]:
    value = " ".join((value or "").split())
    if not 1 <= len(value) <= NAME_MAX:
        raise ValidationError({"name": f"name: 1–{NAME_MAX} characters (got {len(value)})"})
    first, _, last = value.partition(" ")
    return first, last


def _member(admin: Actor, clinic_id: Any, user_id: Any) -> Membership:
    """The target's membership of a clinic the admin administers; 404/403 as the module says."""
    clinic_id = parse_pk(clinic_id)
    policies.require(admin, Act.CLINIC_ADMIN, clinic_id)
    user_id = parse_pk(user_id)
    membership = (
        Membership.objects.select_related("user", "clinic")
        .filter(clinic_id=clinic_id, user_id=user_id)
        .first()
    )
    if membership is None:
        raise Http404("not found")
    return membership


def _not_self(admin: Actor, membership: Membership, what: str) -> None:
    if membership.user_id == admin.pk:
        raise PermissionDenied(f"you may not {what} yourself: ask another clinic admin")


def _administers_all_clinics_of(admin: Actor, membership: Membership, what: str) -> None:
    theirs = set(Membership.objects.filter(user_id=membership.user_id).values_list("clinic_id", flat=True))
    if not theirs <= set(policies.clinic_ids_for(admin, Act.CLINIC_ADMIN)):
        raise PermissionDenied(
            f"you may not {what} {membership.user.get_username()}: they are also a member of a clinic you "
            "do not administer; ask that clinic's admin"
        )


# --- invitations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invited:
    membership: Membership
    invitation: Invitation | None  # None: an existing account was added to the clinic (no password to set)
    link: str  # the set-password link (empty for an existing account)
    sent: bool  # the e-mail went out


def invitation_link(raw_token: str) -> str:
    base = str(getattr(settings, "KAIROS_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("accounts:invitation", kwargs={"token": raw_token})


def invite(admin: Actor, clinic_id: Any, *, name: str, email: str, role: str) -> Invited:
    """Invite ``email`` to the clinic with ``role``: a new account (its username is the e-mail address)
    gets a set-password link by e-mail, valid INVITATION_HOURS hours, once; an existing account of
    another clinic is added to this one and told by e-mail. Bad input: ValidationError naming the field.
    The e-mail is sent after the rows are committed; ``sent`` says whether it went out."""
    clinic_id = parse_pk(clinic_id)
    policies.require(admin, Act.CLINIC_ADMIN, clinic_id)
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for field, check, raw in (("name", _name, name), ("email", _email, email), ("role", _role, role)):
        try:
            checked[field] = check(raw)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    (first, last), address, role = checked["name"], checked["email"], checked["role"]
    user_model = get_user_model()
    with transaction.atomic():
        clinic = Clinic.objects.get(pk=clinic_id)
        user = (
            user_model.objects.filter(username__iexact=address).first()
            or user_model.objects.filter(email__iexact=address).order_by("pk").first()
        )
        if user is not None and Membership.objects.filter(user=user, clinic=clinic).exists():
            raise ValidationError({"email": f"email: {address} is already a member of {clinic.name}"})
        if user is not None and not user.is_active:
            raise ValidationError(
                {
                    "email": f"email: the account of {address} is deactivated; its clinic admin can reactivate it"
                }
            )
        created = user is None
        if user is None:
            user = user_model(username=address, email=address, first_name=first, last_name=last)
            user.set_unusable_password()
            user.save()
        membership = Membership.objects.create(user=user, clinic=clinic, role=role)
        invitation: Invitation | None = None
        raw = ""
        if created or not user.has_usable_password():
            raw = secrets.token_urlsafe(32)
            invitation = Invitation.objects.create(
                user=user,
                clinic=clinic,
                role=role,
                invited_by=admin,
                token_hash=hash_token(raw),
                expires_at=timezone.now() + dt.timedelta(hours=INVITATION_HOURS),
            )
        record(
            Action.CREATE,
            actor=admin,
            clinic=clinic,
            obj=membership,
            new={
                "user": user.get_username(),
                "email": address,
                "role": role,
                "new_account": created,
                "invitation": invitation.pk if invitation else None,
                "expires_at": invitation.expires_at if invitation else None,
            },
            summary=f"staff invited: {user.get_username()} as {membership.get_role_display()}",
        )
    link = invitation_link(raw) if raw else ""
    sent = _send_invitation(membership, invitation, link, admin)
    return Invited(membership=membership, invitation=invitation, link=link, sent=sent)


def _send_invitation(membership: Membership, invitation: Invitation | None, link: str, admin: Actor) -> bool:
    base = str(getattr(settings, "KAIROS_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")
    context = {
        "membership": membership,
        "clinic": membership.clinic,
        "user": membership.user,
        "link": link,
        "expires_at": timezone.localtime(invitation.expires_at, membership.clinic.tz).strftime(
            "%d %b %Y %H:%M %Z"
        )
        if invitation
        else "",
        "hours": INVITATION_HOURS,
        "sign_in": base + reverse("accounts:login"),
        "admin_name": admin.get_full_name() or admin.get_username(),
    }
    body = render_to_string("accounts/email/invitation.txt", context)
    subject = f"Kairos: you are invited to {membership.clinic.name}"
    try:
        send_mail(subject, body, None, [membership.user.email])
    except Exception:  # an SMTP failure must not lose the invitation: the admin can send it again
        log.exception("invitation e-mail to user %s failed", membership.user_id)
        return False
    return True


def resend(admin: Actor, clinic_id: Any, user_id: Any) -> Invited:
    """A new link for a member who has not set a password yet; earlier links stop working."""
    membership = _member(admin, clinic_id, user_id)
    user = membership.user
    if user.has_usable_password():
        raise ValidationError({"user": f"user: {user.get_username()} has already set a password"})
    if not user.is_active:
        raise ValidationError({"user": f"user: {user.get_username()} is deactivated; reactivate first"})
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        now = timezone.now()
        revoked = Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            user=user,
            clinic=membership.clinic,
            role=membership.role,
            invited_by=admin,
            token_hash=hash_token(raw),
            expires_at=now + dt.timedelta(hours=INVITATION_HOURS),
        )
        record(
            Action.UPDATE,
            actor=admin,
            clinic=membership.clinic,
            obj=membership,
            new={"invitation": invitation.pk, "expires_at": invitation.expires_at, "revoked_links": revoked},
            summary=f"invitation sent again to {user.get_username()}",
        )
    link = invitation_link(raw)
    return Invited(membership, invitation, link, _send_invitation(membership, invitation, link, admin))


def invitation_for(raw_token: str) -> Invitation | None:
    """The usable invitation behind a link: unknown, used, revoked or expired links and deactivated
    accounts give None (one answer for all, so a link cannot be probed)."""
    if not raw_token or len(raw_token) > 100:
        return None
    invitation = (
        Invitation.objects.select_related("user", "clinic").filter(token_hash=hash_token(raw_token)).first()
    )
    if invitation is None or invitation.status != "pending" or not invitation.user.is_active:
        return None
    if invitation.user.has_usable_password():  # a password was set through another link
        return None
    return invitation


def accept(raw_token: str, password: str) -> Invitation:
    """Set the invited user's password through the link, once. The password must already have passed
    the password validators (the view's SetPasswordForm). Raises ValidationError for a link that is no
    longer usable (two tabs racing: the second one loses)."""
    with transaction.atomic():
        found = invitation_for(raw_token)
        if found is None:
            raise ValidationError({"link": "link: this invitation link is no longer valid"})
        invitation = Invitation.objects.select_for_update().get(pk=found.pk)
        if invitation.used_at is not None or invitation.revoked_at is not None:
            raise ValidationError({"link": "link: this invitation link is no longer valid"})
        user = found.user
        user.set_password(password)
        user.save(update_fields=["password"])
        now = timezone.now()
        invitation.used_at = now
        invitation.save(update_fields=["used_at"])
        Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        record(
            Action.UPDATE,
            actor=user,
            clinic=invitation.clinic,
            obj=invitation,
            old={"password_set": False},
            new={"password_set": True},
            summary=f"invitation accepted: {user.get_username()} set a password",
        )
    return invitation


# --- role, deactivation ----------------------------------------------------------------------------


@transaction.atomic
def change_role(admin: Actor, clinic_id: Any, user_id: Any, role: str) -> Membership:
    membership = _member(admin, clinic_id, user_id)
    _not_self(admin, membership, "change the role of")
    new_role = _role(role)
    membership = Membership.objects.select_for_update().select_related("user", "clinic").get(pk=membership.pk)
    old_role = membership.role
    if new_role == old_role:
        return membership
    membership.role = new_role
    membership.save(update_fields=["role"])
    Invitation.objects.filter(user_id=membership.user_id, clinic_id=membership.clinic_id).update(
        role=new_role
    )
    record(
        Action.UPDATE,
        actor=admin,
        clinic=membership.clinic,
        obj=membership,
        old={"role": old_role},
        new={"role": new_role},
        summary=f"role of {membership.user.get_username()} changed: {Role(old_role).label} → "
        f"{Role(new_role).label}",
    )
    return membership


def _session_model() -> Any:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store.get_model_class() if hasattr(store, "get_model_class") else None


def end_sessions(user_id: int) -> int:
    """Delete every stored session of the user (database-backed session engines); returns the count."""
    model = _session_model()
    if model is None:  # pragma: no cover - the project uses the database session engine
        return 0
    ended = [
        s.pk
        for s in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(s.get_decoded().get("_auth_user_id", "")) == str(user_id)
    ]
    model.objects.filter(pk__in=ended).delete()
    return len(ended)


@dataclass(frozen=True)
class Deactivated:
    sessions_ended: int
    tokens_revoked: int
    invitations_revoked: int


@transaction.atomic
def deactivate(admin: Actor, clinic_id: Any, user_id: Any) -> Deactivated:
    membership = _member(admin, clinic_id, user_id)
    _not_self(admin, membership, "deactivate")
    _administers_all_clinics_of(admin, membership, "deactivate")
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    if not user.is_active:
        return Deactivated(0, 0, 0)
    user.is_active = False
    user.save(update_fields=["is_active"])
    now = timezone.now()
    tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True))
    ApiToken.objects.filter(pk__in=tokens).update(revoked_at=now)
    invitations = Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    sessions = end_sessions(user.pk)
    result = Deactivated(sessions, len(tokens), invitations)
    record(
        Action.UPDATE,
        actor=admin,
        clinic=membership.clinic,
        object_type="auth.user",
        object_id=user.pk,
        old={"active": True},
        new={
            "active": False,
            "sessions_ended": sessions,
            "tokens_revoked": tokens,
            "invitations_revoked": invitations,
        },
        summary=f"staff deactivated: {user.get_username()}",
    )
    return result


@transaction.atomic
def reactivate(admin: Actor, clinic_id: Any, user_id: Any) -> bool:
    """Reactivate a deactivated member (their revoked tokens stay revoked). False if already active."""
    membership = _member(admin, clinic_id, user_id)
    _not_self(admin, membership, "reactivate")
    _administers_all_clinics_of(admin, membership, "reactivate")
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    if user.is_active:
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    record(
        Action.UPDATE,
        actor=admin,
        clinic=membership.clinic,
        object_type="auth.user",
        object_id=user.pk,
        old={"active": False},
        new={"active": True},
        summary=f"staff reactivated: {user.get_username()}",
    )
    return True
