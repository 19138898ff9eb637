"""Permission-matrix entries for the intake app (collected by kairos.access.tests.matrix)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kairos.access.tests.matrix import Entry, World

CLINICAL_READERS = frozenset({"prescriber", "nurse", "therapist", "auditor"})
EDITORS = frozenset({"prescriber", "nurse"})


def _patient(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk}


def _doc(w: World) -> Any:
    from kairos.intake.models import ConsentDocument

    return w.once(
        "consent_doc",
        lambda: ConsentDocument.objects.create(
            clinic=w.org.north,
            version=1,
            title="Consent",
            body="I consent to treatment.",
            created_by=w.org.admin,
        ),
    )


def _patient_with_doc(w: World) -> dict[str, Any]:
    _doc(w)  # built here: kwargs run outside the rolled-back request, data inside it
    return _patient(w)


def _consent_doc(w: World) -> dict[str, Any]:
    return {"document": _doc(w).pk, "typed_name": w.patient.display_name}


def _post(name: str, data: Any, allowed: frozenset[str] = EDITORS) -> Entry:
    return Entry(f"intake:{name}", phi=True, method="POST", allowed=allowed, kwargs=_patient, data=data)


ENTRIES = [
    Entry("intake:overview", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
    _post("diagnosis_add", lambda w: {"key": "mdd_recurrent"}),
    _post(
        "trial_add",
        lambda w: {
            "drug": "sertraline",
            "dose_mg": "150",
            "weeks": "8",
            "adequate": "on",
            "outcome": "no_response",
            "current_episode": "on",
        },
    ),
    _post("medicine_add", lambda w: {"name": "lorazepam", "drug_class": ""}),
    _post("history_save", lambda w: {"hypertension": "on", "pregnant": "no"}),
    _post(
        "vitals_add",
        lambda w: {"systolic": "128", "diastolic": "82", "heart_rate": "70", "spo2": "98", "resp_rate": "14"},
    ),
    Entry("intake:eligibility", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
    _post(
        "eligibility",
        lambda w: {
            "decision": "eligible_with_cautions",
            "note": "pregnancy status to confirm",
            "amend_reason": "",
        },
        frozenset({"prescriber"}),
    ),
    Entry("intake:consent", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
    Entry(
        "intake:consent",
        phi=True,
        method="POST",
        allowed=EDITORS,
        kwargs=_patient_with_doc,
        data=_consent_doc,
    ),
    _post(
        "rems_enrol", lambda w: {"enrolled_on": dt.date(2025, 1, 2).isoformat(), "confirmation_id": "RP-1"}
    ),
    Entry(
        "intake:consent_documents",
        phi=False,
        allowed=frozenset({"prescriber", "admin"}),
        kwargs=lambda w: {"clinic_id": w.org.north.pk},
    ),
    Entry(
        "intake:consent_documents",
        phi=False,
        method="POST",
        allowed=frozenset({"prescriber", "admin"}),
        kwargs=lambda w: {"clinic_id": w.org.north.pk},
        data=lambda w: {"title": "Consent v2", "body": "I consent to ketamine treatment and monitoring."},
    ),
]
