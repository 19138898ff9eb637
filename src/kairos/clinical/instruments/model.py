"""Data model for versioned instrument definitions and their scores (frozen dataclasses)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Rater(enum.StrEnum):
    SELF = "self"
    CLINICIAN = "clinician"


class Licence(enum.StrEnum):
    """FREE: item wording may be shipped. LICENSED: store scores and short labels only."""

    FREE = "free"
    LICENSED = "licensed"


class ScoringRule(enum.StrEnum):
    SUM = "sum"  # sum of item scores
    MAX_OF_GROUPS = "max_of_groups"  # QIDS: sum of per-domain maxima
    SINGLE_RATING = "single_rating"  # MOAA/S: the one rating is the score
    TRIAGE = "triage"  # C-SSRS screener: highest positive item -> risk level, no total


class AnswerError(ValueError):
    """An answer is not one of the item's allowed values, or names an unknown item."""


#: Administrative sex as a patient record holds it (FHIR AdministrativeGender).
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")


class SexError(ValueError):
    """The sex given for sex-specific cut-offs is not one of :data:`SEXES`."""


class UnknownInstrumentError(KeyError):
    """No instrument with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown instrument"


class LicenceError(ValueError):
    """The clinic has not declared the licence this use of an instrument needs."""


@dataclass(frozen=True, slots=True)
class AnswerOption:
    """One allowed answer. ``value`` is what is entered; ``score`` what it adds (differs when reverse-scored)."""

    value: int
    label: str
    loinc: str | None = None  # LOINC LA answer code
    variant_loinc: tuple[str, ...] = ()  # other LA codes real forms use for this answer
    score: int | None = None

    @property
    def points(self) -> int:
        return self.value if self.score is None else self.score


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    label: str  # short label (always safe to show)
    options: tuple[AnswerOption, ...]
    text: str | None = None  # full published wording, only where free to reproduce
    loinc: str | None = None
    scored: bool = True
    optional: bool = False  # may be left out entirely (e.g. PHQ-9 difficulty item); never scored
    safety: bool = False  # suicide/self-harm item: never prorated; blank is flagged

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    def option(self, value: int) -> AnswerOption:
        for o in self.options:
            if o.value == value:
                return o
        raise AnswerError(self.describe_error(value))

    def describe_error(self, value: object) -> str:
        allowed = ", ".join(str(v) for v in self.values)
        return f"item {self.id} ({self.label}): {value!r} is not an allowed answer (allowed: {allowed})"


@dataclass(frozen=True, slots=True)
class RecallPeriod:
    amount: int | None  # None: "current" / state at the time of rating
    unit: str  # "hours", "days", "months" (30 days each) or, with amount None, "current"/"since last visit"
    label: str
    modified: bool = False  # recall window differs from the validated instrument
    source: str = ""

    @property
    def hours(self) -> float | None:
        if self.amount is None:
            return None
        per = {"hours": 1.0, "days": 24.0, "months": 24.0 * 30}
        return self.amount * per[self.unit]


@dataclass(frozen=True, slots=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True, slots=True)
class MissingRule:
    """How unanswered items are handled. ``prorate_key`` names the max-missing param in rules.instruments."""

    description: str
    source: str
    confirmed: bool
    prorate_key: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    version: str
    name: str
    construct: str
    rater: Rater
    recall: RecallPeriod
    items: tuple[Item, ...]
    scoring: ScoringRule
    bands: tuple[Band, ...]
    bands_source: str
    licence: Licence
    licence_note: str
    missing: MissingRule
    source: str
    loinc_panel: str | None = None
    loinc_total: str | None = None
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # MAX_OF_GROUPS: (domain, item ids)
    # keys in kairos.clinical.rules.instruments.RULES, or "<rule set>:<key>" in another rule set (outcomes)
    cutoff_keys: tuple[str, ...] = ()
    alert_codes: tuple[str, ...] = ()  # codes in kairos.clinical.rules.alerts
    subscales: tuple[tuple[str, tuple[str, ...]], ...] = ()  # reported sums of item subsets
    licence_key: str = ""  # the name a clinic declares in ClinicOptions.licences
    self_report_licence_key: str = ""  # clinician-entered unless the clinic declares this licence
    screen_key: str | None = None  # rules.instruments key: total >= value -> positive screen
    screen_labels: tuple[str, str] = ("negative screen", "positive screen")
    # sex-specific screen cut-offs: (sex, rules.instruments key), e.g. AUDIT-C >=4 men, >=3 women. Used
    # instead of ``screen_key``; a sex not listed (other/unknown/not given) gets the lowest of these cut-offs
    # and a flag.
    screen_by_sex: tuple[tuple[str, str], ...] = ()
    # MAX_OF_GROUPS: item sets of which the form asks for only one (QIDS-SR16: 6 or 7, 8 or 9); a blank
    # member whose partner is answered is expected, not a gap.
    either_or: tuple[tuple[str, ...], ...] = ()
    cluster_rule: tuple[
        tuple[str, int], ...
    ] = ()  # (subscale, min endorsed items) for a provisional diagnosis
    cluster_rule_key: str | None = None  # rules.instruments key: item score counted as endorsed
    notes: str = ""

    @property
    def requires_licence_flag(self) -> bool:
        return self.licence is Licence.LICENSED

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    @property
    def core_items(self) -> tuple[Item, ...]:
        """Items a full administration answers (optional trailing items excluded)."""
        return tuple(i for i in self.items if not i.optional)

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        known = ", ".join(i.id for i in self.items)
        raise AnswerError(f"{self.id}: unknown item {item_id!r} (items: {known})")

    @property
    def min_total(self) -> int | None:
        if self.scoring is ScoringRule.TRIAGE:
            return None
        if self.scoring is ScoringRule.MAX_OF_GROUPS:
            return sum(
                min(min(o.points for o in self.item(i).options) for i in ids) for _, ids in self.groups
            )
        return sum(min(o.points for o in i.options) for i in self.scored_items)

    @property
    def max_total(self) -> int | None:
        if self.scoring is ScoringRule.TRIAGE:
            return None
        if self.scoring is ScoringRule.MAX_OF_GROUPS:
            return sum(
                max(max(o.points for o in self.item(i).options) for i in ids) for _, ids in self.groups
            )
        return sum(max(o.points for o in i.options) for i in self.scored_items)

    def band(self, total: int) -> str | None:
        for b in self.bands:
            if b.low <= total <= b.high:
                return b.label
        return None

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly description (no item wording for licensed instruments)."""
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "construct": self.construct,
            "rater": str(self.rater),
            "recall": {
                "amount": self.recall.amount,
                "unit": self.recall.unit,
                "modified": self.recall.modified,
            },
            "licence": str(self.licence),
            "requires_licence_flag": self.requires_licence_flag,
            "scoring": str(self.scoring),
            "loinc_panel": self.loinc_panel,
            "loinc_total": self.loinc_total,
            "items": [
                {"id": i.id, "label": i.label, "loinc": i.loinc, "values": list(i.values), "safety": i.safety}
                for i in self.items
            ],
        }


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    reason: str
    item: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "item": self.item}


