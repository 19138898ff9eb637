"""Pages of the clinic's own administration (issue #11 §6): invite, role, deactivate/reactivate, the
invitation link, the access review (page and CSV) and the admin menu. Writes go through
:mod:`kairos.accounts.staff`; the existing Staff page (:func:`kairos.accounts.views.staff`) lists members."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kairos.accounts import selectors, staff
from kairos.accounts.forms import InviteForm
from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.reads import record_read
from kairos.audit.services import record
from kairos.audit.views import safe_cell
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act


def _first_message(exc: ValidationError) -> str:
    return "; ".join(m for msgs in exc.message_dict.values() for m in msgs)


@login_required
def staff_invite(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = selectors.get_clinic(request.user, clinic_id, Act.CLINIC_ADMIN)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invited = staff.invite(actor_of(request), clinic.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            who = invited.membership.user.get_username()
            if not invited.sent:
                messages.error(
                    request,
                    f"{who} was added, but the e-mail could not be sent: use “Send the invitation again”.",
                )
            elif invited.invitation is None:
                messages.success(
                    request, f"{who} already has a Kairos account: added to {clinic.name} and told."
                )
            else:
                messages.success(
                    request,
                    f"Invitation e-mailed to {who}: the link to set a password works once, for "
                    f"{staff.INVITATION_HOURS} hours.",
                )
            return redirect("accounts:staff")
    return render(
        request,
        "accounts/invite.html",
        {"form": form, "clinic": clinic, "hours": staff.INVITATION_HOURS},
        status=400 if form.errors else 200,
    )


def _staff_error(request: HttpRequest, clinic_id: int, user_id: int, exc: ValidationError) -> HttpResponse:
    from kairos.accounts.models import Membership
    from kairos.accounts.views import _staff_page

    membership = Membership.objects.get(clinic_id=clinic_id, user_id=user_id)  # checked by the service
    return _staff_page(request, status=400, errors={membership.pk: _first_message(exc)})


@login_required
@require_POST
def staff_role(request: HttpRequest, clinic_id: int, user_id: int) -> HttpResponse:
    try:
        membership = staff.change_role(actor_of(request), clinic_id, user_id, request.POST.get("role", ""))
    except ValidationError as exc:
        return _staff_error(request, clinic_id, user_id, exc)
    messages.success(
        request,
        f"{membership.user.get_username()} is now {membership.get_role_display()} at {membership.clinic}.",
    )
    return redirect("accounts:staff")


@login_required
@require_POST
def staff_deactivate(request: HttpRequest, clinic_id: int, user_id: int) -> HttpResponse:
    result = staff.deactivate(actor_of(request), clinic_id, user_id)
    messages.success(
        request,
        f"Deactivated: {result.sessions_ended} session(s) ended, {result.tokens_revoked} API token(s) revoked, "
        f"{result.invitations_revoked} invitation link(s) cancelled.",
    )
    return redirect("accounts:staff")


@login_required
@require_POST
def staff_reactivate(request: HttpRequest, clinic_id: int, user_id: int) -> HttpResponse:
    changed = staff.reactivate(actor_of(request), clinic_id, user_id)
    messages.success(
        request,
        "Reactivated: they can sign in again (old API tokens stay revoked)."
        if changed
        else "That member is already active.",
    )
    return redirect("accounts:staff")


@login_required
@require_POST
def staff_resend(request: HttpRequest, clinic_id: int, user_id: int) -> HttpResponse:
    try:
        invited = staff.resend(actor_of(request), clinic_id, user_id)
    except ValidationError as exc:
        return _staff_error(request, clinic_id, user_id, exc)
    if invited.sent:
        messages.success(request, "A new invitation link was e-mailed; earlier links no longer work.")
    else:
        messages.error(request, "The new invitation could not be e-mailed; try again later.")
    return redirect("accounts:staff")


# --- the invitation link (no sign-in: the single-use token is the credential) ----------------------


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = staff.invitation_for(token)
    if found is None:
        response = render(request, "accounts/invitation_invalid.html", status=404)
    else:
        form = SetPasswordForm(found.user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                staff.accept(token, form.cleaned_data["new_password1"])
            except ValidationError:
                response = render(request, "accounts/invitation_invalid.html", status=404)
            else:
                messages.success(
                    request, f"Your password is set. Sign in with your username {found.user.get_username()}."
                )
                return redirect("accounts:login")
        else:
            response = render(
                request,
                "accounts/invitation.html",
                {"form": form, "invitation": found, "username": found.user.get_username()},
                status=400 if form.errors else 200,
            )
    # the token is in the URL: never sent to another site (not "no-referrer": the form POST would then
    # carry "Origin: null", which the CSRF check refuses)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


# --- quarterly access review ------------------------------------------------------------------------


def _local(value: Any, clinic: Clinic) -> str:
    if value is None:
        return "never"
    return timezone.localtime(value, clinic.tz).strftime("%Y-%m-%d %H:%M %Z")


@login_required
def access_review(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic, rows = selectors.access_review(request.user, clinic_id)
    record_read(
        request.user,
        clinic=clinic,
        obj=clinic,
        summary=f"access review viewed ({len(rows)} members)",
    )
    shown = [
        {"row": r, "since": _local(r.member_since, clinic), "last": _local(r.last_sign_in, clinic)}
        for r in rows
    ]
    return render(
        request,
        "accounts/access_review.html",
        {"clinic": clinic, "rows": shown, "now": _local(timezone.now(), clinic)},
    )


@login_required
def access_review_csv(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic, rows = selectors.access_review(request.user, clinic_id)
    record(
        Action.EXPORT,
        actor=request.user,
        clinic=clinic,
        obj=clinic,
        summary=f"access review exported ({len(rows)} members)",
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(selectors.ACCESS_REVIEW_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    r.username,
                    r.name,
                    r.email,
                    r.role,
                    r.status,
                    _local(r.member_since, clinic),
                    _local(r.last_sign_in, clinic),
                    "yes" if r.two_factor else "no",
                    r.active_tokens,
                )
            ]
        )
    stamp = timezone.localtime(timezone.now(), clinic.tz).strftime("%Y-%m-%d")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-review-{clinic.slug}-{stamp}.csv"'
    return response


# --- one menu of every settings page --------------------------------------------------------------


@dataclass(frozen=True)
class MenuItem:
    title: str
    help: str
    url: str  # empty: the user's role may not open it here
    who: str  # who manages it, shown when the user may not


# (title, help, URL name or None, takes the clinic id, action needed, who manages it)
MENU: tuple[tuple[str, str, str, bool, Act, str], ...] = (
    (
        "Clinic settings",
        "REMS certification, chairs, closures and opening calendar",
        "courses:clinic_settings",
        True,
        Act.CLINIC_SETTINGS,
        "clinic admins",
    ),
    (
        "Measurement settings",
        "crisis resources text, instrument licences, questionnaire schedule defaults",
        "measures:clinic_settings",
        True,
        Act.MEASURE_SETTINGS,
        "clinic admins",
    ),
    (
        "Consent texts",
        "consent document versions shown to patients",
        "intake:consent_documents",
        True,
        Act.CONSENT_MANAGE,
        "prescribers and clinic admins",
    ),
    (
        "Staff",
        "invite staff, change roles, deactivate, reset two-factor",
        "accounts:staff",
        False,
        Act.CLINIC_ADMIN,
        "clinic admins",
    ),
    (
        "Access review",
        "who has which role, last sign-in, two-factor, API tokens (quarterly; CSV)",
        "accounts:access_review",
        True,
        Act.AUDIT_VIEW,
        "clinic admins and auditors",
    ),
    (
        "Rule overrides",
        "clinic overrides of clinical thresholds, signed by a prescriber",
        "rulesets:clinic",
        True,
        Act.RULES_VIEW,
        "prescribers, who sign them; clinical staff and auditors read them",
    ),
)
MENU_ACTS = (
    Act.CLINIC_ADMIN,
    Act.CLINIC_SETTINGS,
    Act.MEASURE_SETTINGS,
    Act.CONSENT_MANAGE,
    Act.RULES_OVERRIDE,
)


def may_see_admin_menu(user: Any) -> bool:
    return any(policies.any_clinic(user, act) for act in MENU_ACTS)


def _url(name: str, clinic_id: int, takes_clinic: bool) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse(name, kwargs={"clinic_id": clinic_id}) if takes_clinic else reverse(name)
    except NoReverseMatch:  # an app not installed here
        return ""


@login_required
def admin_menu(request: HttpRequest) -> HttpResponse:
    """Every settings page of each clinic where the user manages something: a link where their role
    may open it, else who manages it."""
    clinic_ids = sorted({cid for act in MENU_ACTS for cid in policies.clinic_ids_for(request.user, act)})
    if not clinic_ids:
        raise PermissionDenied("Only clinic admins and prescribers manage clinic settings.")
    clinics = []
    for clinic in Clinic.objects.filter(pk__in=clinic_ids).order_by("name"):
        items = [
            MenuItem(
                title,
                help_text,
                _url(name, clinic.pk, takes) if policies.can(request.user, act, clinic.pk) else "",
                who,
            )
            for title, help_text, name, takes, act, who in MENU
        ]
        clinics.append({"clinic": clinic, "items": items})
    return render(request, "accounts/admin_menu.html", {"clinics": clinics})
