"""Writes of measurement-based care: responses (scored at submission), alerts and tasks, links, plans.

Invariants:

* answers are stored exactly as given and never altered; the score is computed by
  :func:`kairos.clinical.instruments.score` and stored with its scorer version;
* the alert rows and their clinical tasks are written in the *same transaction* as the response, so an
  alert can never be lost; the e-mail notification is a separate idempotent job enqueued on commit;
* a link is single-use: the link row is locked (``select_for_update``), ``used_at`` re-checked, and a
  unique constraint (link, instrument) backs it up, so two simultaneous submissions store exactly one.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.access import policies
from kairos.access.policies import Act
from kairos.access.roles import Role
from kairos.accounts.models import Membership
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical import measurement_plan
from kairos.clinical.config import ConfigError, Override, RuleSet
from kairos.clinical.instruments import (
    AnswerError,
    ClinicOptions,
    Instrument,
    LicenceError,
    Rater,
    UnknownInstrumentError,
    get,
    overlapping,
    score,
)
from kairos.clinical.instruments import Score as ClinicalScore
from kairos.clinical.rules.alerts import evaluate_alerts
from kairos.courses.models import OPEN_COURSE_STATUSES, Course
from kairos.dosing.models import DosingSession
from kairos.measures import outcome_store
from kairos.measures.models import (
    OPEN_DUE_STATES,
    ClinicalTask,
    ClinicCrisisResources,
    ClinicMeasureSettings,
    DueKind,
    DueState,
    MeasureAlert,
    MeasurementDue,
    MeasurementPlan,
    QuestionnaireLink,
    QuestionnaireResponse,
    ResponseSource,
    Score,
    TaskStatus,
)
from kairos.patients.checks import check_not_future

log = logging.getLogger(__name__)

LINK_SALT = "kairos.measures.link"
PATIENT_ACTOR = "patient-link"
# Instruments a patient may complete from a link (self-report); C-SSRS self-report needs the eC-SSRS licence.
CLINICIAN_INSTRUMENTS = ("cssrs_screener", "madrs", "hamd17", "cadss6")


# --- clinic settings --------------------------------------------------------------------------------


def clinic_settings(clinic_id: int) -> ClinicMeasureSettings:
    obj, _ = ClinicMeasureSettings.objects.get_or_create(clinic_id=clinic_id)
    return obj


def crisis_resources(clinic_id: int) -> ClinicCrisisResources:
    obj, _ = ClinicCrisisResources.objects.get_or_create(clinic_id=clinic_id)
    return obj


def clinic_options(clinic_id: int, *, self_report: bool) -> ClinicOptions:
    licences = frozenset(str(x) for x in clinic_settings(clinic_id).licences)
    return ClinicOptions(licences=licences, self_report=self_report)


def schedule_rules(clinic_id: int) -> RuleSet:
    """:data:`kairos.clinical.rules.measurement.RULES` with the clinic's overrides applied (validated)."""
    s = clinic_settings(clinic_id)
    overrides = []
    for key, value in (s.schedule_overrides or {}).items():
        v = tuple(value) if isinstance(value, list) else value
        overrides.append(Override(key, v, by=f"clinic {clinic_id}", at=s.updated_at, reason="clinic setting"))
    return measurement_plan.RULES.with_overrides(overrides)


# Link lifetime and reminder lead (hours): a policy of the clinic, not a clinical number.
LINK_VALID_HOURS = (1, 24 * 14)  # a link lives 1 hour to 14 days
REMINDER_MIN_HOURS = 0  # 0 = no reminder; otherwise sent this long before an unused link expires


def licence_choices() -> list[tuple[str, str]]:
    """Licences a clinic can declare (key, label), from the instrument catalogue."""
    out: dict[str, str] = {}
    for inst in _all():
        if inst.licence_key:
            out[inst.licence_key] = f"{inst.name} — licence held ({inst.licence_note})"
        if inst.self_report_licence_key:
            out[inst.self_report_licence_key] = (
                f"{inst.name} — electronic self-report licence (eC-SSRS): patients may complete it from a link"
            )
    return sorted(out.items())


