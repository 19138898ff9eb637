from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kairos.audit.models import AuditEvent
from kairos.clinical.safety.eligibility import PatientFacts, assess_eligibility
from kairos.core.append_only import AppendOnlyError
from kairos.intake import domain, selectors, services
from kairos.intake.models import CodedObservation, EligibilityDecision

pytestmark = pytest.mark.django_db


# --- pure rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trials", "expected"),
    [
        ([], False),
        ([("a", True, "no_response")], False),
        ([("a", True, "no_response"), ("b", True, "partial_response")], True),
        ([("a", True, "no_response"), ("b", False, "no_response")], False),  # inadequate trial does not count
        (
            [("a", True, "no_response"), ("b", True, "intolerance")],
            False,
        ),  # intolerance is not a failed trial
        ([("a", True, "no_response"), ("b", True, "response")], False),
    ],
)
def test_trd_needs_two_adequate_failed_trials(trials, expected):
    assert domain.is_treatment_resistant([domain.Trial(*t) for t in trials]) is expected


def test_trials_of_a_previous_episode_do_not_count():
    trials = [
        domain.Trial("a", True, "no_response", current_episode=False),
        domain.Trial("b", True, "no_response"),
    ]
    assert not domain.is_treatment_resistant(trials)


def test_diagnosis_table_matches_reference_7_4():
    # clinical.md §7.4 values, typed from the reference
    by_key = domain.DIAGNOSIS_BY_KEY
    assert by_key["mdd_single"].snomed == "370143000"
    assert by_key["ptsd"].snomed == "47505003"
    assert by_key["ptsd"].icd10 == "F43.10"
    assert by_key["gad"].snomed == "21897009"
    assert by_key["gad"].icd10 == "F41.1"
    assert by_key["mdd_suicidal_ideation"].icd10 == "R45.851"
    assert "⚠" in by_key["mdd_suicidal_ideation"].status
    assert all(d.source for d in domain.DIAGNOSES)


def test_vital_loinc_codes_match_reference_7_1():
    assert {v.key: v.loinc for v in domain.VITALS} == {
        "systolic": "8480-6",
        "diastolic": "8462-4",
        "heart_rate": "8867-4",
        "spo2": "59408-5",
        "resp_rate": "9279-1",
    }


# --- services ---------------------------------------------------------------------------------------------


def test_vitals_stored_as_coded_rows_with_author(org, patient):
    services.record_vitals(
        org.nurse,
        patient,
        {"systolic": "130", "diastolic": "85", "heart_rate": "72", "spo2": "97", "resp_rate": ""},
    )
    rows = {o.code: o for o in CodedObservation.objects.filter(patient=patient)}
    assert set(rows) == {"8480-6", "8462-4", "8867-4", "59408-5"}
    assert rows["8480-6"].unit == "mm[Hg]"
    assert rows["8480-6"].code_system == "http://loinc.org"
    assert rows["8480-6"].author == org.nurse


@pytest.mark.parametrize(("field", "value"), [("systolic", "900"), ("spo2", "101"), ("heart_rate", "abc")])
def test_implausible_vitals_refused_naming_the_field(org, patient, field, value):
    data = {"systolic": "120", "diastolic": "80", field: value}
    with pytest.raises(ValidationError) as exc:
        services.record_vitals(org.nurse, patient, data)
    assert field in exc.value.message_dict
    assert CodedObservation.objects.count() == 0


def test_eligibility_adapter_builds_facts_from_the_record(org, patient):
    services.add_diagnosis(org.nurse, patient, "mdd_recurrent")
    services.add_medicine(org.nurse, patient, name="Lorazepam 1 mg")
    services.save_history(
        org.nurse, patient, {"psychosis": True, "pregnant": False, "pregnancy_possible": True}
    )
    facts = selectors.patient_facts(patient)
    assert "psychosis" in facts.conditions
    assert "F33.9" in facts.conditions
    assert facts.pregnant is False
    expected = assess_eligibility(
        PatientFacts(
            age_years=facts.age_years,
            conditions=frozenset({"psychosis", "F33.9"}),
            medicines=("Lorazepam 1 mg",),
            pregnant=False,
        )
    )
    assert sorted(selectors.eligibility_result(patient).codes) == sorted(expected.codes)
    assert "interaction_cns_depressant" in selectors.eligibility_result(patient).codes


