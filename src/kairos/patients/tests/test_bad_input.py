"""NUL characters (refused by PostgreSQL in text: a 500 there) never reach the database."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kairos.audit.models import AuditEvent
from kairos.patients.models import Patient
from kairos.patients.selectors import search_patients

pytestmark = pytest.mark.django_db

NEW = {"mrn": "A-1", "given_name": "Ann", "family_name": "Bee", "date_of_birth": "1980-01-01"}


@pytest.mark.parametrize("field", ["given_name", "family_name", "email", "phone"])
def test_api_create_refuses_nul_naming_the_field(org, api_client_for, field):
    body = NEW | {field: "a\x00b" if field != "email" else "a\x00@b.org"}
    resp = api_client_for(org.prescriber).post(
        "/api/v1/patients", json.dumps(body), content_type="application/json"
    )
    assert resp.status_code == 422, resp.content
    assert resp.json()["detail"][0]["loc"][-1] == field
    assert not Patient.objects.filter(mrn="A-1").exists()


def test_search_ignores_nul_in_query(org, patient, client_for, api_client_for):
    assert [p.pk for p in search_patients(org.prescriber, "Ie\x00nt")] == [patient.pk]
    assert client_for(org.prescriber).get(reverse("patients:list"), {"q": "\x00"}).status_code == 200
    resp = api_client_for(org.prescriber).get("/api/v1/patients", {"q": "\x00"})
    assert resp.status_code == 200 and resp.json()["count"] == 1


@pytest.mark.parametrize("value", ["abc", "NaN", "inf", "1e309", "9" * 400, "-1", "", "0", "500.0", "2.05"])
def test_weight_bad_values_are_400_and_save_nothing(org, patient, client_for, value):
    resp = client_for(org.nurse).post(reverse("patients:weight_add", args=[patient.pk]), {"weight_kg": value})
    assert resp.status_code == 400
    assert b"weight_kg" in resp.content or b"Weight" in resp.content
    assert not patient.weights.exists()


def test_chart_read_is_audited_exactly_once(org, patient, client_for):
    before = AuditEvent.objects.filter(patient=patient, action="read").count()
    assert client_for(org.prescriber).get(reverse("patients:chart", args=[patient.pk])).status_code == 200
    assert AuditEvent.objects.filter(patient=patient, action="read").count() == before + 1
