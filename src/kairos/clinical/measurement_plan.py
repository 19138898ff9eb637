"""The measurement plan of a course, as a pure function.

:func:`generate_plan` turns a course's dated dosing sessions and its indications into the questionnaires
and long-term safety checks due, each with a window, a reason and a source:

* **baseline** – every outcome instrument of the indications, before the first dose;
* **pre_dose** – before each induction session, but only once the instrument's recall period has passed
  since the last administration (no two PHQ-9s < 14 days apart unless the instrument is explicitly
  allowed to overlap, and then the due item is *flagged*);
* **rapid_24h** – the modified-recall PHQ-9 (``phq9_24h``) 24 hours after the first dose (depression);
* **end_of_induction** – after the last induction session (moved later if it would overlap a recall);
* **monthly** – every ``monthly.interval_days`` during maintenance (until the horizon);
* **safety** – the long-term safety schedule (§5): bladder screen at baseline and every maintenance
  visit (urinalysis prompt), ICSI, liver tests, cognition check, misuse screens, urine drug screen and
  PDMP check at clinic-configured intervals.

Every number lives in the rule set :data:`kairos.clinical.rules.measurement.RULES` (``measures`` in
docs/clinical-rules.md) with its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kairos.clinical.config import RuleSet
from kairos.clinical.instruments import get as get_instrument
from kairos.clinical.rules.measurement import RULES

__all__ = [
    "BASELINE",
    "CHECKS",
    "CHECKS_BY_ID",
    "END_OF_INDUCTION",
    "INDICATIONS",
    "MAINTENANCE_PHASES",
    "MONTHLY",
    "PRE_DOSE",
    "RAPID_24H",
    "RULES",
    "SAFETY",
    "DoseSession",
    "PlanError",
    "PlanRequest",
    "PlannedDue",
    "SafetyCheck",
    "generate_plan",
    "instruments_for",
    "min_gap_violations",
    "recall_hours",
]

BASELINE, PRE_DOSE, RAPID_24H, END_OF_INDUCTION, MONTHLY, SAFETY = (
    "baseline",
    "pre_dose",
    "rapid_24h",
    "end_of_induction",
    "monthly",
    "safety",
)
MAINTENANCE_PHASES = frozenset({"maintenance", "continuation"})
INDICATIONS = ("depression", "anxiety", "ptsd")


@dataclass(frozen=True, slots=True)
class SafetyCheck:
    """A long-term safety check. ``instrument`` is a questionnaire id, or None for a clinic task (labs…)."""

    id: str
    label: str
    instrument: str | None
    prompt: str
    every_maintenance_visit_key: str | None = None
    interval_key: str | None = None


CHECKS: tuple[SafetyCheck, ...] = (
    SafetyCheck(
        "bladder_sx",
        "Bladder symptom screen",
        "bladder_sx",
        "Urinalysis if any symptom is positive; new haematuria or pain: hold dosing, consider urology (§5.1 ⚠)",
        every_maintenance_visit_key="safety.bladder_sx.every_maintenance_visit",
    ),
    SafetyCheck(
        "icsi",
        "ICSI (bladder)",
        "icsi",
        "Structured bladder score (§5.1 ⚠)",
        interval_key="safety.icsi.interval_days",
    ),
    SafetyCheck(
        "liver_tests",
        "Liver tests (ALT, AST, ALP, GGT, bilirubin)",
        None,
        "Flag ≥3× ULN (§5.2 ⚠)",
        interval_key="safety.liver_tests.interval_days",
    ),
    SafetyCheck(
        "cognition_check",
        "Cognition check",
        None,
        "Memory-complaint question; optional MoCA (licensing/training needed) (§5.3 ⚠)",
        interval_key="safety.cognition_check.interval_days",
    ),
    SafetyCheck(
        "dast10",
        "DAST-10 (misuse screen)",
        "dast10",
        "Substance-use screen (§5.4 ⚠)",
        interval_key="safety.dast10.interval_days",
    ),
    SafetyCheck(
        "audit_c",
        "AUDIT-C (alcohol)",
        "audit_c",
        "Alcohol screen (§5.4 ⚠)",
        interval_key="safety.audit_c.interval_days",
    ),
    SafetyCheck(
        "urine_drug_screen",
        "Urine drug screen",
        None,
        "When substance use is suspected (§5.4, APA consensus ◐)",
        interval_key="safety.urine_drug_screen.interval_days",
    ),
    SafetyCheck(
        "pdmp_check",
        "PDMP check",
        None,
        "Where state law requires (§5.4 ⚠)",
        interval_key="safety.pdmp_check.interval_days",
    ),
)
CHECKS_BY_ID = {c.id: c for c in CHECKS}


class PlanError(ValueError):
    """Bad plan input; the message names the field and the allowed values."""


@dataclass(frozen=True, slots=True)
class DoseSession:
    number: int
    at: dt.datetime
    phase: str


@dataclass(frozen=True)
class PlanRequest:
    sessions: Sequence[DoseSession]
    indications: Sequence[str]
    horizon_end: dt.datetime | None = None  # end of the monthly/safety schedule (default: last session)
    extra_instruments: Sequence[str] = ()
    allow_overlap: frozenset[str] = frozenset()  # instruments deliberately repeated inside their recall
    safety_checks: Sequence[str] | None = None  # None: all of CHECKS


@dataclass(frozen=True, slots=True)
class PlannedDue:
    instrument_id: str
    kind: str
    due_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime
    reason: str
    source: str = ""
    session_number: int | None = None
    overlap_flagged: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument_id": self.instrument_id,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "reason": self.reason,
            "source": self.source,
            "session_number": self.session_number,
            "overlap_flagged": self.overlap_flagged,
        }


def recall_hours(instrument_id: str) -> float | None:
    """The instrument's recall period in hours, or None (safety checks, 'current' / 'since last visit')."""
    if instrument_id in CHECKS_BY_ID and CHECKS_BY_ID[instrument_id].instrument is None:
        return None
    return get_instrument(instrument_id).recall.hours


