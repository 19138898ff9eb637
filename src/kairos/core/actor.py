"""Who is acting: the type of the signed-in user handed to services and selectors.

``Actor`` is Django's ``User``. Every service runs behind a sign-in (pages use ``@login_required``,
the API a bearer token, the CLI a named account) and stores its actor in foreign keys
(``recorded_by``, the audit row's ``actor``) that only a saved ``User`` can fill; so a service takes
an ``Actor`` and mypy refuses an ``AnonymousUser`` there.

``Viewer`` also admits ``AnonymousUser``: the policy checks and the read selectors are handed
``request.user`` as it comes and answer "no clinics" for someone not signed in.

``actor_of(request)`` narrows a request's user to an ``Actor`` (403 if nobody is signed in, which
``@login_required`` and the API's token check already rule out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

Actor: TypeAlias = "User"
Viewer: TypeAlias = "User | AnonymousUser"

__all__ = ["Actor", "Viewer", "actor_of"]


def actor_of(request: HttpRequest) -> Actor:
    """The signed-in user of ``request``; PermissionDenied for an anonymous one."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("sign in first")
    return user
