"""Malformed times and subject references answer 4xx naming the field and save nothing (found by fuzzing:
year 1 with a +14:00 offset was a 500, times before birth and non-ASCII/newline ids were accepted)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kairos.measures.models import QuestionnaireResponse
from kairos.measures.tests.test_api import _cirg_gad7, _post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00+14:00", "0001-01-01T00:00-14:00", "0001-01-01T00:00", "1900-01-01T00:00"],
)
def test_clinician_entry_before_birth_or_out_of_range_is_refused(org, patient, client_for, value):
    url = reverse("measures:enter", args=[patient.pk, "moaas"])
    resp = client_for(org.prescriber).post(url, {"administered_at": value, "moaas-1": "3"})
    assert resp.status_code == 400
    assert b"administered_at" in resp.content and b"date of birth" in resp.content
    assert not QuestionnaireResponse.objects.exists()


def test_clinician_entry_on_a_valid_time_still_saves(org, patient, client_for):
    url = reverse("measures:enter", args=[patient.pk, "moaas"])
    resp = client_for(org.prescriber).post(url, {"administered_at": "2020-06-01T10:00", "moaas-1": "3"})
    assert resp.status_code == 302
    assert QuestionnaireResponse.objects.filter(patient=patient, instrument_id="moaas").count() == 1


@pytest.mark.parametrize("instrument", ["moaas", "hamd17", "cssrs_screener"])
def test_clinician_entry_with_no_item_answered_is_refused(org, patient, client_for, instrument):
    url = reverse("measures:enter", args=[patient.pk, instrument])
    resp = client_for(org.prescriber).post(url, {"administered_at": "2020-06-01T10:00"})
    assert resp.status_code == 400
    assert b"answers: no item of" in resp.content and b"nothing was saved" in resp.content
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize(
    ("authored", "fragment"),
    [
        ("0001-01-01T00:00:00+14:00", "date of birth"),
        ("1800-01-01T00:00:00Z", "date of birth"),
        ([], "not an ISO 8601"),
        ({"a": 1}, "not an ISO 8601"),
        (12, "not an ISO 8601"),
    ],
)
def test_fhir_authored_malformed_or_before_birth_is_422(org, patient, api_client_for, authored, fragment):
    resp = _post(api_client_for(org.prescriber), _cirg_gad7(patient) | {"authored": authored})
    assert resp.status_code == 422, resp.content
    [detail] = resp.json()["detail"]
    assert detail["loc"][-1] == "authored" and fragment in detail["msg"]
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize("ref", ["Patient/{pk}\n", "Patient/\u0661", " Patient/{pk}", "Patient/" + "9" * 40])
def test_fhir_subject_must_be_plain_ascii_id(org, patient, api_client_for, ref):
    body = _cirg_gad7(patient) | {"subject": {"reference": ref.format(pk=patient.pk)}}
    resp = _post(api_client_for(org.prescriber), body)
    assert resp.status_code == 422, resp.content
    assert resp.json()["detail"][0]["loc"][-1] == "subject"
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize("suffix", ["x", ":x", "", "\u00e9"])
def test_tampered_link_reveals_nothing(org, patient, make_link, suffix):
    _, token = make_link(patient)
    bad = token[:-1] + suffix if suffix else token.split(":")[0]
    c = Client()
    for resp in (c.get(f"/q/{bad}/"), c.post(f"/q/{bad}/", {"phq9-1": "1"})):
        assert resp.status_code == 404
        body = resp.content.decode()
        for secret in (patient.given_name, patient.family_name, patient.mrn, org.north.name):
            assert secret not in body
    assert not QuestionnaireResponse.objects.exists()
