"""Sign-in, lock-out, password hashing, two-factor, session expiry and API tokens."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.access.tests.matrix import walk_routes
from kairos.accounts.models import ApiToken
from kairos.accounts.services import authenticate_token
from kairos.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
GENERIC = "Your username and password didn't match. Please try again."
PASSWORD = "pw-for-tests-1"


def _login(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def _alerts(html: str) -> list[str]:
    from html import unescape

    return [unescape(m) for m in re.findall(r'role="alert">(.*?)</', html, flags=re.S)]


# --- passwords and lock-out -----------------------------------------------------------------


def test_correct_password_signs_in_and_is_audited(org):
    c = Client()
    r = _login(c, "prescriber", PASSWORD)
    assert r.status_code == 302 and r["Location"] == reverse("web:home")
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=org.prescriber).count() == 1


def test_wrong_password_and_unknown_user_get_the_same_generic_message(org):
    wrong = _login(Client(), "prescriber", "not-the-password")
    unknown = _login(Client(), "no-such-user", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert _alerts(wrong.content.decode()) == _alerts(unknown.content.decode()) == [GENERIC]
    for r in (wrong, unknown):
        body = r.content.decode().lower()
        assert "unknown" not in body and "does not exist" not in body and "inactive" not in body
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("id")
    assert [e.actor_username for e in failed] == ["prescriber", "no-such-user"]
    assert all(e.actor_id is None for e in failed)


def test_inactive_user_gets_the_same_generic_message(org):
    org.nurse.is_active = False
    org.nurse.save()
    r = _login(Client(), "nurse", PASSWORD)
    assert _alerts(r.content.decode()) == [GENERIC]


def test_lockout_after_the_failure_limit(org):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit >= 1
    c = Client()
    for _ in range(limit - 1):
        assert _login(c, "prescriber", "wrong-password").status_code == 200
    locked = _login(c, "prescriber", "wrong-password")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # once locked, even the right password is refused and no session starts
    again = _login(c, "prescriber", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in c.session
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor_username="prescriber").count() >= limit
    assert not AuditEvent.objects.filter(action=Action.LOGIN, actor=org.prescriber).exists()
    # another user from the same address is not locked (username + IP pairs)
    assert _login(c, "nurse", PASSWORD).status_code == 302


@pytest.mark.argon2
def test_argon2_hashes_passwords(db):
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user = get_user_model().objects.create_user("argon", "a@test.invalid", "a-long-password-1")
    assert user.password.startswith("argon2$argon2id$")
    assert _login(Client(), "argon", "a-long-password-1").status_code == 302


@pytest.mark.argon2
def test_legacy_pbkdf2_hash_is_upgraded_to_argon2_on_sign_in(db):
    from django.contrib.auth.hashers import make_password

    user = get_user_model().objects.create_user("legacy", "l@test.invalid")
    user.password = make_password("a-long-password-1", hasher="pbkdf2_sha256")
    user.save()
    assert _login(Client(), "legacy", "a-long-password-1").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


# --- two-factor ---------------------------------------------------------------------------------


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):0{device.digits}d}"


def test_totp_setup_confirm_then_verify_on_next_sign_in(org):
    c = Client()
    c.force_login(org.prescriber)
    page = c.get(reverse("accounts:2fa_setup"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=org.prescriber)
    assert not device.confirmed
    assert device.bin_key.hex() in page.content.decode()
    r = c.post(reverse("accounts:2fa_setup"), {"code": _code(device)})
    assert r.status_code == 200 and 'data-testid="recovery-codes"' in r.content.decode()  # shown once
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(summary="two-factor device confirmed", actor=org.prescriber).count() == 1
    assert c.get(reverse("patients:list")).status_code == 200  # this session is verified

    # a new session must verify before reaching anything
    c2 = Client()
    assert _login(c2, "prescriber", PASSWORD).status_code == 302
    gate = c2.get(reverse("patients:list"))
    assert (
        gate.status_code == 302
        and gate["Location"] == reverse("accounts:2fa_verify") + "?next=%2Fpatients%2F"
    )
    assert c2.post(gate["Location"], {"code": "12ab56"}).status_code == 400
    # the code just used in setup cannot be replayed; the next time step's code is accepted
    ok = c2.post(gate["Location"], {"code": _code(device, drift=1)})
    assert ok.status_code == 302 and ok["Location"] == "/patients/"
    assert c2.get(reverse("patients:list")).status_code == 200


def test_totp_setup_refuses_a_wrong_code(org):
    c = Client()
    c.force_login(org.prescriber)
    c.get(reverse("accounts:2fa_setup"))
    device = TOTPDevice.objects.get(user=org.prescriber)
    wrong = "000000" if _code(device) != "000000" else "111111"
    r = c.post(reverse("accounts:2fa_setup"), {"code": wrong})
    assert r.status_code == 400
    assert "not accepted" in r.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "http://testserver.evil/", "javascript:alert(1)"]
)
def test_two_factor_verify_is_not_an_open_redirect(org, target):
    device = TOTPDevice.objects.create(user=org.prescriber, name="x", confirmed=True)
    c = Client()
    c.force_login(org.prescriber)
    r = c.post(reverse("accounts:2fa_verify") + "?next=" + target, {"code": _code(device)})
    assert r.status_code == 302 and r["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_htmx_request_gets_401_not_a_redirect_when_verification_is_needed(org):
    TOTPDevice.objects.create(user=org.prescriber, name="x", confirmed=True)
    c = Client()
    c.force_login(org.prescriber)
    r = c.get(reverse("patients:list"), headers={"HX-Request": "true"})
    assert r.status_code == 401


def _patient_page_routes() -> list[str]:
    return [r.name for r in walk_routes(get_resolver().url_patterns) if r.name.startswith("patients:")]


def test_require_2fa_sends_users_without_a_device_to_setup_from_every_patient_route(org, patient, settings):
    settings.REQUIRE_2FA = True
    c = Client()
    c.force_login(org.prescriber)
    names = _patient_page_routes()
    assert {"patients:list", "patients:chart", "patients:new"} <= set(names)
    for name in names:
        url = reverse(name, kwargs={"patient_id": patient.pk} if "<" in _path(name) else {})
        for method in ("get", "post"):
            r = getattr(c, method)(url)
            assert r.status_code == 302, (name, method, r.status_code)
            assert r["Location"].startswith(reverse("accounts:2fa_setup")), (name, method)
    assert not AuditEvent.objects.filter(action=Action.READ).exists()
    # the setup page itself is reachable, and the dev default does not gate
    assert c.get(reverse("accounts:2fa_setup")).status_code == 200
    settings.REQUIRE_2FA = False
    assert c.get(reverse("patients:list")).status_code == 200


def _path(name: str) -> str:
    return next(r.path for r in walk_routes(get_resolver().url_patterns) if r.name == name)


# --- inactivity expiry -----------------------------------------------------------------------


def test_session_expires_after_the_idle_time_and_activity_extends_it(org):
    idle = settings.SESSION_COOKIE_AGE
    assert idle == 15 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        c = Client()
        c.force_login(org.prescriber)
        for _ in range(3):  # active every ~0.8 × idle: stays signed in well past one idle period
            traveller.shift(dt.timedelta(seconds=idle * 0.8))
            assert c.get(reverse("web:home")).status_code == 200
        traveller.shift(dt.timedelta(seconds=idle + 1))
        r = c.get(reverse("web:home"))
        assert r.status_code == 302 and r["Location"].startswith(LOGIN)


# --- API tokens -------------------------------------------------------------------------------


def test_token_created_and_revoked_on_the_settings_page(org, patient):
    c = Client()
    c.force_login(org.nurse)
    page = c.post(reverse("accounts:settings"), {"name": "laptop"})
    assert page.status_code == 200
    raw = re.search(r'data-testid="new-token">([^<]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(user=org.nurse)
    assert token.name == "laptop" and token.key_hash != raw and raw.startswith(token.hint)
    assert raw not in c.get(reverse("accounts:settings")).content.decode()  # shown once
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get(f"/api/v1/patients/{patient.pk}").status_code == 200
    r = c.post(reverse("accounts:token_revoke", kwargs={"token_id": token.pk}))
    assert r.status_code == 302
    assert api.get(f"/api/v1/patients/{patient.pk}").status_code == 401
    assert AuditEvent.objects.filter(action=Action.TOKEN, actor=org.nurse).count() == 2


def test_token_name_is_validated_on_the_settings_page(org):
    c = Client()
    c.force_login(org.nurse)
    r = c.post(reverse("accounts:settings"), {"name": "x" * 101}, follow=True)
    assert "name: 1–100 characters" in r.content.decode()
    assert not ApiToken.objects.exists()


def test_cannot_revoke_someone_elses_token(org):
    from kairos.accounts.services import create_token

    token, raw = create_token(org.prescriber, "mine")
    c = Client()
    c.force_login(org.nurse)
    assert c.post(reverse("accounts:token_revoke", kwargs={"token_id": token.pk})).status_code == 404
    assert authenticate_token(raw) == org.prescriber


def test_cli_token_create_prints_the_token_on_its_last_line(org, capsys):
    from kairos.cli.main import main

    assert main(["token", "create", "prescriber", "--name", "cli-test"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert authenticate_token(last) == org.prescriber
    token = ApiToken.objects.get(name="cli-test")
    assert main(["token", "revoke", "prescriber", str(token.pk)]) == 0
    assert authenticate_token(last) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["token", "create", "no-such-user"], "username: no active user 'no-such-user'"),
        (["token", "create", "prescriber", "--name", ""], "--name: name: 1–100 characters"),
        (["token", "revoke", "nurse", "999"], "token_id: 999 is not a token of nurse"),
    ],
)
def test_cli_token_bad_input_exits_2(org, capsys, argv, message):
    from kairos.cli.main import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not ApiToken.objects.exists()


def test_real_kairos_executable_token_help():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("kairos")
    r = subprocess.run([str(exe), "token", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "create" in r.stdout
    r = subprocess.run([str(exe), "token", "create"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "username" in r.stderr
