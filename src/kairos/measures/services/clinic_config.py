"""A clinic's measurement settings: licences, schedule overrides, link lifetime, reminder lead and the
crisis-resources text (with its reviewer)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical import measurement_plan
from kairos.clinical.config import ConfigError, Override, RuleSet
from kairos.clinical.instruments import (
    ClinicOptions,
    Instrument,
)
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.measures.models import (
    ClinicCrisisResources,
    ClinicMeasureSettings,
)

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
    actor: Actor,
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
    hours, lead = _checked_settings(
        s,
        licences=licences,
        schedule_overrides=schedule_overrides,
        link_valid_hours=link_valid_hours,
        reminder_before_hours=reminder_before_hours,
        crisis_text=crisis_text,
    )

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


def _checked_settings(
    s: ClinicMeasureSettings,
    *,
    licences: Sequence[str] | None,
    schedule_overrides: Mapping[str, Any] | None,
    link_valid_hours: int | None,
    reminder_before_hours: int | None,
    crisis_text: str | None,
) -> tuple[int, int]:
    """Validate a settings change (``ValidationError`` naming the field and range); return the link
    lifetime and reminder lead, in hours, to store."""
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
    return hours, lead


def _all() -> tuple[Instrument, ...]:
    from kairos.clinical.instruments import all_instruments

    return all_instruments()
