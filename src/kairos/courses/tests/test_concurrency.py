"""Two concurrent bookings of the same chair: exactly one wins (PostgreSQL; SQLite serialises writers)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from kairos.courses import services
from kairos.courses.models import Appointment


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_booking_one_wins(org, patient, chairs, next_monday):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); run with DATABASE_URL=postgres://…")
    from django.core.exceptions import ValidationError
    from django.db import connections

    from kairos.patients.models import Patient

    other = Patient.objects.create(
        clinic=org.north, mrn="T-0100", given_name="O", family_name="P", date_of_birth=dt.date(1990, 1, 1)
    )
    start = dt.datetime.combine(next_monday, dt.time(10), tzinfo=org.north.tz)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def book(p):
        try:
            barrier.wait()
            services.book_appointment(
                org.nurse, p, kind="dosing", starts_at=start, minutes=60, chair=chairs[0]
            )
            results.append("ok")
        except ValidationError as exc:
            results.append("refused:" + ",".join(exc.message_dict))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(p,)) for p in (patient, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == "ok"
    assert sorted(results)[1].startswith("refused")
    assert Appointment.objects.filter(chair=chairs[0], status="booked").count() == 1
