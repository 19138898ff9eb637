"""Two nurses charting the same session at the same moment never lose each other's readings."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from kairos.dosing import services
from kairos.dosing.models import Reading

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


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_one_wins(org, patient, t0):
    """Optimistic lock: two clinicians acting on the same version — the second is refused, not merged."""
    from django.core.exceptions import ValidationError

    s = services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=t0)
    v = s.version
    services.cancel_session(org.nurse, s, reason="patient unwell this morning", version=v)
    with pytest.raises(ValidationError, match="changed by someone else"):
        services.cancel_session(org.prescriber, s, reason="duplicate booking removed", version=v)
