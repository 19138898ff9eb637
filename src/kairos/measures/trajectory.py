"""Per-instrument score trajectories for the patient chart (server-rendered SVG geometry).

:func:`build_trajectories` is pure: it takes the patient's scores, dosing sessions and courses as plain
rows and returns, per instrument, the chart geometry (score line and points, dosing-session marks,
response and remission thresholds from :mod:`kairos.clinical` rule sets, the modelled population band
behind), the course classification from :func:`kairos.clinical.outcomes.classify_course` as status badges,
the maintenance recommendation of :func:`kairos.clinical.schedule.recommend_maintenance` with its reason,
and a data-table alternative. :func:`chart_rows` loads those rows with a constant number of queries.

The SVG uses presentation attributes only (``fill=``, ``stroke=``): no ``style=``, no script, so the strict
Content-Security-Policy holds. The population band comes from :mod:`kairos.measures.adapters` (the only
module here that talks to the pharmacology engine) and is labelled as a model band for clinicians.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kairos.clinical.instruments import get as get_instrument
from kairos.clinical.outcomes import (
    CourseOutcome,
    OutcomeError,
    RemissionRule,
    classify_course,
    remission_rule,
)
from kairos.clinical.protocols import ProtocolError, get_protocol
from kairos.clinical.rules.outcomes import RULES as OUTCOME_RULES
from kairos.clinical.schedule import Recommendation, ScheduleError, recommend_maintenance
from kairos.measures import adapters

log = logging.getLogger(__name__)

#: chart order; other instruments with numeric totals follow alphabetically
INSTRUMENT_ORDER = ("madrs", "phq9", "qids_sr16", "hamd17", "gad7", "pcl5")
#: instruments charted as part of another's series (same scale, modified recall)
SERIES_OF = {"phq9_24h": "phq9"}
#: never charted as trajectories (session monitoring / screens, shown elsewhere)
NOT_CHARTED = frozenset({"cadss6", "moaas", "cssrs_screener", "phq2", "gad2"})

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 18, 18, 46


@dataclass(frozen=True, slots=True)
class ScoreRow:
    instrument_id: str
    total: float
    at: dt.datetime
    course_id: int | None = None
    response_id: int | None = None


@dataclass(frozen=True, slots=True)
class SessionRow:
    at: dt.datetime
    course_id: int | None
    drug: str
    route: str
    dose_mg: float | None
    duration_min: float = 0.0
    weight_kg: float | None = None


@dataclass(frozen=True, slots=True)
class CourseRow:
    course_id: int
    protocol_id: str
    start_date: dt.date
    status: str = ""


SUGGESTION_LABELS = {
    "continue": "Continue",
    "space_out": "Space out sessions",
    "review": "Review the course",
    "booster": "Booster session",
    "revert_schedule": "Revert to the prior schedule",
    "end_course": "End of course",
    "assess": "Assessment needed",
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str
    label: str
    reason: str
    source: str
    by: dt.date | None


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    css: str  # badge-ok | badge-warn | badge-bad | badge-info | badge-muted
    reason: str


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Line:
    y: float
    label: str
    value: float


@dataclass(frozen=True, slots=True)
class TableRow:
    at: dt.datetime
    total: float
    reduction_pct: float | None
    category: str
    sessions_before: int

    @property
    def change(self) -> str:
        """Change from baseline as shown to clinicians: "−45 %" is a 45 % reduction."""
        if self.reduction_pct is None:
            return "—"
        r = round(self.reduction_pct)
        return f"−{r} %" if r > 0 else (f"+{-r} %" if r < 0 else "0 %")


@dataclass
class Trajectory:
    instrument: str
    name: str
    max_total: float
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM
    path: str = ""
    points: list[Mark] = field(default_factory=list)
    doses: list[Mark] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    response_line: Line | None = None
    remission_line: Line | None = None
    band_polygon: str = ""
    band_mid: str = ""
    band_label: str = adapters.BAND_LABEL
    band_disclaimer: str = adapters.DISCLAIMER
    band_note: str = ""
    badges: list[Badge] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def suggestions(self) -> list[Suggestion]:
        return [
            Suggestion(
                r.kind, SUGGESTION_LABELS.get(r.kind, r.kind.replace("_", " ")), r.reason, r.source, r.by
            )
            for r in self.recommendations
        ]

    reasons: tuple[str, ...] = ()
    table: list[TableRow] = field(default_factory=list)
    outcome: CourseOutcome | None = None
    protocol_id: str = ""
    title: str = ""
    desc: str = ""

    @property
    def dom_id(self) -> str:
        return f"traj-{self.instrument}"


def _nice_max(v: float, cap: float) -> float:
    if v <= 0:
        return min(10.0, cap)
    step = 5.0 if v <= 30 else 10.0
    return min(cap, math.ceil(v * 1.12 / step) * step)


def _x_ticks(t0: dt.datetime, t1: dt.datetime, x: Any) -> list[tuple[float, str]]:
    days = max((t1 - t0).days, 1)
    step = 1 if days <= 10 else 7 if days <= 70 else 14 if days <= 140 else 30
    start = t0.date() + dt.timedelta(days=1)
    if step == 7:  # Mondays
        start += dt.timedelta(days=(7 - start.weekday()) % 7)
    elif step == 30:
        start = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    ticks = []
    d = start
    while d <= t1.date():
        at = dt.datetime.combine(d, dt.time(0), tzinfo=t0.tzinfo)
        ticks.append((x(at), d.strftime("%d %b") if step < 30 else d.strftime("%b %Y")))
        d = (
            d + dt.timedelta(days=step)
            if step < 30
            else dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        )
    return ticks


def _badges(o: CourseOutcome, sessions_done: int, acute: int | None) -> list[Badge]:
    out: list[Badge] = []
    if o.baseline is None:
        return [Badge("No baseline", "badge-muted", o.reasons[-1] if o.reasons else "no baseline")]
    if o.relapsed and o.relapse_at:
        out.append(Badge("Relapse", "badge-bad", f"loss of response confirmed from {o.relapse_at:%Y-%m-%d}"))
    if o.in_remission:
        out.append(Badge("Remitter", "badge-ok", f"latest assessment meets {o.remission_rule}"))
    elif o.remitted and o.remission_at:
        out.append(
            Badge("Remitted earlier", "badge-info", f"met {o.remission_rule} on {o.remission_at:%Y-%m-%d}")
        )
    if o.responded and not o.relapsed and o.response_at:
        out.append(Badge("Responder", "badge-ok", f"≥50 % reduction first on {o.response_at:%Y-%m-%d}"))
    if not o.responded and o.assessments and acute is not None and sessions_done >= acute:
        out.append(
            Badge(
                "Non-responder after acute series",
                "badge-warn",
                f"no assessment reached a 50 % reduction after {sessions_done} sessions (acute series {acute})",
            )
        )
    if o.partial_response:
        out.append(Badge("Partial response", "badge-info", "latest reduction in the partial band"))
    if o.rapid_response:
        out.append(Badge("Rapid response (24 h)", "badge-info", "response within 24 h of dose 1"))
    if o.baseline_stale:
        out.append(Badge("Baseline out of date", "badge-warn", "baseline older than the rule allows"))
    if not out and not o.assessments:
        out.append(Badge("Awaiting assessment", "badge-muted", "no assessment after the first dose yet"))
    return out


def _interval_days(doses: Sequence[dt.datetime]) -> int | None:
    if len(doses) < 2:
        return None
    return max(1, round((doses[-1] - doses[-2]).total_seconds() / 86400))


def build_trajectories(
    scores: Sequence[ScoreRow],
    sessions: Sequence[SessionRow],
    courses: Sequence[CourseRow],
    *,
    now: dt.datetime,
    band: bool = True,
    weight_kg: float | None = None,
) -> list[Trajectory]:
    """One :class:`Trajectory` per charted instrument, for the patient's latest course with doses."""
    by_inst: dict[str, list[ScoreRow]] = {}
    for s in scores:
        inst = SERIES_OF.get(s.instrument_id, s.instrument_id)
        if inst in NOT_CHARTED:
            continue
        by_inst.setdefault(inst, []).append(s)
    if not by_inst:
        return []
    dosed = sorted((s for s in sessions), key=lambda s: s.at)
    course_ids_with_doses = [s.course_id for s in dosed if s.course_id is not None]
    course = None
    if course_ids_with_doses:
        cid = course_ids_with_doses[-1]
        course = next((c for c in courses if c.course_id == cid), None)
    elif courses:
        course = max(courses, key=lambda c: (c.start_date, c.course_id))
    course_sessions = (
        [s for s in dosed if course is None or s.course_id == course.course_id] if course else dosed
    )
    doses = [s.at for s in course_sessions]
    protocol_id = course.protocol_id if course else ""
    acute: int | None = None
    if protocol_id:
        try:
            acute = get_protocol(protocol_id).dosing_phases[0].sessions
        except (ProtocolError, KeyError, IndexError, ValueError):
            acute = None
    order = {k: i for i, k in enumerate(INSTRUMENT_ORDER)}
    result = []
    for inst in sorted(by_inst, key=lambda k: (order.get(k, 99), k)):
        result.append(
            _one(inst, by_inst[inst], course_sessions, doses, protocol_id, acute, now, band, weight_kg)
        )
    return result


