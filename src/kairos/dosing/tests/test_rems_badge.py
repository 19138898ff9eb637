"""Issue #11 §5: an overdue REMS form counts in the navigation badge (registered from dosing's AppConfig)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kairos.dosing.models import DosingSession, RemsForm
from kairos.web.hooks import badge_counts

from .test_pages_api import done_session  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_overdue_rems_form_counts_in_badge(done_session, org, client_for):  # noqa: F811
    form = RemsForm.objects.get(session=done_session)
    assert form.submitted_at is None
    now = timezone.now()

    def session_days_ago(days: int) -> None:
        when = now - dt.timedelta(days=days)
        DosingSession.objects.filter(pk=done_session.pk).update(dosing_started_at=when, scheduled_for=when)

    session_days_ago(7)  # due within 7 days (clinical.md §1.4): day 7 is not yet overdue
    assert badge_counts(org.prescriber)["rems_overdue"] == 0
    session_days_ago(8)
    assert badge_counts(org.prescriber)["rems_overdue"] == 1
    html = client_for(org.prescriber).get(reverse("web:home")).content.decode()
    m = re.search(r'data-testid="nav-badge"[^>]*>(\d+)<', html)
    assert m and int(m.group(1)) == 1
    assert badge_counts(org.far_prescriber)["rems_overdue"] == 0
