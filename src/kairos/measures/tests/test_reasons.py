"""Free-text reasons in measures go through the one reason rule (kairos.core.reasons, issue #10): stripped,
refused with the allowed range when empty or too long, never truncated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kairos.measures.models import MeasureAlert, MeasurementDue
from kairos.measures.services import alert_review, plans
from kairos.measures.tests.conftest import phq9_post

pytestmark = pytest.mark.django_db


def _alert(patient, make_link) -> MeasureAlert:
    from django.test import Client
    from django.urls import reverse

    _, token = make_link(patient)
    Client().post(reverse("measures:patient_form", args=[token]), phq9_post([0, 0, 0, 0, 0, 0, 0, 0, 2]))
    return MeasureAlert.objects.get()


@pytest.mark.parametrize("action", ["", "   ", "x" * (alert_review.ACTION_MAX_LENGTH + 1)])
def test_acknowledgement_outside_the_range_is_refused_and_nothing_saved(patient, make_link, org, action):
    alert = _alert(patient, make_link)
    with pytest.raises(ValidationError, match=r"action: at least 1 character, at most 2000"):
        alert_review.acknowledge_alert(org.prescriber, alert.pk, action)
    alert.refresh_from_db()
    assert alert.open and alert.action == ""


def test_acknowledgement_at_the_limit_is_kept_whole_and_stripped(patient, make_link, org):
    alert = _alert(patient, make_link)
    text = "y" * alert_review.ACTION_MAX_LENGTH
    alert_review.acknowledge_alert(org.prescriber, alert.pk, f"  {text}  ")
    alert.refresh_from_db()
    assert alert.action == text


def _safety_due(patient) -> MeasurementDue:
    now = timezone.now()
    return MeasurementDue.objects.create(
        patient=patient,
        instrument_id="liver_tests",
        kind="safety",
        due_at=now,
        window_start=now,
        window_end=now + dt.timedelta(days=14),
    )


def test_safety_check_note_too_long_is_refused_not_truncated(patient, org):
    due = _safety_due(patient)
    with pytest.raises(ValidationError, match=r"note: at least 1 character, at most 300 \(got 301\)"):
        plans.complete_safety_check(org.prescriber, due.pk, "n" * 301)
    due.refresh_from_db()
    assert due.completed_note == "" and due.completed_at is None
    plans.complete_safety_check(org.prescriber, due.pk, "  ALT normal  ")
    due.refresh_from_db()
    assert due.completed_note == "ALT normal"
