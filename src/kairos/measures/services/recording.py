"""Recording a response: scored at submission, with its alerts and tasks in the same transaction.

Invariants:

* answers are stored exactly as given and never altered; the score is computed by
  :func:`kairos.clinical.instruments.score` and stored with its scorer version;
* the alert rows and their clinical tasks are written in the *same transaction* as the response, so an
  alert can never be lost; the e-mail notification is a separate idempotent job enqueued on commit.

Entry points here: clinician entry and FHIR QuestionnaireResponse import; link submissions come through
:mod:`kairos.measures.services.links`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical.instruments import (
    AnswerError,
    ClinicOptions,
    Instrument,
    LicenceError,
    UnknownInstrumentError,
    get,
    overlapping,
    score,
)
from kairos.clinical.instruments import Score as ClinicalScore
from kairos.clinical.rules.alerts import Alert, evaluate_alerts
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.time import check_not_future
from kairos.measures import outcome_store
from kairos.measures.models import (
    OPEN_DUE_STATES,
    ClinicalTask,
    DueState,
    MeasureAlert,
    MeasurementDue,
    QuestionnaireLink,
    QuestionnaireResponse,
    ResponseSource,
    Score,
)
from kairos.measures.services.alert_review import prescribers_for
from kairos.measures.services.clinic_config import clinic_options

log = logging.getLogger(__name__)


PATIENT_ACTOR = "patient-link"


# --- recording a response ---------------------------------------------------------------------------


@dataclass
class Recorded:
    response: QuestionnaireResponse
    score: Score
    alerts: list[MeasureAlert] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replayed: bool = False  # a FHIR resource imported before: the stored response, nothing new written

    @property
    def safety_positive(self) -> bool:
        return bool(self.alerts)


def score_or_error(
    instrument_id: str, answers: Mapping[str, Any], options: ClinicOptions, *, sex: str | None = None
) -> ClinicalScore:
    try:
        return score(instrument_id, answers, clinic_options=options, sex=sex)
    except UnknownInstrumentError as exc:
        raise ValidationError({"instrument_id": str(exc)}) from None
    except (AnswerError, LicenceError) as exc:
        raise ValidationError({"answers": str(exc)}) from None


def record_response(
    *,
    patient: Any,
    instrument_id: str,
    answers: Mapping[str, Any],
    source: str,
    options: ClinicOptions,
    entered_by: Actor | None = None,
    link: QuestionnaireLink | None = None,
    submitted_at: dt.datetime | None = None,
    fhir_resource: Any = None,
    warnings: Iterable[str] = (),
    precomputed: ClinicalScore | None = None,
    import_key: str = "",
    import_content_hash: str = "",
) -> Recorded:
    """Store one response with its score, alerts and tasks (caller holds the transaction).

    The score uses the patient's recorded sex (sex-specific cut-offs: AUDIT-C); a ``precomputed`` score of
    such an instrument (scored before the patient was at hand) is scored again with it.
    """
    sex = str(patient.sex) if getattr(patient, "sex", None) else None
    if precomputed is not None and not get(precomputed.instrument_id).screen_by_sex:
        result = precomputed
    else:
        iid = precomputed.instrument_id if precomputed is not None else instrument_id
        result = score_or_error(iid, answers, options, sex=sex)
    inst = get(result.instrument_id)
    when = submitted_at or timezone.now()
    notes = list(warnings)
    prev = (
        QuestionnaireResponse.objects.filter(patient=patient, instrument_id=inst.id, submitted_at__lte=when)
        .order_by("-submitted_at")
        .first()
    )
    if prev is not None and (flag := overlapping(prev.submitted_at, when, inst)) is not None:
        notes.append(flag.reason)
    due = _matching_due(patient, inst.id, when, link)
    response = QuestionnaireResponse.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        course=due.course if due else None,
        instrument_id=inst.id,
        instrument_version=inst.version,
        answers={str(k): v for k, v in answers.items()},  # exactly as given
        submitted_at=when,
        source=source,
        entered_by=entered_by,
        link=link,
        due=due,
        fhir_resource=fhir_resource,
        import_key=import_key,
        import_content_hash=import_content_hash,
        warnings=notes,
    )
    alerts = evaluate_alerts(result)
    stored = _store_score(response, inst, result, alerts)
    if due is not None:
        due.state = DueState.COMPLETED
        due.completed_at = when
        due.response = response
        due.save(update_fields=["state", "completed_at", "response"])
    # the course's materialised outcome summary, in this transaction (kairos.measures.outcome_store)
    outcome_store.score_stored(response.course_id, inst.id)
    rows = _raise_alerts(patient, response, inst, alerts)
    _audit_recorded(patient, response, inst, result, alerts, rows, source=source, entered_by=entered_by)
    if rows:
        ids = [r.pk for r in rows]
        transaction.on_commit(lambda: _enqueue_notifications(ids))
    return Recorded(response, stored, rows, notes)


def _store_score(
    response: QuestionnaireResponse, inst: Instrument, result: ClinicalScore, alerts: Sequence[Alert]
) -> Score:
    return Score.objects.create(
        response=response,
        instrument_id=inst.id,
        total=result.total,
        raw_total=result.raw_total,
        severity=result.severity or "",
        flags=[f.to_dict() for f in result.flags],
        scorer_version=result.scorer_version,
        recall=result.to_dict()["recall"],
        prorated=result.prorated,
        alerts=[a.to_dict() for a in alerts],
        detail=result.to_dict(),
    )


def _raise_alerts(
    patient: Any, response: QuestionnaireResponse, inst: Instrument, alerts: Sequence[Alert]
) -> list[MeasureAlert]:
    """One alert row and one clinical task (assigned to the patient's prescribers) per alert."""
    rows: list[MeasureAlert] = []
    assignees = prescribers_for(patient) if alerts else []
    for a in alerts:
        row = MeasureAlert.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            response=response,
            code=a.code,
            urgency=a.urgency,
            reason=a.reason[:500],
            source=a.source[:300],
            item=a.item or "",
        )
        task = ClinicalTask.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            alert=row,
            urgency=a.urgency,
            title=f"{'URGENT: ' if a.urgency == 'urgent' else ''}{inst.name} safety alert — review the patient"[
                :200
            ],
            detail=a.reason,
        )
        task.assignees.set(assignees)
        rows.append(row)
    return rows