def _one(
    inst: str,
    rows: list[ScoreRow],
    sessions: list[SessionRow],
    doses: list[dt.datetime],
    protocol_id: str,
    acute: int | None,
    now: dt.datetime,
    band: bool,
    weight_kg: float | None,
) -> Trajectory:
    try:
        meta = get_instrument(inst)
        name, cap = meta.name, float(meta.max_total or 100)
    except Exception:  # unknown instrument id in stored data: chart it plainly
        name, cap = inst, max(r.total for r in rows)
    rows = _in_window(sorted(rows, key=lambda r: r.at), doses)
    points = [(r.at, r.total) for r in rows]
    t = Trajectory(inst, name, cap, protocol_id=protocol_id)
    try:
        rem: RemissionRule | None = remission_rule(inst, protocol_id or None)
    except OutcomeError:
        rem = None
    outcome = _classify(t, points, doses, protocol_id, acute, now) if rem is not None else None
    ax = _axes(t, [r.at for r in rows] + doses, max([r.total for r in rows] + [1.0]), cap, doses, now)
    _draw(t, ax, points, sessions)
    base = outcome.baseline.total if outcome and outcome.baseline else None
    if base is not None and base > 0:
        resp_pct = OUTCOME_RULES.num("response.min_reduction_pct")
        v = base * (1 - resp_pct / 100)
        t.response_line = Line(ax.y(v), f"response (≥{resp_pct:g} % below baseline {base:g})", v)
    if rem is not None:
        t.remission_line = Line(ax.y(rem.cutoff), f"remission ({rem})", rem.cutoff)
    _table(t, points, outcome, doses)
    if band and doses and base is not None and base > 0:
        _population_band(t, ax, sessions, base, cap, weight_kg)
    _describe(t, name, points, base, len(doses))
    return t


