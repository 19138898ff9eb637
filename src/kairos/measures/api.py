"""FHIR QuestionnaireResponse import and the patient's score list."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status

from kairos.core.actor import actor_of
from kairos.measures import selectors
from kairos.measures.services import recording
from kairos.patients.selectors import get_patient

fhir_router = Router(tags=["measures"])
scores_router = Router(tags=["measures"])

_SUBJECT = re.compile(r"Patient/([0-9]{1,18})", re.ASCII)  # used with fullmatch: no "\n", no non-ASCII digits


class FlagOut(Schema):
    code: str
    reason: str
    item: str | None = None


class AlertOut(Schema):
    code: str
    urgency: str
    reason: str
    source: str
    item: str | None = None


class ImportOut(Schema):
    id: int
    patient_id: int
    instrument: str
    instrument_version: str
    scorer_version: str
    total: int | None
    severity: str | None
    flags: list[FlagOut]
    alerts: list[AlertOut]
    warnings: list[str]
    replayed: bool = False  # true when the resource was imported before: the stored score, nothing new


class ErrorDetail(Schema):
    loc: list[str]
    msg: str


class ConflictOut(Schema):
    detail: list[ErrorDetail]


class ScoreOut(Schema):
    id: int
    instrument: str
    instrument_version: str
    time: dt.datetime
    total: int | None
    severity: str | None
    flags: list[FlagOut]
    alerts: list[AlertOut]
    source: str
    scorer_version: str


def _invalid(field: str, msg: str) -> ValidationError:
    return ValidationError({field: msg})


@fhir_router.post(
    "/QuestionnaireResponse",
    response={200: ImportOut, 201: ImportOut, 409: ConflictOut},
    summary="Import a FHIR R4 QuestionnaireResponse (recomputed, stored, alerts raised; idempotent)",
    description="201: stored and scored. 200: the same resource was imported before (same identifier, else "
    "same subject, questionnaire, authored and answers): the stored score is returned and nothing new is "
    "written. 409: the identifier was imported before with different content. 422: the resource cannot be "
    "read or mapped (the location names the field; an answer whose code and ordinal value disagree names "
    "its linkId).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/fhir+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def import_questionnaire_response(request: HttpRequest) -> Status[dict[str, Any]]:
    try:
        resource = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _invalid("body", f"body is not valid JSON ({exc})") from None
    except RecursionError:
        raise _invalid("body", "body is nested too deeply to be a QuestionnaireResponse") from None
    if not isinstance(resource, dict):
        raise _invalid("body", "body must be a FHIR QuestionnaireResponse JSON object")
    if resource.get("resourceType") != "QuestionnaireResponse":
        raise _invalid(
            "resourceType",
            f"resourceType must be 'QuestionnaireResponse' (got {resource.get('resourceType')!r})",
        )
    subject = resource.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    m = _SUBJECT.fullmatch(str(ref or ""))
    if m is None:
        raise _invalid(
            "subject", f"subject.reference must be 'Patient/<id>' of a patient of your clinic (got {ref!r})"
        )
    from kairos.core.policies import Act

    patient = get_patient(request.user, m.group(1), Act.MEASURE_ENTER)
    try:
        rec = recording.import_fhir(actor_of(request), patient, resource)
    except recording.ImportConflict as exc:
        return Status(409, {"detail": [{"loc": ["body", exc.field], "msg": str(exc)}]})
    s = rec.score
    return Status(
        200 if rec.replayed else 201,
        {
            "id": rec.response.pk,
            "patient_id": patient.pk,
            "instrument": rec.response.instrument_id,
            "instrument_version": rec.response.instrument_version,
            "scorer_version": s.scorer_version,
            "total": s.total,
            "severity": s.severity or None,
            "flags": s.flags,
            "alerts": s.alerts,
            "warnings": rec.warnings,
            "replayed": rec.replayed,
        },
    )


@scores_router.get(
    "/{patient_id}/scores",
    response=list[ScoreOut],
    summary="A patient's scores, newest first (an audited read)",
)
def patient_scores(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    _, rows = selectors.read_scores(request.user, patient_id, purpose="API scores")
    return [
        {
            "id": r.pk,
            "instrument": r.instrument_id,
            "instrument_version": r.instrument_version,
            "time": r.submitted_at,
            "total": r.score.total,
            "severity": r.score.severity or None,
            "flags": r.score.flags,
            "alerts": r.score.alerts,
            "source": r.source,
            "scorer_version": r.score.scorer_version,
        }
        for r in rows
    ]
