"""Intake writes: atomic, permission-checked, audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import changes, record
from kairos.clinical.safety.eligibility import DrugClass
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.reasons import require_reason
from kairos.core.time import check_not_future
from kairos.intake import domain
from kairos.intake.models import (
    AntidepressantTrial,
    CodedObservation,
    ConsentAcceptance,
    ConsentDocument,
    CurrentMedicine,
    Diagnosis,
    EligibilityDecision,
    EligibilityDecisionKind,
    RelevantHistory,
    RemsEnrolment,
    TrialOutcome,
)
from kairos.patients.models import Patient

TRIAL_MAX_WEEKS = 104  # entry bound (two years), not a clinical threshold
TRIAL_MAX_DOSE_MG = Decimal(5000)

NOTE_MAX = 5000  # characters of an eligibility note (the form's bound); longer is refused, never cut


def _dec(field: str, raw: Any, lo: Decimal, hi: Decimal, unit: str) -> Decimal:
    try:
        v = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{field} must be a number between {lo} and {hi} {unit}"}) from None
    if not v.is_finite() or not lo <= v <= hi:
        raise ValidationError({field: f"{field} must be between {lo} and {hi} {unit} (got {raw})"})
    return v


@transaction.atomic
def add_diagnosis(actor: Actor, patient: Patient, key: str) -> Diagnosis:
    policies.require(actor, Act.INTAKE_EDIT, patient.clinic_id)
    code = domain.DIAGNOSIS_BY_KEY.get(key)
    if code is None:
        raise ValidationError({"key": f"key must be one of {', '.join(domain.DIAGNOSIS_BY_KEY)}"})
    system, value = (domain.SNOMED, code.snomed) if code.snomed else (domain.ICD10CM, code.icd10)
    dx = Diagnosis.objects.create(
        patient=patient,
        key=key,
        code_system=system,
        code=value or "",
        display=code.display,
        icd10=code.icd10 or "",
        recorded_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=dx,
        new={"key": key, "code": dx.code, "icd10": dx.icd10},
        summary="diagnosis recorded",
    )
    return dx


@transaction.atomic
def add_trial(
    actor: Actor,
    patient: Patient,
    *,
    drug: str,
    dose_mg: Any,
    weeks: Any,
    adequate: bool,
    outcome: str,
    current_episode: bool = True,
) -> AntidepressantTrial:
    policies.require(actor, Act.INTAKE_EDIT, patient.clinic_id)
    drug = (drug or "").strip()
    if not 1 <= len(drug) <= 100:
        raise ValidationError({"drug": "drug: 1–100 characters"})
    dose = _dec("dose_mg", dose_mg, Decimal("0.01"), TRIAL_MAX_DOSE_MG, "mg")
    try:
        w = int(weeks)
    except (TypeError, ValueError):
        raise ValidationError(
            {"weeks": f"weeks must be a whole number between 1 and {TRIAL_MAX_WEEKS}"}
        ) from None
    if not 1 <= w <= TRIAL_MAX_WEEKS:
        raise ValidationError({"weeks": f"weeks must be between 1 and {TRIAL_MAX_WEEKS} (got {weeks})"})
    if outcome not in TrialOutcome.values:
        raise ValidationError({"outcome": f"outcome must be one of {', '.join(TrialOutcome.values)}"})
    trial = AntidepressantTrial.objects.create(
        patient=patient,
        drug=drug,
        dose_mg=dose,
        weeks=w,
        adequate=bool(adequate),
        outcome=outcome,
        current_episode=bool(current_episode),
        recorded_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=trial,
        new={"drug": drug, "dose_mg": dose, "weeks": w, "adequate": trial.adequate, "outcome": outcome},
        summary="antidepressant trial recorded",
    )
    return trial


@transaction.atomic
def add_medicine(actor: Actor, patient: Patient, *, name: str, drug_class: str = "") -> CurrentMedicine:
    policies.require(actor, Act.INTAKE_EDIT, patient.clinic_id)
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationError({"name": "name: 1–120 characters"})
    if drug_class and drug_class not in {c.value for c in DrugClass}:
        raise ValidationError(
            {"drug_class": f"drug_class must be empty or one of {', '.join(c.value for c in DrugClass)}"}
        )
    med = CurrentMedicine.objects.create(patient=patient, name=name, drug_class=drug_class, recorded_by=actor)
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=med,
        new={"name": name, "drug_class": drug_class},
        summary="current medicine recorded",
    )
    return med


@transaction.atomic
def stop_medicine(actor: Actor, medicine: CurrentMedicine) -> CurrentMedicine:
    policies.require(actor, Act.INTAKE_EDIT, medicine.patient.clinic_id)
    if medicine.active:
        medicine.active = False
        medicine.save(update_fields=["active"])
        record(
            Action.UPDATE,
            actor=actor,
            patient=medicine.patient,
            obj=medicine,
            old={"active": True},
            new={"active": False},
            summary="medicine stopped",
        )
    return medicine


@transaction.atomic
def save_history(actor: Actor, patient: Patient, data: dict[str, Any]) -> RelevantHistory:
    policies.require(actor, Act.INTAKE_EDIT, patient.clinic_id)
    row = RelevantHistory.objects.select_for_update().filter(patient=patient).first()
    before = row.snapshot() if row else {}
    if row is None:
        row = RelevantHistory(patient=patient, updated_by=actor)
    for f in RelevantHistory.FLAGS:
        if f in data:
            v = data[f]
            if f == "pregnant":
                if v not in (None, True, False):
                    raise ValidationError({"pregnant": "pregnant must be yes, no or not recorded"})
            setattr(row, f, v if f == "pregnant" else bool(v))
    old, new = changes(before, row.snapshot())
    if row.pk is not None and not new:
        return row
    row.updated_by, row.updated_at = actor, timezone.now()
    row.save()
    record(
        Action.UPDATE if before else Action.CREATE,
        actor=actor,
        patient=patient,
        obj=row,
        old=old or None,
        new=new,
        summary="relevant history changed",
    )
    return row


@transaction.atomic
def record_vitals(
    actor: Actor, patient: Patient, values: dict[str, Any], effective_at: dt.datetime | None = None
) -> list[CodedObservation]:
    """Baseline vitals as LOINC-coded observation rows (clinical.md §7.1). Missing keys are skipped."""
    policies.require(actor, Act.INTAKE_EDIT, patient.clinic_id)
    when = effective_at or timezone.now()
    if timezone.is_naive(when):
        raise ValidationError({"effective_at": "effective_at must carry a time zone"})
    check_not_future(when, "effective_at")
    rows: list[CodedObservation] = []
    errors: dict[str, str] = {}
    for key, raw in values.items():
        if raw in (None, ""):
            continue
        spec = domain.VITAL_BY_KEY.get(key)
        if spec is None:
            errors[key] = f"{key}: not a baseline vital ({', '.join(domain.VITAL_BY_KEY)})"
            continue
        try:
            v = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            errors[key] = f"{key}: must be a number between {spec.low} and {spec.high} {spec.unit}"
            continue
        if (msg := domain.check_vital(key, v)) is not None:
            errors[key] = msg
            continue
        rows.append(
            CodedObservation(
                patient=patient,
                code_system=domain.LOINC,
                code=spec.loinc,
                display=spec.display,
                value=v,
                unit=spec.unit,
                effective_at=when,
                author=actor,
            )
        )
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError({"systolic": "enter at least one vital sign"})
    if any(r.code == "8480-6" for r in rows) != any(r.code == "8462-4" for r in rows):
        raise ValidationError({"diastolic": "blood pressure needs both systolic and diastolic"})
    CodedObservation.objects.bulk_create(rows)
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        object_type="intake.codedobservation",
        new={r.code: r.value for r in rows},
        summary="baseline vitals recorded",
    )
    return rows


# --- eligibility ------------------------------------------------------------------------------------------


@transaction.atomic
def sign_eligibility(
    actor: Actor, patient: Patient, *, decision: str, note: str = "", amend_reason: str = ""
) -> EligibilityDecision:
    """Sign the eligibility decision against the current rule result. If a decision exists, this is an
    amendment: a new version pointing at the previous one, with a reason."""
    from kairos.intake import selectors

    policies.require(actor, Act.ELIGIBILITY_SIGN, patient.clinic_id)
    if decision not in EligibilityDecisionKind.values:
        raise ValidationError(
            {"decision": f"decision must be one of {', '.join(EligibilityDecisionKind.values)}"}
        )
    result = selectors.eligibility_result(patient)
    if result.outcome == "hard_stop" and decision != EligibilityDecisionKind.NOT_ELIGIBLE:
        raise ValidationError(
            {"decision": "a contraindication (hard stop) was found: the decision must be not_eligible"}
        )
    if decision == EligibilityDecisionKind.CAUTIONS and not note.strip():
        raise ValidationError({"note": "note is required when eligible with cautions"})
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    previous = EligibilityDecision.objects.filter(patient=patient).order_by("-version").first()
    if previous is not None or amend_reason.strip():
        amend_reason = require_reason(
            amend_reason,
            field="amend_reason",
            hint="a signed decision is changed only by an amendment with a reason",
        )
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"note: at most {NOTE_MAX} characters (got {len(note)})"})
    row = EligibilityDecision(
        patient=patient,
        version=(previous.version + 1) if previous else 1,
        decision=decision,
        note=note,
        rule_outcome=str(result.outcome),
        findings=[f.to_dict() for f in result.findings],
        signed_by=actor,
        previous_version=previous,
        amendment_reason=amend_reason,
    )
    row.save()
    record(
        Action.AMEND if previous else Action.SIGN,
        actor=actor,
        patient=patient,
        obj=row,
        new={"decision": decision, "version": row.version, "rule_outcome": row.rule_outcome},
        summary=f"eligibility {'amended' if previous else 'signed'}: {decision}",
        reason=amend_reason,
    )
    return row


# --- consent and REMS -------------------------------------------------------------------------------------


@transaction.atomic
def publish_consent_document(actor: Actor, clinic: Clinic, *, title: str, body: str) -> ConsentDocument:
    policies.require(actor, Act.CONSENT_MANAGE, clinic.pk)
    title, body = (title or "").strip(), (body or "").strip()
    if not 1 <= len(title) <= 200:
        raise ValidationError({"title": "title: 1–200 characters"})
    if len(body) < 20:
        raise ValidationError({"body": "body: at least 20 characters"})
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    latest = ConsentDocument.objects.filter(clinic=clinic).aggregate(v=Max("version"))["v"] or 0
    doc = ConsentDocument(clinic=clinic, version=latest + 1, title=title, body=body, created_by=actor)
    doc.save()
    record(
        Action.CREATE,
        actor=actor,
        clinic=clinic,
        obj=doc,
        new={"version": doc.version, "title": title},
        summary="consent document published",
    )
    return doc


@transaction.atomic
def accept_consent(
    actor: Actor, patient: Patient, document: ConsentDocument, *, typed_name: str
) -> ConsentAcceptance:
    policies.require(actor, Act.CONSENT_RECORD, patient.clinic_id)
    if document.clinic_id != patient.clinic_id:
        raise ValidationError({"document": "document belongs to another clinic"})
    latest = ConsentDocument.objects.filter(clinic_id=patient.clinic_id).order_by("-version").first()
    if latest is None or latest.pk != document.pk:
        raise ValidationError(
            {"document": "only the current version of the consent document can be accepted"}
        )
    typed = " ".join((typed_name or "").split())
    if typed.casefold() != patient.display_name.casefold():
        raise ValidationError(
            {
                "typed_name": f"typed_name must be the patient's full name as registered ({patient.display_name})"
            }
        )
    try:
        with transaction.atomic():
            acc = ConsentAcceptance.objects.create(
                patient=patient, document=document, typed_name=typed, witness=actor
            )
    except IntegrityError:
        raise ValidationError({"document": "this version is already accepted"}) from None
    record(
        Action.SIGN,
        actor=actor,
        patient=patient,
        obj=acc,
        new={"document_version": document.version, "typed_name": typed},
        summary="consent accepted",
    )
    return acc


@transaction.atomic
def enrol_rems(
    actor: Actor, patient: Patient, *, enrolled_on: dt.date, confirmation_id: str
) -> RemsEnrolment:
    policies.require(actor, Act.CONSENT_RECORD, patient.clinic_id)
    cid = (confirmation_id or "").strip()
    if not 1 <= len(cid) <= 64:
        raise ValidationError({"confirmation_id": "confirmation_id: 1–64 characters"})
    if enrolled_on > timezone.localdate(timezone=patient.clinic.tz):
        raise ValidationError({"enrolled_on": "enrolled_on cannot be in the future"})
    if patient.date_of_birth and enrolled_on < patient.date_of_birth:
        raise ValidationError(
            {"enrolled_on": f"enrolled_on cannot be before the date of birth ({patient.date_of_birth})"}
        )
    row = RemsEnrolment.objects.create(
        patient=patient, enrolled_on=enrolled_on, confirmation_id=cid, recorded_by=actor
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=row,
        new={"enrolled_on": enrolled_on, "confirmation_id": cid},
        summary="REMS patient enrolment recorded",
    )
    return row
