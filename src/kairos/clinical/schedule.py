"""Dated session plans from a protocol: phases, clinic calendar, spacing, integration sessions, missed
sessions and maintenance recommendations.

Placement rule (per dosing phase of ``sessions`` at ``per_period`` per ``period_days``): session *i* is
wanted on ``anchor + ⌊i·period/per⌋``; it moves later, never earlier, to keep (a) at least
``min_interval_days`` after the previous dose, (b) at most ``per_period`` doses in any ``period_days``
window of the phase, and (c) an open, non-closed clinic day. Phases with a label week (esketamine weeks
1–4, 5–8, ≥9) anchor on it; others follow the previous phase. A phase pushed past its nominal length by
closures is reported in ``Plan.warnings``.

Integration sessions are placed by ONE rule (:func:`integration_window`): the window
[``integration.min_hours``, ``integration.max_hours``] after each dose, counted in whole days at the dose's
clock time; the booking is the first open day in it that is not a dosing day (else the first open day).

Recommendations (:class:`Recommendation`) are suggestions with a reason and a source, never orders.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kairos.clinical.config import RuleSet
from kairos.clinical.dosing import DoseError, compute_dose
from kairos.clinical.outcomes import CourseOutcome
from kairos.clinical.protocols import Phase, Protocol, get_protocol
from kairos.clinical.rules.dosing import RULES as DOSING_RULES
from kairos.clinical.rules.schedule import RULES

_SEARCH_DAYS = 366


class ScheduleError(ValueError):
    """A plan cannot be made; the message names the field and the allowed range."""


@dataclass(frozen=True)
class ClinicCalendar:
    """Opening weekdays (0 = Monday … 6 = Sunday) and closure dates."""

    open_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    closures: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        days = frozenset(self.open_weekdays)
        if not days or not days <= set(range(7)):
            raise ScheduleError(
                f"open_weekdays: {sorted(days)} must be a non-empty subset of 0..6 (0 = Monday)"
            )
        object.__setattr__(self, "open_weekdays", days)
        object.__setattr__(self, "closures", frozenset(self.closures))

    @classmethod
    def from_rules(cls, rules: RuleSet = RULES, closures: Iterable[dt.date] = ()) -> ClinicCalendar:
        days = rules["clinic.open_weekdays"]
        assert isinstance(days, tuple)
        return cls(frozenset(int(d) for d in days), frozenset(closures))

    def is_open(self, day: dt.date) -> bool:
        return day.weekday() in self.open_weekdays and day not in self.closures

    def next_open(self, day: dt.date) -> dt.date:
        for k in range(_SEARCH_DAYS):
            d = day + dt.timedelta(days=k)
            if self.is_open(d):
                return d
        raise ScheduleError(f"calendar: no open day within {_SEARCH_DAYS} days of {day.isoformat()}")


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """One dosing session of a plan. ``dose_mg`` is free base; None when computed at the session."""

    number: int
    date: dt.date
    phase: str
    drug: str
    route: str
    dose_mg: float | None
    dose_options_mg: tuple[float, ...]
    duration_min: int
    administration_min: int
    admixture: dict[str, Any] | None = None
    devices: int | None = None
    status: str = "planned"  # planned | missed | rescheduled
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TherapySession:
    """A non-dosing therapy session (KAP preparation)."""

    number: int
    date: dt.date
    phase: str
    duration_min: int | None = None


@dataclass(frozen=True, slots=True)
class IntegrationWindow:
    """Where the integration session after dosing session ``after_session`` may be booked."""

    after_session: int
    earliest: dt.date
    latest: dt.date
    booked: dt.date | None
    reason: str


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A suggestion for the clinician (never an order), with its reason and source."""

    kind: str  # continue | space_out | review | booster | revert_schedule | end_course | assess
    reason: str
    source: str
    suggested_interval_days: int | None = None
    by: dt.date | None = None


@dataclass(frozen=True)
class Plan:
    """A dated plan for one protocol."""

    protocol_id: str
    title: str
    start: dt.date
    sessions: tuple[PlannedSession, ...]
    preparation: tuple[TherapySession, ...] = ()
    integration: tuple[IntegrationWindow, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def phase_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.sessions:
            counts[s.phase] = counts.get(s.phase, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))  # type: ignore[no-any-return]


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, dt.date):
        return x.isoformat()
    return x


