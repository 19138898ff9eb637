from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kairos.courses.models import Chair, ClinicCalendar


@pytest.fixture
def chairs(org):
    ClinicCalendar.objects.create(
        clinic=org.north, open_weekdays=[0, 1, 2, 3, 4], opens_at=dt.time(8), closes_at=dt.time(18)
    )
    return [Chair.objects.create(clinic=org.north, name=f"Chair {i}") for i in (1, 2)]


@pytest.fixture
def next_monday(org):
    today = timezone.localdate(timezone=org.north.tz)
    return today + dt.timedelta(days=7 - today.weekday())
