"""FHIR QuestionnaireResponse import and the score list API."""

from __future__ import annotations

import json

import pytest

from kairos.audit.models import AuditEvent
from kairos.clinical.fhir_import import parse_questionnaire_response_xml
from kairos.measures.models import MeasureAlert, QuestionnaireResponse
from refdata import reference_file

pytestmark = pytest.mark.django_db
URL = "/api/v1/fhir/QuestionnaireResponse"


def _post(client, resource):
    return client.post(URL, data=json.dumps(resource), content_type="application/fhir+json")


def _qicore(patient):
    xml = reference_file("questionnaires/hl7-qicore/QuestionnaireResponse-PHQ-9-example.xml").read_text(
        "utf-8"
    )
    d = parse_questionnaire_response_xml(xml)
    d["subject"] = {"reference": f"Patient/{patient.pk}"}
    return d


def _cirg_gad7(patient, pick=2):
    q = json.loads(
        reference_file("questionnaires/uwcirg-asbi-screening-app/Questionnaire-CIRG-GAD7.json").read_text(
            "utf-8"
        )
    )
    items = []
    for it in q["item"]:
        if it.get("type") == "choice" and it.get("answerOption"):
            coding = dict(it["answerOption"][pick]["valueCoding"])
            coding.pop("extension", None)
            items.append({"linkId": it["linkId"], "answer": [{"valueCoding": coding}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient.pk}"},
        "item": items,
    }


def test_qicore_phq9_recomputed_with_mismatch_warning_and_alert(patient, org, api_client_for):
    resp = _post(api_client_for(org.prescriber), _qicore(patient))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["instrument"] == "phq9" and body["total"] == 10 and body["severity"] == "moderate"
    assert any("13" in w and "10" in w for w in body["warnings"])  # stored total disagrees
    assert [a["code"] for a in body["alerts"]] == ["phq9_item9"]
    r = QuestionnaireResponse.objects.get(pk=body["id"])
    assert r.source == "fhir" and r.fhir_resource["resourceType"] == "QuestionnaireResponse"
    assert MeasureAlert.objects.filter(response=r, code="phq9_item9").exists()


def test_cirg_gad7_variant_code(patient, org, api_client_for):
    body = _post(api_client_for(org.nurse), _cirg_gad7(patient)).json()
    assert body["instrument"] == "gad7" and body["total"] == 14 and body["severity"] == "moderate"
    assert any("LA18938-3" in w for w in body["warnings"])


def test_other_clinics_patient_is_404_and_nothing_stored(south_patient, org, api_client_for):
    assert _post(api_client_for(org.prescriber), _qicore(south_patient)).status_code == 404
    assert _post(api_client_for(org.far_prescriber), _qicore(south_patient)).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(resourceType="Observation"), "resourceType"),
        (lambda d: d.pop("subject"), "subject"),
        (lambda d: d.update(subject={"reference": "Group/1"}), "subject"),
        (lambda d: d.update(item=[{"linkId": "/99999-9", "answer": [{"valueInteger": 1}]}]), "resource"),
        (
            lambda d: d["item"][0].update(answer=[{"valueCoding": {"system": "http://x", "code": "zz"}}]),
            "resource",
        ),
        (lambda d: d.update(authored="yesterday"), "authored"),
    ],
)
def test_invalid_or_unmappable_is_422_naming_the_problem(patient, org, api_client_for, mutate, field):
    d = _cirg_gad7(patient)
    mutate(d)
    resp = _post(api_client_for(org.prescriber), d)
    assert resp.status_code == 422, resp.content
    assert resp.json()["detail"][0]["loc"] == ["body", field]
    assert not QuestionnaireResponse.objects.exists()


def test_not_json_is_422(org, api_client_for):
    resp = api_client_for(org.prescriber).post(URL, data="{not json", content_type="application/json")
    assert resp.status_code == 422 and "JSON" in resp.json()["detail"][0]["msg"]


def test_roles_without_entry_get_403(patient, org, api_client_for):
    assert _post(api_client_for(org.frontdesk), _qicore(patient)).status_code == 403
    assert _post(api_client_for(org.auditor), _qicore(patient)).status_code == 403


def test_scores_list_is_an_audited_read(patient, org, api_client_for):
    _post(api_client_for(org.prescriber), _qicore(patient))
    _post(api_client_for(org.prescriber), _cirg_gad7(patient))
    before = AuditEvent.objects.filter(action="read", object_type="measures.score").count()
    resp = api_client_for(org.auditor).get(f"/api/v1/patients/{patient.pk}/scores")
    assert resp.status_code == 200
    rows = resp.json()
    assert {(r["instrument"], r["total"], r["source"]) for r in rows} == {
        ("phq9", 10, "fhir"),
        ("gad7", 14, "fhir"),
    }
    assert all({"time", "severity", "flags"} <= r.keys() for r in rows)
    assert AuditEvent.objects.filter(action="read", object_type="measures.score").count() == before + 1
    assert (
        api_client_for(org.south_prescriber).get(f"/api/v1/patients/{patient.pk}/scores").status_code == 404
    )
    assert api_client_for(org.frontdesk).get(f"/api/v1/patients/{patient.pk}/scores").status_code == 403
