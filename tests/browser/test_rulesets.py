"""Clinic rule overrides in a real browser (issue #12 §7): a prescriber opens the Rules menu, finds the SpO₂
alarm threshold, is refused an out-of-range value with the allowed range named, signs an override with the
keyboard and sees the effective value with who signed it; a nurse sees it but has no form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHY = "Clinic protocol review: oximeters here read about 1% low"


def test_prescriber_sets_an_override_and_sees_the_effective_value(org, logged_in_page, screenshot):
    from kairos.rulesets.models import RuleOverride

    page = logged_in_page(org.prescriber)
    page.goto("/")
    page.get_by_role("link", name="Rules", exact=True).click()
    page.get_by_role("link", name="safety", exact=True).click()
    row = page.locator('tr[data-key="spo2.alarm_below"]')
    assert row.get_by_test_id("effective").inner_text() == "93 %"
    row.get_by_role("link", name="change spo2.alarm_below").click()
    assert page.get_by_test_id("effective-value").inner_text().startswith("93 % (")

    # out of range: refused (400), the form keeps what was typed and names the allowed range
    page.fill("#id_value", "80")
    page.fill("#id_reason", WHY)
    page.get_by_role("button", name="Sign override").click()
    errors = page.get_by_test_id("errors")
    assert errors.inner_text() == (
        "safety.spo2.alarm_below: 80 is below the allowed range [85, 98] %; allowed: 85 to 98 %"
    )
    assert page.input_value("#id_value") == "80"
    assert not RuleOverride.objects.exists()

    # in range, submitted from the keyboard
    page.locator("#id_value").fill("90")
    page.locator("#id_reason").focus()
    page.keyboard.press("Tab")  # to the submit button
    page.keyboard.press("Enter")
    # the POST redirects to the URL the form was on: wait for the new value, not for the URL
    expect(page.get_by_test_id("effective-value")).to_have_text(re.compile(r"^90 % \("))
    effective = page.get_by_test_id("effective-value").inner_text()
    assert effective.startswith("90 % (")
    assert "; clinic override by prescriber on " in effective
    assert page.get_by_test_id("history").get_by_role("cell", name=WHY).is_visible()
    screenshot(page, "rulesets-override")

    page.goto(f"/rules/{org.north.pk}/safety/")
    row = page.locator('tr[data-key="spo2.alarm_below"]')
    assert row.get_by_test_id("effective").inner_text().startswith("90 % clinic override v1")

    nurse = logged_in_page(org.nurse)
    nurse.goto(f"/rules/{org.north.pk}/safety/spo2.alarm_below/")
    assert nurse.get_by_test_id("effective-value").inner_text().startswith("90 % (")
    assert nurse.get_by_test_id("override-form").count() == 0