def instruments_for(
    indications: Iterable[str], rules: RuleSet = RULES, extra: Iterable[str] = ()
) -> list[str]:
    out: list[str] = []
    for ind in indications:
        if ind not in INDICATIONS:
            raise PlanError(f"indications: {ind!r} is not one of {', '.join(INDICATIONS)}")
        value = rules[f"indication.{ind}"]
        assert isinstance(value, tuple)
        out += [str(v) for v in value]
    for e in extra:
        get_instrument(e)  # raises UnknownInstrumentError naming the known ids
        out.append(get_instrument(e).id)
    seen: list[str] = []
    for i in out:
        if i not in seen:
            seen.append(i)
    return seen


@dataclass
class _Placer:
    allow_overlap: frozenset[str]
    placed: list[PlannedDue] = field(default_factory=list)

    def conflict(self, inst: str, at: dt.datetime) -> dt.datetime | None:
        """The latest earlier-placed administration of ``inst`` closer than its recall, if any."""
        hours = recall_hours(inst)
        if hours is None:
            return None
        recall = dt.timedelta(hours=hours)
        clashes = [p.due_at for p in self.placed if p.instrument_id == inst and abs(at - p.due_at) < recall]
        return max(clashes) if clashes else None

    def place(self, due: PlannedDue, *, shift: bool = False) -> PlannedDue | None:
        inst = due.instrument_id
        clash = self.conflict(inst, due.due_at)
        if clash is not None and inst in self.allow_overlap:
            due = _replace(
                due, overlap_flagged=True, reason=due.reason + " (inside the recall period: flagged)"
            )
        elif clash is not None and shift:
            hours = recall_hours(inst)
            assert hours is not None
            for _ in range(len(self.placed) + 1):
                clash = self.conflict(inst, due.due_at)
                if clash is None:
                    break
                delta = clash + dt.timedelta(hours=hours) - due.due_at
                due = _replace(
                    due,
                    due_at=due.due_at + delta,
                    window_start=due.window_start + delta,
                    window_end=due.window_end + delta,
                )
            due = _replace(due, reason=due.reason + " (moved to keep the recall periods apart)")
        elif clash is not None:
            return None
        self.placed.append(due)
        return due


def _replace(due: PlannedDue, **changes: Any) -> PlannedDue:
    data = {f: getattr(due, f) for f in PlannedDue.__slots__}
    data.update(changes)
    return PlannedDue(**data)


