"""The one future-time rule every app applies to recorded times.

Expected values are written out (a recorded time may lead the server clock by at most 5 minutes, the
design tolerance in ``kairos.core.time``), never computed from ``FUTURE_SLACK`` itself: a changed slack
must fail here. The clock is frozen so the boundary is exact.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kairos.core.time import check_not_future, is_future

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize(
    "when",
    [
        NOW,
        dt.datetime(2026, 3, 2, 9, 4, 59, tzinfo=dt.UTC),  # 4:59 ahead
        dt.datetime(2026, 3, 2, 9, 5, 0, tzinfo=dt.UTC),  # exactly 5:00 ahead: still accepted
        dt.datetime(2026, 3, 2, 10, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # same instant, +01:00
    ],
)
def test_a_time_within_the_slack_is_accepted(frozen, when):
    assert not is_future(when)
    check_not_future(when, "measured_at")


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2026, 3, 2, 9, 5, 1, tzinfo=dt.UTC),  # 5:01 ahead
        dt.datetime(2026, 3, 2, 9, 5, 0, 1, tzinfo=dt.UTC),  # 5 min and 1 µs ahead
        dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC),  # a day ahead
    ],
)
def test_a_time_beyond_the_slack_is_refused_naming_the_field(frozen, when):
    assert is_future(when)
    with pytest.raises(ValidationError) as exc:
        check_not_future(when, "measured_at")
    assert exc.value.message_dict == {"measured_at": ["measured_at cannot be in the future"]}
