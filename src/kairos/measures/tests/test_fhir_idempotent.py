"""FHIR QuestionnaireResponse import through the API: idempotent repeats, mapping by canonical, and
code/ordinal disagreement (issue #12 §6)."""

from __future__ import annotations

import json
import threading

import pytest

from kairos.audit.models import AuditEvent
from kairos.measures.models import MeasureAlert, QuestionnaireResponse, Score
from kairos.measures.tests.test_api import URL, _post, _qicore

LOINC = "http://loinc.org"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
LA = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
GAD7_LOINC = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]


def _gad7(patient, values=(2, 2, 2, 2, 2, 2, 2), **extra):
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "http://loinc.org/q/69737-5",
        "subject": {"reference": f"Patient/{patient.pk}"},
        "authored": "2024-03-01T09:30:00Z",
        "item": [
            {"linkId": f"/{code}", "answer": [{"valueCoding": {"system": LOINC, "code": LA[v]}}]}
            for code, v in zip(GAD7_LOINC, values, strict=True)
        ],
        **extra,
    }


IDENT = {"system": "https://ehr.example.org/qr", "value": "qr-0001"}


@pytest.mark.django_db
class TestRepeats:
    def test_same_resource_twice_is_one_score_200_with_the_same_id(self, patient, org, api_client_for):
        client = api_client_for(org.prescriber)
        first = _post(client, _qicore(patient) | {"identifier": IDENT})
        assert first.status_code == 201, first.content
        again = _post(client, _qicore(patient) | {"identifier": IDENT})
        assert again.status_code == 200, again.content
        a, b = first.json(), again.json()
        assert b["id"] == a["id"]
        assert (b["total"], b["severity"], b["instrument"]) == (10, "moderate", "phq9")
        assert a["replayed"] is False and b["replayed"] is True
        assert [x["code"] for x in b["alerts"]] == ["phq9_item9"]
        assert any("already imported as response" in w and "identifier match" in w for w in b["warnings"])
        assert QuestionnaireResponse.objects.count() == 1
        assert Score.objects.count() == 1
        assert MeasureAlert.objects.count() == 1  # the item-9 alert is not raised twice
        replay_reads = AuditEvent.objects.filter(action="read", object_type="measures.questionnaireresponse")
        assert replay_reads.count() == 1 and "FHIR import repeated" in replay_reads.get().summary

    def test_identifier_less_duplicate_is_matched_by_content_hash(self, patient, org, api_client_for):
        client = api_client_for(org.nurse)
        first = _post(client, _gad7(patient))
        assert first.status_code == 201
        # the same content, keys in another order and display text added: still a repeat
        resent = _gad7(patient)
        resent["item"][0]["text"] = "Feeling nervous, anxious, or on edge"
        resent = dict(reversed(list(resent.items())))
        again = _post(client, resent)
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"] and again.json()["total"] == 14
        assert any("content match" in w for w in again.json()["warnings"])
        assert QuestionnaireResponse.objects.count() == 1

    def test_different_answers_or_time_without_identifier_are_new_responses(
        self, patient, org, api_client_for
    ):
        client = api_client_for(org.prescriber)
        assert _post(client, _gad7(patient)).status_code == 201
        other = _post(client, _gad7(patient, values=(2, 2, 2, 2, 2, 2, 3)))
        assert other.status_code == 201 and other.json()["total"] == 15
        later = _post(client, _gad7(patient) | {"authored": "2024-03-01T09:31:00Z"})
        assert later.status_code == 201
        assert QuestionnaireResponse.objects.count() == 3

    def test_reused_identifier_with_different_answers_is_409_and_nothing_stored(
        self, patient, org, api_client_for
    ):
        client = api_client_for(org.prescriber)
        first = _post(client, _gad7(patient, identifier=IDENT))
        assert first.status_code == 201
        changed = _post(client, _gad7(patient, values=(3, 3, 3, 3, 3, 3, 3), identifier=IDENT))
        assert changed.status_code == 409, changed.content
        [detail] = changed.json()["detail"]
        assert detail["loc"] == ["body", "identifier"]
        assert f"response {first.json()['id']}" in detail["msg"] and "new identifier" in detail["msg"]
        assert QuestionnaireResponse.objects.count() == 1

    def test_the_key_is_per_clinic(self, patient, south_patient, org, api_client_for):
        assert _post(api_client_for(org.prescriber), _gad7(patient, identifier=IDENT)).status_code == 201
        south = _post(api_client_for(org.south_prescriber), _gad7(south_patient, identifier=IDENT))
        assert south.status_code == 201
        assert QuestionnaireResponse.objects.count() == 2

    def test_a_repeat_by_a_role_without_entry_is_still_403(self, patient, org, api_client_for):
        assert _post(api_client_for(org.prescriber), _gad7(patient)).status_code == 201
        assert _post(api_client_for(org.frontdesk), _gad7(patient)).status_code == 403

    def test_a_repeat_of_another_clinics_resource_is_404(self, patient, org, api_client_for):
        assert _post(api_client_for(org.prescriber), _gad7(patient, identifier=IDENT)).status_code == 201
        assert _post(api_client_for(org.far_prescriber), _gad7(patient, identifier=IDENT)).status_code == 404


