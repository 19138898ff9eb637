from __future__ import annotations

from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.accounts import services
from kairos.accounts.demo_logins import DEMO_USERS
from kairos.accounts.models import ApiToken


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["demo_users"] = DEMO_USERS if settings.DEMO_LOGINS else []
        return ctx


@login_required
def verify_2fa(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        device = match_token(request.user, code.strip()) if code.strip().isdigit() else None
        if device is not None:
            otp_login(request, device)
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(
                target, {request.get_host()}, require_https=request.is_secure()
            ):
                target = settings.LOGIN_REDIRECT_URL  # never an open redirect
            return redirect(target)
        error = "That code was not accepted. Enter the 6-digit code shown in your authenticator app."
    return render(request, "accounts/verify_2fa.html", {"error": error}, status=400 if error else 200)


@login_required
def setup_2fa(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    error = ""
    if request.method == "POST" and device is not None:
        if services.confirm_totp(request.user, device, request.POST.get("code", "")):
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is on.")
            return redirect("accounts:settings")
        error = "That code was not accepted: enter the current 6-digit code."
    if device is None:
        device = services.start_totp(request.user)
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(
        request,
        "accounts/setup_2fa.html",
        {"device": device, "qr": qr, "error": error},
        status=400 if error else 200,
    )


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            _, new_token = services.create_token(request.user, name)
        except ValueError as exc:
            messages.error(request, f"Token {exc}")
    user = request.user
    assert user.is_authenticated  # @login_required; narrows User | AnonymousUser for the lookup
    tokens = ApiToken.objects.filter(user=user)
    has_2fa = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    return render(
        request, "accounts/settings.html", {"tokens": tokens, "new_token": new_token, "has_2fa": has_2fa}
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.revoke_token(request.user, token_id)
    except ApiToken.DoesNotExist:
        from django.http import Http404

        raise Http404("not found") from None
    messages.success(request, "Token revoked.")
    return redirect("accounts:settings")