def _in_window(rows: list[ScoreRow], doses: list[dt.datetime]) -> list[ScoreRow]:
    """The latest course (from 21 days before dose 1, or the last score before it) or everything when
    nothing was dosed."""
    if not doses:
        return rows
    lo = doses[0] - dt.timedelta(days=21)
    pre = [r for r in rows if r.at < doses[0]]
    if pre and pre[-1].at < lo:
        lo = pre[-1].at
    return [r for r in rows if r.at >= lo]


def _classify(
    t: Trajectory,
    points: list[tuple[dt.datetime, float]],
    doses: list[dt.datetime],
    protocol_id: str,
    acute: int | None,
    now: dt.datetime,
) -> CourseOutcome:
    """The course's outcome on this instrument, its badges and the maintenance recommendation."""
    outcome = classify_course(points, doses, instrument=t.instrument, protocol_id=protocol_id or None)
    t.outcome = outcome
    t.reasons = outcome.reasons
    t.badges = _badges(outcome, len(doses), acute)
    if protocol_id and doses:
        try:
            t.recommendations = recommend_maintenance(
                protocol_id,
                outcome,
                sessions_completed=len(doses),
                current_interval_days=_interval_days(doses),
                today=now.date(),
            )
        except (ScheduleError, ProtocolError, KeyError, ValueError) as exc:
            t.band_note = f"no maintenance recommendation: {exc}"
    return outcome


