"""Two starts of the same appointment racing (#11 §1): one session, both callers get it (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kairos.courses.models import Appointment
from kairos.dosing import services
from kairos.dosing.models import DosingSession
from kairos.dosing.tests.test_start_from_appointment import _appointment


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_racing_starts_make_one_session(org, patient):
    appt = _appointment(org, patient)
    barrier = threading.Barrier(2)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def start(user) -> None:
        try:
            mine = Appointment.objects.select_related("course", "patient").get(pk=appt.pk)
            barrier.wait(timeout=10)
            session, created = services.start_session_from_appointment(user, mine)
            results.append((session.pk, created))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(u,)) for u in (org.nurse, org.prescriber)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert DosingSession.objects.filter(appointment=appt).count() == 1
    only = DosingSession.objects.get(appointment=appt).pk
    assert sorted(results) == [(only, False), (only, True)]