def _whole_hours(field: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"{field}: whole hours in [{low}, {high}]"}) from None
    if isinstance(value, float) and value != number:
        raise ValidationError({field: f"{field}: whole hours in [{low}, {high}]"})
    if not low <= number <= high:
        raise ValidationError(
            {field: f"{field}: {number} is outside the allowed range [{low}, {high}] hours"}
        )
    return number


@transaction.atomic
def update_clinic_settings(
    actor: Any,
    clinic_id: int,
    *,
    crisis_text: str | None = None,
    licences: Sequence[str] | None = None,
    schedule_overrides: Mapping[str, Any] | None = None,
    mark_reviewed: bool = False,
    link_valid_hours: int | None = None,
    reminder_before_hours: int | None = None,
) -> None:
    """Change a clinic's measurement settings (clinic admin), audited with the old and new values.

    A changed crisis text, or ``mark_reviewed``, records ``actor`` as the clinic's reviewer of the text now
    (saving the same text unreviewed does not count as a review).
    ``reminder_before_hours`` must be shorter than the link lifetime (0 = no reminder).
    """
    policies.require(actor, Act.MEASURE_SETTINGS, clinic_id)
    s = clinic_settings(clinic_id)
    c = crisis_resources(clinic_id)

    def snapshot() -> dict[str, Any]:
        return {
            "licences": list(s.licences),
            "schedule_overrides": dict(s.schedule_overrides or {}),
            "link_valid_hours": s.link_valid_hours,
            "reminder_before_hours": s.reminder_before_hours,
            "crisis_text": c.text,
            "crisis_reviewed_by": c.reviewed_by_id,
            "crisis_reviewed_at": c.reviewed_at,
        }

    old = snapshot()
    # validate everything before writing anything
    if licences is not None:
        known = {k for k, _ in licence_choices()}
        bad = sorted(set(licences) - known)
        if bad:
            raise ValidationError(
                {"licences": f"licences: unknown {', '.join(bad)}; known: {', '.join(sorted(known))}"}
            )
    if schedule_overrides is not None:
        try:
            measurement_plan.RULES.with_overrides(
                Override(
                    k, tuple(v) if isinstance(v, list) else v, by="check", at=timezone.now(), reason="check"
                )
                for k, v in schedule_overrides.items()
            )
        except ConfigError as exc:
            raise ValidationError({"schedule_overrides": str(exc)}) from None
    hours = s.link_valid_hours
    if link_valid_hours is not None:
        hours = _whole_hours("link_valid_hours", link_valid_hours, *LINK_VALID_HOURS)
    lead = s.reminder_before_hours
    if reminder_before_hours is not None:
        lead = _whole_hours("reminder_before_hours", reminder_before_hours, REMINDER_MIN_HOURS, hours - 1)
    elif lead >= hours:
        raise ValidationError(
            {
                "link_valid_hours": f"link_valid_hours: {hours} h is not longer than the reminder lead "
                f"({lead} h); allowed range [{lead + 1}, {LINK_VALID_HOURS[1]}] hours"
            }
        )
    if crisis_text is not None and not crisis_text.strip():
        raise ValidationError({"crisis_text": "crisis_text: cannot be empty (1 or more characters)"})

    now = timezone.now()
    if licences is not None:
        s.licences = sorted(set(licences))
    if schedule_overrides is not None:
        s.schedule_overrides = dict(schedule_overrides)
    s.link_valid_hours, s.reminder_before_hours = hours, lead
    s.updated_at = now
    s.save()
    new_text = crisis_text is not None and crisis_text.strip() != c.text
    reviewed = mark_reviewed or new_text  # whoever writes a new text has reviewed it
    if new_text:
        assert crisis_text is not None
        c.text = crisis_text.strip()
    if reviewed:
        c.reviewed_by = actor
        c.reviewed_at = now
    c.updated_at = now
    c.save()
    record(
        Action.UPDATE,
        actor=actor,
        clinic=clinic_id,
        obj=s,
        old=old,
        new=snapshot(),
        summary="measurement settings changed" + ("; crisis resources reviewed" if reviewed else ""),
    )