def _audit_recorded(
    patient: Any,
    response: QuestionnaireResponse,
    inst: Instrument,
    result: ClinicalScore,
    alerts: Sequence[Alert],
    rows: Sequence[MeasureAlert],
    *,
    source: str,
    entered_by: Actor | None,
) -> None:
    """The audit rows of a stored response and of each alert it raised (a link submission: the patient)."""
    record(
        Action.CREATE,
        actor=entered_by,
        actor_username=None if entered_by is not None else PATIENT_ACTOR,
        patient=patient,
        obj=response,
        new={
            "instrument": inst.id,
            "source": source,
            "total": result.total,
            "severity": result.severity,
            "alerts": [a.code for a in alerts],
        },
        summary=f"{inst.name} recorded ({source})",
    )
    for row in rows:
        record(
            Action.CREATE,
            actor=entered_by,
            actor_username=None if entered_by is not None else PATIENT_ACTOR,
            patient=patient,
            obj=row,
            new={"code": row.code, "urgency": row.urgency},
            summary=f"safety alert {row.code}",
        )


def _enqueue_notifications(alert_ids: list[int]) -> None:
    from kairos.measures.tasks import notify_alert

    for pk in alert_ids:
        try:
            notify_alert.enqueue(pk)
        except Exception:  # the alert is stored; measures_tick re-notifies anything not yet notified
            log.exception("could not enqueue notification for alert %s", pk)


def _matching_due(
    patient: Any, instrument_id: str, when: dt.datetime, link: QuestionnaireLink | None
) -> MeasurementDue | None:
    qs = MeasurementDue.objects.select_for_update().filter(
        patient=patient, instrument_id=instrument_id, state__in=[*OPEN_DUE_STATES, DueState.EXPIRED]
    )
    if link is not None:
        linked = qs.filter(links=link).order_by("due_at").first()
        if linked is not None:
            return linked
    return qs.filter(window_start__lte=when, window_end__gte=when).order_by("due_at").first()


# --- clinician entry --------------------------------------------------------------------------------


@transaction.atomic
def enter_clinician_response(
    actor: Actor,
    patient: Any,
    instrument_id: str,
    answers: Mapping[str, Any],
    administered_at: dt.datetime | None = None,
) -> Recorded:
    """A clinician-rated (or clinician-administered) instrument entered in the chart."""
    policies.require(actor, Act.MEASURE_ENTER, patient.clinic_id)
    try:
        inst = get(instrument_id)
    except UnknownInstrumentError as exc:
        raise ValidationError({"instrument_id": str(exc)}) from None
    options = clinic_options(patient.clinic_id, self_report=False)
    if inst.requires_licence_flag and inst.licence_key not in options.licences:
        raise ValidationError(
            {
                "instrument_id": f"{inst.name} is licensed ({inst.licence_note}); the clinic admin must declare the "
                f"licence {inst.licence_key!r} in measurement settings before it can be entered"
            }
        )
    if not any(v not in (None, "") for v in answers.values()):
        raise ValidationError(
            {
                "answers": f"answers: no item of {inst.name} is answered; answer at least one item (nothing was saved)"
            }
        )
    when = administered_at or timezone.now()
    _check_not_before_birth(when, patient, "administered_at")
    check_not_future(when, "administered_at")
    return record_response(
        patient=patient,
        instrument_id=inst.id,
        answers=answers,
        source=ResponseSource.CLINICIAN,
        options=options,
        entered_by=actor,
        submitted_at=when,
    )


