"""Two nurses charting the same session at the same moment never lose each other's readings."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kairos.audit.models import AuditEvent
from kairos.dosing import services
from kairos.dosing.models import DosingSession, Reading
from kairos.dosing.services import checkin

from .conftest import checked_in


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_readings_are_all_kept(org, patient, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    before = Reading.objects.filter(session=s).count()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def chart(user, sbp: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(5):
                services.add_reading(
                    user,
                    s,
                    taken_at=t0 + dt.timedelta(minutes=10 + i),
                    vitals={"sbp": sbp + i, "dbp": 80, "spo2": 97},
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=chart, args=(org.nurse, 130)),
        threading.Thread(target=chart, args=(org.prescriber, 150)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    rows = Reading.objects.filter(session=s, taken_at__gt=t0)
    assert Reading.objects.filter(session=s).count() == before + 10
    assert {r.sbp for r in rows} == {130, 131, 132, 133, 134, 150, 151, 152, 153, 154}


def _cancel_events(session_pk: int) -> int:
    return AuditEvent.objects.filter(
        object_type="dosing.dosingsession", object_id=str(session_pk), summary="session cancelled"
    ).count()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_one_wins(org, patient, t0, monkeypatch):
    """Optimistic lock under a real race: two clinicians, each in their own thread, connection and
    transaction, cancel the same session version at the same moment. One wins; the other is refused with
    the version conflict (not merged, not cancelled twice). The lock is held a moment after the version is
    read so that, without the row lock, both would read the same version and both would pass."""
    s = services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=t0)
    v = s.version
    real_lock = checkin._lock

    def slow_lock(session: DosingSession, version: int | None) -> DosingSession:
        fresh = real_lock(session, version)
        time.sleep(0.3)  # keep the row (and the version just checked) while the other clinician arrives
        return fresh

    monkeypatch.setattr(checkin, "_lock", slow_lock)
    barrier = threading.Barrier(2)
    won: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def cancel(user, reason: str) -> None:
        try:
            mine = DosingSession.objects.get(pk=s.pk)  # each clinician's own copy, at version v
            barrier.wait(timeout=10)
            services.cancel_session(user, mine, reason=reason, version=v)
            won.append(user.username)
        except ValidationError as exc:
            refused.append(" ".join(exc.messages))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=cancel, args=(org.nurse, "patient unwell this morning")),
        threading.Thread(target=cancel, args=(org.prescriber, "duplicate booking removed")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(won) == 1, (won, refused)
    assert len(refused) == 1 and "changed by someone else" in refused[0], refused
    s.refresh_from_db()
    assert s.status == "cancelled" and s.version == v + 1
    assert _cancel_events(s.pk) == 1


@pytest.mark.django_db
def test_sequential_transitions_second_refused(org, patient, t0):
    """The same conflict without threads (both engines): the second clinician's stale version is refused."""
    s = services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=t0)
    v = s.version
    other = DosingSession.objects.get(pk=s.pk)
    services.cancel_session(org.nurse, s, reason="patient unwell this morning", version=v)
    with pytest.raises(ValidationError, match="changed by someone else"):
        services.cancel_session(org.prescriber, other, reason="duplicate booking removed", version=v)
    other.refresh_from_db()
    assert other.status == "cancelled" and other.cancel_reason == "patient unwell this morning"
    assert _cancel_events(s.pk) == 1
