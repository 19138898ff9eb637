"""Scoring: totals, severity, structured flags, missing-answer rules and the recall-overlap check."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from fractions import Fraction

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.instruments import RULES as INSTRUMENT_RULES

from .catalog import INSTRUMENTS
from .model import (
    SEXES,
    AnswerError,
    ClinicOptions,
    Flag,
    Instrument,
    Item,
    LicenceError,
    Rater,
    Score,
    ScoringRule,
    SexError,
    UnknownInstrumentError,
)

# 1.1.0 (issue #12 §5): QIDS-SR16 domains scored from their answered items; C-SSRS triage "not assessed"
# while a blank item could raise the level; AUDIT-C screened at sex-specific cut-offs.
SCORER_VERSION = "1.1.0"

# Flag codes (stable; used by alerts, the UI and exports).
SAFETY_ITEM_UNANSWERED = "safety_item_unanswered"
INCOMPLETE = "incomplete"
NOT_SCORED = "not_scored"
PRORATED = "prorated"
MODIFIED_RECALL = "modified_recall"
LICENCE_NOT_DECLARED = "licence_not_declared"
RATER_MISMATCH = "rater_mismatch"
SKIP_LOGIC_INCONSISTENT = "skip_logic_inconsistent"
PROVISIONAL_DIAGNOSIS = "provisional_diagnosis"
OVERLAPPING_RECALL = "overlapping_recall"
DOMAIN_PARTIAL = "domain_partial"
NOT_ASSESSED = "not_assessed"
LOWER_CUTOFF_USED = "lower_cutoff_used"

_BY_ID: dict[str, Instrument] = {i.id: i for i in INSTRUMENTS}
_ALIASES = {
    "qids": "qids_sr16",
    "hamd": "hamd17",
    "hdrs17": "hamd17",
    "hrsd17": "hamd17",
    "cssrs": "cssrs_screener",
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_LOOKUP: dict[str, str] = {_norm(i.id): i.id for i in INSTRUMENTS} | {
    _norm(k): v for k, v in _ALIASES.items()
}


def get(instrument_id: str) -> Instrument:
    """The instrument with this id (case, '-' and '_' ignored: 'PHQ-9' finds 'phq9')."""
    found = _LOOKUP.get(_norm(instrument_id))
    if found is None:
        known = ", ".join(i.id for i in INSTRUMENTS)
        raise UnknownInstrumentError(f"unknown instrument {instrument_id!r} (known: {known})")
    return _BY_ID[found]


def all_instruments() -> tuple[Instrument, ...]:
    return INSTRUMENTS


def _coerce(item: Item, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerError(item.describe_error(value))
    if isinstance(value, float):
        if not value.is_integer():
            raise AnswerError(item.describe_error(value))
        value = int(value)
    item.option(value)  # raises AnswerError naming the item and allowed values
    return value


def _half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def score(
    instrument_id: str,
    answers: Mapping[str, object],
    *,
    clinic_options: ClinicOptions | None = None,
    sex: str | None = None,
) -> Score:
    """Score one administration. ``answers`` maps item id -> answer value, or None for a blank item.

    Items not in ``answers`` count as blank. ``sex`` is the patient's recorded sex (one of
    :data:`~kairos.clinical.instruments.model.SEXES`, or None when not known); instruments with
    sex-specific cut-offs (AUDIT-C) use it, and screen at the lowest cut-off, flagged, when it is not female
    or male. Raises :class:`AnswerError` (a ``ValueError``) for an unknown item or a value that is not one of
    the item's allowed answers, :class:`SexError` for a sex not in ``SEXES``, and :class:`LicenceError` for a
    self-reported C-SSRS without a declared electronic licence.
    """
    if sex is not None and sex not in SEXES:
        raise SexError(f"sex: {sex!r} is not one of {', '.join(SEXES)}")
    inst = get(instrument_id)
    opts = clinic_options or ClinicOptions()
    rules: RuleSet = opts.rules if opts.rules is not None else INSTRUMENT_RULES
    clean: dict[str, int | None] = {i.id: None for i in inst.items}
    for key, value in answers.items():
        item = inst.item(str(key))
        clean[item.id] = _coerce(item, value)

    flags: list[Flag] = []
    if opts.self_report and inst.rater is Rater.CLINICIAN:
        if inst.self_report_licence_key:
            if inst.self_report_licence_key not in opts.licences:
                raise LicenceError(
                    f"{inst.name}: electronic self-report needs the clinic licence "
                    f"{inst.self_report_licence_key!r} (eC-SSRS is licensed via Clario, §4.2); enter it as a clinician"
                )
        else:
            flags.append(Flag(RATER_MISMATCH, f"{inst.name} is clinician-rated; entered as self-report"))
    if inst.requires_licence_flag and inst.licence_key not in opts.licences:
        flags.append(
            Flag(
                LICENCE_NOT_DECLARED,
                f"{inst.name} is licensed ({inst.licence_note}); scores stored, item wording not shipped; "
                f"declare licence {inst.licence_key!r} to record it as licensed use",
            )
        )
    if inst.recall.modified:
        flags.append(
            Flag(MODIFIED_RECALL, f"modified recall window ({inst.recall.label}): {inst.recall.source}")
        )

    if inst.scoring is ScoringRule.TRIAGE:
        return _triage(inst, clean, flags)

    scored = inst.scored_items
    points = {i.id: i.option(v).points for i in scored if (v := clean[i.id]) is not None}
    domains: dict[str, int | None] = {}
    if inst.scoring is ScoringRule.MAX_OF_GROUPS:
        domains, partial = _domains(inst, points)
        # a domain with no answered item cannot be scored; its items are the missing ones
        unscored = {i for name, ids in inst.groups if domains[name] is None for i in ids}
        missing = tuple(i.id for i in scored if i.id in unscored)
        flags += partial
    else:
        missing = tuple(i.id for i in scored if clean[i.id] is None)
    safety_missing = [i for i in scored if i.safety and clean[i.id] is None]
    for i in safety_missing:
        flags.append(
            Flag(
                SAFETY_ITEM_UNANSWERED,
                f"safety item {i.id} ({i.label}) is blank; it is never prorated — ask the patient directly",
                item=i.id,
            )
        )
    if missing:
        if inst.scoring is ScoringRule.MAX_OF_GROUPS:
            empty = [f"{name} ({', '.join(ids)})" for name, ids in inst.groups if domains[name] is None]
            why = f"{len(empty)} of {len(inst.groups)} domains have no item answered: {', '.join(empty)}"
        else:
            why = f"{len(missing)} of {len(scored)} items blank: {', '.join(missing)}"
        flags.append(Flag(INCOMPLETE, why))

    prorated = False
    total: int | None
    if inst.scoring is ScoringRule.MAX_OF_GROUPS:
        raw = sum(v for v in domains.values() if v is not None)
        total = None if missing else raw
    else:
        raw = sum(points.values())
        total = raw if not missing else None
    if missing and not safety_missing and inst.missing.prorate_key is not None:
        allowed = int(rules.num(inst.missing.prorate_key))
        if len(missing) <= allowed:
            total = _half_up(Fraction(raw * len(scored), len(points)))
            prorated = True
            flags.append(
                Flag(
                    PRORATED,
                    f"total prorated from {len(points)} of {len(scored)} items (raw {raw} -> {total}); "
                    f"rule {inst.missing.prorate_key} <= {allowed} missing "
                    f"({'confirmed' if inst.missing.confirmed else 'unconfirmed ⚠'}: {inst.missing.source})",
                )
            )
    if total is None:
        why = "a safety item is blank" if safety_missing else "items are blank and no proration rule applies"
        flags.append(Flag(NOT_SCORED, f"total not computed: {why} (raw sum of answered items {raw})"))

    subscales: dict[str, int | None] = {}
    for name, ids in inst.subscales:
        subscales[name] = None if any(i not in points for i in ids) else sum(points[i] for i in ids)
    if inst.cluster_rule and inst.cluster_rule_key and not missing:
        endorsed_min = rules.num(inst.cluster_rule_key)
        members = dict(inst.subscales)
        counts = {
            name: sum(1 for i in members[name] if points[i] >= endorsed_min) for name, _ in inst.cluster_rule
        }
        if all(counts[name] >= need for name, need in inst.cluster_rule):
            need_txt = ", ".join(f">={need} {name}" for name, need in inst.cluster_rule)
            flags.append(
                Flag(
                    PROVISIONAL_DIAGNOSIS,
                    f"DSM-5 cluster rule met (items >= {endorsed_min:g} endorsed; {need_txt}) — provisional only",
                )
            )

    severity: str | None = None
    if total is not None:
        if inst.screen_by_sex:
            cutoff = _sex_cutoff(inst, rules, sex, flags)
            severity = inst.screen_labels[int(total >= cutoff)]
        elif inst.screen_key is not None:
            severity = inst.screen_labels[int(total >= rules.num(inst.screen_key))]
        else:
            severity = inst.band(total)
    return Score(
        instrument_id=inst.id,
        instrument_version=inst.version,
        scorer_version=SCORER_VERSION,
        total=total,
        raw_total=raw,
        severity=severity,
        flags=tuple(flags),
        recall=inst.recall,
        prorated=prorated,
        answers=clean,
        missing=missing,
        domains=domains,
        subscales=subscales,
    )


def _domains(inst: Instrument, points: Mapping[str, int]) -> tuple[dict[str, int | None], list[Flag]]:
    """MAX_OF_GROUPS: each domain's score is the max of its answered items (None when none is answered).

    §4.5 / the published QIDS-SR16 rule: a domain is scored from the items answered, so a form filled as
    instructed (6 or 7, 8 or 9) scores. A domain scored from a subset of its items is flagged, except for
    the blank partner of an answered either/or item (expected by the form).
    """
    domains: dict[str, int | None] = {}
    flags: list[Flag] = []
    expected_blank = {
        i for pair in inst.either_or if any(j in points for j in pair) for i in pair if i not in points
    }
    for name, ids in inst.groups:
        vals = [points[i] for i in ids if i in points]
        domains[name] = max(vals) if vals else None
        gaps = [i for i in ids if i not in points and i not in expected_blank]
        if vals and gaps:
            used = ", ".join(i for i in ids if i in points)
            flags.append(
                Flag(
                    DOMAIN_PARTIAL,
                    f"domain {name} scored from item(s) {used} (max {domains[name]}); "
                    f"item(s) {', '.join(gaps)} blank",
                )
            )
    return domains, flags


def _sex_cutoff(inst: Instrument, rules: RuleSet, sex: str | None, flags: list[Flag]) -> float:
    """The screen cut-off for this sex; a sex without its own cut-off gets the lowest one, flagged."""
    by_sex = dict(inst.screen_by_sex)
    if sex in by_sex:
        return rules.num(by_sex[sex])
    cutoff = min(rules.num(key) for key in by_sex.values())
    why = "sex not recorded" if sex in (None, "unknown") else f"sex recorded as {sex!r}"
    flags.append(
        Flag(
            LOWER_CUTOFF_USED,
            f"{why}: the lower cut-off (>={cutoff:g}) was used "
            f"(cut-offs by sex: {', '.join(f'{k} >={rules.num(v):g}' for k, v in inst.screen_by_sex)})",
        )
    )
    return cutoff


_LEVELS = ("none", "low", "moderate", "high")


def _triage_level(a: Mapping[str, int | None]) -> int:
    """Index into ``_LEVELS`` of the highest positive item (§4.7): only answered "yes" items count."""
    level = 0
    if a["1"] == 1 or a["2"] == 1:
        level = 1
    if a["3"] == 1:
        level = max(level, 2)
    if a["4"] == 1 or a["5"] == 1:
        level = 3
    if a["6"] == 1 or a["6b"] == 1:
        level = max(level, 3 if a["6b"] == 1 else 2)
    return level


def _triage(inst: Instrument, a: dict[str, int | None], flags: list[Flag]) -> Score:
    """C-SSRS screener triage (§4.7 ◐). Skip logic: 3-5 only if 2 is yes; 6b only if 6 is yes.

    A blank item is "not assessed", never "no": when a blank item that the skip logic could still ask
    would raise the level if it were "yes", the severity is None (not assessed) and ``minimum_severity``
    carries the level the answered items establish, on which the alerts act.
    """
    applicable = ["1", "2", "6"]
    if a["2"] == 1:
        applicable += ["3", "4", "5"]
    if a["6"] == 1:
        applicable.append("6b")
    if a["2"] != 1 and any(a[i] == 1 for i in ("3", "4", "5")):
        flags.append(
            Flag(SKIP_LOGIC_INCONSISTENT, "items 3-5 answered yes although item 2 is not yes; counted anyway")
        )
    if a["6"] != 1 and a["6b"] == 1:
        flags.append(
            Flag(SKIP_LOGIC_INCONSISTENT, "item 6b answered yes although item 6 is not yes; counted anyway")
        )
    missing = tuple(i for i in applicable if a[i] is None)
    for i in missing:
        flags.append(
            Flag(
                SAFETY_ITEM_UNANSWERED,
                f"C-SSRS item {i} ({inst.item(i).label}) is blank: not assessed, never taken as no",
                item=i,
            )
        )
    floor = _triage_level(a)
    # Every blank item that could still be asked (3-5 unless item 2 is "no", 6b unless item 6 is "no")
    # taken as "yes": the highest level the blanks could lead to.
    closed = {"3": a["2"] == 0, "4": a["2"] == 0, "5": a["2"] == 0, "6b": a["6"] == 0}
    open_blanks = [i for i, v in a.items() if v is None and not closed.get(i, False)]
    ceiling = _triage_level(a | dict.fromkeys(open_blanks, 1))
    severity: str | None = _LEVELS[floor]
    if ceiling > floor:
        severity = None
        flags.append(
            Flag(
                NOT_ASSESSED,
                f"triage not assessed: blank item(s) {', '.join(open_blanks)} could raise the level "
                f"(the answered items give at least {_LEVELS[floor]})",
            )
        )
    return Score(
        instrument_id=inst.id,
        instrument_version=inst.version,
        scorer_version=SCORER_VERSION,
        total=None,
        raw_total=sum(1 for v in a.values() if v == 1),
        severity=severity,
        flags=tuple(flags),
        recall=inst.recall,
        prorated=False,
        answers=a,
        missing=missing,
        minimum_severity=_LEVELS[floor],
    )


def overlapping(prev_time: dt.datetime, this_time: dt.datetime, instrument: str | Instrument) -> Flag | None:
    """A flag when two administrations are closer together than the recall period (e.g. PHQ-9 < 14 days).

    Overlapping windows double-count the same days, so the pair should not be read as two independent
    measurements. Returns None for instruments rated on the current state.
    """
    inst = instrument if isinstance(instrument, Instrument) else get(instrument)
    for name, t in (("prev_time", prev_time), ("this_time", this_time)):
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"{name}: datetime must be timezone-aware")
    hours = inst.recall.hours
    if hours is None:
        return None
    gap = abs(this_time - prev_time)
    if gap >= dt.timedelta(hours=hours):
        return None
    days = gap.total_seconds() / 86400
    return Flag(
        OVERLAPPING_RECALL,
        f"{inst.name} administrations {days:.1f} days apart overlap the recall period "
        f"({inst.recall.label.lower()}, {inst.recall.amount} {inst.recall.unit})",
    )