# --- integration ------------------------------------------------------------------------------------------


def integration_window(
    dose_date: dt.date, calendar: ClinicCalendar, dosing_days: Iterable[dt.date] = (), rules: RuleSet = RULES
) -> tuple[dt.date, dt.date, dt.date | None, str]:
    """The one integration rule: (earliest, latest, booked day or None, reason) after a dose on ``dose_date``."""
    lo_h, hi_h = rules.num("integration.min_hours"), rules.num("integration.max_hours")
    if hi_h < lo_h:
        raise ScheduleError(f"integration.max_hours: {hi_h:g} h is below integration.min_hours ({lo_h:g} h)")
    earliest = dose_date + dt.timedelta(days=math.ceil(lo_h / 24))
    latest = dose_date + dt.timedelta(days=math.floor(hi_h / 24))
    rule = f"integration {lo_h:g}–{hi_h:g} h after the dose"
    if latest < earliest:
        return earliest, latest, None, f"{rule}: no whole day fits the window; book by hand"
    busy = set(dosing_days)
    days = [earliest + dt.timedelta(days=k) for k in range((latest - earliest).days + 1)]
    open_days = [d for d in days if calendar.is_open(d)]
    free = [d for d in open_days if d not in busy]
    if free:
        return earliest, latest, free[0], rule
    if open_days:
        return earliest, latest, open_days[0], f"{rule}; only a dosing day is open in the window"
    return earliest, latest, None, f"{rule}: the clinic is closed throughout the window"


def _integration(
    sessions: Sequence[PlannedSession], calendar: ClinicCalendar, rules: RuleSet
) -> tuple[IntegrationWindow, ...]:
    active = [s for s in sessions if s.status != "missed"]
    days = [s.date for s in active]
    out = []
    for s in active:
        e, lt, booked, reason = integration_window(s.date, calendar, days, rules)
        out.append(IntegrationWindow(s.number, e, lt, booked, reason))
    return tuple(out)


# --- placement --------------------------------------------------------------------------------------------


