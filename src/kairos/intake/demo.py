"""Demo intake for clinic north (idempotent): consent v1 accepted, REMS enrolment, signed eligibility, and
the antidepressant trials that make the esketamine-TRD demo patients treatment-resistant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kairos.intake import domain
from kairos.intake.models import (
    AntidepressantTrial,
    ConsentAcceptance,
    ConsentDocument,
    Diagnosis,
    EligibilityDecision,
    RelevantHistory,
    RemsEnrolment,
)

CONSENT_BODY = (
    "I understand that ketamine/esketamine treatment is given under observation in the clinic, that I will be "
    "monitored for at least two hours after each dose, and that I must not drive until the next day after a "
    "restful sleep. I may stop treatment at any time."
)

# The demo patients on an esketamine-TRD course (kairos.courses.demo.DEMO_COURSES; a test keeps the two in
# step). Esketamine is indicated for treatment-resistant depression, so each gets two adequate antidepressant
# trials without response in the current episode: the derived TRD flag (≥ 2 adequate failed trials,
# clinical.md §1.1/§7.4) then agrees with the course. Illustrative demo data, not clinical guidance.
TRD_DEMO_MRNS = ("N-1001", "N-1003", "N-1004")
# (drug, dose mg/day, weeks, outcome): adequate dose for at least 6 weeks, neither led to response
TRD_DEMO_TRIALS = (
    ("escitalopram", "20", 8, "no_response"),
    ("venlafaxine XR", "225", 10, "partial_response"),
)


def _trd_trials(patient: Any, nurse: Any) -> int:
    """Add the demo trials a patient lacks (idempotent: matched by drug); returns how many were added."""
    added = 0
    for drug, dose, weeks, outcome in TRD_DEMO_TRIALS:
        if AntidepressantTrial.objects.filter(patient=patient, drug=drug).exists():
            continue
        AntidepressantTrial.objects.create(
            patient=patient,
            drug=drug,
            dose_mg=Decimal(dose),
            weeks=weeks,
            adequate=True,
            outcome=outcome,
            current_episode=True,
            recorded_by=nurse,
        )
        added += 1
    return added


def load_intake_demo(ctx: dict[str, Any]) -> str:
    clinic = ctx["clinics"]["north"]
    users = ctx["users"]
    doc = ConsentDocument.objects.filter(clinic=clinic, version=1).first() or ConsentDocument.objects.create(
        clinic=clinic,
        version=1,
        title="Ketamine / esketamine treatment consent",
        body=CONSENT_BODY,
        created_by=users["demo-admin"],
    )
    mdd = domain.DIAGNOSIS_BY_KEY["mdd_recurrent"]
    for mrn in ("N-1001", "N-1002", "N-1003", "N-1004"):
        p = ctx["patients"].get(mrn)
        if p is None:
            continue
        if not Diagnosis.objects.filter(patient=p).exists():
            Diagnosis.objects.create(
                patient=p,
                key=mdd.key,
                code_system=domain.SNOMED,
                code=mdd.snomed or "",
                display=mdd.display,
                icd10=mdd.icd10 or "",
                recorded_by=users["demo-nurse"],
            )
        RelevantHistory.objects.get_or_create(
            patient=p, defaults={"pregnant": False, "updated_by": users["demo-nurse"]}
        )
        if not ConsentAcceptance.objects.filter(patient=p, document=doc).exists():
            ConsentAcceptance.objects.create(
                patient=p, document=doc, typed_name=p.display_name, witness=users["demo-nurse"]
            )
        if not RemsEnrolment.objects.filter(patient=p).exists():
            RemsEnrolment.objects.create(
                patient=p,
                enrolled_on=timezone.localdate(timezone=clinic.tz) - dt.timedelta(days=40),
                confirmation_id=f"DEMO-RP-{mrn}",
                recorded_by=users["demo-nurse"],
            )  # noqa: DTZ011
        if mrn in TRD_DEMO_MRNS:
            _trd_trials(p, users["demo-nurse"])
        if not EligibilityDecision.objects.filter(patient=p).exists():
            EligibilityDecision(
                patient=p,
                version=1,
                decision="eligible",
                note="Demo: screened at intake.",
                rule_outcome="ok",
                findings=[],
                signed_by=users["demo-prescriber"],
            ).save()
    return (
        "Intake: consent v1 accepted, REMS enrolment and signed eligibility for 4 north patients; "
        f"2 adequate failed antidepressant trials for the esketamine-TRD patients {', '.join(TRD_DEMO_MRNS)}."
    )
