"""Scoring at submission, immutability, alert -> task -> board -> acknowledge, and that no alert is lost."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kairos.audit.models import AuditEvent
from kairos.core.append_only import AppendOnlyError
from kairos.measures.models import (
    ClinicalTask,
    MeasureAlert,
    QuestionnaireResponse,
    Score,
    TaskStatus,
)
from kairos.measures.services import alert_review, clinic_config, housekeeping, links
from kairos.measures.tests.conftest import phq9_post

pytestmark = pytest.mark.django_db
ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 2]


def _submit(patient, make_link, values=ITEM9, **kw):
    _, token = make_link(patient, **kw)
    return Client().post(reverse("measures:patient_form", args=[token]), phq9_post(values))


def test_score_recorded_with_scorer_version_and_is_immutable(patient, make_link):
    from kairos.clinical.instruments import SCORER_VERSION

    _submit(patient, make_link, [3, 3, 3, 3, 3, 3, 3, 3, 0])
    s = Score.objects.get()
    assert (s.total, s.severity, s.scorer_version) == (24, "severe", SCORER_VERSION)
    r = s.response
    r.answers["1"] = 0
    with pytest.raises(AppendOnlyError):
        r.save()
    s.total = 1
    with pytest.raises(AppendOnlyError):
        s.save()
    with pytest.raises(AppendOnlyError):
        r.delete()
    assert QuestionnaireResponse.objects.get().answers["1"] == 3 and Score.objects.get().total == 24


def test_low_total_does_not_suppress_item9_alert_task_goes_to_prescriber(
    patient, make_link, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _submit(patient, make_link)
    alert = MeasureAlert.objects.get()
    assert alert.code == "phq9_item9" and alert.urgency == "urgent" and alert.item == "9"
    assert Score.objects.get().total == 2  # low total, alert anyway
    task = ClinicalTask.objects.get(alert=alert)
    assert task.urgency == "urgent" and task.status == TaskStatus.OPEN
    assert list(task.assignees.all()) == [org.prescriber]  # the only prescriber at north
    assert len(callbacks) == 1  # notification enqueued on commit, not inline


def test_alert_board_shows_and_acknowledge_requires_action(patient, make_link, org, client_for):
    _submit(patient, make_link)
    alert = MeasureAlert.objects.get()
    nurse = client_for(org.nurse)
    html = nurse.get(reverse("measures:alerts")).content.decode()
    assert "phq9_item9" in html and patient.display_name in html and "Acknowledge" in html
    assert AuditEvent.objects.filter(object_type="measures.alert_board", actor=org.nurse).count() == 1
    # htmx partial for polling
    partial = nurse.get(reverse("measures:alerts"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "phq9_item9" in partial
    # a therapist sees the board but cannot acknowledge
    assert "Acknowledge" not in client_for(org.therapist).get(reverse("measures:alerts")).content.decode()
    assert (
        client_for(org.therapist)
        .post(reverse("measures:alert_ack", args=[alert.pk]), {"action": "x"})
        .status_code
        == 403
    )
    # front desk may not see it
    assert client_for(org.frontdesk).get(reverse("measures:alerts")).status_code == 403
    # an empty action is refused, the alert stays open
    nurse.post(reverse("measures:alert_ack", args=[alert.pk]), {"action": "  "})
    alert.refresh_from_db()
    assert alert.open
    nurse.post(
        reverse("measures:alert_ack", args=[alert.pk]),
        {"action": "Phoned patient; C-SSRS low risk; safety plan reviewed"},
    )
    alert.refresh_from_db()
    assert not alert.open and alert.acknowledged_by == org.nurse and "C-SSRS" in alert.action
    assert ClinicalTask.objects.get().status == TaskStatus.DONE
    assert "phq9_item9" not in nurse.get(reverse("measures:alerts")).content.decode()
    assert "phq9_item9" in nurse.get(reverse("measures:alerts") + "?all=1").content.decode()
    with pytest.raises(ValidationError, match="already acknowledged"):
        alert_review.acknowledge_alert(org.prescriber, alert.pk, "again")


def test_foreign_clinic_cannot_acknowledge(patient, make_link, org, client_for):
    _submit(patient, make_link)
    alert = MeasureAlert.objects.get()
    assert (
        client_for(org.south_prescriber)
        .post(reverse("measures:alert_ack", args=[alert.pk]), {"action": "x"})
        .status_code
        == 404
    )
    assert (
        "phq9_item9" not in client_for(org.south_prescriber).get(reverse("measures:alerts")).content.decode()
    )


def test_email_failure_keeps_alert_and_board(
    patient, make_link, org, client_for, monkeypatch, django_capture_on_commit_callbacks, mailbox
):
    from kairos.measures import tasks

    def boom(*a, **k):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(tasks, "send_mail", boom)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(patient, make_link)
    alert = MeasureAlert.objects.get()
    with pytest.raises(ConnectionRefusedError):
        tasks.notify_alert.call(alert.pk)  # what the worker runs
    alert.refresh_from_db()
    assert alert.notified_at is None and alert.notify_attempts == 1 and "SMTP down" in alert.notify_error
    assert "phq9_item9" in client_for(org.prescriber).get(reverse("measures:alerts")).content.decode()
    # the tick retries; once mail works, it is sent exactly once
    assert housekeeping.tick().notified == 0
    monkeypatch.undo()
    assert housekeeping.tick().notified == 1
    assert housekeeping.tick().notified == 0
    assert len(mailbox) == 1 and mailbox[0].to == ["prescriber@test.invalid"]
    assert patient.family_name not in mailbox[0].body  # no PHI in e-mail


def test_killed_worker_alert_survives_and_rerun_notifies_once(
    patient, make_link, org, django_capture_on_commit_callbacks, mailbox
):
    from django_tasks_db.models import DBTaskResult

    from kairos.measures import tasks

    with django_capture_on_commit_callbacks(execute=True):
        _submit(patient, make_link)
    job = DBTaskResult.objects.get(task_path__endswith="notify_alert")
    # The worker picked the job up and was killed: the row stays RUNNING, nothing was sent.
    DBTaskResult.objects.filter(pk=job.pk).update(status="RUNNING")
    alert = MeasureAlert.objects.get()
    assert alert.open and alert.notified_at is None
    assert len(mailbox) == 0
    out = housekeeping.tick()  # cron / the worker's periodic tick
    assert out.notified == 1 and len(mailbox) == 1
    alert.refresh_from_db()
    assert alert.notified_at is not None
    # if the original job is ever re-run, it does not notify twice
    assert tasks.notify_alert.call(alert.pk) is False
    assert len(mailbox) == 1


def test_alert_rows_are_written_with_the_response(patient, org, monkeypatch):
    """If creating the alert fails, the response is not stored either (one transaction)."""
    from kairos.measures import models

    def fail(*a, **k):
        raise RuntimeError("db error")

    monkeypatch.setattr(models.ClinicalTask.objects, "create", fail)
    _, token = links.create_link(org.frontdesk, patient, ["phq9"])
    with pytest.raises(RuntimeError):
        links.submit_link(token, {"phq9": {str(i): (2 if i == 9 else 0) for i in range(1, 10)}})
    assert not QuestionnaireResponse.objects.exists() and not MeasureAlert.objects.exists()
    assert links.resolve_link(token) is not None  # the link is still usable


def test_clinician_entry_cssrs_and_madrs_licence(patient, org, client_for):
    c = client_for(org.nurse)
    url = reverse("measures:enter", args=[patient.pk, "cssrs_screener"])
    assert c.get(url).status_code == 200
    resp = c.post(
        url,
        {
            "cssrs_screener-1": "1",
            "cssrs_screener-2": "1",
            "cssrs_screener-3": "0",
            "cssrs_screener-4": "1",
            "cssrs_screener-5": "0",
            "cssrs_screener-6": "0",
        },
    )
    assert resp.status_code == 302
    r = QuestionnaireResponse.objects.get(instrument_id="cssrs_screener")
    assert r.source == "clinician" and r.entered_by == org.nurse and r.score.severity == "high"
    assert MeasureAlert.objects.get(response=r).code == "cssrs_high"
    madrs = reverse("measures:enter", args=[patient.pk, "madrs"])
    data = {f"madrs-{i}": "2" for i in range(1, 11)}
    resp = c.post(madrs, data)
    assert resp.status_code == 400 and "licence" in resp.content.decode()
    assert not QuestionnaireResponse.objects.filter(instrument_id="madrs").exists()
    clinic_config.update_clinic_settings(org.admin, org.north.pk, licences=["madrs"])
    assert c.post(madrs, data).status_code == 302
    assert Score.objects.get(instrument_id="madrs").total == 20
    # therapists and front desk may not enter
    assert client_for(org.therapist).get(madrs).status_code == 403
    assert client_for(org.frontdesk).get(madrs).status_code == 403


def test_chart_section_lists_scores_and_is_an_audited_read(patient, make_link, org, client_for):
    _submit(patient, make_link, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    c = client_for(org.prescriber)
    before = AuditEvent.objects.filter(object_type="measures.score").count()
    html = c.get(
        reverse("measures:patient", args=[patient.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "PHQ-9" in html and ">8<" in html
    assert AuditEvent.objects.filter(object_type="measures.score").count() == before + 1
    chart = c.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert reverse("measures:patient", args=[patient.pk]) in chart
    assert (
        client_for(org.south_prescriber).get(reverse("measures:patient", args=[patient.pk])).status_code
        == 404
    )