def _place_phase(
    phase: Phase, anchor: dt.date, last: dt.date | None, min_interval: int, calendar: ClinicCalendar
) -> list[dt.date]:
    dates: list[dt.date] = []
    for i in range(phase.sessions):
        cand = anchor + dt.timedelta(days=(i * phase.period_days) // phase.per_period)
        prev = dates[-1] if dates else last
        if prev is not None:
            cand = max(cand, prev + dt.timedelta(days=min_interval))
        if i >= phase.per_period:
            cand = max(cand, dates[i - phase.per_period] + dt.timedelta(days=phase.period_days))
        dates.append(calendar.next_open(cand))
    return dates


def _session_dose(
    p: Protocol, index: int, weight_kg: float | None, level: int, dosing_rules: RuleSet
) -> tuple[float | None, tuple[float, ...], dict[str, Any] | None, int | None, int, tuple[str, ...]]:
    """(dose_mg, options, admixture dict, devices, duration_min, notes) for the index-th dosing session."""
    if p.dose.basis == "mg_per_kg":
        if weight_kg is None:
            return (
                None,
                (),
                None,
                None,
                p.session_min,
                ("dose computed at the session from the measured weight",),
            )
        r = compute_dose(p.id, weight_kg=weight_kg, level=level, rules=dosing_rules)
        admix = None
        if r.admixture is not None:
            admix = asdict(r.admixture)
            admix["delivered_mg"] = round(r.admixture.delivered_mg, 4)
        notes: tuple[str, ...] = ("provisional: recompute with the weight measured at the session",)
        if r.injection_volume_ml is not None:
            notes += (f"{r.injection_volume_ml:g} mL IM",)
        return r.dose_mg, (), admix, None, p.session_min, notes
    if p.dose.basis == "fixed_choice":
        start = float(p.dose.start_mg or 0.0)
        prev = [start] if index > 0 else []
        r = compute_dose(p.id, requested_mg=start, previous_doses_mg=prev, rules=dosing_rules)
        assert r.devices is not None
        obs = p.session_min - p.administration_min
        admin = int(r.devices.offsets_min[-1])
        notes = (
            ("day-1 dose",)
            if index == 0
            else (
                "planned at the start dose; "
                + " or ".join(f"{x:g}" for x in p.dose.allowed_mg)
                + " mg by response",
            )
        )
        return (
            r.dose_mg,
            p.dose.allowed_mg if index > 0 else (start,),
            None,
            r.devices.devices,
            obs + admin,
            notes,
        )
    r = compute_dose(p.id, rules=dosing_rules)
    return r.dose_mg, (), None, None, p.session_min, (f"{r.units:g} unit(s); {r.reasons[0]}",)


def generate_schedule(
    protocol_id: str,
    start: dt.date,
    *,
    calendar: ClinicCalendar | None = None,
    weight_kg: float | None = None,
    level: int = 0,
    rules: RuleSet = RULES,
    dosing_rules: RuleSet = DOSING_RULES,
) -> Plan:
    """A dated plan for ``protocol_id`` starting on ``start`` (first session on the first open day)."""
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise ScheduleError(f"start: expected a date, got {start!r}")
    try:
        return _generate_schedule(protocol_id, start, calendar, weight_kg, level, rules, dosing_rules)
    except OverflowError:
        raise ScheduleError(
            f"start: {start.isoformat()} is too late; the plan must end by {dt.date.max.isoformat()}"
        ) from None


def _generate_schedule(
    protocol_id: str,
    start: dt.date,
    calendar: ClinicCalendar | None,
    weight_kg: float | None,
    level: int,
    rules: RuleSet,
    dosing_rules: RuleSet,
) -> Plan:
    # Long by design: the label's schedule is one walk over the phases (induction, optimisation, maintenance)
    # with the calendar's closures applied as it goes; each step depends on the date the previous one chose.
    cal = calendar if calendar is not None else ClinicCalendar.from_rules(rules)
    p = get_protocol(protocol_id, dosing_rules=dosing_rules, schedule_rules=rules)
    try:
        # validate the weight once, up front, so the error names the field
        _session_dose(p, 0, weight_kg, level, dosing_rules)
    except DoseError as exc:
        raise ScheduleError(str(exc)) from None
    warnings: list[str] = []
    preparation: list[TherapySession] = []
    dosing_anchor = start
    prep_gap = int(rules.num("preparation.min_interval_days"))
    for phase in p.phases:
        if phase.kind != "therapy" or phase.sessions == 0:
            continue
        dates = _place_phase(phase, start, None, prep_gap, cal)
        preparation += [TherapySession(len(preparation) + i + 1, d, phase.name) for i, d in enumerate(dates)]
        dosing_anchor = dates[-1] + dt.timedelta(days=max(prep_gap, 1))
    sessions: list[PlannedSession] = []
    last: dt.date | None = None
    first_anchor: dt.date | None = None
    for phase in p.dosing_phases:
        if phase.sessions == 0:
            continue
        if phase.start_day is not None:
            base = first_anchor if first_anchor is not None else cal.next_open(dosing_anchor)
            anchor = base + dt.timedelta(days=phase.start_day)
        elif last is not None:
            anchor = last + dt.timedelta(days=phase.period_days // phase.per_period)
        else:
            anchor = cal.next_open(dosing_anchor)
        if first_anchor is None:
            first_anchor = cal.next_open(anchor)
            anchor = first_anchor
        dates = _place_phase(phase, anchor, last, p.min_interval_days, cal)
        overrun = (dates[-1] - (anchor + dt.timedelta(days=phase.nominal_days - 1))).days
        if overrun > 0:
            warnings.append(
                f"{phase.name} runs {overrun} day(s) past its nominal {phase.nominal_days} days (closures)"
            )
        for d in dates:
            idx = len(sessions)
            dose, options, admix, devices, duration, notes = _session_dose(
                p, idx, weight_kg, level, dosing_rules
            )
            sessions.append(
                PlannedSession(
                    number=idx + 1,
                    date=d,
                    phase=phase.name,
                    drug=p.drug,
                    route=p.route,
                    dose_mg=dose,
                    dose_options_mg=options,
                    duration_min=duration,
                    administration_min=p.administration_min
                    if devices is None
                    else duration - (p.session_min - p.administration_min),
                    admixture=admix,
                    devices=devices,
                    notes=notes,
                )
            )
        last = dates[-1]
    integration = _integration(sessions, cal, rules) if p.integration else ()
    for w in integration:
        if w.booked is None:
            warnings.append(f"session {w.after_session}: {w.reason}")
    return Plan(
        protocol_id=p.id,
        title=p.title,
        start=start,
        sessions=tuple(sessions),
        preparation=tuple(preparation),
        integration=integration,
        warnings=tuple(warnings),
        notes=p.notes,
    )


# --- missed sessions --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MissedSessionResult:
    plan: Plan
    recommendations: tuple[Recommendation, ...]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))  # type: ignore[no-any-return]