@pytest.mark.django_db
class TestMappingAndRefusals:
    def test_loinc_questionnaire_link_ids_map_by_canonical(self, patient, org, api_client_for):
        items = [
            {"linkId": str(14362 + n), "answer": [{"valueCoding": {"system": LOINC, "code": LA[1]}}]}
            for n in range(1, 10)
        ]
        body = {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "questionnaire": "http://loinc.org/q/44249-1",
            "subject": {"reference": f"Patient/{patient.pk}"},
            "item": items,
        }
        resp = _post(api_client_for(org.prescriber), body)
        assert resp.status_code == 201, resp.content
        assert resp.json()["instrument"] == "phq9" and resp.json()["total"] == 9
        assert [a["code"] for a in resp.json()["alerts"]] == ["phq9_item9"]

    def test_code_and_ordinal_disagreeing_is_422_naming_the_item(self, patient, org, api_client_for):
        body = _gad7(patient)
        body["item"][3]["answer"][0]["valueCoding"]["extension"] = [{"url": ORDINAL, "valueDecimal": 0}]
        resp = _post(api_client_for(org.prescriber), body)
        assert resp.status_code == 422, resp.content
        [detail] = resp.json()["detail"]
        assert detail["loc"] == ["body", "item"]
        assert (
            "item /69734-2" in detail["msg"]
            and "LA6570-1 means 2" in detail["msg"]
            and "says 0" in detail["msg"]
        )
        assert not QuestionnaireResponse.objects.exists()

    @pytest.mark.parametrize(
        ("mutate", "field", "fragment"),
        [
            (
                lambda d: d.update(questionnaire={"reference": "Questionnaire/x"}),
                "questionnaire",
                "canonical URL",
            ),
            (lambda d: d.update(identifier=[IDENT, IDENT]), "identifier", "expected one Identifier"),
            (lambda d: d.update(identifier="qr-0001"), "identifier", "Identifier object"),
            (lambda d: d.update(item={"linkId": "/69725-0"}), "resource", "item: expected a list"),
            (lambda d: d.update(status="in-progress"), "status", "cannot be scored"),
            (lambda d: d.update(item=[]), "item", "no answered items"),
            (
                lambda d: d.update(questionnaire="http://loinc.org/q/44249-1"),
                "questionnaire",
                "none of the response's scored items maps to a PHQ-9 item",
            ),
        ],
    )
    def test_bad_shapes_are_422_naming_the_field(self, patient, org, api_client_for, mutate, field, fragment):
        body = _gad7(patient)
        mutate(body)
        resp = _post(api_client_for(org.prescriber), body)
        assert resp.status_code == 422, resp.content
        [detail] = resp.json()["detail"]
        assert detail["loc"] == ["body", field] and fragment in detail["msg"]
        assert not QuestionnaireResponse.objects.exists()

    @pytest.mark.parametrize("raw", [b"[]", b"null", b'"x"', b"{", b"\xff"])
    def test_bodies_that_are_not_objects_are_422(self, org, api_client_for, raw):
        resp = api_client_for(org.prescriber).post(URL, data=raw, content_type="application/fhir+json")
        assert resp.status_code == 422
        assert resp.json()["detail"][0]["loc"] == ["body", "body"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_posts_that_both_miss_the_lookup_store_one(patient, org, api_client_for, monkeypatch):
    """Two requests posting the same resource, each told by its first look-up that nothing was imported
    (as when both look before either commits): the unique constraint per clinic and key lets one insert
    win and the other return the winner's response with 200. (Over HTTP the audit chain's row lock
    serialises the two requests of one clinic, so the insert of the second meets the committed first.)"""
    from django.db import connection, connections

    from kairos.measures.services import recording

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")
    original = recording._already_imported
    first_lookups: set[int] = set()

    def missing_first(actor, patient_, key):
        me = threading.get_ident()
        if me not in first_lookups:
            first_lookups.add(me)
            return None
        return original(actor, patient_, key)

    monkeypatch.setattr(recording, "_already_imported", missing_first)
    body = json.dumps(_gad7(patient, identifier=IDENT))
    clients = [api_client_for(org.prescriber) for _ in range(2)]
    results: list[tuple[int, dict]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=20)

    def post(client):
        try:
            start.wait()
            resp = client.post(URL, data=body, content_type="application/fhir+json")
            results.append((resp.status_code, resp.json()))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(code for code, _ in results) == [200, 201]
    assert len({r["id"] for _, r in results}) == 1
    assert QuestionnaireResponse.objects.count() == 1
    assert Score.objects.count() == 1
    assert MeasureAlert.objects.count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_service_imports_store_one(patient, org, monkeypatch):
    """The service itself, two threads: both look up (nothing there), then both insert at once; the second
    insert waits on the unique index, fails when the first commits, and returns the first's response."""
    from django.db import connection, connections

    from kairos.measures.services import recording

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")
    barrier = threading.Barrier(2, timeout=20)
    original = recording._already_imported
    seen: set[int] = set()

    def racing_lookup(actor, patient_, key):
        found = original(actor, patient_, key)
        if threading.get_ident() not in seen:  # the first look-up of each thread: wait for the other
            seen.add(threading.get_ident())
            barrier.wait()
        return found

    monkeypatch.setattr(recording, "_already_imported", racing_lookup)
    from kairos.measures.services.clinic_config import clinic_settings

    clinic_settings(patient.clinic_id)  # created now, so that neither thread waits on the other creating it
    resource = _gad7(patient)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def run():
        try:
            rec = recording.import_fhir(org.prescriber, patient, resource)
            results.append((rec.response.pk, rec.replayed))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(replayed for _, replayed in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert QuestionnaireResponse.objects.count() == 1


def test_import_key_fields_are_blank_for_other_sources():
    from kairos.measures.models import QuestionnaireResponse as QR

    assert QR._meta.get_field("import_key").default == ""
    names = {c.name for c in QR._meta.constraints}
    assert "qr_one_per_clinic_import_key" in names
