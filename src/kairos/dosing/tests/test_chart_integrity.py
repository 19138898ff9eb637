"""Issue #11 §4: chart integrity on the day (service level, SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kairos.dosing import selectors, services
from kairos.dosing.models import Reading

from .conftest import checked_in

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def test_held_session_lists_no_reading_as_due_or_overdue(org, patient, site, t0):
    # 205/100 is above the single-reading hold (bp.hold_single_*): the IV session is held at check-in.
    s = checked_in(
        org, patient, t0, protocol="iv-racemic", vitals={"sbp": 205, "dbp": 100, "heart_rate": 80, "spo2": 98}
    )
    assert s.status == "held"
    states = [d["state"] for d in selectors.due_readings(s, t0 + 3 * H)]
    assert states, "the schedule is still shown"
    assert "overdue" not in states and "due" not in states
    assert "stopped" in states


def test_running_session_still_lists_overdue_readings(org, patient, site, enrolled, t0):
    # Control for the test above: the same clock on a session that is not held keeps its overdue slots.
    s = checked_in(org, patient, t0)
    assert s.status == "prechecks_done"
    states = [d["state"] for d in selectors.due_readings(s, t0 + 3 * H)]
    assert "overdue" in states
    assert "stopped" not in states


RECHECK = {"sbp": 150, "dbp": 90, "heart_rate": 76, "spo2": 98}


def _held(org, patient, t0):
    s = checked_in(
        org, patient, t0, protocol="iv-racemic", vitals={"sbp": 205, "dbp": 100, "heart_rate": 80, "spo2": 98}
    )
    assert s.status == "held"
    return s


def test_recheck_in_the_same_minute_as_the_reading_is_refused(org, patient, site, t0):
    s = _held(org, patient, t0)
    last_second = t0.replace(second=59, microsecond=999999)
    with pytest.raises(ValidationError, match="re-check in the same minute") as exc:
        services.recheck(org.nurse, s, vitals=RECHECK, at=last_second)
    assert "at" in exc.value.message_dict
    assert Reading.objects.filter(session=s).count() == 1


def test_recheck_in_the_next_minute_is_accepted(org, patient, site, t0):
    s = _held(org, patient, t0)
    services.recheck(org.nurse, s, vitals=RECHECK, at=t0.replace(second=0, microsecond=0) + M)
    assert Reading.objects.filter(session=s).count() == 2
