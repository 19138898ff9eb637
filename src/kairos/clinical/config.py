"""Typed, cited, overridable clinical constants.

Every threshold, dose, cut-off and interval used by ``kairos.clinical`` is a :class:`Param` inside a
:class:`RuleSet`. A param records its value, unit, source (paper, label section, CFR section, or the
section of ``shared/reference/clinical.md`` that cites it), and whether the source confirms it.
Values the reference marks ⚠ (or does not give at all) are ``Status.UNCONFIRMED``: they are defaults a
clinic must review, never silent inventions.

A clinic overrides a value with an :class:`Override` (who, when, why); the override is validated
against the param's bounds and the result is a new ``RuleSet`` - rule sets are immutable.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any


class Status(enum.StrEnum):
    """How well the reference supports a value."""

    CONFIRMED = "confirmed"  # ✅ in the reference: confirmed in a cited source
    PARTIAL = "partial"  # ◐ partly confirmed (secondary source, older document)
    UNCONFIRMED = "unconfirmed"  # ⚠ or absent from the reference: a default the clinic must review


class ConfigError(ValueError):
    """A rule-set key is unknown or an override is outside its allowed range."""


ParamValue = int | float | str | bool | tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Param:
    """One clinical constant with its provenance and the range a clinic may set it to."""

    key: str
    value: ParamValue
    unit: str
    source: str
    status: Status
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    overridden_by: Override | None = None
    #: Which direction of change is safer for patients ("lower" or "higher"); None where neither is
    #: (codes, texts, flags). Safety params set it; the hazard log and its test use it (issue #12).
    safer: str | None = None

    def __post_init__(self) -> None:
        if self.safer not in (None, "lower", "higher"):
            raise ConfigError(f"{self.key}: safer must be 'lower', 'higher' or None, got {self.safer!r}")

    def validate(self, value: Any) -> ParamValue:
        """Return ``value`` coerced to this param's type, or raise ``ConfigError`` naming the range."""
        current = self.value
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{self.key}: expected true or false, got {value!r}")
            return value
        if isinstance(current, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{self.key}: expected a number, got {value!r}")
            if value != value or value in (float("inf"), float("-inf")):
                raise ConfigError(f"{self.key}: expected a finite number, got {value!r}")
            if self.minimum is not None and value < self.minimum:
                raise ConfigError(f"{self.key}: {value} is below the allowed range {self._range()}")
            if self.maximum is not None and value > self.maximum:
                raise ConfigError(f"{self.key}: {value} is above the allowed range {self._range()}")
            return type(current)(value) if isinstance(current, float) else value
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ConfigError(f"{self.key}: {value!r} is not one of {allowed}")
        if isinstance(current, tuple):
            if not isinstance(value, tuple | list):
                raise ConfigError(f"{self.key}: expected a list, got {value!r}")
            return tuple(value)
        if not isinstance(value, str):
            raise ConfigError(f"{self.key}: expected text, got {value!r}")
        return value

    def _range(self) -> str:
        lo = "-inf" if self.minimum is None else f"{self.minimum:g}"
        hi = "inf" if self.maximum is None else f"{self.maximum:g}"
        return f"[{lo}, {hi}] {self.unit}".rstrip()


@dataclass(frozen=True, slots=True)
class Override:
    """A clinic's change to one param: who made it, when and why."""

    key: str
    value: Any
    by: str
    at: dt.datetime
    reason: str

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ConfigError(f"{self.key}: override time must be timezone-aware")
        if not self.reason.strip():
            raise ConfigError(f"{self.key}: an override needs a reason")
        if not self.by.strip():
            raise ConfigError(f"{self.key}: an override needs the name of who made it")


@dataclass(frozen=True)
class RuleSet:
    """An immutable, named collection of params for one area (alerts, safety, dosing, …)."""

    name: str
    title: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @classmethod
    def of(cls, name: str, title: str, params: Iterable[Param]) -> RuleSet:
        items: dict[str, Param] = {}
        for p in params:
            if p.key in items:
                raise ConfigError(f"{name}: duplicate key {p.key}")
            items[p.key] = p
        return cls(name=name, title=title, params=items)

    def __getitem__(self, key: str) -> ParamValue:
        return self.param(key).value

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params.values())

    def param(self, key: str) -> Param:
        try:
            return self.params[key]
        except KeyError:
            raise ConfigError(f"{self.name}: unknown key {key!r}") from None

    def num(self, key: str) -> float:
        value = self[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.name}.{key} is not a number")
        return float(value)

    def with_overrides(self, overrides: Iterable[Override]) -> RuleSet:
        """Return a new rule set with each override validated and applied (last one wins)."""
        params = dict(self.params)
        for o in overrides:
            base = self.param(o.key)
            params[o.key] = replace(base, value=base.validate(o.value), overridden_by=o)
        return RuleSet(name=self.name, title=self.title, params=params)

    def unconfirmed(self) -> list[Param]:
        """Params a clinic must review (status other than confirmed)."""
        return [p for p in self if p.status is not Status.CONFIRMED]
