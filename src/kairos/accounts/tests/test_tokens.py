"""API tokens: expiry (KAIROS_API_TOKEN_DAYS), read-only scope, last-used time, creation only from a
verified session when two-factor is required, and the CLI's --days / --read-only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kairos.accounts.models import ApiToken
from kairos.accounts.services import create_token

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


def _api(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _new_patient(org) -> dict[str, object]:
    return {
        "clinic_id": org.north.pk,
        "mrn": "TOK-1",
        "given_name": "Token",
        "family_name": "Writer",
        "date_of_birth": "1985-02-03",
        "sex": "male",
    }


def test_a_token_expires_after_the_configured_days_and_then_answers_401_naming_the_date(
    org, patient, settings
):
    assert settings.KAIROS_API_TOKEN_DAYS == 90  # the default
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        token, raw = create_token(org.prescriber, "laptop")
        assert token.expires_at == start + dt.timedelta(days=90)
        settings.KAIROS_API_TOKEN_DAYS = 7
        short, short_raw = create_token(org.prescriber, "short")
        assert short.expires_at == start + dt.timedelta(days=7)
        url = f"/api/v1/patients/{patient.pk}"
        traveller.shift(dt.timedelta(days=7) - dt.timedelta(seconds=1))
        assert _api(short_raw).get(url).status_code == 200
        traveller.shift(dt.timedelta(seconds=1))
        r = _api(short_raw).get(url)
        assert r.status_code == 401
        expiry = short.expires_at.date().isoformat()
        assert r.json() == {"detail": f"token expired on {expiry}; create a new one on your settings page"}
        assert _api(raw).get(url).status_code == 200  # the 90-day token still works
        traveller.shift(dt.timedelta(days=83))
        assert _api(raw).get(url).status_code == 401


def test_a_read_only_token_reads_but_may_not_write(org, patient):
    _, ro = create_token(org.prescriber, "dashboard", read_only=True)
    _, rw = create_token(org.prescriber, "script")
    assert _api(ro).get(f"/api/v1/patients/{patient.pk}").status_code == 200
    assert _api(ro).head(f"/api/v1/patients/{patient.pk}").status_code in (200, 405)
    r = _api(ro).post("/api/v1/patients", data=_new_patient(org), content_type="application/json")
    assert r.status_code == 403
    assert "read-only scope" in r.json()["detail"] and "POST" in r.json()["detail"]
    from kairos.patients.models import Patient

    assert not Patient.objects.filter(mrn="TOK-1").exists()
    ok = _api(rw).post("/api/v1/patients", data=_new_patient(org), content_type="application/json")
    assert ok.status_code == 201, ok.content


def test_settings_page_creates_with_expiry_and_scope_and_shows_last_use(org, patient):
    c = Client()
    c.force_login(org.nurse)
    page = c.post(reverse("accounts:settings"), {"name": "tablet", "days": "30", "read_only": "on"})
    assert page.status_code == 200
    raw = re.search(r'data-testid="new-token">([^<]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(user=org.nurse)
    assert token.read_only and (token.expires_at - token.created_at) == dt.timedelta(days=30)
    row = re.search(rf'data-testid="token-{token.pk}">(.*?)</tr>', page.content.decode(), re.S).group(1)
    assert "read-only" in row and token.expires_at.strftime("%Y-%m-%d") in row and ">never<" in row
    assert _api(raw).get(f"/api/v1/patients/{patient.pk}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    later = c.get(reverse("accounts:settings")).content.decode()
    row = re.search(rf'data-testid="token-{token.pk}">(.*?)</tr>', later, re.S).group(1)
    assert f'data-testid="last-used">{token.last_used_at:%Y-%m-%d %H:%M}<' in row


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "days: 1–365 (got 0)"),
        ("366", "days: 1–365 (got 366)"),
        ("ten", "days: a whole number of days, 1–365"),
    ],
)
def test_settings_page_refuses_bad_days_naming_the_field(org, days, message):
    c = Client()
    c.force_login(org.nurse)
    r = c.post(reverse("accounts:settings"), {"name": "x", "days": days})
    assert r.status_code == 400 and message in r.content.decode()
    assert not ApiToken.objects.exists()


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, 0):0{device.digits}d}"


def test_creating_a_token_needs_a_verified_session_when_two_factor_is_required(org, settings):
    settings.REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=org.nurse, name="phone", confirmed=True)
    c = Client()
    assert c.post("/accounts/login/", {"username": "nurse", "password": PASSWORD}).status_code == 302
    r = c.post(reverse("accounts:settings"), {"name": "stolen"})
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:2fa_verify"))
    assert not ApiToken.objects.exists()
    # the view refuses on its own too (not only the middleware)
    middleware = [m for m in settings.MIDDLEWARE if m != "kairos.accounts.middleware.TwoFactorMiddleware"]
    with override_settings(MIDDLEWARE=middleware):
        bare = Client()  # a client loads the middleware once: a new one for the new stack
        bare.cookies = c.cookies
        r = bare.post(reverse("accounts:settings"), {"name": "stolen"})
        assert r.status_code == 403 and "verified with two-factor" in r.content.decode()
    assert not ApiToken.objects.exists()
    assert c.post(reverse("accounts:2fa_verify"), {"code": _code(device)}).status_code == 302
    assert c.post(reverse("accounts:settings"), {"name": "mine"}).status_code == 200
    assert ApiToken.objects.filter(user=org.nurse, name="mine").exists()


def test_cli_token_create_with_days_and_read_only(org, capsys):
    from kairos.cli.main import main

    assert main(["token", "create", "prescriber", "--name", "ro", "--days", "10", "--read-only"]) == 0
    out = capsys.readouterr().out
    token = ApiToken.objects.get(name="ro")
    assert token.read_only and (token.expires_at - token.created_at) == dt.timedelta(days=10)
    assert "read-only" in out and token.expires_at.strftime("%Y-%m-%d") in out


@pytest.mark.parametrize("days", ["0", "366", "-3"])
def test_cli_token_bad_days_exit_2_naming_the_option(org, capsys, days):
    from kairos.cli.main import main

    assert main(["token", "create", "prescriber", "--days", days]) == 2
    assert f"--days: 1–365 (got {int(days)})" in capsys.readouterr().err
    assert not ApiToken.objects.exists()


def test_cli_token_non_numeric_days_exit_2_naming_the_option(org, capsys):
    from kairos.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["token", "create", "prescriber", "--days", "ten"])
    assert exit_.value.code == 2 and "--days" in capsys.readouterr().err
    assert not ApiToken.objects.exists()
