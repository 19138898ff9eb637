"""Effective rules of a clinic: the cited defaults with the clinic's latest signed overrides applied.

:func:`effective_rules` is what the gates get (``rules=effective_rules(clinic_id, "safety")``);
:func:`effective_param` is what a page shows beside a decision (value, default, source, status, and who
changed it, when and why). Neither checks permissions: callers have already scoped the clinic (the pages
use :func:`kairos.accounts.selectors.get_clinic`). An override stored earlier that the current code no
longer accepts (its key removed or its range narrowed) is ignored, logged and flagged, so the cited
default applies instead of a value outside today's allowed range.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from kairos.clinical.config import ConfigError, Override, Param, ParamValue, RuleSet, Status
from kairos.rulesets import catalogue
from kairos.rulesets.models import RuleOverride

log = logging.getLogger(__name__)

#: A per-request cache: (clinic id, rule-set name) -> effective rule set.
RulesCache = MutableMapping[tuple[int, str], RuleSet]


def latest_versions(clinic_id: int, ruleset: str) -> dict[str, RuleOverride]:
    """Key -> the latest version stored for the clinic's rule set (reverts included)."""
    latest: dict[str, RuleOverride] = {}
    rows = RuleOverride.objects.filter(clinic_id=clinic_id, ruleset=ruleset).order_by("key", "version")
    for row in rows.select_related("signed_by"):
        latest[row.key] = row
    return latest


def _usable(rules: RuleSet, row: RuleOverride) -> tuple[ParamValue | None, str]:
    """(validated value, "") for an active override; (None, why) when the code no longer accepts it."""
    p = rules.params.get(row.key)
    if p is None:
        return None, f"override v{row.version} ignored: the rule set no longer has {row.key!r}"
    try:
        return catalogue.check_value(rules.name, p, row.value), ""
    except ConfigError as exc:
        return None, f"override v{row.version} ignored: {exc}"


def _override(row: RuleOverride, value: ParamValue) -> Override:
    return Override(key=row.key, value=value, by=row.signed_by_name, at=row.signed_at, reason=row.reason)


def effective_rules(clinic_id: int, ruleset: str, *, cache: RulesCache | None = None) -> RuleSet:
    """The rule set ``ruleset`` as clinic ``clinic_id`` has it: the code's defaults with the latest
    active override of each key applied (``Param.overridden_by`` says who, when and why). Raises
    :class:`~kairos.rulesets.catalogue.UnknownRule` for an unknown rule set."""
    if cache is not None and (clinic_id, ruleset) in cache:
        return cache[(clinic_id, ruleset)]
    rules = catalogue.rule_set(ruleset)
    overrides: list[Override] = []
    for row in latest_versions(clinic_id, ruleset).values():
        if row.value is None:
            continue
        value, problem = _usable(rules, row)
        if problem:
            log.warning("clinic %s %s.%s: %s", clinic_id, ruleset, row.key, problem)
            continue
        assert value is not None
        overrides.append(_override(row, value))
    result = rules.with_overrides(overrides) if overrides else rules
    if cache is not None:
        cache[(clinic_id, ruleset)] = result
    return result


def request_rules(request: Any, clinic_id: int, ruleset: str) -> RuleSet:
    """:func:`effective_rules` cached on ``request`` (one query per rule set per request)."""
    cache: RulesCache | None = getattr(request, "_kairos_rules", None)
    if cache is None:
        cache = {}
        setattr(request, "_kairos_rules", cache)  # noqa: B010 (a per-request cache, not a model field)
    return effective_rules(clinic_id, ruleset, cache=cache)


@dataclass(frozen=True)
class EffectiveParam:
    """One param as a clinic has it, with its provenance (what a decision page shows)."""

    ruleset: str
    param: Param  # the code's default param
    value: ParamValue
    override: RuleOverride | None  # the active override, when one applies
    latest: RuleOverride | None  # the latest stored version (an override or a revert)
    problem: str = ""  # why a stored override is ignored, if one is

    @property
    def key(self) -> str:
        return self.param.key

    @property
    def default(self) -> ParamValue:
        return self.param.value

    @property
    def unit(self) -> str:
        return self.param.unit

    @property
    def source(self) -> str:
        return self.param.source

    @property
    def status(self) -> Status:
        return self.param.status

    @property
    def overridden(self) -> bool:
        return self.override is not None

    @property
    def overridable(self) -> bool:
        return catalogue.overridable(self.param)

    @property
    def allowed(self) -> str:
        return catalogue.allowed(self.param)

    @property
    def less_safe(self) -> bool:
        return self.override is not None and catalogue.less_safe(self.param, self.value)

    @property
    def value_text(self) -> str:
        return catalogue.show(self.value, self.unit)

    @property
    def default_text(self) -> str:
        return catalogue.show(self.default, self.unit)

    @property
    def signed_by(self) -> str:
        return self.override.signed_by_name if self.override else ""

    @property
    def signed_at(self) -> dt.datetime | None:
        return self.override.signed_at if self.override else None

    @property
    def reason(self) -> str:
        return self.override.reason if self.override else ""

    def provenance(self) -> str:
        """``"source; clinic override by X on D"`` (or the source alone for the default)."""
        if self.override is None:
            return self.source
        on = self.override.signed_at.date().isoformat()
        return f"{self.source}; clinic override by {self.override.signed_by_name} on {on}"

    def describe(self) -> str:
        """``"value unit (source; clinic override by X on D)"``."""
        return f"{self.value_text} ({self.provenance()})"


def _effective(ruleset: str, p: Param, latest: RuleOverride | None) -> EffectiveParam:
    if latest is None or latest.value is None:
        return EffectiveParam(ruleset, p, p.value, None, latest)
    value, problem = _usable(catalogue.rule_set(ruleset), latest)
    if problem:
        return EffectiveParam(ruleset, p, p.value, None, latest, problem)
    assert value is not None
    return EffectiveParam(ruleset, p, value, latest, latest)


def effective_params(clinic_id: int, ruleset: str) -> list[EffectiveParam]:
    """Every param of ``ruleset`` as the clinic has it, in the rule set's order."""
    rules = catalogue.rule_set(ruleset)
    latest = latest_versions(clinic_id, ruleset)
    return [_effective(ruleset, p, latest.get(p.key)) for p in rules]


def effective_param(clinic_id: int, ruleset: str, key: str) -> EffectiveParam:
    """One param as the clinic has it (:class:`~kairos.rulesets.catalogue.UnknownRule` if there is none)."""
    p = catalogue.param(ruleset, key)
    row = (
        RuleOverride.objects.filter(clinic_id=clinic_id, ruleset=ruleset, key=key)
        .order_by("-version")
        .select_related("signed_by")
        .first()
    )
    return _effective(ruleset, p, row)


def history(clinic_id: int, ruleset: str, key: str) -> list[RuleOverride]:
    """Every version of the clinic's overrides of one key, newest first."""
    rows = RuleOverride.objects.filter(clinic_id=clinic_id, ruleset=ruleset, key=key)
    return list(rows.order_by("-version").select_related("signed_by"))


def override_counts(clinic_id: int, names: Iterable[str]) -> dict[str, int]:
    """Rule-set name -> number of keys with an active override in the clinic."""
    return {
        name: sum(1 for row in latest_versions(clinic_id, name).values() if row.value is not None)
        for name in names
    }
