"""The measurement plan of a course, as a pure function (no Django).

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

Instruments by indication (§4.1): depression – PHQ-9 (and/or QIDS-SR16) and MADRS; anxiety – GAD-7;
PTSD – PCL-5. Every number lives in :data:`RULES` with its source; the §5 frequencies are design
proposals in the reference (⚠) and therefore ``Status.UNCONFIRMED`` defaults a clinic must review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kairos.clinical.config import Param, RuleSet, Status
from kairos.clinical.instruments import get as get_instrument

C, P, U = Status.CONFIRMED, Status.PARTIAL, Status.UNCONFIRMED

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


def _days(key: str, value: int, src: str, st: Status, what: str, lo: int = 0, hi: int = 730) -> Param:
    return Param(key, value, "days", src, st, what, lo, hi)


RULES: RuleSet = RuleSet.of(
    "measures",
    "Measurement-based care and long-term safety schedule",
    [
        Param(
            "indication.depression",
            ("phq9", "madrs"),
            "instrument ids",
            "clinical.md §4.1 (PHQ-9, QIDS-SR16, MADRS measure depression; MADRS is the trial endpoint §3); "
            "QIDS-SR16 may replace or join PHQ-9",
            P,
            "Outcome instruments for depression.",
        ),
        Param(
            "indication.anxiety", ("gad7",), "instrument ids", "clinical.md §4.1, §4.4 (GAD-7)", C, "Anxiety."
        ),
        Param("indication.ptsd", ("pcl5",), "instrument ids", "clinical.md §4.1 (PCL-5)", C, "PTSD."),
        _days(
            "baseline.window_days",
            14,
            "Kairos default ⚠ (not in clinical.md): baseline within 14 days before the first dose",
            U,
            "How long before the first dose a baseline may be completed.",
            1,
            60,
        ),
        Param(
            "pre_dose.window_hours",
            48,
            "hours",
            "Kairos default ⚠ (not in clinical.md): complete in the 48 h before the session",
            U,
            "Window before a dosing session for pre-dose questionnaires.",
            1,
            168,
        ),
        Param(
            "rapid_24h.enabled",
            True,
            "",
            "clinical.md §3 (rapid response at 24 h in ketamine trials); phq9_24h modified recall (§4.3 ⚠)",
            P,
            "Schedule the 24-hour PHQ-9 after the first dose (depression).",
        ),
        Param(
            "rapid_24h.after_hours",
            24,
            "hours",
            "clinical.md §3 (24-hour response time point)",
            P,
            "Hours after the first dose.",
            12,
            72,
        ),
        Param(
            "rapid_24h.window_hours",
            12,
            "hours",
            "Kairos default ⚠: ± window around the 24-hour time point",
            U,
            "Half-width of the rapid-response window.",
            1,
            24,
        ),
        _days(
            "end_of_induction.after_days",
            1,
            "clinical.md §1.2 / protocols: evaluate benefit at the end of induction (S5, S7); delay ⚠ Kairos default",
            U,
            "Days after the last induction session.",
            0,
            14,
        ),
        _days(
            "end_of_induction.window_days",
            7,
            "Kairos default ⚠",
            U,
            "Window length of the end-of-induction assessment.",
            1,
            28,
        ),
        _days(
            "monthly.interval_days",
            30,
            "issue 'Measurement-based care' (monthly in maintenance); not in clinical.md ⚠",
            U,
            "Interval of outcome measures during maintenance.",
            14,
            120,
        ),
        _days("monthly.window_days", 7, "Kairos default ⚠", U, "Window length of a monthly measure.", 1, 28),
        _days(
            "safety.window_days",
            14,
            "Kairos default ⚠",
            U,
            "Window length of a long-term safety check.",
            1,
            60,
        ),
        Param(
            "safety.bladder_sx.every_maintenance_visit",
            True,
            "",
            "clinical.md §5.1: bladder-symptom questions at baseline and every maintenance visit (⚠ design proposal)",
            U,
            "Bladder screen before every maintenance dosing session.",
        ),
        _days(
            "safety.icsi.interval_days",
            90,
            "clinical.md §5.1: structured score (e.g. ICSI) at baseline and every 3 months (⚠ design proposal)",
            U,
            "ICSI interval (0 = baseline only).",
        ),
        _days(
            "safety.liver_tests.interval_days",
            90,
            "clinical.md §5.2: LFTs at baseline, then every 3–6 months in maintenance (⚠ design proposal)",
            U,
            "Liver tests interval (0 = baseline only).",
        ),
        _days(
            "safety.cognition_check.interval_days",
            180,
            "clinical.md §5.3: brief cognitive screen at baseline and every 6 months (⚠)",
            U,
            "Cognition check interval (0 = baseline only).",
        ),
        _days(
            "safety.dast10.interval_days",
            365,
            "clinical.md §5.4: DAST-10 / AUDIT-C screen at intake (⚠); repeat interval not in clinical.md — "
            "Kairos default = the 12-month recall",
            U,
            "DAST-10 interval (0 = baseline only).",
        ),
        _days(
            "safety.audit_c.interval_days",
            365,
            "clinical.md §5.4 (intake screen ⚠); repeat = 12-month recall, Kairos default",
            U,
            "AUDIT-C interval (0 = baseline only).",
        ),
        _days(
            "safety.urine_drug_screen.interval_days",
            0,
            "clinical.md §5.4: urine drug screen at baseline when indicated (APA consensus ◐ S14)",
            P,
            "Urine drug screen interval (0 = baseline only).",
        ),
        _days(
            "safety.pdmp_check.interval_days",
            90,
            "clinical.md §5.4: PDMP check where state law requires (⚠ state-dependent); interval Kairos default",
            U,
            "PDMP check interval (0 = baseline only).",
        ),
    ],
)


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


def generate_plan(request: PlanRequest, rules: RuleSet = RULES) -> list[PlannedDue]:
    """Every measurement and safety check due for one course, in time order (see the module docstring)."""
    sessions = sorted(request.sessions, key=lambda s: (s.at, s.number))
    if not sessions:
        raise PlanError("sessions: a plan needs at least one dosing session")
    for s in sessions:
        _aware(f"sessions[{s.number}].at", s.at)
    if not request.indications:
        raise PlanError(f"indications: give at least one of {', '.join(INDICATIONS)}")
    instruments = instruments_for(request.indications, rules, request.extra_instruments)
    first = sessions[0].at
    last = sessions[-1].at
    horizon = request.horizon_end or last
    _aware("horizon_end", horizon)
    if horizon < first:
        raise PlanError("horizon_end: must not be before the first dosing session")
    day = dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)

    def src(key: str) -> str:
        return rules.param(key).source

    induction = [s for s in sessions if s.phase not in MAINTENANCE_PHASES]
    maintenance = [s for s in sessions if s.phase in MAINTENANCE_PHASES]

    # (due_at, order, PlannedDue, shift)
    cands: list[tuple[dt.datetime, int, PlannedDue, bool]] = []
    bw = day * rules.num("baseline.window_days")
    for inst in instruments:
        cands.append(
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
                    src("baseline.window_days"),
                    sessions[0].number,
                ),
                False,
            )
        )
    if rules["rapid_24h.enabled"] and "depression" in request.indications:
        at = first + hour * rules.num("rapid_24h.after_hours")
        w = hour * rules.num("rapid_24h.window_hours")
        cands.append(
            (
                at,
                1,
                PlannedDue(
                    "phq9_24h",
                    RAPID_24H,
                    at,
                    at - w,
                    at + w,
                    "24-hour rapid response after the first dose",
                    src("rapid_24h.after_hours"),
                ),
                False,
            )
        )
    pw = hour * rules.num("pre_dose.window_hours")
    for s in induction[1:] if induction and induction[0] is sessions[0] else induction:
        for inst in instruments:
            cands.append(
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
            )
    if induction:
        end = induction[-1].at + day * rules.num("end_of_induction.after_days")
        ew = day * rules.num("end_of_induction.window_days")
        for inst in instruments:
            cands.append(
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
                        src("end_of_induction.after_days"),
                        induction[-1].number,
                    ),
                    True,
                )
            )
        monthly_from = end
    else:
        monthly_from = first
    if maintenance or horizon > monthly_from:
        step = day * rules.num("monthly.interval_days")
        mw = day * rules.num("monthly.window_days")
        t = monthly_from + step
        while t <= horizon:
            for inst in instruments:
                cands.append(
                    (
                        t,
                        4,
                        PlannedDue(
                            inst,
                            MONTHLY,
                            t,
                            t - mw / 2,
                            t + mw / 2,
                            "monthly in maintenance",
                            src("monthly.interval_days"),
                        ),
                        True,
                    )
                )
            t += step

    # Long-term safety schedule.
    wanted = (
        CHECKS
        if request.safety_checks is None
        else [CHECKS_BY_ID[c] for c in _known_checks(request.safety_checks)]
    )
    sw = day * rules.num("safety.window_days")
    for check in wanted:
        what = check.instrument or check.id
        cands.append(
            (
                first,
                5,
                PlannedDue(
                    what,
                    SAFETY,
                    first,
                    first - bw,
                    first,
                    f"{check.label}: baseline. {check.prompt}",
                    "clinical.md §5",
                    sessions[0].number,
                ),
                False,
            )
        )
        if check.every_maintenance_visit_key and rules[check.every_maintenance_visit_key]:
            for s in maintenance:
                cands.append(
                    (
                        s.at,
                        5,
                        PlannedDue(
                            what,
                            SAFETY,
                            s.at,
                            s.at - pw,
                            s.at,
                            f"{check.label}: maintenance visit {s.number}. {check.prompt}",
                            src(check.every_maintenance_visit_key),
                            s.number,
                        ),
                        False,
                    )
                )
        if check.interval_key and (interval := rules.num(check.interval_key)) > 0:
            t = first + day * interval
            while t <= horizon:
                cands.append(
                    (
                        t,
                        5,
                        PlannedDue(
                            what,
                            SAFETY,
                            t,
                            t,
                            t + sw,
                            f"{check.label}: every {interval:g} days. {check.prompt}",
                            src(check.interval_key),
                        ),
                        True,
                    )
                )
                t += day * interval

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
