"""Two-factor authentication through real HTTP: the enrolment bypass (issue #9), the verify gate,
adding a second device, recovery codes and the clinic admin's reset of a lost device."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests-1"


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):0{device.digits}d}"


def _password_sign_in(username: str) -> Client:
    """A real sign-in POST with the password only (what a stolen password gives an attacker)."""
    c = Client()
    r = c.post(LOGIN, {"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    return c


def _assert_sent_to_verify(response) -> None:
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(reverse("accounts:2fa_verify")), response["Location"]


def test_stolen_password_cannot_enrol_a_fresh_device_and_reach_a_chart(org, patient, settings):
    """Issue #9 regression: password → /accounts/2fa/setup/ → enrol a new secret → chart."""
    settings.REQUIRE_2FA = True
    TOTPDevice.objects.create(user=org.prescriber, name="phone", confirmed=True)
    chart = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    setup = reverse("accounts:2fa_setup")

    c = _password_sign_in("prescriber")
    c.get(setup)
    fresh = TOTPDevice.objects.filter(user=org.prescriber, confirmed=False).first()
    if fresh is not None:  # the old code handed out a fresh secret: try to enrol it
        c.post(setup, {"code": _code(fresh)})
    _assert_sent_to_verify(c.get(chart))
    assert TOTPDevice.objects.filter(user=org.prescriber).count() == 1  # nothing was enrolled


def test_the_setup_page_sends_an_unverified_user_with_a_device_to_verify(org, settings):
    for require in (True, False):
        settings.REQUIRE_2FA = require
        TOTPDevice.objects.get_or_create(user=org.prescriber, name="phone", confirmed=True)
        c = _password_sign_in("prescriber")
        _assert_sent_to_verify(c.get(reverse("accounts:2fa_setup")))
        _assert_sent_to_verify(c.post(reverse("accounts:2fa_setup"), {"code": "123456"}))
        assert not TOTPDevice.objects.filter(user=org.prescriber, confirmed=False).exists()


def _account_routes() -> list[tuple[str, dict[str, int]]]:
    from django.urls import get_resolver

    from kairos.access.tests.matrix import walk_routes

    names = [r for r in walk_routes(get_resolver().url_patterns) if r.name.startswith("accounts:")]
    return [(r.name, {k: 1 for k in re.findall(r"<(?:int|str):(\w+)>", r.path)}) for r in names]


def test_an_unverified_user_with_a_device_reaches_only_verify_and_logout(org, patient, settings):
    """Every /accounts/* route (and a chart) with GET and POST: only verify and logout answer; the
    rest redirect to verify (sign-in redirects an already signed-in user home, which is gated too)."""
    settings.REQUIRE_2FA = True
    TOTPDevice.objects.create(user=org.prescriber, name="phone", confirmed=True)
    routes = _account_routes()
    assert {"accounts:2fa_setup", "accounts:2fa_add", "accounts:settings"} <= {n for n, _ in routes}
    c = _password_sign_in("prescriber")
    for name, kwargs in routes:
        if name in ("accounts:2fa_verify", "accounts:logout", "accounts:login"):
            continue
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            r = getattr(c, method)(url)
            _assert_sent_to_verify(r)
    assert c.get(reverse("accounts:2fa_verify")).status_code == 200
    home = c.get(LOGIN)
    assert home.status_code == 302 and not home["Location"].startswith(LOGIN)
    _assert_sent_to_verify(c.get(home["Location"]))
    chart = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    _assert_sent_to_verify(c.get(chart))
    assert c.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in c.session


def _verified_client(user, device: TOTPDevice) -> Client:
    c = _password_sign_in(user.username)
    r = c.post(reverse("accounts:2fa_verify"), {"code": _code(device)})
    assert r.status_code == 302, r.status_code
    return c


