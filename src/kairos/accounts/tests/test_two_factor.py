"""Two-factor authentication through real HTTP: the enrolment bypass (issue #9), the verify gate,
adding a second device, recovery codes and the clinic admin's reset of a lost device."""

from __future__ import annotations

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