def _all() -> tuple[Instrument, ...]:
    from kairos.clinical.instruments import all_instruments

    return all_instruments()


# --- who gets an alert's task -----------------------------------------------------------------------


def prescribers_for(patient: Any) -> list[Any]:
    """The patient's prescriber(s): creators of the patient's open courses who are prescribers at the
    clinic, and responsible clinicians of their dosing sessions who are prescribers; when none is known,
    every prescriber of the clinic (so an alert is never unassigned)."""
    clinic_prescribers = set(
        Membership.objects.filter(clinic_id=patient.clinic_id, role=Role.PRESCRIBER).values_list(
            "user_id", flat=True
        )
    )
    ids: set[int] = set(
        Course.objects.filter(patient=patient, status__in=OPEN_COURSE_STATUSES).values_list(
            "created_by_id", flat=True
        )
    )
    ids |= set(
        DosingSession.objects.filter(patient=patient).values_list("responsible_clinician_id", flat=True)
    )
    chosen = ids & clinic_prescribers or clinic_prescribers
    return list(get_user_model().objects.filter(pk__in=chosen, is_active=True).order_by("pk"))


# --- recording a response ---------------------------------------------------------------------------


@dataclass
class Recorded:
    response: QuestionnaireResponse
    score: Score
    alerts: list[MeasureAlert] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def safety_positive(self) -> bool:
        return bool(self.alerts)


def _score_or_error(instrument_id: str, answers: Mapping[str, Any], options: ClinicOptions) -> ClinicalScore:
    try:
        return score(instrument_id, answers, clinic_options=options)
    except UnknownInstrumentError as exc:
        raise ValidationError({"instrument_id": str(exc)}) from None
    except (AnswerError, LicenceError) as exc:
        raise ValidationError({"answers": str(exc)}) from None


