"""Signing a clinic's override of a threshold, or its revert to the cited default (issue #12 §7).

Each write: the signer must hold ``RULES_OVERRIDE`` in the clinic (a prescriber; 404 outside their clinics,
403 inside without it); the value is validated against the param's allowed range (refusal names the param
and the range); the reason is 15–2000 characters; the row is a new version (append-only) linked to the one
it replaces; an audit row records old and new values in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical.config import ConfigError
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.reasons import require_reason
from kairos.rulesets import catalogue
from kairos.rulesets.models import REASON_MAX, REASON_MIN, RuleOverride
from kairos.rulesets.selectors import effective_param


class StaleVersion(ValidationError):
    """The override changed since the form was opened (someone else signed a newer version)."""


def signer_name(actor: Actor) -> str:
    full = actor.get_full_name().strip()
    return f"{full} ({actor.get_username()})" if full else actor.get_username()


def _write(
    actor: Actor,
    clinic_id: int,
    ruleset: str,
    key: str,
    value: Any,
    reason: str,
    expected_version: int | None,
) -> RuleOverride:
    policies.require(actor, Act.RULES_OVERRIDE, clinic_id)
    p = catalogue.param(ruleset, key)  # UnknownRule for an unknown rule set or key
    stored: Any = None
    if value is not None:
        try:
            stored = catalogue.to_json(catalogue.check_value(ruleset, p, value))
        except ConfigError as exc:
            raise ValidationError({"value": str(exc)}) from None
    text = require_reason(reason, field="reason", min_length=REASON_MIN, max_length=REASON_MAX)
    # One writer per clinic at a time: the clinic row's lock orders concurrent signings, so each gets the
    # next version (the unique constraint is the second line of defence).
    Clinic.objects.select_for_update().filter(pk=clinic_id).first()
    before = effective_param(clinic_id, ruleset, key)
    previous = before.latest
    current_version = previous.version if previous else 0
    if expected_version is not None and expected_version != current_version:
        raise StaleVersion(
            {
                "value": f"{ruleset}.{key} changed since you opened it (now version {current_version}); "
                "review the current value and sign again"
            }
        )
    if value is None and (previous is None or previous.value is None):
        raise ValidationError({"value": f"{ruleset}.{key} already has its default value"})
    try:
        with transaction.atomic():
            row = RuleOverride.objects.create(
                clinic_id=clinic_id,
                ruleset=ruleset,
                key=key,
                version=current_version + 1,
                value=stored,
                default_at_signing=catalogue.to_json(p.value),
                reason=text,
                signed_by=actor,
                signed_by_name=signer_name(actor),
                signed_at=timezone.now(),
                previous=previous,
            )
    except IntegrityError:
        raise StaleVersion(
            {"value": f"{ruleset}.{key} was changed at the same moment by someone else; sign again"}
        ) from None
    what = "reverted to the default" if stored is None else f"set to {catalogue.show(stored, p.unit)}"
    record(
        Action.SIGN,
        actor=actor,
        clinic=clinic_id,
        obj=row,
        summary=f"rule override {ruleset}.{key} v{row.version}: {what}",
        old={
            "value": catalogue.to_json(before.value),
            "overridden": before.overridden,
            "version": current_version,
        },
        new={
            "value": stored,
            "effective": catalogue.to_json(p.value if stored is None else stored),
            "version": row.version,
            "default": catalogue.to_json(p.value),
        },
        reason=text,
    )
    return row


@transaction.atomic
def set_override(
    actor: Actor,
    clinic_id: int,
    ruleset: str,
    key: str,
    value: Any,
    reason: str,
    *,
    expected_version: int | None = None,
) -> RuleOverride:
    """Sign a new version of the clinic's value for ``ruleset.key``. ``value`` is a number, true/false or
    a choice (see :func:`kairos.rulesets.catalogue.parse_value` for text); ``expected_version`` (the version
    the signer saw, 0 for none) refuses a stale form instead of silently replacing a newer override."""
    if value is None:
        raise ValidationError({"value": f"{ruleset}.{key}: a value is required"})
    return _write(actor, clinic_id, ruleset, key, value, reason, expected_version)


@transaction.atomic
def revert_override(
    actor: Actor,
    clinic_id: int,
    ruleset: str,
    key: str,
    reason: str,
    *,
    expected_version: int | None = None,
) -> RuleOverride:
    """Sign a new version that puts ``ruleset.key`` back to the cited default (``value`` null)."""
    return _write(actor, clinic_id, ruleset, key, None, reason, expected_version)
