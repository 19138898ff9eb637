"""Issue #11 §5: the navigation badge and the home panel put open alerts in front of the prescriber."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from kairos.audit.models import AuditEvent
from kairos.measures.models import ClinicalTask, MeasureAlert, TaskStatus
from kairos.measures.tasks import _absolute
from kairos.measures.tests.conftest import phq9_post

pytestmark = pytest.mark.django_db
ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def _item9_alert(patient, make_link):
    _, token = make_link(patient)
    Client().post(reverse("measures:patient_form", args=[token]), phq9_post(ITEM9))
    return MeasureAlert.objects.get()


def _badge(html):
    m = re.search(r'data-testid="nav-badge"[^>]*>(\d+)<', html)
    return int(m.group(1)) if m else None


def test_no_badge_and_no_alerts_before_any_alert(org, client_for):
    html = client_for(org.prescriber).get(reverse("web:home")).content.decode()
    assert _badge(html) is None
    assert "No open safety alerts." in html


def test_item9_alert_shows_in_prescribers_badge_and_home_panel(patient, make_link, org, client_for):
    alert = _item9_alert(patient, make_link)
    assert alert.urgency == "urgent"
    html = client_for(org.prescriber).get(reverse("web:home")).content.decode()
    # one urgent alert; its task is the same item and not counted twice
    assert _badge(html) == 1
    assert 'aria-label="Alerts: 1 needs attention"' in html
    assert html.count('data-testid="home-alert"') == 1 and patient.display_name in html
    assert html.count('data-testid="home-task"') == 1
    # the badge is on every page, not only home
    assert _badge(client_for(org.prescriber).get(reverse("measures:alerts")).content.decode()) == 1


def test_acknowledge_from_home_removes_it_and_is_audited(patient, make_link, org, client_for):
    alert = _item9_alert(patient, make_link)
    c = client_for(org.prescriber)
    r = c.post(
        reverse("measures:alert_ack", args=[alert.pk]),
        {"action": "Called patient; safety plan", "next": "home"},
    )
    assert r.status_code == 302 and r.url == reverse("web:home")
    alert.refresh_from_db()
    assert alert.acknowledged_by == org.prescriber and alert.action == "Called patient; safety plan"
    assert (
        AuditEvent.objects.filter(actor=org.prescriber, object_type__icontains="alert")
        .exclude(object_type="measures.alert_board")
        .exists()
    )
    html = c.get(reverse("web:home")).content.decode()
    assert 'data-testid="home-alert"' not in html
    still_open = ClinicalTask.objects.filter(alert=alert, status=TaskStatus.OPEN).count()
    assert _badge(html) == (still_open or None)


def test_acknowledge_without_action_from_home_is_refused(patient, make_link, org, client_for):
    alert = _item9_alert(patient, make_link)
    r = client_for(org.prescriber).post(
        reverse("measures:alert_ack", args=[alert.pk]), {"action": "", "next": "home"}
    )
    assert r.status_code == 302 and r.url == reverse("web:home")
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_front_desk_sees_no_clinical_alerts(patient, make_link, org, client_for):
    _item9_alert(patient, make_link)
    html = client_for(org.frontdesk).get(reverse("web:home")).content.decode()
    assert _badge(html) is None
    assert 'data-testid="home-attention"' not in html and patient.display_name not in html


def test_other_clinic_prescriber_sees_no_badge(patient, make_link, org, client_for):
    _item9_alert(patient, make_link)
    assert _badge(client_for(org.far_prescriber).get(reverse("web:home")).content.decode()) is None


def test_home_query_count_is_bounded_and_constant(
    patient, make_link, org, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(org.prescriber)
    _item9_alert_many(patient, make_link)
    c.get(reverse("web:home"))
    with CaptureQueriesContext(connection) as one:
        c.get(reverse("web:home"))
    for _ in range(2):
        _item9_alert_many(patient, make_link)
    with django_assert_max_num_queries(40):
        html = c.get(reverse("web:home")).content.decode()
    assert _badge(html) == 3 and html.count('data-testid="home-alert"') == 3
    with CaptureQueriesContext(connection) as three:
        c.get(reverse("web:home"))
    assert len(three.captured_queries) == len(one.captured_queries)


def _item9_alert_many(patient, make_link):
    _, token = make_link(patient)
    Client().post(reverse("measures:patient_form", args=[token]), phq9_post(ITEM9))


@override_settings(KAIROS_BASE_URL="https://kairos.example.org")
def test_email_links_use_configured_base_url():
    assert _absolute("", "/measures/alerts/") == "https://kairos.example.org/measures/alerts/"
    assert _absolute("https://other.example/", "/x") == "https://other.example/x"