# --- FHIR import ------------------------------------------------------------------------------------


def _check_not_before_birth(when: dt.datetime, patient: Any, field: str) -> None:
    """Refuse a time before the patient's date of birth, compared on the local calendar date so that no
    time-zone arithmetic runs first (year 1 with a +14:00 offset overflows when converted to UTC)."""
    dob = patient.date_of_birth
    if dob is not None and when.date() < dob:
        raise ValidationError(
            {
                field: f"{field} {when.date().isoformat()} is before the patient's date of birth ({dob.isoformat()})"
            }
        )


class ImportConflict(Exception):
    """A FHIR resource re-uses an identifier already imported with different content (HTTP 409)."""

    field = "identifier"


def _already_imported(actor: Actor, patient: Any, key: Any) -> Recorded | None:
    """The response stored for this import key in the patient's clinic, returned as a replay (an audited
    read); a re-used identifier with different content is a conflict, not a repeat."""
    row = (
        QuestionnaireResponse.objects.select_related("score")
        .filter(clinic_id=patient.clinic_id, import_key=key.key)
        .first()
    )
    if row is None:
        return None
    if row.import_content_hash != key.content or row.patient_id != patient.pk:
        raise ImportConflict(
            f"identifier: this QuestionnaireResponse identifier was already imported (response {row.pk}) with "
            "different subject, questionnaire, authored time or answers; a re-import does not amend a stored "
            "response — send the changed response with a new identifier"
        )
    inst = get(row.instrument_id)
    record(
        Action.READ,
        actor=actor,
        patient=patient,
        obj=row,
        summary=f"{inst.name} FHIR import repeated ({key.kind} match): the stored response was returned",
    )
    note = f"already imported as response {row.pk} ({key.kind} match); nothing new was stored"
    return Recorded(row, row.score, list(row.alert_rows.all()), [*row.warnings, note], replayed=True)


@transaction.atomic
def import_fhir(actor: Actor, patient: Any, resource: Mapping[str, Any]) -> Recorded:
    """Import a QuestionnaireResponse. Idempotent: a resource imported before (same identifier, else the
    same subject, questionnaire, authored time and answers) returns the stored response with
    ``replayed=True``; a unique constraint per clinic makes this hold when two posts race."""
    from kairos.clinical.fhir_import import FhirImportError, import_key, import_questionnaire_response

    policies.require(actor, Act.MEASURE_ENTER, patient.clinic_id)
    options = clinic_options(patient.clinic_id, self_report=False)
    try:
        result = import_questionnaire_response(resource, clinic_options=options)
        key = import_key(resource)
    except FhirImportError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    except (AnswerError, LicenceError) as exc:
        raise ValidationError({"resource": str(exc)}) from None
    when = None
    authored = resource.get("authored")
    if authored is not None and not isinstance(authored, str):
        raise ValidationError({"authored": f"authored {authored!r} is not an ISO 8601 date-time"})
    if authored:
        try:
            when = dt.datetime.fromisoformat(str(authored).replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                {"authored": f"authored {authored!r} is not an ISO 8601 date-time"}
            ) from None
        if when.tzinfo is None:
            raise ValidationError(
                {"authored": "authored must include a time zone (e.g. 2024-01-02T10:00:00Z)"}
            )
        _check_not_before_birth(when, patient, "authored")
        check_not_future(when, "authored")
    existing = _already_imported(actor, patient, key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a lost race rolls back only this attempt
            return record_response(
                patient=patient,
                instrument_id=result.instrument_id,
                answers=dict(result.answers),
                source=ResponseSource.FHIR,
                options=options,
                entered_by=actor,
                submitted_at=when,
                fhir_resource=dict(resource),
                warnings=[*result.warnings, *([key.note] if key.note else [])],
                precomputed=result.score,
                import_key=key.key,
                import_content_hash=key.content,
            )
    except IntegrityError:
        existing = _already_imported(actor, patient, key)
        if existing is None:
            raise
        return existing
