"""Refused attempts on clinic-owned objects become ``DENIED`` audit events.

:class:`DeniedAccessMiddleware` looks at the resolved route and the response status *after* the view, so
the row is written outside any view transaction (a refusal raised inside ``transaction.atomic`` rolls the
view back, not this row). It records a 403 (inside the clinic, role lacks the permission) or a 404 (outside
the user's clinics, or an id that does not exist) answered to a signed-in user (session or API token) on a
route whose URL names an object (``patient_id``, ``session_id``, ``course_id``, …): user, route name, object
type and id, reason (the status). The row goes to the object's clinic chain when the object exists (its
clinic's auditors see the probe), else to the global chain.

Bounded so one user cannot flood the trail (a script walking ids answers 404 thousands of times):

* at most one row per user + route + object per minute (a repeated refresh of one refused page);
* at most ``KAIROS_AUDIT_DENIED_PER_MINUTE`` rows per user per minute (an id walk).

Both checks are queries on ``AuditEvent`` made under a row lock on the user (so they hold across
processes). A suppressed attempt is
counted in the cache (``CACHES["default"]``, shared between processes with the database cache) and the
count is reported in the user's next ``DENIED`` row as ``new["suppressed"]``. Per-minute aggregation keeps
the evidence (who probed, when, how much) while the trail grows by at most N rows per user per minute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from kairos.audit.bounded import count_suppressed, take_suppressed
from kairos.audit.models import Action, AuditEvent
from kairos.audit.owners import OWNERS, ObjectKind
from kairos.audit.services import record
from kairos.core.actor import Actor, Viewer

# URL kwarg → kind of the object it names; the first kwarg of the URL found here is "the object". Each app
# registers its kwargs in its AppConfig.ready() (kairos.audit.owners.register).
OBJECT_KWARGS = OWNERS
DENIED_STATUSES = (403, 404)
WINDOW = dt.timedelta(minutes=1)


def _object_of(kwargs: dict[str, Any]) -> tuple[str, ObjectKind, str] | None:
    """(kwarg, object kind, id) of the first object-naming URL kwarg, or None."""
    for name, value in kwargs.items():
        if name in OBJECT_KWARGS:
            return name, OBJECT_KWARGS[name], str(value)[:64]
    return None


def record_denied(
    user: Actor, route: str, kwargs: dict[str, Any], status: int, *, now: dt.datetime | None = None
) -> AuditEvent | None:
    """Write one ``DENIED`` row for a refused request, unless the per-minute bounds suppress it."""
    found = _object_of(kwargs)
    if found is None:
        return None
    kwarg, kind, object_id = found
    object_type = kind.label.lower()
    summary = f"{route} refused ({status})"[:200]
    key = f"denied:{user.pk}"
    clinic_id, patient_id = kind.owner_of(object_id)
    with transaction.atomic():
        # The bound is per user: lock the user's row so this user's concurrent refusals (any process)
        # are decided one after the other.
        get_user_model()._default_manager.select_for_update().filter(pk=user.pk).values_list(
            "pk", flat=True
        ).first()
        since = (now or timezone.now()) - WINDOW
        recent = AuditEvent.objects.filter(action=Action.DENIED, actor_id=user.pk, occurred_at__gte=since)
        if (
            recent.filter(object_type=object_type, object_id=object_id, summary=summary).exists()
            or recent.count() >= settings.KAIROS_AUDIT_DENIED_PER_MINUTE
        ):
            count_suppressed(key)
            return None
        new: dict[str, Any] = {
            "route": route,
            "status": status,
            "kwargs": {k: str(v)[:64] for k, v in kwargs.items()},
        }
        if suppressed := take_suppressed(key):
            new["suppressed"] = suppressed
        return record(
            Action.DENIED,
            actor=user,
            clinic=clinic_id,
            patient=patient_id,
            object_type=object_type,
            object_id=object_id,
            summary=summary,
            new=new,
            reason=str(status),
        )


class DeniedAccessMiddleware:
    """Records 403/404 answers to signed-in users on object routes (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in DENIED_STATUSES:
            match = getattr(request, "resolver_match", None)
            # request.user: the session's user, or the API token's user (set by the ninja auth class).
            user: Viewer | None = getattr(request, "user", None)
            if match is not None and match.kwargs and user is not None and user.is_authenticated:
                route = f"{request.method} {match.view_name or match.url_name or request.path_info}"
                record_denied(user, route, dict(match.kwargs), response.status_code)
        return response