@dataclass(frozen=True, slots=True)
class ClinicOptions:
    """What a clinic has declared: licences held (by ``Instrument.licence_key``), self-report entry, rules."""

    licences: frozenset[str] = frozenset()
    self_report: bool = False  # the patient enters answers electronically (not a clinician)
    rules: Any = None  # a RuleSet overriding kairos.clinical.rules.instruments.RULES


@dataclass(frozen=True)
class Score:
    instrument_id: str
    instrument_version: str
    scorer_version: str
    total: int | None  # None when not scorable (too many missing, safety item blank, triage instrument)
    raw_total: int  # sum of answered item scores (missing counted as 0), for comparison with other systems
    severity: str | None
    flags: tuple[Flag, ...]
    recall: RecallPeriod
    prorated: bool
    answers: Mapping[str, int | None]
    missing: tuple[str, ...] = ()
    domains: Mapping[str, int | None] = field(default_factory=dict)
    subscales: Mapping[str, int | None] = field(default_factory=dict)
    # Triage instruments: the level the answered items establish. Equals ``severity`` when that is
    # assessed; when a blank item could still raise the level, ``severity`` is None ("not assessed") and
    # this is the floor the alerts act on.
    minimum_severity: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", MappingProxyType(dict(self.answers)))
        object.__setattr__(self, "domains", MappingProxyType(dict(self.domains)))
        object.__setattr__(self, "subscales", MappingProxyType(dict(self.subscales)))

    @property
    def complete(self) -> bool:
        return not self.missing

    def has_flag(self, code: str) -> bool:
        return any(f.code == code for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "instrument_version": self.instrument_version,
            "scorer_version": self.scorer_version,
            "total": self.total,
            "raw_total": self.raw_total,
            "severity": self.severity,
            "minimum_severity": self.minimum_severity,
            "prorated": self.prorated,
            "complete": self.complete,
            "missing": list(self.missing),
            "recall": {
                "amount": self.recall.amount,
                "unit": self.recall.unit,
                "label": self.recall.label,
                "modified": self.recall.modified,
            },
            "answers": dict(self.answers),
            "domains": dict(self.domains),
            "subscales": dict(self.subscales),
            "flags": [f.to_dict() for f in self.flags],
        }
