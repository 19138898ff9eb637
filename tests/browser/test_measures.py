"""Measurement-based care in a real browser: a patient completes a PHQ-9 on a phone from a link, the
item-9 alert reaches the clinician's board, a clinician acknowledges it, an expired link is refused,
and axe-core finds no serious or critical accessibility violation on the patient pages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from kairos.measures.models import MeasureAlert, QuestionnaireLink
from kairos.measures.services import links

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
AXE = (
    Path(__file__).resolve().parent / "vendor" / "axe.min.js"
)  # axe-core 4.14.1 (npm pack axe-core), MPL-2.0


def _answer(page, number, label):
    page.get_by_role("group", name=re.compile(rf"^Question {number}\b")).get_by_label(
        label, exact=True
    ).check()


def _link(org, patient, instruments=("phq9",)):
    return links.create_link(org.frontdesk, patient, list(instruments))[1]


@pytest.fixture
def axe_page(browser_db, browser, live_server):
    """A phone-sized page whose context bypasses CSP only so that axe-core can be injected as a script tag
    (CSP itself is checked by the ordinary ``page`` fixture in the other tests)."""
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, bypass_csp=True, locale="en-GB")
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def _axe(page):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})"
    )
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad
    return result


def test_patient_completes_phq9_on_a_phone_and_clinician_acknowledges(
    org, patient, page, logged_in_page, screenshot
):
    token = _link(org, patient)
    page.set_viewport_size(PHONE)
    page.goto(f"/q/{token}/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Your questionnaire"
    _answer(page, 1, "Several days")
    _answer(page, 2, "More than half the days")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "measures-patient")
    # Submitting with question 9 unanswered: error summary, focused, linking to the question.
    for n in range(1, 9):
        _answer(page, n, "Not at all")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.name") == "phq9-9"
    assert (
        page.get_by_role("group", name=re.compile(r"^Question 1\b"))
        .get_by_label("Not at all", exact=True)
        .is_checked()
    )
    # Keyboard: choose "Several days" for question 9 with the arrow key, then submit.
    page.keyboard.press("ArrowDown")
    assert (
        page.get_by_role("group", name=re.compile(r"^Question 9\b"))
        .get_by_label("Several days", exact=True)
        .is_checked()
    )
    page.get_by_role("button", name="Send my answers").click()
    crisis = page.get_by_test_id("crisis-resources")
    assert crisis.is_visible() and "988" in crisis.inner_text()
    assert page.evaluate("document.activeElement.tagName") == "H1"
    assert MeasureAlert.objects.filter(patient=patient, code="phq9_item9").count() == 1

    # The clinician's board shows the alert; acknowledging needs an action and removes it.
    board = logged_in_page(org.prescriber)
    board.goto("/measures/alerts/")
    row = board.locator("tr[data-alert='phq9_item9']")
    assert patient.display_name in row.inner_text() and "Urgent" in row.inner_text()
    row.get_by_label("Action taken").fill("Phoned the patient; C-SSRS screen done; safety plan reviewed.")
    row.get_by_role("button", name="Acknowledge").click()
    assert board.get_by_text("Alert acknowledged.").is_visible()
    assert board.locator("tr[data-alert='phq9_item9']").count() == 0
    alert = MeasureAlert.objects.get(patient=patient)
    assert alert.acknowledged_by == org.prescriber and "safety plan" in alert.action


def test_new_alert_appears_on_an_open_board_by_polling(org, patient, logged_in_page):
    board = logged_in_page(org.nurse)
    board.goto("/measures/alerts/")
    assert board.get_by_text("No open safety alerts.").is_visible()
    token = _link(org, patient)
    links.submit_link(token, {"phq9": {str(i): (3 if i == 9 else 0) for i in range(1, 10)}})
    board.locator("tr[data-alert='phq9_item9']").wait_for(timeout=15_000)  # hx-trigger every 10s


def test_expired_link_is_refused(org, patient, page):
    token = _link(org, patient)
    QuestionnaireLink.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    page.set_viewport_size(PHONE)
    resp = page.goto(f"/q/{token}/")
    assert resp.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "This link cannot be used"
    assert page.get_by_role("radio").count() == 0


def test_axe_no_serious_or_critical_violations(org, patient, axe_page):
    page = axe_page
    page.goto(f"/q/{_link(org, patient, ('phq9', 'gad7'))}/")
    _axe(page)
    page.get_by_role("button", name="Send my answers").click()  # error state
    assert page.locator("#error-summary").is_visible()
    _axe(page)
    for n in range(1, 10):
        page.locator(f"#phq9_{n}_{1 if n == 9 else 0}").check()
    for n in range(1, 8):
        page.locator(f"#gad7_{n}_0").check()
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_test_id("crisis-resources").is_visible()
    _axe(page)
    page.goto("/q/tampered-token/")
    _axe(page)
