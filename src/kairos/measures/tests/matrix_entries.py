"""Permission-matrix entries for the measures app (collected by kairos.access.tests.matrix).

``measures:patient_form`` (``/q/<token>/``) is exempted in ``kairos.access.tests.matrix.EXEMPT``.
"""

from __future__ import annotations

from typing import Any

from kairos.access.tests.matrix import Entry, World

CLINICAL_READERS = frozenset({"prescriber", "nurse", "therapist", "auditor"})
ENTERERS = frozenset({"prescriber", "nurse"})
LINK_SENDERS = frozenset({"prescriber", "nurse", "therapist", "frontdesk"})
CLINIC_ADMIN = frozenset({"admin"})


def _patient(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk}


def _clinic(w: World) -> dict[str, Any]:
    return {"clinic_id": w.org.north.pk}


def _alert(w: World) -> dict[str, Any]:
    def make() -> Any:
        from kairos.measures.services import links

        _, token = links.create_link(w.org.prescriber, w.patient, ["phq9"])
        links.submit_link(token, {"phq9": {str(i): (1 if i == 9 else 0) for i in range(1, 10)}})
        from kairos.measures.models import MeasureAlert

        return MeasureAlert.objects.get(patient=w.patient)

    return {"alert_id": w.once("alert", make).pk}


def _check(w: World) -> dict[str, Any]:
    def make() -> Any:
        import datetime as dt

        from django.utils import timezone

        from kairos.measures.models import MeasurementDue

        now = timezone.now()
        return MeasurementDue.objects.create(
            patient=w.patient,
            instrument_id="liver_tests",
            kind="safety",
            due_at=now,
            window_start=now,
            window_end=now + dt.timedelta(days=14),
        )

    return {"patient_id": w.patient.pk, "due_id": w.once("check", make).pk}


def _fhir(w: World) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": f"Patient/{w.patient.pk}"},
        "item": [
            {
                "linkId": f"/{code}",
                "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6568-5"}}],
            }
            for code in ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
        ],
    }


ENTRIES = [
    Entry(
        "measures:alerts",
        phi=True,
        allowed=CLINICAL_READERS,
        scope="collection",
        kwargs=lambda w: (_alert(w), {})[1],  # builds north's alert so that the board shows a patient
    ),
    Entry(
        "measures:alert_ack",
        phi=True,
        method="POST",
        allowed=ENTERERS,
        kwargs=_alert,
        data=lambda w: {"action": "called the patient"},
    ),
    Entry("measures:patient", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
    Entry("measures:send_link", phi=True, allowed=LINK_SENDERS, kwargs=_patient),
    Entry(
        "measures:send_link",
        phi=True,
        method="POST",
        allowed=LINK_SENDERS,
        kwargs=_patient,
        data=lambda w: {"instruments": "phq9"},
    ),
    Entry(
        "measures:enter",
        phi=True,
        allowed=ENTERERS,
        kwargs=lambda w: {"patient_id": w.patient.pk, "instrument_id": "cssrs_screener"},
    ),
    Entry(
        "measures:enter",
        phi=True,
        method="POST",
        allowed=ENTERERS,
        kwargs=lambda w: {"patient_id": w.patient.pk, "instrument_id": "hamd17"},
        data=lambda w: {f"hamd17-{i}": "0" for i in range(1, 18)},
    ),
    Entry(
        "measures:check_done",
        phi=True,
        method="POST",
        allowed=ENTERERS,
        kwargs=_check,
        data=lambda w: {"note": "ALT normal"},
    ),
    Entry("measures:clinic_settings", phi=False, allowed=CLINIC_ADMIN, kwargs=_clinic),
    Entry(
        "measures:clinic_settings",
        phi=False,
        method="POST",
        allowed=CLINIC_ADMIN,
        kwargs=_clinic,
        data=lambda w: {
            "crisis_text": "Call 988 (US) or 999 (UK) in an emergency.",
            "mark_reviewed": "on",
            "licences": ["madrs", "cadss"],
            "link_valid_hours": "48",
            "reminder_before_hours": "12",
        },
    ),
    Entry("POST /api/v1/fhir/QuestionnaireResponse", phi=True, allowed=ENTERERS, data=_fhir),
    Entry("GET /api/v1/patients/{patient_id}/scores", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
]

from kairos.measures.tests.matrix_entries_dashboard import ENTRIES as _DASHBOARD  # noqa: E402

ENTRIES += _DASHBOARD