def _record(
    *,
    patient: Any,
    instrument_id: str,
    answers: Mapping[str, Any],
    source: str,
    options: ClinicOptions,
    entered_by: Any = None,
    link: QuestionnaireLink | None = None,
    submitted_at: dt.datetime | None = None,
    fhir_resource: Any = None,
    warnings: Iterable[str] = (),
    precomputed: ClinicalScore | None = None,
) -> Recorded:
    """Store one response with its score, alerts and tasks (caller holds the transaction)."""
    result = precomputed or _score_or_error(instrument_id, answers, options)
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
        warnings=notes,
    )
    alerts = evaluate_alerts(result)
    stored = Score.objects.create(
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
    if due is not None:
        due.state = DueState.COMPLETED
        due.completed_at = when
        due.response = response
        due.save(update_fields=["state", "completed_at", "response"])
    # the course's materialised outcome summary, in this transaction (kairos.measures.outcome_store)
    outcome_store.score_stored(response.course_id, inst.id)
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
    if rows:
        ids = [r.pk for r in rows]
        transaction.on_commit(lambda: _enqueue_notifications(ids))
    return Recorded(response, stored, rows, notes)


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
    actor: Any,
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
    return _record(
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


@transaction.atomic
def import_fhir(actor: Any, patient: Any, resource: Mapping[str, Any]) -> Recorded:
    from kairos.clinical.fhir_import import FhirImportError, import_questionnaire_response

    policies.require(actor, Act.MEASURE_ENTER, patient.clinic_id)
    options = clinic_options(patient.clinic_id, self_report=False)
    try:
        result = import_questionnaire_response(resource, clinic_options=options)
    except (FhirImportError, AnswerError, LicenceError) as exc:
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
    return _record(
        patient=patient,
        instrument_id=result.instrument_id,
        answers=dict(result.answers),
        source=ResponseSource.FHIR,
        options=options,
        entered_by=actor,
        submitted_at=when,
        fhir_resource=dict(resource),
        warnings=result.warnings,
        precomputed=result.score,
    )


# --- secure links -----------------------------------------------------------------------------------


def token_for(link: QuestionnaireLink) -> str:
    return signing.Signer(salt=LINK_SALT).sign(link.nonce)


def _nonce_from(token: str) -> str | None:
    try:
        return signing.Signer(salt=LINK_SALT).unsign(token)
    except signing.BadSignature:
        return None


def resolve_link(token: str) -> QuestionnaireLink | None:
    """The link if the token is genuine and the link usable; None for tampered, used, expired or revoked
    (callers show the same refusal for all)."""
    nonce = _nonce_from(token)
    if nonce is None:
        return None
    link = QuestionnaireLink.objects.select_related("patient", "clinic").filter(nonce=nonce).first()
    if link is None or not link.usable():
        return None
    return link


def link_instruments(link: QuestionnaireLink) -> list[Instrument]:
    return [get(i) for i in link.instruments]


def _check_self_report(ids: Sequence[str], clinic_id: int) -> list[str]:
    if not ids:
        raise ValidationError({"instruments": "choose at least one questionnaire"})
    out: list[str] = []
    options = clinic_options(clinic_id, self_report=True)
    for raw in ids:
        try:
            inst = get(raw)
        except UnknownInstrumentError as exc:
            raise ValidationError({"instruments": str(exc)}) from None
        if inst.rater is not Rater.SELF:
            raise ValidationError({"instruments": f"{inst.name} is clinician-rated; enter it in the chart"})
        if inst.requires_licence_flag and inst.licence_key not in options.licences:
            raise ValidationError(
                {
                    "instruments": f"{inst.name} is licensed; the clinic must declare licence {inst.licence_key!r}"
                }
            )
        if inst.id not in out:
            out.append(inst.id)
    return out


@transaction.atomic
def create_link(
    actor: Any,
    patient: Any,
    instruments: Sequence[str],
    *,
    email: str = "",
    valid_hours: int | None = None,
    dues: Iterable[MeasurementDue] = (),
    base_url: str = "",
) -> tuple[QuestionnaireLink, str]:
    """A new single-use link for a bundle of self-report instruments; returns (link, token). With an
    ``email`` the link is sent by the background worker after commit."""
    policies.require(actor, Act.LINK_SEND, patient.clinic_id)
    ids = _check_self_report(instruments, patient.clinic_id)
    hours = valid_hours if valid_hours is not None else clinic_settings(patient.clinic_id).link_valid_hours
    if not LINK_VALID_HOURS[0] <= hours <= LINK_VALID_HOURS[1]:
        raise ValidationError({"valid_hours": "valid_hours must be between 1 and 336 (14 days)"})
    now = timezone.now()
    link = QuestionnaireLink.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        nonce=secrets.token_urlsafe(24),
        instruments=ids,
        created_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
        sent_to=email,
    )
    due_list = [d for d in dues if d.patient_id == patient.pk]
    if not due_list:
        due_list = list(
            MeasurementDue.objects.filter(
                patient=patient,
                instrument_id__in=ids,
                state__in=OPEN_DUE_STATES,
                window_start__lte=link.expires_at,
                window_end__gte=now,
            )
        )
    if due_list:
        link.dues.set(due_list)
        MeasurementDue.objects.filter(pk__in=[d.pk for d in due_list], state=DueState.DUE).update(
            state=DueState.SENT
        )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=link,
        new={"instruments": ids, "expires_at": link.expires_at, "email": bool(email)},
        summary="questionnaire link created",
    )
    if email:
        from kairos.measures.tasks import send_link_email

        pk = link.pk
        transaction.on_commit(lambda: send_link_email.enqueue(pk, base_url))
    return link, token_for(link)


