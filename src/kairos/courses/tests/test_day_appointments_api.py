"""GET /api/v1/appointments?date=YYYY-MM-DD[&clinic=ID] (#11 §1): the clinic's local calendar day."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.utils import timezone

from kairos.courses.models import Appointment, Course


def _appt(org, patient, starts, **kw):
    course = Course.objects.create(
        clinic=patient.clinic,
        patient=patient,
        protocol_id="esketamine-trd",
        status="active",
        start_date=starts.date(),
        created_by=org.prescriber,
    )
    return Appointment.objects.create(
        course=course,
        patient=patient,
        clinic=patient.clinic,
        kind=kw.pop("kind", "dosing"),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        **kw,
    )


def test_local_day_boundaries_and_session_id(org, patient, api_client_for):
    tz = zoneinfo.ZoneInfo(org.north.time_zone)
    day = dt.date(2026, 7, 1)
    first = _appt(org, patient, dt.datetime(2026, 7, 1, 0, 0, tzinfo=tz))
    last = _appt(org, patient, dt.datetime(2026, 7, 1, 23, 59, tzinfo=tz), kind="integration")
    _appt(org, patient, dt.datetime(2026, 6, 30, 23, 59, tzinfo=tz))  # the day before, local
    _appt(org, patient, dt.datetime(2026, 7, 2, 0, 0, tzinfo=tz))  # the day after, local
    r = api_client_for(org.nurse).get(f"/api/v1/appointments?date={day:%Y-%m-%d}")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == [first.pk, last.pk]
    assert set(body["results"][0]) == {
        "id",
        "patient_id",
        "kind",
        "status",
        "starts_at",
        "chair",
        "session_id",
    }
    assert body["results"][0]["session_id"] is None
    assert body["results"][1]["kind"] == "integration"


def test_session_id_after_start(org, patient, api_client_for):
    appt = _appt(org, patient, timezone.now() - dt.timedelta(minutes=30))
    c = api_client_for(org.nurse)
    sid = c.post(
        "/api/v1/sessions", data=json.dumps({"appointment": appt.pk}), content_type="application/json"
    )
    day = (
        timezone.localdate(timezone=org.north.tz) if appt.starts_at.astimezone(org.north.tz).date() else None
    )
    day = appt.starts_at.astimezone(org.north.tz).date()
    r = c.get(f"/api/v1/appointments?date={day:%Y-%m-%d}&clinic={org.north.pk}")
    assert [a["session_id"] for a in r.json()["results"]] == [sid.json()["id"]]


def test_other_clinic_sees_nothing(org, patient, api_client_for):
    appt = _appt(org, patient, timezone.now() - dt.timedelta(minutes=30))
    day = appt.starts_at.astimezone(org.north.tz).date()
    r = api_client_for(org.south_prescriber).get(
        f"/api/v1/appointments?date={day:%Y-%m-%d}&clinic={org.north.pk}"
    )
    assert r.status_code == 200
    assert r.json() == {"count": 0, "results": []}


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "", "2026-02-30"])
def test_bad_date_422_names_date(org, api_client_for, bad):
    r = api_client_for(org.nurse).get(f"/api/v1/appointments?date={bad}")
    assert r.status_code == 422
    assert "date" in r.content.decode()


def test_missing_date_422(org, api_client_for):
    r = api_client_for(org.nurse).get("/api/v1/appointments")
    assert r.status_code == 422
    assert "date" in r.content.decode()