def _aware(name: str, value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PlanError(f"{name}: datetime must be timezone-aware")


# A candidate due item: (due_at, order among kinds at the same time, the item, shift it on a recall clash).
# The sort in generate_plan is stable, so candidates at the same (due_at, order) keep the order they are
# produced in below.
_Cand = tuple[dt.datetime, int, PlannedDue, bool]
_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class _Frame:
    """The checked inputs of one plan."""

    rules: RuleSet
    sessions: list[DoseSession]  # in time order
    instruments: list[str]
    horizon: dt.datetime

    @property
    def first(self) -> DoseSession:
        return self.sessions[0]

    @property
    def induction(self) -> list[DoseSession]:
        return [s for s in self.sessions if s.phase not in MAINTENANCE_PHASES]

    @property
    def maintenance(self) -> list[DoseSession]:
        return [s for s in self.sessions if s.phase in MAINTENANCE_PHASES]

    def src(self, key: str) -> str:
        return self.rules.param(key).source

    def days(self, key: str) -> dt.timedelta:
        return _DAY * self.rules.num(key)

    def hours(self, key: str) -> dt.timedelta:
        return _HOUR * self.rules.num(key)


def _frame(request: PlanRequest, rules: RuleSet) -> _Frame:
    sessions = sorted(request.sessions, key=lambda s: (s.at, s.number))
    if not sessions:
        raise PlanError("sessions: a plan needs at least one dosing session")
    for s in sessions:
        _aware(f"sessions[{s.number}].at", s.at)
    if not request.indications:
        raise PlanError(f"indications: give at least one of {', '.join(INDICATIONS)}")
    instruments = instruments_for(request.indications, rules, request.extra_instruments)
    horizon = request.horizon_end or sessions[-1].at
    _aware("horizon_end", horizon)
    if horizon < sessions[0].at:
        raise PlanError("horizon_end: must not be before the first dosing session")
    return _Frame(rules, sessions, instruments, horizon)


def _baseline(f: _Frame) -> list[_Cand]:
    first, bw = f.first.at, f.days("baseline.window_days")
    return [
        (
            first,
            0,
            PlannedDue(
                inst,
                BASELINE,
                first,
                first - bw,
                first,
                "baseline before the first dose",
                f.src("baseline.window_days"),
                f.first.number,
            ),
            False,
        )
        for inst in f.instruments
    ]


def _rapid(f: _Frame, indications: Sequence[str]) -> list[_Cand]:
    if not (f.rules["rapid_24h.enabled"] and "depression" in indications):
        return []
    at = f.first.at + f.hours("rapid_24h.after_hours")
    w = f.hours("rapid_24h.window_hours")
    due = PlannedDue(
        "phq9_24h",
        RAPID_24H,
        at,
        at - w,
        at + w,
        "24-hour rapid response after the first dose",
        f.src("rapid_24h.after_hours"),
    )
    return [(at, 1, due, False)]


def _pre_dose(f: _Frame) -> list[_Cand]:
    pw = f.hours("pre_dose.window_hours")
    induction = f.induction
    later = induction[1:] if induction and induction[0] is f.first else induction
    return [
        (
            s.at,
            2,
            PlannedDue(
                inst,
                PRE_DOSE,
                s.at,
                s.at - pw,
                s.at,
                f"before dosing session {s.number}",
                "recall period of the instrument (§4.1)",
                s.number,
            ),
            False,
        )
        for s in later
        for inst in f.instruments
    ]


def _end_of_induction(f: _Frame) -> tuple[list[_Cand], dt.datetime]:
    """The end-of-induction items and the time the monthly schedule counts from."""
    induction = f.induction
    if not induction:
        return [], f.first.at
    end = induction[-1].at + f.days("end_of_induction.after_days")
    ew = f.days("end_of_induction.window_days")
    cands: list[_Cand] = [
        (
            end,
            3,
            PlannedDue(
                inst,
                END_OF_INDUCTION,
                end,
                end,
                end + ew,
                "end of induction",
                f.src("end_of_induction.after_days"),
                induction[-1].number,
            ),
            True,
        )
        for inst in f.instruments
    ]
    return cands, end


def _monthly(f: _Frame, monthly_from: dt.datetime) -> list[_Cand]:
    if not (f.maintenance or f.horizon > monthly_from):
        return []
    step = f.days("monthly.interval_days")
    mw = f.days("monthly.window_days")
    cands: list[_Cand] = []
    t = monthly_from + step
    while t <= f.horizon:
        for inst in f.instruments:
            due = PlannedDue(
                inst,
                MONTHLY,
                t,
                t - mw / 2,
                t + mw / 2,
                "monthly in maintenance",
                f.src("monthly.interval_days"),
            )
            cands.append((t, 4, due, True))
        t += step
    return cands


def _safety(f: _Frame, safety_checks: Sequence[str] | None) -> list[_Cand]:
    """The long-term safety schedule: each check at baseline, every maintenance visit and/or an interval."""
    wanted = CHECKS if safety_checks is None else [CHECKS_BY_ID[c] for c in _known_checks(safety_checks)]
    first = f.first
    bw = f.days("baseline.window_days")
    pw = f.hours("pre_dose.window_hours")
    sw = f.days("safety.window_days")
    cands: list[_Cand] = []
    for check in wanted:
        what = check.instrument or check.id
        baseline = PlannedDue(
            what,
            SAFETY,
            first.at,
            first.at - bw,
            first.at,
            f"{check.label}: baseline. {check.prompt}",
            "clinical.md §5",
            first.number,
        )
        cands.append((first.at, 5, baseline, False))
        if check.every_maintenance_visit_key and f.rules[check.every_maintenance_visit_key]:
            for s in f.maintenance:
                due = PlannedDue(
                    what,
                    SAFETY,
                    s.at,
                    s.at - pw,
                    s.at,
                    f"{check.label}: maintenance visit {s.number}. {check.prompt}",
                    f.src(check.every_maintenance_visit_key),
                    s.number,
                )
                cands.append((s.at, 5, due, False))
        if check.interval_key and (interval := f.rules.num(check.interval_key)) > 0:
            t = first.at + _DAY * interval
            while t <= f.horizon:
                due = PlannedDue(
                    what,
                    SAFETY,
                    t,
                    t,
                    t + sw,
                    f"{check.label}: every {interval:g} days. {check.prompt}",
                    f.src(check.interval_key),
                )
                cands.append((t, 5, due, True))
                t += _DAY * interval
    return cands


def generate_plan(request: PlanRequest, rules: RuleSet = RULES) -> list[PlannedDue]:
    """Every measurement and safety check due for one course, in time order (see the module docstring)."""
    f = _frame(request, rules)
    end_items, monthly_from = _end_of_induction(f)
    cands = [
        *_baseline(f),
        *_rapid(f, request.indications),
        *_pre_dose(f),
        *end_items,
        *_monthly(f, monthly_from),
        *_safety(f, request.safety_checks),
    ]
    placer = _Placer(request.allow_overlap)
    for _, _, due, shift in sorted(cands, key=lambda c: (c[0], c[1])):
        placer.place(due, shift=shift)
    return sorted(placer.placed, key=lambda d: (d.due_at, d.kind, d.instrument_id))


def _known_checks(ids: Iterable[str]) -> list[str]:
    out = []
    for c in ids:
        if c not in CHECKS_BY_ID:
            raise PlanError(f"safety_checks: {c!r} is not one of {', '.join(CHECKS_BY_ID)}")
        out.append(c)
    return out


def min_gap_violations(plan: Sequence[PlannedDue]) -> list[tuple[PlannedDue, PlannedDue]]:
    """Pairs of the same instrument closer than its recall where the later one is not flagged (should be
    empty for every generated plan)."""
    bad = []
    by_inst: dict[str, list[PlannedDue]] = {}
    for d in plan:
        by_inst.setdefault(d.instrument_id, []).append(d)
    for inst, dues in by_inst.items():
        hours = recall_hours(inst)
        if hours is None:
            continue
        dues = sorted(dues, key=lambda d: d.due_at)
        for a, b in zip(dues, dues[1:], strict=False):
            if b.due_at - a.due_at < dt.timedelta(hours=hours) and not b.overlap_flagged:
                bad.append((a, b))
    return bad