def test_a_second_device_needs_a_verified_session_and_the_password_and_is_audited(org, patient, settings):
    from kairos.audit.models import Action, AuditEvent

    settings.REQUIRE_2FA = True
    phone = TOTPDevice.objects.create(user=org.prescriber, name="phone", confirmed=True)
    c = _verified_client(org.prescriber, phone)
    # verified, but without re-entering the password: no enrolment, back to settings
    r = c.get(reverse("accounts:2fa_setup"))
    assert r.status_code == 302 and r["Location"] == reverse("accounts:settings")
    assert not TOTPDevice.objects.filter(user=org.prescriber, confirmed=False).exists()
    wrong = c.post(reverse("accounts:2fa_add"), {"password": "not-my-password"})
    assert wrong.status_code == 400 and "password: that is not your password" in wrong.content.decode()
    ok = c.post(reverse("accounts:2fa_add"), {"password": PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == reverse("accounts:2fa_setup")
    assert c.get(reverse("accounts:2fa_setup")).status_code == 200
    tablet = TOTPDevice.objects.get(user=org.prescriber, confirmed=False)
    done = c.post(reverse("accounts:2fa_setup"), {"code": _code(tablet)})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:settings")
    assert TOTPDevice.objects.filter(user=org.prescriber, confirmed=True).count() == 2
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR, summary="additional two-factor device confirmed")
    assert event.actor == org.prescriber and event.new["additional"] is True
    # the window closes with the enrolment: a third device needs the password again
    again = c.get(reverse("accounts:2fa_setup"))
    assert again.status_code == 302 and again["Location"] == reverse("accounts:settings")
    # the new device verifies a later session
    c2 = _password_sign_in("prescriber")
    assert c2.post(reverse("accounts:2fa_verify"), {"code": _code(tablet, drift=1)}).status_code == 302
    assert c2.get(reverse("patients:chart", kwargs={"patient_id": patient.pk})).status_code == 200


def test_the_enrolment_window_expires(org, settings):
    import time_machine
    from django.utils import timezone

    from kairos.accounts.views import ENROL_WINDOW_SECONDS

    phone = TOTPDevice.objects.create(user=org.prescriber, name="phone", confirmed=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        c = _verified_client(org.prescriber, phone)
        assert c.post(reverse("accounts:2fa_add"), {"password": PASSWORD}).status_code == 302
        traveller.shift(ENROL_WINDOW_SECONDS + 1)
        r = c.get(reverse("accounts:2fa_setup"))
        assert r.status_code == 302 and r["Location"] == reverse("accounts:settings")


# --- lost device: a clinic admin resets it --------------------------------------------------------

REASON = "lost phone on the train, reported by phone call"


def _admin_client(org) -> Client:
    """The clinic admin, signed in with the password and verified with an authenticator."""
    device = TOTPDevice.objects.create(user=org.admin, name="admin phone", confirmed=True)
    return _verified_client(org.admin, device)


def test_clinic_admin_resets_a_lost_device_with_a_reason_and_the_user_enrols_again(org, patient, settings):
    from django_otp.plugins.otp_static.models import StaticDevice

    from kairos.audit.models import Action, AuditEvent

    settings.REQUIRE_2FA = True
    lost = TOTPDevice.objects.create(user=org.nurse, name="phone", confirmed=True)
    StaticDevice.objects.create(user=org.nurse, name="Recovery codes").token_set.create(token="abcd2345")
    nurse = _verified_client(org.nurse, lost)  # a session verified with the lost device
    admin = _admin_client(org)
    page = admin.get(reverse("accounts:staff"))
    assert page.status_code == 200
    body = page.content.decode()
    assert (
        'data-testid="staff-nurse"' in body
        and reverse("accounts:staff_reset_2fa", args=[org.north.pk, org.nurse.pk]) in body
    )
    assert "south_prescriber" not in body  # only the admin's clinics

    r = admin.post(reverse("accounts:staff_reset_2fa", args=[org.north.pk, org.nurse.pk]), {"reason": REASON})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:staff")
    assert not TOTPDevice.objects.filter(user=org.nurse).exists()
    assert not StaticDevice.objects.filter(user=org.nurse).exists()
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR, object_id=str(org.nurse.pk))
    assert event.actor == org.admin and event.reason == REASON and event.clinic_id == org.north.pk
    assert event.old == {"totp_devices": 1, "recovery_code_sets": 1}
    # the old verified session no longer counts; sign-in now leads to setup (REQUIRE_2FA)
    chart = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    assert nurse.get(chart)["Location"].startswith(reverse("accounts:2fa_setup"))
    fresh = _password_sign_in("nurse")
    assert fresh.get(chart)["Location"].startswith(reverse("accounts:2fa_setup"))
    assert fresh.get(reverse("accounts:2fa_setup")).status_code == 200


@pytest.mark.parametrize(
    ("reason", "shown"),
    [("", "(got 0)"), ("too short", "(got 9)"), (" " * 20, "(got 0)"), ("x" * 2001, "(got 2001)")],
)
def test_reset_reason_is_required_and_bounded(org, reason, shown):
    from kairos.audit.models import Action, AuditEvent

    TOTPDevice.objects.create(user=org.nurse, name="phone", confirmed=True)
    r = _admin_client(org).post(
        reverse("accounts:staff_reset_2fa", args=[org.north.pk, org.nurse.pk]), {"reason": reason}
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert "reason: at least 15 characters, at most 2000" in body and shown in body
    assert TOTPDevice.objects.filter(user=org.nurse).exists()
    assert not AuditEvent.objects.filter(action=Action.TWO_FACTOR).exists()


def test_reset_outside_the_admins_clinics_is_not_found_and_other_roles_are_forbidden(org):
    TOTPDevice.objects.create(user=org.south_prescriber, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=org.nurse, name="phone", confirmed=True)
    admin = _admin_client(org)
    for target in (org.south_prescriber, org.far_prescriber, org.nobody):
        r = admin.post(
            reverse("accounts:staff_reset_2fa", args=[org.north.pk, target.pk]), {"reason": REASON}
        )
        assert r.status_code == 404, target
    for unknown in (999999, 2**64):  # 2**64: beyond any 64-bit key (was an OverflowError 500 on SQLite)
        url = reverse("accounts:staff_reset_2fa", args=[org.north.pk, unknown])
        assert admin.post(url, {"reason": REASON}).status_code == 404, unknown
    # naming the user's own clinic does not help: the admin is no member there
    south = reverse("accounts:staff_reset_2fa", args=[org.south.pk, org.south_prescriber.pk])
    assert admin.post(south, {"reason": REASON}).status_code == 404
    assert TOTPDevice.objects.filter(user=org.south_prescriber).exists()
    # a colleague without the clinic-admin role
    prescriber = Client()
    prescriber.force_login(org.prescriber)
    assert (
        prescriber.post(
            reverse("accounts:staff_reset_2fa", args=[org.north.pk, org.nurse.pk]), {"reason": REASON}
        ).status_code
        == 403
    )
    assert prescriber.get(reverse("accounts:staff")).status_code == 403
    # an admin cannot reset their own devices (a stolen admin password must not clear the admin's factor)
    own = admin.post(
        reverse("accounts:staff_reset_2fa", args=[org.north.pk, org.admin.pk]), {"reason": REASON}
    )
    assert own.status_code == 403
    assert (
        TOTPDevice.objects.filter(user=org.nurse).exists()
        and TOTPDevice.objects.filter(user=org.admin).exists()
    )


# --- recovery codes ---------------------------------------------------------------------------------

CODE_ITEM = re.compile(r"<li><code>([a-z2-7]{8})</code></li>")


def _first_enrolment(c: Client, user) -> tuple[TOTPDevice, list[str]]:
    assert c.get(reverse("accounts:2fa_setup")).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    r = c.post(reverse("accounts:2fa_setup"), {"code": _code(device)})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    return device, CODE_ITEM.findall(r.content.decode())


def test_recovery_codes_are_issued_once_at_enrolment_and_each_works_once(org, patient, settings):
    from django_otp.plugins.otp_static.models import StaticToken

    from kairos.audit.models import Action, AuditEvent

    settings.REQUIRE_2FA = True
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # django-otp's back-off after a failure (its own tests)
    c = _password_sign_in("nurse")
    _, codes = _first_enrolment(c, org.nurse)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sorted(
        StaticToken.objects.filter(device__user=org.nurse).values_list("token", flat=True)
    ) == sorted(codes)
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR, summary="recovery codes issued").count() == 1
    settings_page = c.get(reverse("accounts:settings")).content.decode()
    assert not any(code in settings_page for code in codes)  # never shown again
    assert 'data-testid="recovery-codes-left">10 unused' in settings_page

    chart = reverse("patients:chart", kwargs={"patient_id": patient.pk})
    first = _password_sign_in("nurse")
    ok = first.post(reverse("accounts:2fa_verify"), {"code": codes[0].upper()[:4] + "-" + codes[0][4:]})
    assert ok.status_code == 302
    assert first.get(chart).status_code == 200
    used = AuditEvent.objects.get(action=Action.TWO_FACTOR, summary="recovery code used")
    assert used.actor == org.nurse and used.new == {"remaining": 9}
    # the same code a second time fails
    second = _password_sign_in("nurse")
    assert second.post(reverse("accounts:2fa_verify"), {"code": codes[0]}).status_code == 400
    _assert_sent_to_verify(second.get(chart))
    assert second.post(reverse("accounts:2fa_verify"), {"code": codes[1]}).status_code == 302
    assert StaticToken.objects.filter(device__user=org.nurse).count() == 8


def test_regenerating_recovery_codes_needs_a_verified_session_and_the_password(org, settings):
    from django_otp.plugins.otp_static.models import StaticToken

    from kairos.audit.models import Action, AuditEvent

    settings.REQUIRE_2FA = True
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # django-otp's back-off after a failure (its own tests)
    c = _password_sign_in("nurse")
    device, old_codes = _first_enrolment(c, org.nurse)
    url = reverse("accounts:2fa_recovery_codes")
    # an unverified session (password only) cannot regenerate them
    stolen = _password_sign_in("nurse")
    _assert_sent_to_verify(stolen.post(url, {"password": PASSWORD}))
    wrong = c.post(url, {"password": "not-my-password"})
    assert wrong.status_code == 400 and "password: that is not your password" in wrong.content.decode()
    r = c.post(url, {"password": PASSWORD})
    assert r.status_code == 200
    new_codes = CODE_ITEM.findall(r.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert sorted(
        StaticToken.objects.filter(device__user=org.nurse).values_list("token", flat=True)
    ) == sorted(new_codes)
    assert (
        AuditEvent.objects.filter(action=Action.TWO_FACTOR, summary="recovery codes regenerated").count() == 1
    )
    later = _password_sign_in("nurse")
    assert later.post(reverse("accounts:2fa_verify"), {"code": old_codes[0]}).status_code == 400
    assert later.post(reverse("accounts:2fa_verify"), {"code": new_codes[0]}).status_code == 302


def test_recovery_codes_need_an_authenticator_first(org):
    c = Client()
    c.force_login(org.nurse)
    r = c.post(reverse("accounts:2fa_recovery_codes"), {"password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:settings")
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not StaticDevice.objects.filter(user=org.nurse).exists()
