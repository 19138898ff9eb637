"""Failed sign-ins cannot grow the global audit chain without bound (issue #9 §3)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from kairos.audit.models import GLOBAL_CHAIN, Action, AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _fail(username: str, ip: str = "203.0.113.7") -> int:
    r = Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": "not-the-password"})
    return r.status_code


def _failed() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("id"))


def test_unknown_usernames_from_one_address_write_one_row_per_minute(org):
    for i in range(15):
        assert _fail(f"guess-{i}") == 200
    rows = _failed()
    assert len(rows) == 1
    assert rows[0].chain == GLOBAL_CHAIN and rows[0].actor_username == "guess-0"
    assert rows[0].ip == "203.0.113.7" and rows[0].object_id == ""
    # another address gets its own row
    assert _fail("guess-x", ip="198.51.100.9") == 200
    assert len(_failed()) == 2
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=True):
        assert _fail("guess-later") == 200
    rows = _failed()
    assert len(rows) == 3
    assert rows[-1].new == {"suppressed": 14}  # the first minute's 14 unrecorded guesses


def test_known_username_rows_are_capped_at_the_lockout_limit_per_minute(org):
    """Rotating addresses defeats axes' username+address lock-out, not the audit bound."""
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit + 7):
        _fail("prescriber", ip=f"192.0.2.{i + 1}")
    rows = _failed()
    assert len(rows) == limit
    assert {(e.actor_username, e.object_id) for e in rows} == {("prescriber", str(org.prescriber.pk))}
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=True):
        _fail("prescriber", ip="192.0.2.200")
    assert _failed()[-1].new == {"suppressed": 7}