def handle_missed_session(
    plan: Plan,
    number: int,
    *,
    symptoms_worsened: bool | None = None,
    calendar: ClinicCalendar | None = None,
    rules: RuleSet = RULES,
    dosing_rules: RuleSet = DOSING_RULES,
) -> MissedSessionResult:
    """Apply the missed-session rule to dosing session ``number`` of ``plan``.

    Esketamine (label, §1.2): the current schedule continues; if symptoms worsened, consider reverting to
    the prior, more frequent schedule. Other routes: the clinic rule ``missed.other_routes`` (⚠) either
    moves the session (and later ones, keeping spacing) or skips it.
    """
    # Long by design: the missed-session rule is a single decision table (reschedule, restart, review) whose
    # branches share the plan, the interval and the cited reason; kept together so it reads as the rule does.
    numbers = [s.number for s in plan.sessions]
    if number not in numbers:
        raise ScheduleError(f"number: {number} is outside the allowed range [1, {len(numbers)}]")
    cal = calendar if calendar is not None else ClinicCalendar.from_rules(rules)
    p = get_protocol(plan.protocol_id, dosing_rules=dosing_rules, schedule_rules=rules)
    idx = numbers.index(number)
    missed = plan.sessions[idx]
    sessions = list(plan.sessions)
    recs: list[Recommendation] = []
    if p.drug == "esketamine":
        sessions[idx] = replace(missed, status="missed")
        src = "§1.2 missed-session rule (Davis Drug Guide mirror)"
        if symptoms_worsened is None:
            recs.append(
                Recommendation(
                    "assess",
                    "Session missed: assess whether symptoms have worsened; the label rule depends on it.",
                    src,
                )
            )
        elif symptoms_worsened:
            prior = {"maintenance": "twice weekly (induction)", "continuation": "weekly (weeks 5–8)"}
            target = prior.get(missed.phase)
            reason = (
                f"Session missed and symptoms worsened: consider reverting to the prior {target} schedule."
                if target
                else "Session missed in induction and symptoms worsened: review with the "
                "prescriber (no more frequent schedule exists)."
            )
            recs.append(Recommendation("revert_schedule", reason, src))
        else:
            recs.append(
                Recommendation(
                    "continue", "Session missed, symptoms not worse: continue the current schedule.", src
                )
            )
    elif str(rules["missed.other_routes"]) == "skip":
        sessions[idx] = replace(missed, status="missed")
        recs.append(
            Recommendation(
                "continue",
                "Session missed: skipped per clinic rule; later sessions unchanged.",
                rules.param("missed.other_routes").source,
            )
        )
    else:
        prev = sessions[idx - 1].date if idx > 0 else None
        cand = missed.date + dt.timedelta(days=1)
        for j in range(idx, len(sessions)):
            s = sessions[j]
            want = max(s.date, cand)
            if prev is not None:
                want = max(want, prev + dt.timedelta(days=p.min_interval_days))
            new = cal.next_open(want)
            if new != s.date:
                sessions[j] = replace(s, date=new, status="rescheduled")
            prev = new
            cand = new
        recs.append(
            Recommendation(
                "continue",
                f"Session {number} missed: moved to "
                f"{sessions[idx].date.isoformat()}, later sessions kept at least "
                f"{p.min_interval_days} day(s) apart per clinic rule.",
                rules.param("missed.other_routes").source,
            )
        )
    integration = _integration(sessions, cal, rules) if p.integration else ()
    return MissedSessionResult(replace(plan, sessions=tuple(sessions), integration=integration), tuple(recs))


