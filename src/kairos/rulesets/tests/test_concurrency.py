"""Two prescribers sign the same param at the same moment (PostgreSQL; SQLite serialises writers).

The first signer pauses inside its transaction right after reading the current version; the second starts
then. With the clinic row lock the second waits and signs the next version; without it both would read
version 0 and one would fail on the unique constraint.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from kairos.rulesets import services
from kairos.rulesets.models import RuleOverride

WHY = "Concurrent signing test: both reasons long enough"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("expected", [None, 0])
def test_concurrent_signings_never_fork_the_version_chain(org, expected, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); run with DATABASE_URL=postgres://…")
    from kairos.accounts.models import Membership

    second = type(org.prescriber).objects.create_user("prescriber2", "p2@test.invalid", "pw-for-tests-1")
    Membership.objects.create(user=second, clinic=org.north, role="prescriber")
    first_has_read = threading.Event()
    read = services.effective_param

    def slow_first_read(*args, **kwargs):
        result = read(*args, **kwargs)
        if threading.current_thread().name == "first":
            first_has_read.set()
            time.sleep(0.5)  # still inside the first signer's transaction
        return result

    monkeypatch.setattr(services, "effective_param", slow_first_read)
    results: dict[str, str] = {}

    def sign(user, value):
        name = threading.current_thread().name
        try:
            if name == "second":
                assert first_has_read.wait(5)
            row = services.set_override(
                user, org.north.pk, "safety", "spo2.alarm_below", value, WHY, expected_version=expected
            )
            results[name] = f"v{row.version}"
        except services.StaleVersion:
            results[name] = "stale"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=sign, args=(org.prescriber, 90), name="first"),
        threading.Thread(target=sign, args=(second, 88), name="second"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = list(RuleOverride.objects.order_by("version"))
    if expected is None:  # no version given: both are signed, one after the other
        assert results == {"first": "v1", "second": "v2"}
        assert [r.version for r in rows] == [1, 2]
        assert rows[1].previous_id == rows[0].pk
    else:  # both saw version 0: the second is refused as stale, never silently replacing the first
        assert results == {"first": "v1", "second": "stale"}
        assert [r.version for r in rows] == [1]
