"""Result types shared by the safety rules."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    """What a rule tells the clinic to do, from least to most severe."""

    OK = "ok"  # nothing found (or information only)
    CAUTION = "caution"  # proceed with a documented clinical decision or closer monitoring
    HOLD = "hold"  # do not proceed now; recheck or resolve first
    HARD_STOP = "hard_stop"  # may not proceed (contraindication or regulatory requirement)
    ESCALATE = "escalate"  # emergency: get help / emergency care now

    @property
    def rank(self) -> int:
        return _RANK[self]

    @staticmethod
    def worst(outcomes: Iterable[Outcome]) -> Outcome:
        return max(outcomes, key=lambda o: o.rank, default=Outcome.OK)


_RANK = {o: i for i, o in enumerate(Outcome)}


class Route(enum.StrEnum):
    """Administration route as the safety rules see it."""

    ESKETAMINE = "esketamine"  # esketamine (Spravato) nasal spray
    IV = "iv"
    IM = "im"
    SC = "sc"


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason behind a rule's outcome."""

    code: str
    severity: Outcome
    message: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class RuleResult:
    """A rule's outcome (the worst finding) and every finding behind it."""

    outcome: Outcome
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> RuleResult:
        items = tuple(findings)
        return cls(outcome=Outcome.worst(f.severity for f in items), findings=items)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": str(self.outcome), "findings": [f.to_dict() for f in self.findings]}


def require_aware(value: dt.datetime, name: str) -> dt.datetime:
    """Return ``value`` or raise ``ValueError`` naming the field when it has no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: must be a timezone-aware datetime")
    return value
