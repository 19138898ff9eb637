"""Every PHI read audited (issue #9 §3): the flowsheet partial, polled partials throttled, the auditor's
own searches and exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kairos.audit.models import Action, AuditEvent
from kairos.audit.reads import record_read

pytestmark = pytest.mark.django_db

VITALS = {"sbp": "124", "dbp": "78", "heart_rate": "72", "spo2": "98", "resp_rate": "14"}


def _reads(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.READ, **filters).order_by("id"))


def _session(org: Any, patient: Any) -> Any:
    from kairos.dosing import services

    return services.create_session(
        org.nurse,
        patient,
        protocol_id="iv-racemic",
        scheduled_for=timezone.now() - dt.timedelta(hours=1),
        responsible=org.prescriber,
    )


def _today_appointment(org: Any, patient: Any) -> Any:
    from kairos.courses.models import Appointment, Course

    north = org.north
    today = timezone.localdate(timezone=north.tz)
    course = Course.objects.create(
        clinic=north, patient=patient, protocol_id="iv-racemic", start_date=today, created_by=org.prescriber
    )
    start = dt.datetime.combine(today, dt.time(12), tzinfo=north.tz)
    return Appointment.objects.create(
        course=course,
        patient=patient,
        clinic=north,
        kind="dosing",
        number=1,
        phase="induction",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=100),
    )


def test_flowsheet_partial_is_an_audited_read_naming_the_patient(org, patient, client_for):
    session = _session(org, patient)
    before = AuditEvent.objects.filter(action=Action.READ).count()
    r = client_for(org.nurse).get(reverse("dosing:flowsheet", kwargs={"session_id": session.pk}))
    assert r.status_code == 200
    rows = _reads()[before:]
    assert len(rows) == 1
    row = rows[0]
    assert (row.patient_id, row.actor_id, row.object_type, row.object_id) == (
        patient.pk,
        org.nurse.pk,
        "dosing.dosingsession",
        str(session.pk),
    )
    assert row.chain == f"clinic-{org.north.pk}"
    assert "flowsheet" in row.summary


def test_forty_board_polls_write_one_read_and_a_poll_after_the_window_another(
    org, patient, client_for, settings
):
    settings.KAIROS_AUDIT_READ_THROTTLE_MINUTES = 15
    _today_appointment(org, patient)
    c = client_for(org.nurse)
    url = reverse("courses:board_partial")
    for _ in range(40):
        assert c.get(url, headers={"HX-Request": "true"}).status_code == 200
    board_reads = _reads(object_type="courses.board", actor=org.nurse)
    assert len(board_reads) == 1, [e.summary for e in board_reads]
    assert board_reads[0].clinic_id == org.north.pk and "1 appointments" in board_reads[0].summary
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16), tick=True):
        c = client_for(
            org.nurse
        )  # a real browser's polls keep the session alive; the test client's idled out
        assert c.get(url).status_code == 200
        assert c.get(url).status_code == 200
    assert len(_reads(object_type="courses.board", actor=org.nurse)) == 2
    # another user polling the same board is recorded for themselves
    client_for(org.prescriber).get(url)
    assert len(_reads(object_type="courses.board", actor=org.prescriber)) == 1


def test_the_board_page_itself_is_recorded_every_time(org, patient, client_for):
    """Throttling is for the poll only: opening the page is a deliberate read."""
    _today_appointment(org, patient)
    c = client_for(org.nurse)
    for _ in range(3):
        assert c.get(reverse("courses:board")).status_code == 200
    assert len(_reads(object_type="courses.board", actor=org.nurse)) == 3
    c.get(reverse("courses:board_partial"))  # the poll right after the page: already recorded
    assert len(_reads(object_type="courses.board", actor=org.nurse)) == 3


def _alert(org: Any, patient: Any) -> None:
    from kairos.measures.services import links

    _, token = links.create_link(org.prescriber, patient, ["phq9"])
    links.submit_link(token, {"phq9": {str(i): (1 if i == 9 else 0) for i in range(1, 10)}})


def test_forty_alert_board_polls_write_one_read_and_a_poll_after_the_window_another(
    org, patient, client_for, settings
):
    settings.KAIROS_AUDIT_READ_THROTTLE_MINUTES = 15
    _alert(org, patient)
    c = client_for(org.nurse)
    url = reverse("measures:alerts")
    for _ in range(40):
        assert c.get(url, headers={"HX-Request": "true"}).status_code == 200
    rows = _reads(object_type="measures.alert_board", actor=org.nurse)
    assert len(rows) == 1
    assert rows[0].object_id == str(org.north.pk) and "(1 shown)" in rows[0].summary
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16), tick=True):
        c = client_for(org.nurse)  # the session idled out in the test client
        assert c.get(url, headers={"HX-Request": "true"}).status_code == 200
    assert len(_reads(object_type="measures.alert_board", actor=org.nurse)) == 2


def test_throttle_window_is_the_setting(org, patient, settings):
    settings.KAIROS_AUDIT_READ_THROTTLE_MINUTES = 1
    now = timezone.now()
    first = record_read(org.nurse, patient=patient, obj=patient, summary="x", throttle=True)
    assert first is not None
    assert record_read(org.nurse, patient=patient, obj=patient, summary="x", throttle=True, now=now) is None
    later = now + dt.timedelta(minutes=2)
    assert record_read(org.nurse, patient=patient, obj=patient, summary="x", throttle=True, now=later)
    # unthrottled reads are always written
    assert record_read(org.nurse, patient=patient, obj=patient, summary="x") is not None


def test_auditor_search_is_audited_with_filters_and_page(org, patient, client_for):
    c = client_for(org.auditor)
    r = c.get(reverse("audit:list"), {"actor": "nurse", "action": "read"})
    assert r.status_code == 200
    rows = _reads(object_type="audit.search", actor=org.auditor)
    assert len(rows) == 1
    assert rows[0].clinic_id == org.north.pk
    assert rows[0].new["filters"] == {"actor": "nurse", "action": "read"}
    assert rows[0].new["page"] == 1
    c.get(reverse("audit:list"), {"actor": "nurse", "action": "read", "page": "2"})
    assert len(_reads(object_type="audit.search", actor=org.auditor)) == 2


def test_audit_export_records_its_filters(org, client_for):
    r = client_for(org.auditor).get(reverse("audit:export"), {"actor": "nurse"})
    assert r.status_code == 200
    b"".join(r.streaming_content)  # type: ignore[attr-defined]
    export = AuditEvent.objects.get(action=Action.EXPORT, actor=org.auditor)
    assert export.new == {"filters": {"actor": "nurse"}}


@pytest.mark.parametrize(
    "route",
    ["patients:edit", "courses:plan", "measures:send_link"],
)
def test_patient_pages_without_read_patient_are_audited(route, org, patient, client_for):
    user = org.frontdesk if route != "courses:plan" else org.prescriber
    r = client_for(user).get(reverse(route, kwargs={"patient_id": patient.pk}))
    assert r.status_code == 200
    assert [e.patient_id for e in _reads(actor=user)] == [patient.pk]