class LinkUnavailable(Exception):
    """The link is tampered, used, expired or revoked (one exception, one page, for all)."""


@dataclass
class Submission:
    recorded: list[Recorded]

    @property
    def safety_positive(self) -> bool:
        return any(r.safety_positive for r in self.recorded)


def validate_link_answers(
    link: QuestionnaireLink, data: Mapping[str, Any]
) -> tuple[dict[str, dict[str, int | None]], list[tuple[str, str]]]:
    """Read ``<instrument>-<item>`` fields. Returns the answers per instrument and a list of
    (field name, message) errors: every item that is not optional must be answered with an allowed value."""
    answers: dict[str, dict[str, int | None]] = {}
    errors: list[tuple[str, str]] = []
    for inst in link_instruments(link):
        mine: dict[str, int | None] = {}
        for n, item in enumerate(inst.items, start=1):
            name = f"{inst.id}-{item.id}"
            raw = data.get(name)
            if raw in (None, ""):
                if not item.optional:
                    errors.append((name, f"{inst.name}, question {n}: please choose an answer"))
                continue
            try:
                value = int(str(raw))
                item.option(value)
            except (ValueError, AnswerError):
                errors.append((name, f"{inst.name}, question {n}: please choose one of the answers shown"))
                continue
            mine[item.id] = value
        answers[inst.id] = mine
    return answers, errors


def submit_link(token: str, answers: Mapping[str, Mapping[str, int | None]]) -> Submission:
    """Store the answers of a link exactly once. Raises :class:`LinkUnavailable` when the link cannot be
    used (including when a simultaneous submission won), ``ValidationError`` for bad answers."""
    nonce = _nonce_from(token)
    if nonce is None:
        raise LinkUnavailable
    try:
        with transaction.atomic():
            link = (
                QuestionnaireLink.objects.select_for_update()
                .select_related("patient")
                .filter(nonce=nonce)
                .first()
            )
            if link is None or not link.usable():
                raise LinkUnavailable
            now = timezone.now()
            # Claim the link first (conditional update), then store: a concurrent writer finds used_at set.
            claimed = QuestionnaireLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
            if claimed != 1:
                raise LinkUnavailable
            options = clinic_options(link.clinic_id, self_report=True)
            scored = {iid: _score_or_error(iid, answers.get(iid, {}), options) for iid in link.instruments}
            recorded = [
                _record(
                    patient=link.patient,
                    instrument_id=iid,
                    answers=answers.get(iid, {}),
                    source=ResponseSource.LINK,
                    options=options,
                    link=link,
                    submitted_at=now,
                    precomputed=scored[iid],
                )
                for iid in link.instruments
            ]
            record(
                Action.UPDATE,
                actor_username=PATIENT_ACTOR,
                patient=link.patient,
                obj=link,
                new={"used_at": now},
                summary="questionnaire link used",
            )
    except IntegrityError:
        raise LinkUnavailable from None
    return Submission(recorded)


@transaction.atomic
def revoke_link(actor: Any, link: QuestionnaireLink) -> None:
    policies.require(actor, Act.LINK_SEND, link.clinic_id)
    if link.revoked_at is None and link.used_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        record(
            Action.UPDATE,
            actor=actor,
            patient=link.patient_id,
            clinic=link.clinic_id,
            obj=link,
            summary="questionnaire link revoked",
        )


# --- alerts -----------------------------------------------------------------------------------------