@dataclass(frozen=True, slots=True)
class _Axes:
    """Time (x) and score (y) scales of one chart, in SVG coordinates."""

    t0: dt.datetime
    t1: dt.datetime
    left: int
    width: int
    bottom: int
    height: int
    ymax: float

    def x(self, at: dt.datetime) -> float:
        span = (self.t1 - self.t0).total_seconds()
        return round(self.left + self.width * (at - self.t0).total_seconds() / span, 1)

    def y(self, v: float) -> float:
        return round(self.bottom - self.height * min(max(v, 0.0), self.ymax) / self.ymax, 1)


def _axes(
    t: Trajectory,
    times: list[dt.datetime],
    top_val: float,
    cap: float,
    doses: list[dt.datetime],
    now: dt.datetime,
) -> _Axes:
    t0 = min(times) - dt.timedelta(days=2)
    t1 = max(times) + dt.timedelta(days=3)
    if doses and now > t1 and (now - max(times)).days <= 14:
        t1 = now + dt.timedelta(days=1)
    return _Axes(
        t0,
        t1,
        t.plot_left,
        t.plot_right - t.plot_left,
        t.plot_bottom,
        t.plot_bottom - t.plot_top,
        _nice_max(top_val, cap),
    )


def _draw(
    t: Trajectory, ax: _Axes, points: list[tuple[dt.datetime, float]], sessions: list[SessionRow]
) -> None:
    """Ticks, the score line with its points and the dosing-session marks."""
    x, y = ax.x, ax.y
    ystep = 5.0 if ax.ymax <= 30 else 10.0
    t.y_ticks = [(y(k * ystep), f"{k * ystep:g}") for k in range(int(ax.ymax / ystep) + 1)]
    t.x_ticks = _x_ticks(ax.t0, ax.t1, x)
    t.path = "M" + " L".join(f"{x(at)},{y(v)}" for at, v in points) if points else ""
    t.points = [Mark(x(at), y(v), f"{at:%Y-%m-%d %H:%M}: {v:g}") for at, v in points]
    t.doses = [
        Mark(
            x(s.at),
            float(t.plot_bottom),
            f"Session {i + 1}: {s.at:%Y-%m-%d}" + (f", {s.dose_mg:g} mg" if s.dose_mg else ""),
        )
        for i, s in enumerate(sessions)
    ]


def _table(
    t: Trajectory,
    points: list[tuple[dt.datetime, float]],
    outcome: CourseOutcome | None,
    doses: list[dt.datetime],
) -> None:
    cats = {a.at: a for a in outcome.assessments} if outcome else {}
    for at, v in points:
        a = cats.get(at)
        cat = (
            a.category
            if a
            else (
                "baseline" if outcome and outcome.baseline and outcome.baseline.at == at else "before dose 1"
            )
        )
        t.table.append(TableRow(at, v, a.reduction_pct if a else None, cat, sum(1 for d in doses if d <= at)))