# --- maintenance recommendations --------------------------------------------------------------------------


def recommend_maintenance(
    protocol_id: str,
    outcome: CourseOutcome,
    *,
    sessions_completed: int,
    current_interval_days: int | None = None,
    today: dt.date | None = None,
    rules: RuleSet = RULES,
    dosing_rules: RuleSet = DOSING_RULES,
) -> list[Recommendation]:
    """Suggestions from measured outcomes: responder → space out; non-response after the acute series →
    review; relapse → booster. Suggestions only, each with its reason and source."""
    # Long by design: the maintenance suggestions are read in order (response, non-response, relapse) from
    # the same measured trajectory, each with its reason and source; one function keeps that order visible.
    if (
        isinstance(sessions_completed, bool)
        or not isinstance(sessions_completed, int)
        or sessions_completed < 0
    ):
        raise ScheduleError(
            f"sessions_completed: {sessions_completed!r} is outside the allowed range [0, inf)"
        )
    p = get_protocol(protocol_id, dosing_rules=dosing_rules, schedule_rules=rules)
    acute = p.dosing_phases[0].sessions
    if outcome.baseline is None or not outcome.assessments:
        return [
            Recommendation(
                "assess",
                "No baseline or no post-dose assessment: outcome cannot be judged; record a rating.",
                "§2.1 baseline rating; §3 response definition",
            )
        ]
    if outcome.relapsed:
        within = int(rules.num("maintenance.booster_within_days"))
        by = today + dt.timedelta(days=within) if today else None
        when = outcome.relapse_at.date().isoformat() if outcome.relapse_at else "?"
        recs = [
            Recommendation(
                "booster",
                f"Loss of response confirmed from {when}: consider a booster session within {within} days.",
                "§2.3 boosters; §3 relapse 16–19 days after a series",
                None,
                by,
            )
        ]
        if p.drug == "esketamine":
            recs.append(
                Recommendation(
                    "revert_schedule",
                    "Esketamine: consider returning to the prior, more frequent schedule.",
                    "§1.2 (S5)",
                )
            )
        return recs
    if sessions_completed < acute:
        return [
            Recommendation(
                "continue",
                f"Acute series in progress ({sessions_completed} of {acute}); judge response at its end.",
                p.dosing_phases[0].source,
            )
        ]
    if p.id == "esketamine-mdsi":
        return [
            Recommendation(
                "end_course",
                "MDSI course ends at 4 weeks; use beyond 4 weeks was not "
                "systematically evaluated. Plan further treatment.",
                "§1.2 MDSI (S5)",
            )
        ]
    if outcome.responding_now:
        step = int(rules.num("maintenance.space_out_step_days"))
        top = int(rules.num("maintenance.max_interval_days"))
        current = current_interval_days or 7
        if p.id == "esketamine-trd":
            choices = rules.param("esketamine-trd.continuation.period_days").choices or (7, 14)
            suggested = max(int(c) for c in choices)
            src = "§1.2 (from week 9: least frequent schedule that keeps response, S5)"
        else:
            suggested = min(current + step, top)
            src = f"{rules.param('maintenance.space_out_step_days').source}; {rules.param('maintenance.max_interval_days').source}"
        if suggested <= current:
            return [
                Recommendation(
                    "continue",
                    f"{outcome.current.capitalize()} maintained at a {current}-day "
                    "interval, already the longest suggested.",
                    src,
                    current,
                )
            ]
        return [
            Recommendation(
                "space_out",
                f"{outcome.current.capitalize()} at the latest assessment: consider "
                f"spacing sessions from every {current} to every {suggested} days.",
                src,
                suggested,
            )
        ]
    extra = " (partial response)" if outcome.partial_response else ""
    src = (
        "§1.2 evaluate at week 4 (S5)"
        if p.drug == "esketamine"
        else "§2.1, §2.3 reassess after the series (⚠)"
    )
    return [
        Recommendation(
            "review",
            f"No response after the acute series of {acute} sessions{extra}: review whether to continue.",
            src,
        )
    ]
