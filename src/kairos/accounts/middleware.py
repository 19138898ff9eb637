"""Two-factor gate: a staff user with a confirmed device (authenticator app or recovery codes) must
verify it each session and, until then, reaches only the verify page and sign-out; in production
(KAIROS_REQUIRE_2FA) a user without a confirmed device reaches only the setup page and sign-out."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device

# Never gated: signing in and out, static files, the probe, the token-authenticated API (its own
# bearer auth, no session) and the patients' questionnaire links (no staff session).
EXEMPT_PREFIXES = (
    "/accounts/login",
    "/accounts/logout",
    "/static/",
    "/health",
    "/api/",
    "/q/",
)


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            if not user.is_verified():
                if user_has_device(user, confirmed=True):
                    target = "accounts:2fa_verify"
                elif settings.REQUIRE_2FA:
                    target = "accounts:2fa_setup"
                else:
                    target = None
                # exactly one page is open to an unverified user: the one that gets them verified
                if target is not None and request.path != reverse(target):
                    if request.headers.get("HX-Request"):
                        return JsonResponse({"detail": "two-factor verification required"}, status=401)
                    # keep where the user was going (checked against open redirects on the way back)
                    url = reverse(target)
                    if request.method == "GET":
                        url += "?" + urlencode({"next": request.get_full_path()})
                    return redirect(url)
        return self.get_response(request)
