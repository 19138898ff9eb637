"""Intake reads and the eligibility adapter (DB → :class:`kairos.clinical.safety.eligibility.PatientFacts`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils import timezone

from kairos.clinical.safety.eligibility import (
    ConditionFlag,
    DrugClass,
    Medicine,
    PatientFacts,
    assess_eligibility,
)
from kairos.clinical.safety.result import RuleResult
from kairos.intake import domain
from kairos.intake.models import (
    AntidepressantTrial,
    CodedObservation,
    ConsentAcceptance,
    ConsentDocument,
    CurrentMedicine,
    Diagnosis,
    EligibilityDecision,
    RelevantHistory,
    RemsEnrolment,
)

_HISTORY_FLAGS = {
    "uncontrolled_hypertension": ConditionFlag.UNCONTROLLED_HYPERTENSION,
    "aneurysmal_vascular_disease": ConditionFlag.ANEURYSMAL_VASCULAR_DISEASE,
    "arteriovenous_malformation": ConditionFlag.ARTERIOVENOUS_MALFORMATION,
    "intracerebral_haemorrhage": ConditionFlag.INTRACEREBRAL_HAEMORRHAGE,
    "psychosis": ConditionFlag.PSYCHOSIS,
    "substance_use_disorder": ConditionFlag.SUBSTANCE_USE_DISORDER,
}


def patient_facts(patient: Any) -> PatientFacts:
    """Adapter: the patient's recorded intake as the clinical core's neutral facts."""
    history = RelevantHistory.objects.filter(patient=patient).first()
    conditions: set[str] = set(
        Diagnosis.objects.filter(patient=patient, active=True)
        .exclude(icd10="")
        .values_list("icd10", flat=True)
    )
    if history is not None:
        conditions |= {flag.value for f, flag in _HISTORY_FLAGS.items() if getattr(history, f)}
    meds = [
        Medicine(name, DrugClass(cls) if cls else None)
        for name, cls in CurrentMedicine.objects.filter(patient=patient, active=True).values_list(
            "name", "drug_class"
        )
    ]
    return PatientFacts(
        age_years=patient.age_on(timezone.localdate()),
        conditions=frozenset(conditions),
        medicines=tuple(meds),
        pregnant=history.pregnant if history else None,
        pregnancy_possible=history.pregnancy_possible if history else patient.sex != "male",
        breastfeeding=history.breastfeeding if history else False,
    )


def eligibility_result(patient: Any) -> RuleResult:
    return assess_eligibility(patient_facts(patient))


@dataclass
class IntakeSummary:
    diagnoses: list[Diagnosis]
    trials: list[AntidepressantTrial]
    failed_adequate: int
    treatment_resistant: bool
    medicines: list[CurrentMedicine]
    history: RelevantHistory | None
    vitals: list[CodedObservation]
    eligibility: EligibilityDecision | None
    consent_document: ConsentDocument | None
    consent: ConsentAcceptance | None
    consent_needed: bool
    rems: RemsEnrolment | None


def intake_summary(patient: Any, *, limit: int = 20) -> IntakeSummary:
    """The chart's intake block in a fixed number of queries, whatever the history size."""
    diagnoses = list(Diagnosis.objects.filter(patient=patient, active=True)[:limit])
    trial_rows = list(
        AntidepressantTrial.objects.filter(patient=patient, current_episode=True).values_list(
            "drug", "adequate", "outcome"
        )
    )
    trials = [domain.Trial(d, a, o) for d, a, o in trial_rows]
    trial_objs = list(AntidepressantTrial.objects.filter(patient=patient)[:limit])
    medicines = list(CurrentMedicine.objects.filter(patient=patient, active=True)[:limit])
    history = RelevantHistory.objects.filter(patient=patient).first()
    latest = CodedObservation.objects.filter(patient=patient).aggregate(t=Max("effective_at"))["t"]
    vitals = list(CodedObservation.objects.filter(patient=patient, effective_at=latest)) if latest else []
    eligibility = (
        EligibilityDecision.objects.filter(patient=patient)
        .select_related("signed_by")
        .order_by("-version")
        .first()
    )
    doc = ConsentDocument.objects.filter(clinic_id=patient.clinic_id).order_by("-version").first()
    consent = (
        ConsentAcceptance.objects.filter(patient=patient)
        .select_related("document")
        .order_by("-document__version")
        .first()
    )
    rems = RemsEnrolment.objects.filter(patient=patient).first()
    return IntakeSummary(
        diagnoses=diagnoses,
        trials=trial_objs,
        failed_adequate=domain.failed_adequate_trials(trials),
        treatment_resistant=domain.is_treatment_resistant(trials),
        medicines=medicines,
        history=history,
        vitals=vitals,
        eligibility=eligibility,
        consent_document=doc,
        consent=consent,
        consent_needed=doc is not None and (consent is None or consent.document_id != doc.pk),
        rems=rems,
    )


def medicine_flags(medicines: list[CurrentMedicine]) -> dict[int, list[str]]:
    """Interacting classes per medicine id, from the clinical core (no query)."""
    from kairos.clinical.safety.eligibility import medicine_classes

    return {
        m.pk: sorted(
            c.value
            for c in medicine_classes(Medicine(m.name, DrugClass(m.drug_class) if m.drug_class else None))
        )
        for m in medicines
    }


def rems_enrolled_at(patient: Any) -> dt.datetime | None:
    """When the patient was enrolled in the Spravato REMS: the first recorded enrolment's date, at midnight in
    the clinic's time zone; None if no enrolment is recorded. Not audited (callers read within a session)."""
    row = RemsEnrolment.objects.filter(patient=patient).order_by("pk").first()
    if row is None:
        return None
    return dt.datetime.combine(row.enrolled_on, dt.time(), tzinfo=patient.clinic.tz)
