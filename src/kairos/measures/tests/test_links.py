"""Secure questionnaire links: lifecycle, identical refusal, single use, crisis resources, e-mail, QR."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kairos.measures.models import MeasureAlert, QuestionnaireLink, QuestionnaireResponse, Score
from kairos.measures.services import clinic_config, housekeeping, links
from kairos.measures.tests.conftest import phq9_post

pytestmark = pytest.mark.django_db


def _url(token):
    return reverse("measures:patient_form", args=[token])


def _refusal_body(resp):
    return resp.content.decode()


def test_form_is_accessible_markup(patient, make_link):
    _, token = make_link(patient)
    resp = Client().get(_url(token))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert '<html lang="en">' in html
    assert html.count("<fieldset") == 10 and html.count("<legend>") == 10  # one per PHQ-9 item
    assert 'type="radio"' in html and 'for="phq9_1_0"' in html and 'id="phq9_1_0"' in html
    assert "Little interest or pleasure in doing things" in html
    assert "style=" not in html and "<script>" not in html  # strict CSP
    assert patient.family_name not in html  # the page shows no identifiers


def test_complete_stores_response_score_and_marks_used(patient, make_link):
    link, token = make_link(patient)
    resp = Client().post(_url(token), phq9_post([1, 2, 1, 0, 3, 1, 0, 2, 0]))
    assert resp.status_code == 200 and "Thank you" in resp.content.decode()
    r = QuestionnaireResponse.objects.get(link=link)
    assert r.answers == {str(i): v for i, v in zip(range(1, 10), [1, 2, 1, 0, 3, 1, 0, 2, 0], strict=True)}
    s = Score.objects.get(response=r)
    assert s.total == 10 and s.severity == "moderate" and s.scorer_version
    link.refresh_from_db()
    assert link.used_at is not None
    assert not MeasureAlert.objects.exists()
    assert "Help is available right now" not in resp.content.decode()


def test_missing_answers_show_error_summary_and_store_nothing(patient, make_link):
    _, token = make_link(patient)
    data = phq9_post([1, 2, 1, 0, 3, 1, 0, 2, 0])
    del data["phq9-9"], data["phq9-4"]
    resp = Client().post(_url(token), data)
    html = resp.content.decode()
    assert resp.status_code == 400
    assert 'id="error-summary"' in html and 'role="alert"' in html
    assert 'href="#phq9_9_0"' in html and 'href="#phq9_4_0"' in html
    assert 'aria-invalid="true"' in html
    assert "<title>Error:" in html
    assert not QuestionnaireResponse.objects.exists()
    assert 'value="3" checked' in html  # given answers kept


def test_used_expired_tampered_get_the_same_refusal(patient, make_link):
    c = Client()
    used, used_token = make_link(patient)
    assert c.post(_url(used_token), phq9_post([0] * 9)).status_code == 200
    expired, expired_token = make_link(patient)
    QuestionnaireLink.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    _, good = make_link(patient)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    revoked, revoked_token = make_link(patient)
    QuestionnaireLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    pages = []
    for token in (used_token, expired_token, tampered, revoked_token, "nonsense"):
        for method in ("get", "post"):
            resp = getattr(c, method)(_url(token), phq9_post([3] * 9) if method == "post" else None)
            pages.append((resp.status_code, _refusal_body(resp).replace(token, "")))
    assert {p[0] for p in pages} == {404}
    assert len({p[1] for p in pages}) == 1  # byte-identical pages
    assert "This link cannot be used" in pages[0][1]
    assert QuestionnaireResponse.objects.count() == 1  # only the first, valid submission


def test_second_submit_is_refused_and_stores_nothing_more(patient, make_link):
    _, token = make_link(patient)
    c = Client()
    assert c.post(_url(token), phq9_post([0] * 9)).status_code == 200
    assert c.post(_url(token), phq9_post([3] * 9)).status_code == 404
    with pytest.raises(links.LinkUnavailable):
        links.submit_link(token, {"phq9": dict.fromkeys(map(str, range(1, 10)), 3)})
    assert QuestionnaireResponse.objects.count() == 1 and Score.objects.get().total == 0


def test_item9_positive_shows_crisis_resources_immediately(patient, make_link, org):
    from kairos.measures.models import ClinicCrisisResources

    ClinicCrisisResources.objects.create(clinic=org.north, text="Call the North crisis line: 555-0100.")
    _, token = make_link(patient)
    resp = Client().post(_url(token), phq9_post([0, 0, 0, 0, 0, 0, 0, 0, 1]))
    html = resp.content.decode()
    assert "Help is available right now" in html and "555-0100" in html
    assert MeasureAlert.objects.filter(code="phq9_item9").count() == 1


def test_default_crisis_text_is_flagged_for_clinic_review(org):
    c = clinic_config.crisis_resources(org.north.pk)
    assert "988" in c.text and "999" in c.text and "111" in c.text
    assert c.needs_review


def test_patient_sees_only_their_own_bundle(patient, south_patient, make_link, org):
    _, token = links.create_link(org.south_prescriber, south_patient, ["gad7"])
    html = Client().get(_url(token)).content.decode()
    assert "gad7-1" in html and "phq9-1" not in html
    assert "South" in html and "North" not in html


def test_link_refuses_clinician_rated_instruments(patient, org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="clinician-rated"):
        links.create_link(org.frontdesk, patient, ["madrs"])
    with pytest.raises(ValidationError, match="unknown instrument"):
        links.create_link(org.frontdesk, patient, ["bdi2"])


def test_send_link_page_emails_and_shows_qr(
    patient, org, client_for, mailbox, django_capture_on_commit_callbacks
):
    c = client_for(org.frontdesk)
    assert c.get(reverse("measures:send_link", args=[patient.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        resp = c.post(
            reverse("measures:send_link", args=[patient.pk]),
            {"instruments": ["phq9", "gad7"], "send_email": "1", "email": "pat@example.invalid"},
        )
    html = resp.content.decode()
    assert resp.status_code == 200 and 'src="data:image/svg+xml' in html
    link = QuestionnaireLink.objects.get()
    assert link.instruments == ["phq9", "gad7"] and link.sent_to == "pat@example.invalid"
    # the task was enqueued on commit; run it as the worker would
    from kairos.measures.tasks import send_link_email

    assert send_link_email.call(link.pk, "https://kairos.test")
    assert len(mailbox) == 1 and "https://kairos.test/q/" in mailbox[0].body
    token = mailbox[0].body.split("/q/")[1].split("/")[0]
    assert Client().get(_url(token)).status_code == 200


def test_tick_sends_one_reminder_before_expiry_and_expires_due(patient, org, mailbox):
    from kairos.measures.models import DueState, MeasurementDue

    now = timezone.now()
    due = MeasurementDue.objects.create(
        patient=patient,
        instrument_id="phq9",
        kind="pre_dose",
        due_at=now + dt.timedelta(days=2),
        window_start=now - dt.timedelta(days=1),
        window_end=now + dt.timedelta(days=2),
    )
    link, _ = links.create_link(org.frontdesk, patient, ["phq9"], email="pat@example.invalid", valid_hours=10)
    due.refresh_from_db()
    assert due.state == DueState.SENT
    assert housekeeping.tick(now).reminders == 1  # 10 h left < 24 h reminder lead
    assert housekeeping.tick(now).reminders == 0  # idempotent
    assert len(mailbox) == 1 and "reminder" in mailbox[0].subject.lower()
    result = housekeeping.tick(now + dt.timedelta(hours=11))
    due.refresh_from_db()
    assert result.expired == 1 and due.state == DueState.EXPIRED
    housekeeping.tick(now + dt.timedelta(days=3))
    due.refresh_from_db()
    assert due.state == DueState.MISSED


def test_measures_tick_command(capsys, db):
    from django.core.management import call_command

    call_command("measures_tick")
    assert "alerts notified 0" in capsys.readouterr().out


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_store_exactly_one(patient, org):
    _, token = links.create_link(org.frontdesk, patient, ["phq9"])
    answers = {"phq9": dict.fromkeys(map(str, range(1, 10)), 1)}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        try:
            barrier.wait()
            links.submit_link(token, answers)
            outcomes.append("stored")
        except links.LinkUnavailable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert QuestionnaireResponse.objects.count() == 1
