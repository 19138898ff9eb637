"""POST /api/v1/sessions {"appointment": ID} (#11 §1), SQLite."""

from __future__ import annotations

import json

import pytest

from kairos.audit.models import AuditEvent
from kairos.dosing.models import DosingSession
from kairos.dosing.tests.test_start_from_appointment import _appointment


def _post(client, body):
    return client.post("/api/v1/sessions", data=json.dumps(body), content_type="application/json")


def test_created_then_existing(org, patient, api_client_for):
    appt = _appointment(org, patient)
    c = api_client_for(org.nurse)
    r1 = _post(c, {"appointment": appt.pk})
    assert r1.status_code == 201
    body = r1.json()
    session = DosingSession.objects.get(appointment=appt)
    assert body["id"] == session.pk
    assert body["patient_id"] == patient.pk
    assert body["clinic_id"] == org.north.pk
    assert body["protocol_id"] == "esketamine-trd"
    assert body["drug"] == "esketamine"
    assert body["route"] == "intranasal"
    assert body["status"] == "expected"
    assert set(body) == {
        "id", "patient_id", "clinic_id", "protocol_id", "drug", "route", "status", "scheduled_for", "version"
    }  # fmt: skip
    assert AuditEvent.objects.filter(action="create", patient=patient).exists()
    r2 = _post(c, {"appointment": appt.pk})
    assert r2.status_code == 200
    assert r2.json() == body
    assert DosingSession.objects.count() == 1


def test_other_clinic_404(org, patient, api_client_for):
    appt = _appointment(org, patient)
    for who in (org.south_prescriber, org.far_prescriber):
        assert _post(api_client_for(who), {"appointment": appt.pk}).status_code == 404
    assert DosingSession.objects.count() == 0


def test_cancelled_409(org, patient, api_client_for):
    appt = _appointment(org, patient, status="cancelled")
    r = _post(api_client_for(org.nurse), {"appointment": appt.pk})
    assert r.status_code == 409
    assert r.json()["code"] == "cancelled"
    assert "cancelled" in r.json()["detail"]
    assert DosingSession.objects.count() == 0


def test_not_dosing_409(org, patient, api_client_for):
    appt = _appointment(org, patient, kind="integration")
    r = _post(api_client_for(org.prescriber), {"appointment": appt.pk})
    assert r.status_code == 409
    assert r.json()["code"] == "not_dosing"
    assert DosingSession.objects.count() == 0


def test_front_desk_403(org, patient, api_client_for):
    appt = _appointment(org, patient)
    assert _post(api_client_for(org.frontdesk), {"appointment": appt.pk}).status_code == 403
    assert DosingSession.objects.count() == 0


@pytest.mark.parametrize("bad", [0, -1, 2**63, "abc", None, 1.5, [], {}])
def test_bad_appointment_id_is_4xx_naming_field(org, patient, api_client_for, bad):
    r = _post(api_client_for(org.nurse), {"appointment": bad})
    assert 400 <= r.status_code < 500
    assert "appointment" in r.content.decode()
    assert DosingSession.objects.count() == 0


def test_unknown_appointment_404(org, patient, api_client_for):
    assert _post(api_client_for(org.nurse), {"appointment": 2**63 - 1}).status_code == 404


def test_missing_body_422(org, api_client_for):
    r = _post(api_client_for(org.nurse), {})
    assert r.status_code == 422
    assert "appointment" in r.content.decode()
