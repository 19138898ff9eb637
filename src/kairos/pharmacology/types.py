"""Neutral input types of the pharmacology engine.

These frozen dataclasses are the only vocabulary the platform and CLI adapters need in order to turn a
clinical plan into a simulation; they carry no clinical rules. Amounts are milligrams of free base.
Times are minutes from the first administration of the simulation.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class Drug(enum.StrEnum):
    ESKETAMINE = "esketamine"  # S-ketamine alone
    RACEMIC = "racemic"  # 50:50 S + R ketamine
    ARKETAMINE = "arketamine"  # R-ketamine alone (used internally for the R half of a racemic dose)


class Route(enum.StrEnum):
    IV = "iv"
    INTRANASAL = "intranasal"
    ORAL = "oral"
    SUBLINGUAL = "sublingual"  # sublingual and buccal share one absorption model
    IM = "im"


class InputError(ValueError):
    """An input outside the engine's allowed range; the message names the field and the range."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Covariates of one (virtual or typical) patient."""

    weight_kg: float = 70.0
    age_y: float = 40.0
    sex: str = "unknown"  # "female" | "male" | "unknown"
    height_cm: float | None = None

    def __post_init__(self) -> None:
        _finite_in("weight_kg", self.weight_kg, 30.0, 250.0)
        _finite_in("age_y", self.age_y, 18.0, 100.0)
        if self.sex not in ("female", "male", "unknown"):
            raise InputError(f"sex must be one of female, male, unknown (got {self.sex!r})")
        if self.height_cm is not None:
            _finite_in("height_cm", self.height_cm, 100.0, 250.0)


@dataclass(frozen=True, slots=True)
class DoseEvent:
    """One administration. ``duration_min`` is the zero-order input time (0 = bolus / instantaneous)."""

    start_min: float
    drug: Drug
    route: Route
    amount_mg_base: float
    duration_min: float = 0.0

    def __post_init__(self) -> None:
        _finite_in("start_min", self.start_min, 0.0, math.inf)
        _finite_in("amount_mg_base", self.amount_mg_base, 0.0, 10_000.0)
        _finite_in("duration_min", self.duration_min, 0.0, 24 * 60.0)


def _finite_in(name: str, value: float, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{name} must be a finite number (got {value!r})")
    if not lo <= value <= hi:
        raise InputError(f"{name} must be between {lo:g} and {hi:g} (got {value:g})")