@transaction.atomic
def acknowledge_alert(actor: Any, alert_id: int, action: str) -> MeasureAlert:
    alert = MeasureAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        from django.http import Http404

        raise Http404("not found")
    policies.require(actor, Act.ALERT_ACK, alert.clinic_id)
    text = (action or "").strip()
    if not text:
        raise ValidationError({"action": "describe the action taken (1–2000 characters)"})
    if len(text) > 2000:
        raise ValidationError({"action": f"action is {len(text)} characters; at most 2000"})
    if alert.acknowledged_at is not None:
        raise ValidationError({"action": "this alert was already acknowledged"})
    now = timezone.now()
    alert.acknowledged_at, alert.acknowledged_by, alert.action = now, actor, text
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "action"])
    ClinicalTask.objects.filter(alert=alert, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, done_at=now, done_by=actor
    )
    record(
        Action.UPDATE,
        actor=actor,
        patient=alert.patient_id,
        clinic=alert.clinic_id,
        obj=alert,
        new={"acknowledged_at": now, "action": text},
        summary=f"safety alert {alert.code} acknowledged",
    )
    return alert


# --- plans ------------------------------------------------------------------------------------------


def _course_sessions(course: Any) -> list[measurement_plan.DoseSession]:
    from kairos.courses.models import AppointmentKind, AppointmentStatus

    appts = course.appointments.filter(kind=AppointmentKind.DOSING).exclude(
        status=AppointmentStatus.CANCELLED
    )
    sessions = [
        measurement_plan.DoseSession(a.number or i + 1, a.starts_at, a.phase or "induction")
        for i, a in enumerate(appts.order_by("starts_at"))
    ]
    if sessions:
        return sessions
    tz = course.clinic.tz
    out = []
    for s in (course.plan or {}).get("sessions", []):
        day = dt.date.fromisoformat(s["date"])
        out.append(
            measurement_plan.DoseSession(
                int(s["number"]),
                dt.datetime.combine(day, dt.time(9, 0), tzinfo=tz),
                s.get("phase", "induction"),
            )
        )
    return out


@transaction.atomic
def generate_measurement_plan(
    actor: Any,
    course: Any,
    indications: Sequence[str],
    *,
    horizon_days: int = 365,
    allow_overlap: Iterable[str] = (),
    extra_instruments: Sequence[str] = (),
) -> MeasurementPlan:
    """(Re)generate the course's measurement plan from its dosing sessions and the clinic's settings. The
    previous plan is kept (inactive); its not-yet-sent items are withdrawn."""
    policies.require(actor, Act.MEASURE_PLAN, course.clinic_id)
    sessions = _course_sessions(course)
    if not sessions:
        raise ValidationError({"course": "the course has no dosing sessions to plan measurements around"})
    if not 0 <= horizon_days <= 730:
        raise ValidationError({"horizon_days": "horizon_days must be between 0 and 730"})
    rules = schedule_rules(course.clinic_id)
    first = min(s.at for s in sessions)
    horizon = max(max(s.at for s in sessions), first + dt.timedelta(days=horizon_days))
    try:
        planned = measurement_plan.generate_plan(
            measurement_plan.PlanRequest(
                sessions,
                list(indications),
                horizon_end=horizon,
                allow_overlap=frozenset(allow_overlap),
                extra_instruments=list(extra_instruments),
            ),
            rules,
        )
    except (measurement_plan.PlanError, UnknownInstrumentError) as exc:
        raise ValidationError({"indications": str(exc)}) from None
    old = MeasurementPlan.objects.select_for_update().filter(course=course, active=True).first()
    if old is not None:
        old.active = False
        old.save(update_fields=["active"])
        MeasurementDue.objects.filter(plan=old, state=DueState.DUE).delete()
    plan = MeasurementPlan.objects.create(
        clinic_id=course.clinic_id,
        patient_id=course.patient_id,
        course=course,
        protocol_id=course.protocol_id,
        indications=list(indications),
        config={p.key: p.value for p in rules},
        created_by=actor,
    )
    MeasurementDue.objects.bulk_create(
        MeasurementDue(
            plan=plan,
            patient_id=course.patient_id,
            course=course,
            instrument_id=d.instrument_id,
            kind=d.kind,
            due_at=d.due_at,
            window_start=d.window_start,
            window_end=d.window_end,
            reason=d.reason[:300],
            source=d.source[:300],
            session_number=d.session_number,
            overlap_flagged=d.overlap_flagged,
        )
        for d in planned
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=course.patient_id,
        clinic=course.clinic_id,
        obj=plan,
        new={"indications": list(indications), "items": len(planned)},
        summary="measurement plan generated",
    )
    return plan


