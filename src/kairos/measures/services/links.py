"""Secure questionnaire links: create, resolve, validate answers, submit once, revoke.

A link is single-use: the link row is locked (``select_for_update``), ``used_at`` re-checked, and a unique
constraint (link, instrument) backs it up, so two simultaneous submissions store exactly one.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical.instruments import (
    AnswerError,
    Instrument,
    Rater,
    UnknownInstrumentError,
    get,
)
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.measures.models import (
    OPEN_DUE_STATES,
    DueState,
    MeasurementDue,
    QuestionnaireLink,
    ResponseSource,
)
from kairos.measures.services.clinic_config import LINK_VALID_HOURS, clinic_options, clinic_settings
from kairos.measures.services.recording import PATIENT_ACTOR, Recorded, record_response, score_or_error

LINK_SALT = "kairos.measures.link"
# Instruments a patient may complete from a link (self-report); C-SSRS self-report needs the eC-SSRS licence.
CLINICIAN_INSTRUMENTS = ("cssrs_screener", "madrs", "hamd17", "cadss6")


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
    actor: Actor,
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
            scored = {iid: score_or_error(iid, answers.get(iid, {}), options) for iid in link.instruments}
            recorded = [
                record_response(
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
def revoke_link(actor: Actor, link: QuestionnaireLink) -> None:
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