def _population_band(
    t: Trajectory, ax: _Axes, sessions: list[SessionRow], base: float, cap: float, weight_kg: float | None
) -> None:
    """The modelled population band behind the scores (never breaks the chart)."""
    inputs = [
        adapters.DoseInput(s.at, s.drug, s.route, s.dose_mg, s.duration_min)
        for s in sessions
        if s.dose_mg is not None and s.dose_mg > 0
    ]
    if not inputs:
        t.band_note = "population band not available: no dose amounts recorded"
        return
    x, y = ax.x, ax.y
    try:
        # one readout a day at the dose clock time: the band shows the day-to-day course,
        # not the within-session dip (minutes to hours after a dose)
        b = adapters.population_band(
            inputs, baseline=base, until=ax.t1, weight_kg=weight_kg or 70.0, max_score=cap, step_h=24.0
        )
        pts = [p for p in b.points if ax.t0 <= p.at <= ax.t1]
        if pts:
            up = [f"{x(p.at)},{y(p.high)}" for p in pts]
            dn = [f"{x(p.at)},{y(p.low)}" for p in reversed(pts)]
            t.band_polygon = " ".join(up + dn)
            t.band_mid = "M" + " L".join(f"{x(p.at)},{y(p.mid)}" for p in pts)
    except adapters.AdapterError as exc:
        t.band_note = f"population band not available: {exc}"
    except Exception as exc:  # the model must never break the chart
        log.warning("population band failed: %s", exc)
        t.band_note = "population band not available"


def _describe(
    t: Trajectory, name: str, points: list[tuple[dt.datetime, float]], base: float | None, n_doses: int
) -> None:
    latest = points[-1] if points else None
    status = ", ".join(b.text for b in t.badges) or "no classification"
    t.title = f"{name} scores over time"
    t.desc = (
        f"{len(points)} {name} scores"
        + (f" from {points[0][0]:%d %b %Y} to {latest[0]:%d %b %Y}" if latest else "")
        + (f"; baseline {base:g}" if base is not None else "")
        + (f"; latest {latest[1]:g}" if latest else "")
        + f"; {n_doses} dosing sessions marked; status: {status}."
        + (" A modelled population band is drawn behind the scores." if t.band_polygon else "")
    )


# --- loading (constant number of queries) --------------------------------------------------------------


def chart_rows(patient: Any) -> tuple[list[ScoreRow], list[SessionRow], list[CourseRow], float | None]:
    """The patient's scores, dosing sessions and courses as plain rows: three queries, whatever the size."""
    from kairos.courses.models import Course
    from kairos.dosing.models import DosingSession
    from kairos.measures.models import Score

    scores = [
        ScoreRow(inst, float(total or 0), at, course_id, rid)
        for inst, total, at, course_id, rid in Score.objects.filter(
            response__patient=patient, total__isnull=False
        )
        .order_by("response__submitted_at", "id")
        .values_list("instrument_id", "total", "response__submitted_at", "response__course_id", "response_id")
    ]
    sessions: list[SessionRow] = []
    weight: float | None = None
    for at, course_id, drug, route, mg, inf_min, kg in (
        DosingSession.objects.filter(patient=patient, dosing_started_at__isnull=False)
        .order_by("dosing_started_at", "id")
        .values_list(
            "dosing_started_at",
            "course_id",
            "drug",
            "route",
            "order__dose_mg",
            "order__infusion_min",
            "order__weight_kg",
        )
    ):
        if at is None:  # excluded by the filter; keeps the type checker honest
            continue
        duration = float(inf_min) if inf_min is not None else (40.0 if route == "iv" else 0.0)
        sessions.append(
            SessionRow(at, course_id, drug, route, float(mg) if mg is not None else None, duration)
        )
        if kg is not None:
            weight = float(kg)
    courses = [
        CourseRow(pk, protocol, start, status)
        for pk, protocol, start, status in Course.objects.filter(patient=patient).values_list(
            "pk", "protocol_id", "start_date", "status"
        )
    ]
    return scores, sessions, courses, weight