def test_sign_then_amend_creates_versions_and_locks(org, patient):
    services.save_history(org.nurse, patient, {"pregnant": False})
    first = services.sign_eligibility(org.prescriber, patient, decision="eligible", note="")
    first.note = "edited"
    with pytest.raises(AppendOnlyError):
        first.save()
    with pytest.raises(ValidationError) as exc:
        services.sign_eligibility(org.prescriber, patient, decision="not_eligible", note="")
    assert "amend_reason" in exc.value.message_dict
    # Issue #10: the one reason rule refuses an over-long reason (it used to be cut at 500 characters).
    with pytest.raises(ValidationError, match="at most 500"):
        services.sign_eligibility(
            org.prescriber, patient, decision="not_eligible", note="BP", amend_reason="a" * 501
        )
    with pytest.raises(ValidationError, match="at most 5000"):
        services.sign_eligibility(
            org.prescriber, patient, decision="not_eligible", note="n" * 5001, amend_reason="new BP readings"
        )
    second = services.sign_eligibility(
        org.prescriber, patient, decision="not_eligible", note="BP", amend_reason="new BP readings"
    )
    assert second.version == 2
    assert second.previous_version_id == first.pk
    assert AuditEvent.objects.filter(action="amend", object_id=str(second.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.sign_eligibility(org.nurse, patient, decision="eligible")


def test_hard_stop_forbids_an_eligible_decision(org, patient):
    services.save_history(org.nurse, patient, {"aneurysmal_vascular_disease": True})
    with pytest.raises(ValidationError) as exc:
        services.sign_eligibility(org.prescriber, patient, decision="eligible")
    assert "decision" in exc.value.message_dict
    assert EligibilityDecision.objects.count() == 0


def test_new_consent_version_reprompts(org, patient):
    v1 = services.publish_consent_document(
        org.admin, org.north, title="Consent", body="I consent to ketamine treatment."
    )
    assert selectors.intake_summary(patient).consent_needed
    with pytest.raises(ValidationError) as exc:
        services.accept_consent(org.nurse, patient, v1, typed_name="Someone Else")
    assert "typed_name" in exc.value.message_dict
    services.accept_consent(org.nurse, patient, v1, typed_name="pat  ient")  # case and spacing tolerant
    assert not selectors.intake_summary(patient).consent_needed
    v2 = services.publish_consent_document(
        org.admin, org.north, title="Consent", body="Revised: ketamine treatment and monitoring."
    )
    assert v2.version == 2
    assert selectors.intake_summary(patient).consent_needed
    with pytest.raises(ValidationError) as exc:  # an old version cannot be accepted any more
        services.accept_consent(org.nurse, patient, v1, typed_name="Pat Ient")
    assert "document" in exc.value.message_dict


def test_rems_enrolment_and_scoping(org, patient, south_patient):
    row = services.enrol_rems(org.nurse, patient, enrolled_on=dt.date(2025, 1, 2), confirmation_id="RP-77")
    assert row.confirmation_id == "RP-77"
    with pytest.raises(Http404):
        services.enrol_rems(org.nurse, south_patient, enrolled_on=dt.date(2025, 1, 2), confirmation_id="X")
    with pytest.raises(ValidationError) as exc:
        services.enrol_rems(org.nurse, patient, enrolled_on=dt.date(2999, 1, 1), confirmation_id="X")
    assert "enrolled_on" in exc.value.message_dict


# --- views ------------------------------------------------------------------------------------------------


def test_foreign_clinic_gets_404_and_bad_input_400_naming_field(org, patient, client_for):
    assert client_for(org.south_prescriber).get(f"/intake/patient/{patient.pk}/").status_code == 404
    r = client_for(org.nurse).post(
        f"/intake/patient/{patient.pk}/vitals/", {"systolic": "400", "diastolic": "80"}
    )
    assert r.status_code == 400
    assert b"systolic" in r.content
    r = client_for(org.frontdesk).get(f"/intake/patient/{patient.pk}/")
    assert r.status_code == 403  # front desk sees schedules, not notes


def test_eligibility_page_shows_findings_with_sources(org, patient, client_for):
    services.add_medicine(org.nurse, patient, name="tranylcypromine")
    r = client_for(org.prescriber).get(f"/intake/patient/{patient.pk}/eligibility/")
    assert r.status_code == 200
    body = r.content.decode()
    for f in selectors.eligibility_result(patient).findings:
        assert f.source in body
