"""Issue #11 §6 in a real browser: a clinic admin invites a nurse from the admin menu, the nurse follows
the e-mailed link, sets a password and signs in."""

from __future__ import annotations

import re

import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "violet-harbour-lantern-9"


def test_admin_invites_a_nurse_who_sets_a_password_and_signs_in(
    org, logged_in_page, new_page, live_server, settings, screenshot
):
    settings.KAIROS_BASE_URL = live_server.url  # links in e-mails point at this server
    mail.outbox.clear()
    admin = logged_in_page(org.admin)
    admin.goto("/")
    admin.get_by_role("link", name="Clinic administration").first.click()
    admin.wait_for_url(re.compile(r"/accounts/admin/$"))
    screenshot(admin, "admin-menu")
    admin.get_by_role("link", name="Staff", exact=True).click()
    admin.get_by_role("link", name="Invite staff to North").click()
    admin.fill("#id_name", "Nina New")
    admin.fill("#id_email", "nina.new@clinic.test")
    admin.select_option("#id_role", "nurse")
    admin.get_by_role("button", name="Send invitation").click()
    admin.wait_for_url(re.compile(r"/accounts/staff/$"))
    row = admin.get_by_test_id("staff-nina.new@clinic.test")
    assert "invited" in row.inner_text()

    assert len(mail.outbox) == 1
    links = re.findall(
        re.escape(live_server.url) + r"/accounts/invitation/[^/\s]+/", str(mail.outbox[0].body)
    )
    assert len(links) == 1, mail.outbox[0].body

    nurse = new_page()
    nurse.goto(links[0])
    assert nurse.get_by_test_id("invited-username").inner_text() == "nina.new@clinic.test"
    nurse.fill("#id_new_password1", PASSWORD)
    nurse.fill("#id_new_password2", PASSWORD)
    nurse.get_by_role("button", name="Set password").click()
    nurse.wait_for_url(re.compile(r"/accounts/login/"))
    assert "Your password is set" in nurse.content()
    nurse.fill("#id_username", "nina.new@clinic.test")
    nurse.fill("#id_password", PASSWORD)
    nurse.get_by_role("button", name="Sign in").click()
    nurse.wait_for_url(re.compile(r"/$"))
    assert nurse.locator("h1").inner_text() == "Welcome, Nina New"

    # the link worked once
    again = nurse.goto(links[0])
    assert again is not None and again.status == 404

    admin.reload()
    assert "active" in admin.get_by_test_id("staff-nina.new@clinic.test").inner_text()
