"""The clinic administers itself (issue #11 §6): invitations, role changes, deactivation, the access
review, the admin menu, the front desk's landing after registering a patient, and the error pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.accounts import staff
from kairos.accounts.models import ApiToken, Invitation, Membership
from kairos.accounts.services import create_token
from kairos.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

BASE = "https://kairos.example.test"
LINK = re.compile(re.escape(BASE) + r"/accounts/invitation/([A-Za-z0-9_-]+)/")
NEW_PASSWORD = "violet-harbour-lantern-9"
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.KAIROS_BASE_URL = BASE


def _invite(org, email="nina.new@clinic.test", role="nurse", name="Nina  New"):
    return staff.invite(org.admin, org.north.pk, name=name, email=email, role=role)


def _token_from_mail() -> str:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    found = LINK.findall(str(mail.outbox[0].body))
    assert len(found) == 1, mail.outbox[0].body
    return found[0]


def _accept_page(token: str) -> str:
    return f"/accounts/invitation/{token}/"


def _set_password(client: Client, token: str, password: str = NEW_PASSWORD):
    return client.post(_accept_page(token), {"new_password1": password, "new_password2": password})


# --- invitation ------------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_invite_emails_a_link_that_sets_the_password_once_and_the_user_signs_in(org):
    invited = _invite(org)
    user = invited.membership.user
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "nina.new@clinic.test",
        "nina.new@clinic.test",
        "Nina",
        "New",
    )
    assert not user.has_usable_password() and user.is_active
    assert invited.membership.role == "nurse" and invited.membership.clinic_id == org.north.pk
    message = mail.outbox[0]
    assert message.to == ["nina.new@clinic.test"]
    assert message.subject == "Kairos: you are invited to North"
    # expiry in the clinic's own zone (North: America/New_York, EST in March before the 8th)
    assert "until 05 Mar 2026 10:00 EST" in message.body
    token = _token_from_mail()
    assert invited.link == f"{BASE}/accounts/invitation/{token}/"
    # only the hash is stored
    assert not Invitation.objects.filter(token_hash=token).exists()
    created = AuditEvent.objects.get(action=Action.CREATE, object_type="accounts.membership")
    assert created.actor_id == org.admin.pk and created.clinic_id == org.north.pk
    assert created.new["email"] == "nina.new@clinic.test" and created.new["role"] == "nurse"

    c = Client()
    page = c.get(_accept_page(token))
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]
    assert "nina.new@clinic.test" in page.content.decode()
    r = _set_password(c, token)
    assert r.status_code == 302 and r["Location"] == reverse("accounts:login")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    accepted = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.invitation")
    assert accepted.actor_id == user.pk and accepted.new == {"password_set": True}

    # the link works once
    again = _set_password(Client(), token, "another-password-77")
    assert again.status_code == 404
    assert "This invitation link is not valid" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    # and the nurse signs in with the e-mail address as username
    signed_in = Client()
    r = signed_in.post("/accounts/login/", {"username": "nina.new@clinic.test", "password": NEW_PASSWORD})
    assert r.status_code == 302 and signed_in.get("/").status_code == 200


def test_the_link_expires_after_72_hours(org):
    with time_machine.travel(T0, tick=False):
        _invite(org)
    token = _token_from_mail()
    with time_machine.travel(T0 + dt.timedelta(hours=72) - dt.timedelta(seconds=1), tick=False):
        assert Client().get(_accept_page(token)).status_code == 200
    with time_machine.travel(T0 + dt.timedelta(hours=72), tick=False):
        assert Client().get(_accept_page(token)).status_code == 404
        assert _set_password(Client(), token).status_code == 404
    assert not get_user_model().objects.get(username="nina.new@clinic.test").has_usable_password()


def test_unknown_and_replaced_links_are_refused_and_a_resent_link_works(org):
    _invite(org)
    old = _token_from_mail()
    assert Client().get(_accept_page("not-a-real-token")).status_code == 404
    user = get_user_model().objects.get(username="nina.new@clinic.test")
    mail.outbox.clear()
    staff.resend(org.admin, org.north.pk, user.pk)
    new = _token_from_mail()
    assert new != old
    assert Client().get(_accept_page(old)).status_code == 404
    assert _set_password(Client(), new).status_code == 302
    # once the password is set, a resend is refused naming the field
    with pytest.raises(ValidationError) as exc:
        staff.resend(org.admin, org.north.pk, user.pk)
    assert exc.value.message_dict == {"user": ["user: nina.new@clinic.test has already set a password"]}


def test_a_weak_password_is_refused_and_the_link_stays_usable(org):
    _invite(org)
    token = _token_from_mail()
    r = _set_password(Client(), token, "short")
    assert r.status_code == 400
    assert "This password is too short. It must contain at least 10 characters." in r.content.decode()
    assert Client().get(_accept_page(token)).status_code == 200


def test_inviting_an_existing_account_of_another_clinic_adds_it_without_a_link(org):
    invited = staff.invite(
        org.admin,
        org.north.pk,
        name="South Prescriber",
        email="SOUTH_PRESCRIBER@test.invalid",
        role="prescriber",
    )
    assert invited.invitation is None and invited.link == ""
    assert invited.membership.user_id == org.south_prescriber.pk
    assert Membership.objects.filter(user=org.south_prescriber).count() == 2
    assert "You already have a Kairos account: sign in as south_prescriber" in mail.outbox[0].body
    assert not LINK.search(mail.outbox[0].body)


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("email", {"email": "not-an-address"}, "email: a valid e-mail address of at most 150 characters"),
        ("email", {"email": ""}, "email: a valid e-mail address of at most 150 characters (got '')"),
        (
            "role",
            {"role": "superuser"},
            "role: one of prescriber, nurse, therapist, front_desk, clinic_admin, "
            "auditor, researcher (got 'superuser')",
        ),
        ("name", {"name": "   "}, "name: 1–150 characters (got 0)"),
        ("name", {"name": "x" * 151}, "name: 1–150 characters (got 151)"),
        ("email", {"email": "nurse@test.invalid"}, "email: nurse@test.invalid is already a member of North"),
    ],
)
def test_bad_invitation_input_names_the_field(org, field, data, message):
    args = {"name": "Nina New", "email": "nina.new@clinic.test", "role": "nurse", **data}
    with pytest.raises(ValidationError) as exc:
        staff.invite(org.admin, org.north.pk, **args)
    assert list(exc.value.message_dict) == [field]
    assert exc.value.message_dict[field][0].startswith(message)
    assert not mail.outbox and not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"email": "not-an-address"}, "email: a valid e-mail address"),
        ({"role": "superuser"}, "role: one of prescriber, nurse"),
        ({"name": ""}, "name: required"),
        ({"email": "nurse@test.invalid"}, "email: nurse@test.invalid is already a member of North"),
    ],
)
def test_bad_invitation_page_input_is_a_400_naming_the_field(org, client_for, data, shown):
    body = {"name": "Nina New", "email": "nina.new@clinic.test", "role": "nurse", **data}
    r = client_for(org.admin).post(reverse("accounts:staff_invite", args=[org.north.pk]), body)
    assert r.status_code == 400
    assert shown in r.content.decode()
    assert not mail.outbox


def test_the_invite_page_sends_the_invitation(org, client_for):
    c = client_for(org.admin)
    assert c.get(reverse("accounts:staff_invite", args=[org.north.pk])).status_code == 200
    r = c.post(
        reverse("accounts:staff_invite", args=[org.north.pk]),
        {"name": "Nina New", "email": "nina.new@clinic.test", "role": "nurse"},
    )
    assert r.status_code == 302 and r["Location"] == reverse("accounts:staff")
    _token_from_mail()
    row = c.get(reverse("accounts:staff")).content.decode()
    assert 'data-testid="staff-nina.new@clinic.test"' in row and "invited" in row


# --- role, deactivation: permissions ----------------------------------------------------------------


def _south_admin(org):
    user = get_user_model().objects.create_user("south_admin", "sa@test.invalid", "pw-for-tests-1")
    Membership.objects.create(user=user, clinic=org.south, role="clinic_admin")
    return user


@pytest.mark.parametrize(
    ("call", "names_a_member"),
    [
        (lambda a, c, u: staff.change_role(a, c, u, "therapist"), True),
        (lambda a, c, u: staff.deactivate(a, c, u), True),
        (lambda a, c, u: staff.reactivate(a, c, u), True),
        (lambda a, c, u: staff.resend(a, c, u), True),
        (lambda a, c, u: staff.invite(a, c, name="X Y", email="x@y.test", role="nurse"), False),
    ],
    ids=["role", "deactivate", "reactivate", "resend", "invite"],
)
def test_other_clinic_is_404_and_a_non_admin_is_403(org, call, names_a_member):
    with pytest.raises(Http404):
        call(_south_admin(org), org.north.pk, org.therapist.pk)
    for persona in ("prescriber", "nurse", "frontdesk", "auditor"):
        with pytest.raises(PermissionDenied):
            call(getattr(org, persona), org.north.pk, org.therapist.pk)
    if names_a_member:  # a user who is not a member of the admin's clinic: not found
        with pytest.raises(Http404):
            call(org.admin, org.north.pk, org.south_prescriber.pk)
    assert Membership.objects.get(user=org.therapist).role == "therapist"
    assert get_user_model().objects.get(pk=org.therapist.pk).is_active
    assert not get_user_model().objects.filter(username="x@y.test").exists() and not mail.outbox


def test_role_change_is_audited_and_takes_effect(org, client_for):
    r = client_for(org.admin).post(
        reverse("accounts:staff_role", args=[org.north.pk, org.nurse.pk]), {"role": "prescriber"}
    )
    assert r.status_code == 302
    assert Membership.objects.get(user=org.nurse, clinic=org.north).role == "prescriber"
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.membership")
    assert (event.actor_id, event.clinic_id, event.old, event.new) == (
        org.admin.pk,
        org.north.pk,
        {"role": "nurse"},
        {"role": "prescriber"},
    )
    assert event.summary == "role of nurse changed: Nurse → Prescriber"


def test_unknown_role_is_a_400_naming_the_field(org, client_for):
    r = client_for(org.admin).post(
        reverse("accounts:staff_role", args=[org.north.pk, org.nurse.pk]), {"role": "owner"}
    )
    assert r.status_code == 400
    assert (
        "role: one of prescriber, nurse, therapist, front_desk, clinic_admin, auditor, researcher (got &#x27;owner&#x27;)"
        in r.content.decode()
    )
    assert Membership.objects.get(user=org.nurse, clinic=org.north).role == "nurse"


def test_an_admin_cannot_demote_or_deactivate_themselves(org, client_for):
    c = client_for(org.admin)
    for name, data in (("accounts:staff_role", {"role": "nurse"}), ("accounts:staff_deactivate", {})):
        r = c.post(reverse(name, args=[org.north.pk, org.admin.pk]), data)
        assert r.status_code == 403, name
        assert "ask another clinic admin" in r.content.decode()
    assert Membership.objects.get(user=org.admin).role == "clinic_admin"
    assert get_user_model().objects.get(pk=org.admin.pk).is_active
    # another admin may
    other = get_user_model().objects.create_user("admin2", "a2@test.invalid", "pw-for-tests-1")
    Membership.objects.create(user=other, clinic=org.north, role="clinic_admin")
    staff.change_role(other, org.north.pk, org.admin.pk, "front_desk")
    assert Membership.objects.get(user=org.admin).role == "front_desk"


def test_deactivation_ends_sessions_revokes_tokens_and_reactivation_restores_sign_in(org, api_client_for):
    nurse_browser = Client()
    assert (
        nurse_browser.post(
            "/accounts/login/", {"username": "nurse", "password": "pw-for-tests-1"}
        ).status_code
        == 302
    )
    second_browser = Client()
    second_browser.force_login(org.nurse)
    api = api_client_for(org.nurse)
    assert api.get("/api/v1/patients").status_code == 200
    admin_browser = Client()
    admin_browser.force_login(org.admin)

    def sessions_of(user_id: int) -> int:
        return sum(str(s.get_decoded().get("_auth_user_id")) == str(user_id) for s in Session.objects.all())

    assert sessions_of(org.nurse.pk) == 2
    r = admin_browser.post(reverse("accounts:staff_deactivate", args=[org.north.pk, org.nurse.pk]))
    assert r.status_code == 302
    assert sessions_of(org.nurse.pk) == 0
    assert sessions_of(org.admin.pk) == 1  # the admin's own session is untouched
    assert not get_user_model().objects.get(pk=org.nurse.pk).is_active
    assert not ApiToken.objects.filter(user=org.nurse, revoked_at__isnull=True).exists()
    # at once: the next request of either browser is signed out, the token is refused
    for browser in (nurse_browser, second_browser):
        r = browser.get("/patients/")
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert api.get("/api/v1/patients").status_code == 401
    # and the password no longer signs in
    assert (
        Client().post("/accounts/login/", {"username": "nurse", "password": "pw-for-tests-1"}).status_code
        == 200
    )
    event = AuditEvent.objects.get(
        action=Action.UPDATE, object_type="auth.user", summary__startswith="staff deact"
    )
    assert event.actor_id == org.admin.pk and event.clinic_id == org.north.pk
    assert (
        event.new["active"] is False
        and event.new["sessions_ended"] == 2
        and len(event.new["tokens_revoked"]) == 1
    )
    assert "deactivated" in admin_browser.get(reverse("accounts:staff")).content.decode()

    r = admin_browser.post(reverse("accounts:staff_reactivate", args=[org.north.pk, org.nurse.pk]))
    assert r.status_code == 302
    assert (
        Client().post("/accounts/login/", {"username": "nurse", "password": "pw-for-tests-1"}).status_code
        == 302
    )
    assert api.get("/api/v1/patients").status_code == 401  # old tokens stay revoked
    assert AuditEvent.objects.filter(summary="staff reactivated: nurse", actor=org.admin).count() == 1


def test_deactivation_cancels_a_pending_invitation(org):
    invited = _invite(org)
    token = _token_from_mail()
    result = staff.deactivate(org.admin, org.north.pk, invited.membership.user_id)
    assert result.invitations_revoked == 1
    staff.reactivate(org.admin, org.north.pk, invited.membership.user_id)
    assert Client().get(_accept_page(token)).status_code == 404


def test_a_member_of_a_clinic_the_admin_does_not_administer_is_not_deactivated_by_them(org):
    Membership.objects.create(user=org.nurse, clinic=org.south, role="nurse")
    with pytest.raises(PermissionDenied, match="also a member of a clinic you do not administer"):
        staff.deactivate(org.admin, org.north.pk, org.nurse.pk)
    assert get_user_model().objects.get(pk=org.nurse.pk).is_active


# --- access review ----------------------------------------------------------------------------------


def test_access_review_lists_roles_last_sign_in_2fa_and_tokens_and_is_audited(org, client_for):
    get_user_model().objects.filter(pk=org.nurse.pk).update(
        last_login=dt.datetime(2026, 1, 15, 14, 30, tzinfo=dt.UTC)
    )
    TOTPDevice.objects.create(user=org.nurse, name="phone", confirmed=True)
    create_token(org.nurse, "a")
    create_token(org.nurse, "b")
    revoked, _ = create_token(org.nurse, "c")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    _invite(org, email="pending@clinic.test", name="Pen Ding", role="front_desk")
    get_user_model().objects.filter(pk=org.therapist.pk).update(is_active=False)

    c = client_for(org.auditor)
    page = c.get(reverse("accounts:access_review", args=[org.north.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "2026-01-15 09:30 EST" in body  # 14:30 UTC in New York
    read = AuditEvent.objects.get(action=Action.READ, object_type="accounts.clinic")
    assert read.actor_id == org.auditor.pk and read.summary == "access review viewed (8 members)"

    r = c.get(reverse("accounts:access_review_csv", args=[org.north.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    by_user = {row["username"]: row for row in rows}
    assert len(rows) == 8
    assert by_user["nurse"] == {
        **by_user["nurse"],
        "role": "Nurse",
        "status": "active",
        "last_sign_in": "2026-01-15 09:30 EST",
        "two_factor": "yes",
        "active_tokens": "2",
    }
    assert by_user["prescriber"]["last_sign_in"] == "never" and by_user["prescriber"]["two_factor"] == "no"
    assert by_user["pending@clinic.test"]["status"] == "invited"
    assert by_user["pending@clinic.test"]["role"] == "Front desk"
    assert by_user["therapist"]["status"] == "deactivated"
    export = AuditEvent.objects.get(action=Action.EXPORT, object_type="accounts.clinic")
    assert export.actor_id == org.auditor.pk and export.summary == "access review exported (8 members)"


def test_access_review_csv_neutralises_formulas(org):
    staff.invite(org.admin, org.north.pk, name="=HYPERLINK(1) Evil", email="evil@clinic.test", role="nurse")
    c = Client()
    c.force_login(org.admin)
    rows = list(
        csv.DictReader(
            io.StringIO(c.get(reverse("accounts:access_review_csv", args=[org.north.pk])).content.decode())
        )
    )
    assert {r["name"] for r in rows if r["username"] == "evil@clinic.test"} == {"'=HYPERLINK(1) Evil"}


# --- admin menu and home link -----------------------------------------------------------------------


def test_admin_menu_links_every_settings_page_the_role_may_open(org, client_for):
    admin = client_for(org.admin)
    home = admin.get("/").content.decode()
    assert f'href="{reverse("accounts:admin_menu")}"' in home
    body = admin.get(reverse("accounts:admin_menu")).content.decode()
    n = org.north.pk
    for url in (
        f"/clinics/{n}/settings/",
        f"/measures/clinics/{n}/settings/",
        f"/intake/clinics/{n}/consent-documents/",
        "/accounts/staff/",
        f"/accounts/clinics/{n}/access-review/",
    ):
        assert f'href="{url}"' in body, url
    assert f'href="/rules/{n}/"' not in body
    assert 'Rule overrides</strong> <span class="muted">(managed by prescribers, who sign them' in body
    prescriber = client_for(org.prescriber).get(reverse("accounts:admin_menu")).content.decode()
    assert (
        f'href="/rules/{n}/"' in prescriber and f'href="/intake/clinics/{n}/consent-documents/"' in prescriber
    )
    assert f'href="/accounts/clinics/{n}/access-review/"' not in prescriber
    nurse = client_for(org.nurse)
    assert nurse.get(reverse("accounts:admin_menu")).status_code == 403
    assert reverse("accounts:admin_menu") not in nurse.get("/").content.decode()


# --- front desk lands on a page it may see ----------------------------------------------------------


NEW_PATIENT = {
    "mrn": "FD-0042",
    "given_name": "Rita",
    "family_name": "Arrival",
    "date_of_birth": "1985-04-03",
    "sex": "female",
}


@pytest.mark.parametrize(
    ("persona", "lands_on_chart"), [("frontdesk", False), ("admin", False), ("nurse", True)]
)
def test_registering_a_patient_lands_on_a_page_the_role_may_see(org, client_for, persona, lands_on_chart):
    c = client_for(getattr(org, persona))
    r = c.post(reverse("patients:new"), {**NEW_PATIENT, "clinic": org.north.pk})
    assert r.status_code == 302, r.content.decode()[:2000]
    landing = c.get(r["Location"])
    assert landing.status_code == 200
    body = landing.content.decode()
    assert "Arrival, Rita" in body or "Rita Arrival" in body
    assert (
        "/patients/" in r["Location"] and r["Location"].rstrip("/").split("/")[-1].isdigit()
    ) is lands_on_chart
    if not lands_on_chart:
        assert r["Location"] == "/patients/?q=FD-0042"
        # the row links to the demographics form, not to a chart the role may not open
        assert re.search(r'href="/patients/\d+/edit/">Arrival, Rita</a>', body)


# --- error pages ------------------------------------------------------------------------------------


def test_error_pages_are_styled_and_plain(org, client_for, rf):
    from django.views import defaults

    nurse = client_for(org.nurse)
    r = nurse.get(reverse("accounts:staff"))
    body = r.content.decode()
    assert r.status_code == 403 and 'data-testid="error-403"' in body and "kairos.css" in body
    assert "Your role may not manage staff (clinic admin only)" in body
    # a refusal carrying an internal key shows only the general explanation
    r = nurse.get(reverse("accounts:access_review", args=[org.north.pk]))
    assert r.status_code == 403 and "audit.view" not in r.content.decode()
    assert "You don't have permission for this page" in r.content.decode()
    r = nurse.get("/no/such/page/")
    assert r.status_code == 404 and 'data-testid="error-404"' in r.content.decode()
    # 500 renders with no request context at all (Django's server_error), still styled
    r = defaults.server_error(rf.get("/"))
    body = r.content.decode()
    assert r.status_code == 500 and 'data-testid="error-500"' in body and "kairos.css" in body
    assert "Something went wrong on our side" in body
