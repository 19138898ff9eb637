"""Issue #11 §4: chart integrity on the day (service level, SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.dosing import selectors

from .conftest import checked_in

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


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
