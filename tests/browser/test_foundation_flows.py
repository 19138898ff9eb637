"""Foundation flows in a real browser: sign-in (with and without two-factor), wrong password, a chart,
the auditor seeing their own action, a foreign clinic's patient refused, and CSP kept."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, 0):0{device.digits}d}"


def test_sign_in_without_two_factor(org, logged_in_page, screenshot):
    page = logged_in_page(org.prescriber, via_form=True)
    assert page.url.endswith("/")
    assert page.locator("h1").inner_text() == "Welcome, prescriber"
    assert page.get_by_role("link", name="Patients").is_visible()


def test_wrong_password_shows_one_generic_message(org, page, screenshot):
    page.goto("/accounts/login/")
    screenshot(page, "foundation-login")
    page.fill("#id_username", "prescriber")
    page.fill("#id_password", "not-the-password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Your username and password didn't match. Please try again."
    assert page.input_value("#id_username") == "prescriber"
    assert page.input_value("#id_password") == ""


def test_sign_in_with_two_factor(org, page):
    device = TOTPDevice.objects.create(user=org.nurse, name="phone", confirmed=True)
    page.goto("/patients/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "nurse")
    page.fill("#id_password", "pw-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    page.fill("#id_code", _code(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/patients/$"))
    assert page.locator("h1").inner_text() == "Patients"


def _chart_loaded(page) -> None:
    """Wait until the chart's htmx measurements section has arrived, so no request of this page is
    still in flight when the test moves on (the next step must not race it)."""
    page.locator("#measures-section [data-testid=scores]").wait_for()


def _reads_by(username: str, patient_id: int) -> list[tuple[str, int]]:
    """(summary, chain seq) of the user's audited reads of the patient, oldest first."""
    from kairos.audit.models import Action, AuditEvent

    rows = AuditEvent.objects.filter(action=Action.READ, patient_id=patient_id, actor_username=username)
    return list(rows.order_by("id").values_list("summary", "seq"))


def test_chart_and_the_auditor_sees_their_own_action(org, patient, logged_in_page, screenshot):
    from kairos.patients.services import record_weight

    record_weight(org.nurse, patient, "71.4")
    prescriber = logged_in_page(org.prescriber)
    prescriber.goto("/patients/")
    prescriber.get_by_role("link", name="Ient, Pat").click()
    assert prescriber.get_by_test_id("patient-name").inner_text() == "Pat Ient"
    assert prescriber.get_by_role("cell", name="71.4").is_visible()
    _chart_loaded(prescriber)
    screenshot(prescriber, "foundation-chart")

    auditor = logged_in_page(org.auditor)
    auditor.goto(f"/patients/{patient.pk}/")
    assert auditor.get_by_test_id("patient-name").inner_text() == "Pat Ient"
    _chart_loaded(auditor)
    # The trail itself holds the auditor's chart read (the fragment adds its own "measurements viewed").
    summaries = [summary for summary, _ in _reads_by("auditor", patient.pk)]
    assert summaries == ["chart opened", "measurements viewed (0)"], _reads_by("auditor", patient.pk)

    auditor.goto("/audit/?actor=auditor&action=read")
    rows = auditor.get_by_test_id("audit-table").locator("tbody tr")
    texts = rows.all_inner_texts()
    opened = [t for t in texts if "chart opened" in t]
    assert len(opened) == 1, texts
    assert "auditor" in opened[0] and str(patient.pk) in opened[0]
    auditor.goto("/audit/")
    screenshot(auditor, "foundation-audit")


def test_foreign_clinic_patient_is_a_404(org, patient, logged_in_page):
    page = logged_in_page(org.far_prescriber)
    response = page.goto(f"/patients/{patient.pk}/")
    assert response.status == 404
    body = page.content()
    assert patient.mrn not in body and patient.family_name not in body


def test_csp_violations_are_caught(org, logged_in_page, csp_violations):
    """The CSP listener works: an injected inline script is refused and reported."""
    page = logged_in_page(org.prescriber)
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.x") is None
    assert any("inline script" in v and "Content Security Policy" in v for v in csp_violations), (
        csp_violations
    )
    csp_violations.clear()
