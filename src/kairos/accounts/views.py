from __future__ import annotations

import time
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.accounts import services
from kairos.accounts.demo_logins import DEMO_USERS
from kairos.accounts.models import ApiToken, Clinic, Membership
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.policies import Act
from kairos.core.roles import Role


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
        device = services.verify_second_factor(actor_of(request), request.POST.get("code", ""))
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. "
                    "Generate new codes on your settings page if you are running low.",
                )
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(
                target, {request.get_host()}, require_https=request.is_secure()
            ):
                target = settings.LOGIN_REDIRECT_URL  # never an open redirect
            return redirect(target)
        error = (
            "That code was not accepted. Enter the 6-digit code shown in your authenticator app, "
            "or one of your recovery codes."
        )
    return render(request, "accounts/verify_2fa.html", {"error": error}, status=400 if error else 200)


# Adding a device when one is already confirmed: the settings page's "Add a device" form re-checks the
# password inside a verified session and opens enrolment for this long.
ENROL_WINDOW_SECONDS = 5 * 60
_ENROL_SESSION_KEY = "kairos_2fa_enrol_until"


def _is_verified(request: HttpRequest) -> bool:
    """The session passed a second factor (django-otp's OTPMiddleware sets ``is_verified``)."""
    return bool(getattr(request.user, "is_verified", lambda: False)())


def _enrolment_open(request: HttpRequest) -> bool:
    until = request.session.get(_ENROL_SESSION_KEY)
    return isinstance(until, (int, float)) and time.time() < until


