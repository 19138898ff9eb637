"""Shared mechanics of the dosing services: field errors, the reason rule, charted times, optimistic locking
and status moves."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from kairos.clinical.safety.vitals import VitalsError, validate_vitals
from kairos.core import reasons
from kairos.core.reasons import require_reason
from kairos.core.time import FUTURE_SLACK, is_future
from kairos.dosing import domain, selectors
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    CautionDecision,
    Decision,
    DosingSession,
    PreCheck,
)

MIN_REASON = reasons.SIGNED_MIN_LENGTH  # an override / amendment reason (kairos.core.reasons)
# How far back a "last food/liquid" time may lie: a plausibility bound on data entry (year-1 typos), not the
# fasting rule itself (that lives in kairos.clinical); older times are left blank as unknown.
INTAKE_LOOKBACK = dt.timedelta(days=7)


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: f"{field}: {message}"})


MAX_REASON = reasons.SIGNED_MAX_LENGTH  # longer is refused, never cut


def _reason(reason: str, field: str = "reason", *, max_length: int = MAX_REASON) -> str:
    """The one reason rule (:func:`kairos.core.reasons.require_reason`) with dosing's minimum."""
    return require_reason(reason, field=field, min_length=MIN_REASON, max_length=max_length, hint="say why")


def _aware(value: dt.datetime | None, field: str, *, default_now: bool = True) -> dt.datetime:
    if value is None:
        if default_now:
            return timezone.now()
        raise _err(field, "required")
    if timezone.is_naive(value):
        raise _err(field, "must include a time zone")
    if is_future(value):
        raise _err(
            field,
            f"{value.isoformat(timespec='minutes')} is in the future "
            f"(allowed: up to {FUTURE_SLACK.seconds // 60} min after now)",
        )
    return value


def _local(session: DosingSession, value: dt.datetime) -> str:
    return value.astimezone(session.clinic.tz).strftime("%Y-%m-%d %H:%M")


def _charted_at(
    session: DosingSession,
    at: dt.datetime | None,
    field: str,
    what: str,
    previous: tuple[tuple[str, dt.datetime | None], ...],
) -> dt.datetime:
    """The time a step is charted at: ``at`` (clinic-local from the form, for retrospective charting) or
    now; never more than :data:`FUTURE_SLACK` in the future and never before the session's previous step
    (each of ``previous``: (label, time), None = step not taken)."""
    when = _aware(at, field)
    for label, prev in previous:
        if prev is not None and when < prev:
            raise _err(
                field,
                f"{what} {_local(session, when)} is before {label} ({_local(session, prev)}); "
                f"allowed range [{_local(session, prev)}, now + {FUTURE_SLACK.seconds // 60} min], "
                f"clinic time ({session.clinic.tz})",
            )
    return when


def _lock(session: DosingSession, expected_version: int | None) -> DosingSession:
    """Re-read the session under a row lock and check the caller saw the latest version."""
    fresh = (
        DosingSession.objects.select_for_update(of=("self",))
        .select_related("clinic", "patient")
        .get(pk=session.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise ValidationError(
            {
                "version": "version: this session was changed by someone else (now version "
                f"{fresh.version}, you saw {expected_version}); reload and try again"
            }
        )
    return fresh


def _fresh(session: DosingSession) -> DosingSession:
    return DosingSession.objects.select_related("clinic", "patient", "responsible_clinician").get(
        pk=session.pk
    )


def _move(session: DosingSession, target: Status, **fields: Any) -> None:
    if not domain.can_move(session.status, target):
        raise ValidationError(
            {
                "status": f"status: cannot go from {session.get_status_display()} to {target.value.replace('_', ' ')}"
            }
        )
    session.status = target.value
    for k, v in fields.items():
        setattr(session, k, v)
    session.updated_at = timezone.now()
    DosingSession.objects.filter(pk=session.pk).update(
        version=F("version") + 1, status=session.status, updated_at=session.updated_at, **fields
    )
    session.version += 1


def _vitals_fields(values: Mapping[str, Any]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in ("sbp", "dbp", "heart_rate", "spo2", "resp_rate"):
        v = values.get(name)
        if v in (None, ""):
            out[name] = None
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise _err(name, f"expected a number, got {v!r}") from None
        if not math.isfinite(f):
            raise _err(name, f"expected a finite number, got {v!r}")
        out[name] = round(f)
    return out


def _validate_vitals(at: dt.datetime, vals: Mapping[str, int | None]) -> None:
    try:
        validate_vitals(selectors.as_vitals_values(at, vals))
    except VitalsError as exc:
        raise _err(exc.field, str(exc).split(": ", 1)[1]) from None


def caution_findings(precheck: PreCheck) -> list[dict[str, Any]]:
    """The CAUTION findings of the current gate evaluation (REMS and pre-dose gates), as stored."""
    found = [*precheck.rems_result.get("findings", []), *precheck.gate_result.get("findings", [])]
    return [f for f in found if f.get("severity") == "caution"]


def pending_cautions(session: DosingSession) -> list[dict[str, Any]]:
    """Cautions of the current gate evaluation with no recorded 'proceed' decision by a prescriber
    (issue #12 §2): the dose cannot be ordered while any is pending."""
    precheck = PreCheck.objects.filter(session_id=session.pk).first()
    if precheck is None:
        return []
    decided = {
        code
        for codes in CautionDecision.objects.filter(
            session_id=session.pk, gate_run=precheck.gate_run, decision=Decision.PROCEED
        ).values_list("codes", flat=True)
        for code in codes
    }
    return [f for f in caution_findings(precheck) if f.get("code") not in decided]


def describe_findings(findings: list[dict[str, Any]]) -> str:
    return "; ".join(f"{f.get('code')} ({f.get('message', '')})" for f in findings)
