"""The one future-time rule every app applies to recorded times."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kairos.core.time import FUTURE_SLACK, check_not_future, is_future


def test_a_time_within_the_slack_is_accepted():
    check_not_future(timezone.now() + FUTURE_SLACK - dt.timedelta(seconds=30), "measured_at")
    assert not is_future(timezone.now())


def test_a_time_beyond_the_slack_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as exc:
        check_not_future(timezone.now() + FUTURE_SLACK + dt.timedelta(seconds=30), "measured_at")
    assert exc.value.message_dict == {"measured_at": ["measured_at cannot be in the future"]}
