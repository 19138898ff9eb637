"""Which rule-set params a clinic may override in the app, their allowed ranges, and value parsing.

No database here. A param is overridable when its allowed values are bounded: a number with both a
minimum and a maximum (and, where it has them, one of its choices), one of a text param's choices, or
true/false. Lists (code and medicine-name lists, plausible ranges, required fields) have no allowed
range in the rule sets, so the app refuses to change them; they change in the code, with review.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from kairos.clinical.config import ConfigError, Param, ParamValue, RuleSet
from kairos.clinical.rules import all_rule_sets


class UnknownRule(LookupError):
    """No rule set of that name, or no such key in it (pages answer 404)."""


@functools.cache
def _registry() -> dict[str, RuleSet]:
    return {rs.name: rs for rs in all_rule_sets()}


def rule_sets() -> list[RuleSet]:
    """Every rule set (the code defaults), sorted by name."""
    return list(_registry().values())


def rule_set(name: str) -> RuleSet:
    try:
        return _registry()[name]
    except KeyError:
        raise UnknownRule(f"no rule set named {name!r}") from None


def param(ruleset: str, key: str) -> Param:
    rules = rule_set(ruleset)
    try:
        return rules.params[key]
    except KeyError:
        raise UnknownRule(f"rule set {ruleset!r} has no key {key!r}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)  # never a rounded value
    if isinstance(value, tuple | list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def show(value: Any, unit: str = "") -> str:
    """A value for people: ``93 %``, ``true``, ``urgent``, ``56, 84``."""
    text = _fmt(value)
    return f"{text} {unit}".rstrip() if unit and _is_number(value) else text


def overridable(p: Param) -> bool:
    if isinstance(p.value, bool):
        return True
    if _is_number(p.value):
        return p.choices is not None or (p.minimum is not None and p.maximum is not None)
    if isinstance(p.value, str):
        return p.choices is not None
    return False


def allowed(p: Param) -> str:
    """The allowed values of ``p`` in words (what every refusal names)."""
    if isinstance(p.value, bool):
        return "true or false"
    if p.choices is not None:
        return "one of " + ", ".join(show(c, p.unit) for c in p.choices)
    if _is_number(p.value) and p.minimum is not None and p.maximum is not None:
        return f"{p.minimum:g} to {p.maximum:g} {p.unit}".rstrip()
    return "not changeable here (no allowed range in the rule set)"


def _refuse(ruleset: str, p: Param, detail: str) -> ConfigError:
    return ConfigError(f"{ruleset}.{p.key}: {detail}; allowed: {allowed(p)}")


def parse_value(ruleset: str, p: Param, text: str) -> ParamValue:
    """``text`` from a form or the command line as a value of ``p``'s type (not yet range-checked)."""
    raw = (text or "").strip()
    if not raw:
        raise _refuse(ruleset, p, "a value is required")
    if isinstance(p.value, bool):
        lowered = raw.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise _refuse(ruleset, p, f"{raw!r} is not true or false")
    if _is_number(p.value):
        try:
            number = float(raw)
        except ValueError:
            raise _refuse(ruleset, p, f"{raw!r} is not a number") from None
        return number
    if p.choices is not None:
        for choice in p.choices:
            if _fmt(choice) == raw:
                return choice  # type: ignore[no-any-return]
        raise _refuse(ruleset, p, f"{raw!r} is not an allowed choice")
    return raw


def check_value(ruleset: str, p: Param, value: Any) -> ParamValue:
    """``value`` validated for ``p`` (bounded, finite, whole where the default is whole, a listed choice), or
    :class:`ConfigError` naming the param and its allowed values."""
    if not overridable(p):
        raise _refuse(ruleset, p, "a clinic cannot override this param in the app")
    if _is_number(p.value):
        if not _is_number(value):
            raise _refuse(ruleset, p, f"{value!r} is not a number")
        if not math.isfinite(value):
            raise _refuse(ruleset, p, f"{value!r} is not a finite number")
        if isinstance(p.value, int):
            if float(value) != int(value):
                raise _refuse(ruleset, p, f"{value:g} is not a whole number")
            value = int(value)
        if p.choices is not None and value not in p.choices:
            raise _refuse(ruleset, p, f"{value:g} is not one of the allowed values")
    try:
        return p.validate(value)
    except ConfigError as exc:
        raise _refuse(ruleset, p, str(exc).removeprefix(f"{p.key}: ")) from None


def to_json(value: ParamValue) -> Any:
    """A validated value as stored (a tuple becomes a list)."""
    return list(value) if isinstance(value, tuple) else value


def less_safe(p: Param, value: Any) -> bool:
    """Does ``value`` move ``p`` away from its default in the direction its ``safer`` marks as less safe?"""
    if p.safer is None or not _is_number(p.value) or not _is_number(value):
        return False
    if p.safer == "lower":
        return bool(value > p.value)
    return bool(value < p.value)
