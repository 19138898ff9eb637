"""Issue #11 §5 in a real browser: after a PHQ-9 item-9 alert the prescriber's navigation badge shows the
count, and the home panel acknowledges the alert with the action taken."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kairos.measures.models import MeasureAlert
from kairos.measures.services import links
from kairos.measures.tests.conftest import phq9_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_badge_shows_and_home_panel_acknowledges(org, patient, logged_in_page):
    token = links.create_link(org.frontdesk, patient, ["phq9"])[1]
    Client().post(reverse("measures:patient_form", args=[token]), phq9_post([0, 0, 0, 0, 0, 0, 0, 0, 1]))
    alert = MeasureAlert.objects.get()

    page = logged_in_page(org.prescriber)
    page.goto("/")
    badge = page.get_by_test_id("nav-badge")
    assert badge.inner_text().startswith("1")
    assert page.get_by_role("link", name="Alerts: 1 needs attention").is_visible()
    item = page.get_by_test_id("home-alert")
    assert patient.display_name in item.inner_text()
    item.get_by_label("Action taken").fill("Called the patient; safety plan reviewed")
    item.get_by_role("button", name="Acknowledge").click()
    # htmx swaps the panel and the badge in place
    page.get_by_text("No open safety alerts.").wait_for()
    assert page.get_by_test_id("home-alert").count() == 0
    assert page.get_by_role("link", name="Alerts: 1 needs attention").count() == 0
    alert.refresh_from_db()
    assert alert.acknowledged_by == org.prescriber
