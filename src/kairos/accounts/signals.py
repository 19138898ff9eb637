"""Login, logout and failed login go to the audit trail (global chain: they belong to no clinic)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from kairos.audit import context
from kairos.audit.bounded import count_suppressed, lock_chain, take_suppressed
from kairos.audit.models import GLOBAL_CHAIN, Action, AuditEvent
from kairos.audit.services import record
from kairos.core.actor import Actor


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Actor, **kwargs: Any) -> None:
    record(Action.LOGIN, actor=user, object_type="auth.user", object_id=user.pk, summary="signed in")


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Actor | None, **kwargs: Any) -> None:
    if user is not None:
        record(Action.LOGOUT, actor=user, object_type="auth.user", object_id=user.pk, summary="signed out")


# Failed sign-ins are bounded so that guessing cannot grow the global chain without limit (issue #9):
# * an unknown username: at most one row per client address per minute, and at most
#   UNKNOWN_ROWS_PER_MINUTE such rows in all (an attacker rotating addresses);
# * a known username: one row per attempt up to the lock-out limit (AXES_FAILURE_LIMIT) per user per
#   minute. django-axes locks username+address after that many failures, but a locked-out attempt still
#   fails (and signals), and rotating addresses resets axes' count, so the audit bound is per user.
#   The row names the targeted user in object_id (actor stays empty: the user did not act).
# What is not written is counted and reported in the next row of the same key as new["suppressed"]
# (kairos.audit.bounded). Decisions are queries on the global chain under its head's row lock.
FAILED_WINDOW = dt.timedelta(minutes=1)
UNKNOWN_ROWS_PER_MINUTE = 60


def _known_user(username: str) -> Any:
    if not username:
        return None
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    ip = context.current().ip or (request.META.get("REMOTE_ADDR") if request is not None else None)
    user = _known_user(username)
    with transaction.atomic():
        lock_chain(GLOBAL_CHAIN)
        recent = AuditEvent.objects.filter(
            chain=GLOBAL_CHAIN,
            action=Action.LOGIN_FAILED,
            occurred_at__gte=timezone.now() - FAILED_WINDOW,
        )
        if user is not None:
            key = f"login-failed:user:{user.pk}"
            limit = max(1, int(getattr(settings, "AXES_FAILURE_LIMIT", 5)))
            suppress = recent.filter(object_type="auth.user", object_id=str(user.pk)).count() >= limit
        else:
            key = f"login-failed:ip:{ip or 'unknown'}"
            unknown = recent.filter(object_id="")
            suppress = (
                unknown.filter(ip=ip).exists() if ip else unknown.filter(ip__isnull=True).exists()
            ) or unknown.count() >= UNKNOWN_ROWS_PER_MINUTE
        if suppress:
            count_suppressed(key)
            return
        suppressed = take_suppressed(key)
        record(
            Action.LOGIN_FAILED,
            actor_username=username,
            object_type="auth.user",
            object_id=user.pk if user is not None else "",
            summary="failed sign-in" + ("" if user is not None else " (unknown username)"),
            new={"suppressed": suppressed} if suppressed else None,
        )