@login_required
def setup_2fa(request: HttpRequest) -> HttpResponse:
    """First enrolment (a user with no confirmed device), or an additional device: only inside a
    verified session after the password was re-entered on the settings page (``add_device``)."""
    additional = services.has_confirmed_device(actor_of(request))
    if additional:
        if not _is_verified(request):  # the middleware already sends them to verify; never rely on it alone
            return redirect("accounts:2fa_verify")
        if not _enrolment_open(request):
            messages.error(
                request, "To add another authenticator, confirm your password under “Add a device” first."
            )
            return redirect("accounts:settings")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    error = ""
    if request.method == "POST" and device is not None:
        if services.confirm_totp(
            actor_of(request), device, request.POST.get("code", ""), additional=additional
        ):
            if additional:
                request.session.pop(_ENROL_SESSION_KEY, None)
                messages.success(request, "The new authenticator is added.")
                return redirect("accounts:settings")
            otp_login(request, device)
            codes = services.issue_recovery_codes(actor_of(request))
            messages.success(request, "Two-factor authentication is on.")
            return _recovery_codes_page(request, codes)
        error = "That code was not accepted: enter the current 6-digit code."
    if device is None:
        device = services.start_totp(actor_of(request))
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(
        request,
        "accounts/setup_2fa.html",
        {"device": device, "qr": qr, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def add_device(request: HttpRequest) -> HttpResponse:
    """Open enrolment of another authenticator: verified session and the password again."""
    if not services.has_confirmed_device(actor_of(request)):
        return redirect("accounts:2fa_setup")  # a first device needs no extra step
    if not _is_verified(request):
        return redirect("accounts:2fa_verify")
    if not request.user.check_password(request.POST.get("password", "")):
        return _settings_page(request, device_error="password: that is not your password", status=400)
    request.session[_ENROL_SESSION_KEY] = time.time() + ENROL_WINDOW_SECONDS
    return redirect("accounts:2fa_setup")


def _recovery_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """Shown once, in the response that created the codes; never retrievable later."""
    response = render(request, "accounts/recovery_codes.html", {"codes": codes})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def regenerate_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working): verified session and the password again."""
    user = request.user
    assert user.is_authenticated  # @login_required
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.error(request, "Set up an authenticator app first; recovery codes come with it.")
        return redirect("accounts:settings")
    if not _is_verified(request):
        return redirect("accounts:2fa_verify")
    if not user.check_password(request.POST.get("password", "")):
        return _settings_page(request, codes_error="password: that is not your password", status=400)
    return _recovery_codes_page(request, services.issue_recovery_codes(user, regenerated=True))


def _settings_page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    user = request.user
    assert user.is_authenticated  # @login_required; narrows User | AnonymousUser for the lookup
    ctx: dict[str, Any] = {
        "tokens": ApiToken.objects.filter(user=user),
        "new_token": None,
        "has_2fa": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "device_error": "",
        "codes_error": "",
        "token_error": "",
        "token_days": settings.KAIROS_API_TOKEN_DAYS,
        "token_days_max": services.TOKEN_DAYS_MAX,
        "recovery_codes_left": StaticToken.objects.filter(device__user=user).count(),
        "is_clinic_admin": policies.any_clinic(user, Act.CLINIC_ADMIN),
    }
    ctx.update(extra)
    return render(request, "accounts/settings.html", ctx, status=status)


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        if settings.REQUIRE_2FA and not _is_verified(request):
            # the middleware already sends an unverified session to verify/setup; never rely on it alone
            return _settings_page(
                request,
                status=403,
                token_error="Creating an API token needs a session verified with two-factor authentication.",
            )
        raw_days = request.POST.get("days", "").strip()
        try:
            days = int(raw_days) if raw_days else None
        except ValueError:
            return _settings_page(
                request,
                status=400,
                token_error=f"days: a whole number of days, {services.TOKEN_DAYS_MIN}–"
                f"{services.TOKEN_DAYS_MAX} (got {raw_days[:20]!r})",
            )
        try:
            _, new_token = services.create_token(
                actor_of(request),
                request.POST.get("name", ""),
                days=days,
                read_only=request.POST.get("read_only") in ("on", "1", "true"),
            )
        except ValueError as exc:
            return _settings_page(request, status=400, token_error=f"Token {exc}")
    return _settings_page(request, new_token=new_token)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.revoke_token(actor_of(request), token_id)
    except ApiToken.DoesNotExist:
        from django.http import Http404

        raise Http404("not found") from None
    messages.success(request, "Token revoked.")
    return redirect("accounts:settings")


# --- staff of the admin's clinics: reset a lost two-factor device ---------------------------------


def _staff_page(
    request: HttpRequest, *, status: int = 200, errors: dict[int, str] | None = None
) -> HttpResponse:
    clinic_ids = policies.clinic_ids_for(request.user, Act.CLINIC_ADMIN)
    if not clinic_ids:
        raise PermissionDenied("your role may not manage staff (clinic admin only)")
    members = list(
        Membership.objects.filter(clinic_id__in=clinic_ids)
        .select_related("user", "clinic")
        .order_by("clinic__name", "user__username")
    )
    user_ids = {m.user_id for m in members}
    with_devices = set(
        TOTPDevice.objects.filter(user_id__in=user_ids, confirmed=True).values_list("user_id", flat=True)
    ) | set(StaticDevice.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    rows = [
        {
            "membership": m,
            "has_2fa": m.user_id in with_devices,
            "is_self": m.user_id == request.user.pk,
            "error": (errors or {}).get(m.pk, ""),
            "status": "deactivated"
            if not m.user.is_active
            else ("invited" if not m.user.has_usable_password() else "active"),
        }
        for m in members
    ]
    clinics = Clinic.objects.filter(pk__in=clinic_ids).order_by("name")
    return render(
        request,
        "accounts/staff.html",
        {"rows": rows, "clinics": clinics, "roles": Role.choices},
        status=status,
    )


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    return _staff_page(request)


@login_required
@require_POST
def staff_reset_2fa(request: HttpRequest, clinic_id: int, user_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        removed = services.reset_two_factor(actor_of(request), clinic_id, user_id, reason)
    except ValidationError as exc:
        message = "; ".join(exc.message_dict.get("reason", exc.messages))
        membership = Membership.objects.get(clinic_id=clinic_id, user_id=user_id)  # checked by the service
        return _staff_page(request, status=400, errors={membership.pk: message})
    messages.success(
        request,
        f"Two-factor reset: {removed} device(s) removed. The user sets up an authenticator at the next sign-in.",
    )
    return redirect("accounts:staff")
