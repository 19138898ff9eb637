"""Overdue REMS forms for the navigation badge: the 7-day due date at its boundary (issue #11 §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kairos.dosing import selectors
from kairos.dosing.models import RemsForm

from .test_pages_api import done_session  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _local_noon(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=tz)


def test_overdue_count_day_7_vs_day_8(done_session, org):  # noqa: F811
    s = done_session
    tz = s.clinic.tz
    session_day = (s.dosing_started_at or s.scheduled_for).astimezone(tz).date()
    # Spravato REMS: the form is due within 7 days of the session (clinical.md §1.4).
    assert RemsForm.objects.get(session=s).due_date == session_day + dt.timedelta(days=7)
    day7 = _local_noon(session_day + dt.timedelta(days=7), tz)
    day8 = _local_noon(session_day + dt.timedelta(days=8), tz)
    last_minute_day7 = dt.datetime.combine(session_day + dt.timedelta(days=7), dt.time(23, 59), tzinfo=tz)
    first_minute_day8 = dt.datetime.combine(session_day + dt.timedelta(days=8), dt.time(0, 0), tzinfo=tz)
    assert selectors.overdue_rems_forms(org.prescriber, day7) == 0
    assert selectors.overdue_rems_forms(org.prescriber, last_minute_day7) == 0
    assert selectors.overdue_rems_forms(org.prescriber, first_minute_day8) == 1
    assert selectors.overdue_rems_forms(org.prescriber, day8) == 1


def test_overdue_count_excludes_submitted_and_other_clinics(done_session, org):  # noqa: F811
    s = done_session
    day8 = _local_noon(
        (s.dosing_started_at or s.scheduled_for).astimezone(s.clinic.tz).date() + dt.timedelta(days=8),
        s.clinic.tz,
    )
    assert selectors.overdue_rems_forms(org.far_prescriber, day8) == 0
    RemsForm.objects.filter(session=s).update(submitted_at=timezone.now())
    assert selectors.overdue_rems_forms(org.prescriber, day8) == 0
