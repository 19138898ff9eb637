"""/api/v1/patients: clinic scoping, audited reads, token handling."""

from __future__ import annotations

import pytest
from django.test import Client

from kairos.accounts.services import create_token, revoke_token
from kairos.audit.models import Action, AuditEvent
from kairos.patients.models import Patient

pytestmark = pytest.mark.django_db

LIST = "/api/v1/patients"


def _one(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}"


def _reads(patient: Patient) -> int:
    return AuditEvent.objects.filter(action=Action.READ, patient=patient).count()


def test_list_is_scoped_to_the_users_clinics(org, patient, south_patient, api_client_for):
    body = api_client_for(org.prescriber).get(LIST).json()
    assert [p["mrn"] for p in body["results"]] == [patient.mrn]
    assert body["count"] == 1
    south = api_client_for(org.south_prescriber).get(LIST).json()
    assert [p["mrn"] for p in south["results"]] == [south_patient.mrn]
    assert api_client_for(org.far_prescriber).get(LIST).json() == {"count": 0, "results": []}


def test_list_search_and_limit(org, patient, api_client_for):
    Patient.objects.create(
        clinic=org.north, mrn="T-0002", given_name="Other", family_name="Person", date_of_birth="1990-01-01"
    )
    c = api_client_for(org.nurse)
    assert [p["mrn"] for p in c.get(LIST, {"q": "ient"}).json()["results"]] == ["T-0001"]
    assert c.get(LIST, {"limit": 1}).json()["count"] == 1
    r = c.get(LIST, {"limit": 0})
    assert r.status_code == 422 and "limit" in r.content.decode()
    r = c.get(LIST, {"q": "x" * 101})
    assert r.status_code == 422 and '"q"' in r.content.decode()


def test_get_one_foreign_clinic_is_404_with_no_data(org, patient, api_client_for):
    for persona in (org.south_prescriber, org.far_prescriber, org.nobody):
        r = api_client_for(persona).get(_one(patient))
        assert r.status_code == 404
        assert r.json() == {"detail": "Not found"}
    assert _reads(patient) == 0


def test_get_one_same_clinic_without_chart_permission_is_403(org, patient, api_client_for):
    for persona in (org.frontdesk, org.researcher, org.admin):
        assert api_client_for(persona).get(_one(patient)).status_code == 403
    assert _reads(patient) == 0


def test_get_unknown_or_huge_id_is_404(org, api_client_for):
    c = api_client_for(org.prescriber)
    assert c.get("/api/v1/patients/999999").status_code == 404
    assert c.get(f"/api/v1/patients/{10**30}").status_code in (404, 422)
    assert c.get("/api/v1/patients/abc").status_code in (404, 422)


def test_each_get_of_a_record_is_audited_exactly_once(org, patient, api_client_for):
    c = api_client_for(org.prescriber)
    for n in (1, 2, 3):
        r = c.get(_one(patient))
        assert r.status_code == 200
        assert r.json()["mrn"] == patient.mrn
        assert _reads(patient) == n
    event = AuditEvent.objects.filter(action=Action.READ, patient=patient).first()
    assert event.actor == org.prescriber and event.clinic_id == org.north.pk
    assert event.object_type == "patients.patient" and event.object_id == str(patient.pk)


def test_create_registers_in_the_single_permitted_clinic_and_audits(org, api_client_for):
    body = {"mrn": "A-1", "given_name": "New", "family_name": "Person", "date_of_birth": "1991-02-03"}
    r = api_client_for(org.frontdesk).post(LIST, body, content_type="application/json")
    assert r.status_code == 201, r.content
    created = Patient.objects.get(mrn="A-1")
    assert created.clinic == org.north and created.sex == "unknown"
    assert r.json()["id"] == created.pk
    assert AuditEvent.objects.filter(action=Action.CREATE, patient=created).count() == 1
    dup = api_client_for(org.frontdesk).post(LIST, body, content_type="application/json")
    assert dup.status_code == 422 and "mrn" in dup.content.decode()
    assert Patient.objects.filter(mrn="A-1").count() == 1


def test_create_in_a_foreign_clinic_is_404(org, api_client_for):
    body = {
        "clinic_id": org.north.pk,
        "mrn": "A-2",
        "given_name": "N",
        "family_name": "P",
        "date_of_birth": "1991-02-03",
    }
    assert (
        api_client_for(org.far_prescriber).post(LIST, body, content_type="application/json").status_code
        == 404
    )
    assert (
        api_client_for(org.south_prescriber).post(LIST, body, content_type="application/json").status_code
        == 404
    )
    assert not Patient.objects.filter(mrn="A-2").exists()


def test_revoked_token_is_401(org, patient):
    token, raw = create_token(org.prescriber, "t")
    c = Client(headers={"Authorization": f"Bearer {raw}"})
    assert c.get(_one(patient)).status_code == 200
    revoke_token(org.prescriber, token.pk)
    r = c.get(_one(patient))
    assert r.status_code == 401
    assert "Bearer" in r.json()["detail"]


def test_inactive_users_token_is_401(org, patient):
    _, raw = create_token(org.prescriber, "t")
    org.prescriber.is_active = False
    org.prescriber.save()
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get(LIST).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer kairos_not-a-real-token",
        "Bearer ",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "bearer-kairos_x",
        "Bearer " + "kairos_" + "a" * 500,
        "Bearer kairos_\u00e9\u00e9",
        "Token kairos_abc",
    ],
)
def test_malformed_token_is_401(org, patient, header):
    before = AuditEvent.objects.count()
    r = Client(headers={"Authorization": header}).get(_one(patient))
    assert r.status_code == 401
    assert AuditEvent.objects.count() == before


def test_session_cookie_does_not_authenticate_the_api(org, patient, client_for):
    """The API takes bearer tokens only (no CSRF surface through the session)."""
    assert client_for(org.prescriber).get(_one(patient)).status_code == 401


def test_token_last_used_is_recorded(org, patient):
    token, raw = create_token(org.prescriber, "t")
    assert token.last_used_at is None
    Client(headers={"Authorization": f"Bearer {raw}"}).get(LIST)
    token.refresh_from_db()
    assert token.last_used_at is not None
