"""Login, logout and failed login go to the audit trail (global chain: they belong to no clinic)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from kairos.audit.models import Action
from kairos.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(Action.LOGIN, actor=user, object_type="auth.user", object_id=user.pk, summary="signed in")


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(Action.LOGOUT, actor=user, object_type="auth.user", object_id=user.pk, summary="signed out")


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    record(Action.LOGIN_FAILED, actor_username=username, object_type="auth.user", summary="failed sign-in")
