"""AUDIT-C is screened at the patient's recorded sex (issue #12 §5): >=4 men, >=3 women, unknown -> >=3."""

from __future__ import annotations

import pytest

from kairos.audit.models import AuditEvent
from kairos.measures.models import QuestionnaireResponse, Score
from kairos.measures.services import links, recording

pytestmark = pytest.mark.django_db
TOTAL_3 = {"1": 2, "2": 1, "3": 0}


def _patient(org, mrn, sex):
    import datetime as dt

    from kairos.patients.models import Patient

    return Patient.objects.create(
        clinic=org.north,
        mrn=mrn,
        given_name="A",
        family_name="B",
        date_of_birth=dt.date(1980, 1, 2),
        sex=sex,
    )


def test_female_patient_audit_c_of_3_is_positive(org, patient):
    assert patient.sex == "female"
    rec = recording.enter_clinician_response(org.prescriber, patient, "audit_c", TOTAL_3)
    s = Score.objects.get(response=rec.response)
    assert (s.total, s.severity) == (3, "positive screen")
    assert "lower_cutoff_used" not in [f["code"] for f in s.flags]
    event = AuditEvent.objects.filter(patient=patient, summary__startswith="AUDIT-C recorded").get()
    assert event.new["severity"] == "positive screen"


@pytest.mark.parametrize(
    ("sex", "severity", "flagged"),
    [
        ("male", "negative screen", False),
        ("unknown", "positive screen", True),
        ("other", "positive screen", True),
    ],
)
def test_audit_c_of_3_by_recorded_sex(org, sex, severity, flagged):
    p = _patient(org, f"AC-{sex}", sex)
    rec = recording.enter_clinician_response(org.prescriber, p, "audit_c", TOTAL_3)
    s = Score.objects.get(response=rec.response)
    assert (s.total, s.severity) == (3, severity)
    assert ("lower_cutoff_used" in [f["code"] for f in s.flags]) is flagged


def test_link_submission_is_scored_with_the_patients_sex(org):
    """A link's answers are scored before the patient is at hand; the stored score uses the recorded sex."""
    p = _patient(org, "AC-link", "male")
    _, token = links.create_link(org.frontdesk, p, ["audit_c"])
    links.submit_link(token, {"audit_c": TOTAL_3})
    s = Score.objects.get(response=QuestionnaireResponse.objects.get(patient=p))
    assert (s.total, s.severity) == (3, "negative screen")
    assert s.detail["flags"] == []
