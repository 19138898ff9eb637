from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kairos.courses import services
from kairos.courses.models import Appointment, Chair, Course
from kairos.intake import services as intake_services
from kairos.intake.models import AntidepressantTrial, CodedObservation

pytestmark = pytest.mark.django_db


def _history(org, patient, chair, n: int) -> None:
    """n past courses with appointments, n trials and n vitals rows for the patient."""
    start = timezone.now() - dt.timedelta(days=3 * n + 10)
    courses = Course.objects.bulk_create(
        [
            Course(
                clinic=org.north,
                patient=patient,
                protocol_id="iv-racemic",
                start_date=start.date(),
                created_by=org.prescriber,
            )
            for _ in range(max(1, n // 10))
        ]
    )
    Appointment.objects.bulk_create(
        [
            Appointment(
                course=courses[i % len(courses)],
                patient=patient,
                clinic=org.north,
                kind="dosing",
                number=i + 1,
                starts_at=start + dt.timedelta(hours=3 * i),
                ends_at=start + dt.timedelta(hours=3 * i + 2),
                chair=chair,
                status="completed",
            )
            for i in range(n)
        ]
    )
    AntidepressantTrial.objects.bulk_create(
        [
            AntidepressantTrial(
                patient=patient,
                drug=f"d{i}",
                dose_mg=10,
                weeks=8,
                adequate=True,
                outcome="no_response",
                recorded_by=org.nurse,
            )
            for i in range(n)
        ]
    )
    CodedObservation.objects.bulk_create(
        [
            CodedObservation(
                patient=patient,
                code_system="http://loinc.org",
                code="8867-4",
                display="HR",
                value=70,
                unit="/min",
                effective_at=start + dt.timedelta(minutes=i),
                author=org.nurse,
            )
            for i in range(n)
        ]
    )


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200, r.content[:500]
    return len(ctx.captured_queries)


def test_chart_sections_constant_queries(org, patient, chairs, client_for):
    from kairos.patients.models import Patient

    other = Patient.objects.create(
        clinic=org.north,
        mrn="T-0999",
        given_name="Big",
        family_name="History",
        date_of_birth=dt.date(1980, 1, 1),
    )
    _history(org, patient, chairs[0], 10)
    _history(org, other, chairs[1], 1000)
    intake_services.publish_consent_document(
        org.admin, org.north, title="C", body="I consent to the treatment plan."
    )
    c = client_for(org.prescriber)
    small = _count(c, f"/patients/{patient.pk}/")
    large = _count(c, f"/patients/{other.pk}/")
    assert small == large
    body = c.get(f"/patients/{other.pk}/").content.decode()
    assert "consent needed" in body
    assert "Treatment courses" in body


def test_board_constant_queries_and_states(org, patient, client_for):
    from kairos.patients.models import Patient

    tz = org.north.tz
    today = timezone.localdate(timezone=tz)
    chairs = Chair.objects.bulk_create([Chair(clinic=org.north, name=f"C{i:04d}") for i in range(20)])

    def fill(n: int) -> None:
        Appointment.objects.all().delete()
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    clinic=org.north,
                    mrn=f"B-{n}-{i}",
                    given_name="B",
                    family_name=str(i),
                    date_of_birth=dt.date(1980, 1, 1),
                )
                for i in range(n)
            ]
        )
        base = dt.datetime.combine(today, dt.time(7), tzinfo=tz)
        Appointment.objects.bulk_create(
            [
                Appointment(
                    patient=p,
                    clinic=org.north,
                    kind="dosing",
                    starts_at=base + dt.timedelta(minutes=(i // 20) % 700),
                    ends_at=base + dt.timedelta(minutes=(i // 20) % 700 + 1),
                    chair=chairs[i % 20],
                )
                for i, p in enumerate(patients)
            ]
        )

    c = client_for(org.frontdesk)
    fill(10)
    c.get("/board/partial/")  # first view of the day writes the (throttled) audit event
    small = _count(c, "/board/partial/")
    fill(1000)
    large = _count(c, "/board/partial/")
    assert small == large
    r = c.get("/board/")
    assert b'hx-trigger="every 10s"' in r.content
    assert b'data-state="expected"' in r.content


def test_board_foreign_clinic_param_is_404(org, client_for):
    assert client_for(org.frontdesk).get(f"/board/?clinic={org.south.pk}").status_code == 404
    assert client_for(org.frontdesk).get("/board/?day=not-a-date").status_code == 400
    assert client_for(org.researcher).get("/board/").status_code == 403


def test_plan_page_preview_then_book(org, patient, chairs, next_monday, client_for):
    c = client_for(org.prescriber)
    url = f"/courses/patient/{patient.pk}/plan/"
    r = c.post(
        url, {"protocol_id": "esketamine-trd", "start_date": next_monday.isoformat(), "action": "preview"}
    )
    assert r.status_code == 200
    assert b"session_1" in r.content
    r = c.post(
        url,
        {
            "protocol_id": "esketamine-trd",
            "start_date": next_monday.isoformat(),
            "action": "book",
            "session_2": (next_monday + dt.timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 400
    assert b"min_interval_days" in r.content
    assert Course.objects.count() == 0
    r = c.post(url, {"protocol_id": "nope", "start_date": next_monday.isoformat()})
    assert r.status_code == 400
    assert b"protocol_id" in r.content
    r = c.post(
        url, {"protocol_id": "esketamine-trd", "start_date": next_monday.isoformat(), "action": "book"}
    )
    assert r.status_code == 302
    course = Course.objects.get()
    assert course.appointments.count() == 16


def test_api_lists_and_details_courses(org, patient, chairs, next_monday, api_client_for):
    course = services.create_course(org.prescriber, patient, protocol_id="iv-racemic", start_date=next_monday)
    r = api_client_for(org.frontdesk).get(f"/api/v1/courses?patient={patient.pk}&status=planned")
    assert r.status_code == 200
    assert r.json()["count"] == 1 and [c["id"] for c in r.json()["results"]] == [course.pk]
    r = api_client_for(org.frontdesk).get(f"/api/v1/courses/{course.pk}")
    assert r.status_code == 200
    assert len(r.json()["appointments"]) == course.appointments.count()
    assert api_client_for(org.south_prescriber).get(f"/api/v1/courses/{course.pk}").status_code == 404
    assert api_client_for(org.south_prescriber).get("/api/v1/courses").json() == {"count": 0, "results": []}
    assert api_client_for(org.researcher).get("/api/v1/courses").status_code == 403
    r = api_client_for(org.frontdesk).get("/api/v1/courses?status=bogus")
    assert r.status_code == 422
    assert "status" in r.content.decode()