@transaction.atomic
def complete_safety_check(actor: Any, due_id: int, note: str) -> MeasurementDue:
    due = (
        MeasurementDue.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(pk=due_id)
        .first()
    )
    if due is None:
        from django.http import Http404

        raise Http404("not found")
    policies.require(actor, Act.MEASURE_PLAN, due.patient.clinic_id)
    if (
        due.kind != DueKind.SAFETY
        or due.instrument_id not in measurement_plan.CHECKS_BY_ID
        or measurement_plan.CHECKS_BY_ID[due.instrument_id].instrument
    ):
        raise ValidationError(
            {"due": "only non-questionnaire safety checks (labs, screens, PDMP) are marked done here"}
        )
    if due.state not in OPEN_DUE_STATES:
        raise ValidationError({"due": f"this check is already {due.state}"})
    if not note.strip() or len(note) > 300:
        raise ValidationError({"note": "note: the result or where it is recorded (1–300 characters)"})
    due.state, due.completed_at, due.completed_note = DueState.COMPLETED, timezone.now(), note.strip()
    due.save(update_fields=["state", "completed_at", "completed_note"])
    record(
        Action.UPDATE,
        actor=actor,
        patient=due.patient,
        obj=due,
        new={"state": due.state, "note": due.completed_note},
        summary=f"safety check {due.instrument_id} done",
    )
    return due


# --- the periodic tick ------------------------------------------------------------------------------


@dataclass
class TickResult:
    expired: int = 0
    missed: int = 0
    reminders: int = 0
    notified: int = 0

    def __str__(self) -> str:
        return f"expired {self.expired}, missed {self.missed}, reminders {self.reminders}, alerts notified {self.notified}"


def tick(now: dt.datetime | None = None, *, base_url: str = "") -> TickResult:
    """Housekeeping run by ``manage.py measures_tick`` (cron or the worker): expire sent items whose link
    expired unused, mark questionnaires whose window closed as missed, send reminders before links expire,
    and (re)send any alert notification that has not gone out (idempotent)."""
    from kairos.measures.tasks import deliver_alert_notification, send_link_reminder

    now = now or timezone.now()
    out = TickResult()
    with transaction.atomic():
        expired_links = QuestionnaireLink.objects.filter(expires_at__lte=now, used_at__isnull=True)
        out.expired = MeasurementDue.objects.filter(links__in=expired_links, state=DueState.SENT).update(
            state=DueState.EXPIRED
        )
        out.missed = (
            MeasurementDue.objects.filter(state__in=[*OPEN_DUE_STATES, DueState.EXPIRED], window_end__lt=now)
            .exclude(kind=DueKind.SAFETY)
            .update(state=DueState.MISSED)
        )
    for link in (
        QuestionnaireLink.objects.filter(
            used_at__isnull=True, revoked_at__isnull=True, reminder_sent_at__isnull=True, expires_at__gt=now
        )
        .exclude(sent_to="")
        .select_related("clinic")
    ):
        before = dt.timedelta(hours=clinic_settings(link.clinic_id).reminder_before_hours)
        if link.expires_at - before <= now and send_link_reminder.call(link.pk, base_url):
            out.reminders += 1
    for pk in MeasureAlert.objects.filter(notified_at__isnull=True).values_list("pk", flat=True):
        try:
            if deliver_alert_notification(pk):
                out.notified += 1
        except Exception:
            log.exception("alert %s notification failed; will retry on the next tick", pk)
    return out
