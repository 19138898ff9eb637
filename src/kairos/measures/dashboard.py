"""Clinic outcomes dashboard: pure aggregation over query results (no ORM here).

:mod:`kairos.measures.dashboard_views` runs a constant number of SQL queries (courses, one instrument's
scores, dosing times, per-session safety flags computed in the database) and hands plain rows to
:func:`summarise`. Outcome rules come from :mod:`kairos.clinical.outcomes` (``classify_course``,
``cohort_summary``), statistics from :mod:`kairos.clinical.stats` (Wilson 95 % intervals, Kaplan–Meier with
Brookmeyer–Crowley median CI). Published comparison figures come from :mod:`kairos.measures.published`.

Cohort: courses whose start date falls in the chosen range (and match the filters); their dosing sessions
are the sessions counted for safety. Definitions (each shown on the page):

* response / remission / rapid response / relapse: :mod:`kairos.clinical.outcomes`, per course, on the
  chosen instrument; evaluable = a baseline before dose 1 and at least one assessment after it.
* BP rise: a reading within 90 min of the start of dosing with systolic ≥ 40 mmHg above, and/or diastolic
  ≥ 25 mmHg above, the last pre-dose reading (clinical.md §1.5, S6). Per session and per patient (at least
  once in the course's first 28 days, the label's denominator).
* sedation: a MOAA/S ≤ 3 reading after dosing or a recorded sedation event (⚠ clinic definition; the label
  counts trial-reported sedation); loss of consciousness: MOAA/S 0 (§4.8).
* dissociation: a CADSS-6 total after dosing above the pre-dose total, or a recorded dissociation event
  (⚠ clinic definition; the label used full CADSS).
* adverse events per 100 sessions with an exact (Garwood) Poisson 95 % interval.

De-identification (:func:`deidentified_rows`): HIPAA Safe Harbor (45 CFR 164.514(b)(2)) identifiers are
removed — names, MRN, contact details, exact dates (shifted per patient by a keyed offset, so intervals
within a patient are kept), ages over 89 (reported as "90+"); the patient id is replaced by a keyed
pseudonym; free-text indication is kept only when at least ``MIN_CELL`` courses share it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from statistics import median

from kairos.clinical.outcomes import CohortSummary, CourseOutcome, classify_course, cohort_summary
from kairos.clinical.rules.outcomes import RULES as OUTCOME_RULES
from kairos.clinical.rules.safety import RULES as SAFETY_RULES
from kairos.clinical.rules.safety_reporting import RULES as REPORTING_RULES
from kairos.clinical.stats import KaplanMeier, Proportion, wilson_interval
from kairos.measures import published

#: instruments offered on the dashboard (those with a remission rule in kairos.clinical.rules.outcomes)
INSTRUMENTS: dict[str, str] = {
    "madrs": "MADRS",
    "phq9": "PHQ-9",
    "qids_sr16": "QIDS-SR16",
    "hamd17": "HAM-D17",
}
#: scored instruments pooled into each dashboard series (same scale)
SERIES: dict[str, tuple[str, ...]] = {
    "madrs": ("madrs",),
    "phq9": ("phq9", "phq9_24h"),
    "qids_sr16": ("qids_sr16",),
    "hamd17": ("hamd17",),
}
# Session-safety cut-offs: cited params of kairos.clinical.rules.safety and .safety_reporting.
BP_WINDOW_MIN = int(REPORTING_RULES.num("bp_rise.window_min"))
BP_SBP_RISE = int(SAFETY_RULES.num("bp.rise_sbp"))
BP_DBP_RISE = int(SAFETY_RULES.num("bp.rise_dbp"))
BP_PATIENT_DAYS = int(REPORTING_RULES.num("bp_rise.patient_days"))
SEDATION_MOAAS_MAX = int(REPORTING_RULES.num("sedation.moaas_max"))
MIN_CELL = 5  # de-identified CSV: indication text shared by fewer courses is replaced by "other"
DATE_SHIFT_MAX_DAYS = 182


class DashboardError(ValueError):
    """Bad dashboard input; the message names the field and the allowed range."""


# --- inputs -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CourseInput:
    course_id: int
    patient_id: int
    clinic_id: int
    protocol_id: str
    indication: str
    start_date: dt.date
    date_of_birth: dt.date
    sex: str
    doses: tuple[dt.datetime, ...] = ()
    #: the series' scores; empty when the course's classification came from the materialised summary
    points: tuple[tuple[dt.datetime, float], ...] = ()


@dataclass(frozen=True, slots=True)
class SessionFlags:
    """Safety findings of one dosing session (computed in the database)."""

    session_id: int
    course_id: int
    patient_id: int
    started_at: dt.datetime
    bp_assessable: bool  # a pre-dose BP and at least one BP within the window
    bp_rise: bool
    sedation: bool
    loss_of_consciousness: bool
    dissociation: bool
    respiratory_depression: bool
    adverse_events: int


def session_flags(
    *,
    session_id: int,
    course_id: int,
    patient_id: int,
    started_at: dt.datetime,
    pre_sbp: int | None,
    pre_dbp: int | None,
    win_sbp: int | None,
    win_dbp: int | None,
    min_moaas: int | None,
    pre_cadss: int | None,
    max_cadss: int | None,
    ae_sedation: bool,
    ae_dissociation: bool,
    ae_resp: bool,
    ae_count: int | None,
) -> SessionFlags:
    """A session's findings from its flowsheet aggregates (pre-dose BP/CADSS-6, maxima within the BP window,
    minimum MOAA/S after dosing) and its adverse events (the definitions in the module docstring)."""
    bp_ok = pre_sbp is not None and (win_sbp is not None or win_dbp is not None)
    rise = bp_ok and (
        (win_sbp is not None and pre_sbp is not None and win_sbp - pre_sbp >= BP_SBP_RISE)
        or (win_dbp is not None and pre_dbp is not None and win_dbp - pre_dbp >= BP_DBP_RISE)
    )
    return SessionFlags(
        session_id=session_id,
        course_id=course_id,
        patient_id=patient_id,
        started_at=started_at,
        bp_assessable=bp_ok,
        bp_rise=bool(rise),
        sedation=bool(ae_sedation) or (min_moaas is not None and min_moaas <= SEDATION_MOAAS_MAX),
        loss_of_consciousness=min_moaas == 0,
        dissociation=bool(ae_dissociation) or (max_cadss is not None and max_cadss > (pre_cadss or 0)),
        respiratory_depression=bool(ae_resp),
        adverse_events=int(ae_count or 0),
    )


@dataclass(slots=True)
class SessionGroup:
    """The safety findings of the dosing sessions of one course and patient, summed: what the dashboard
    needs of them (counts, the earliest BP-assessable and BP-rise session for the per-patient figure over
    the first ``BP_PATIENT_DAYS`` days). Built from :class:`SessionFlags` (:func:`group_sessions`) or by
    one grouped SQL query (:mod:`kairos.measures.dashboard_views`), then merged (:meth:`add`)."""

    course_id: int
    patient_id: int
    sessions: int = 0
    bp_assessable: int = 0
    bp_rise: int = 0  # sessions with a BP rise (the CSV's per-course count)
    bp_assessable_rise: int = 0  # BP-assessable sessions with a rise (the per-session figure)
    sedation: int = 0
    loss_of_consciousness: int = 0
    dissociation: int = 0
    respiratory_depression: int = 0
    adverse_events: int = 0
    first_bp_assessable: dt.datetime | None = None  # earliest BP-assessable session
    first_bp_rise: dt.datetime | None = None  # earliest BP-assessable session with a rise

    def add_flags(self, f: SessionFlags) -> None:
        self.sessions += 1
        self.bp_assessable += f.bp_assessable
        self.bp_rise += f.bp_rise
        self.bp_assessable_rise += f.bp_assessable and f.bp_rise
        self.sedation += f.sedation
        self.loss_of_consciousness += f.loss_of_consciousness
        self.dissociation += f.dissociation
        self.respiratory_depression += f.respiratory_depression
        self.adverse_events += f.adverse_events
        if f.bp_assessable:
            self.first_bp_assessable = _earliest(self.first_bp_assessable, f.started_at)
            if f.bp_rise:
                self.first_bp_rise = _earliest(self.first_bp_rise, f.started_at)


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)


GroupKey = tuple[int, int]  # (course id, patient id)


def group_sessions(
    flags: Iterable[SessionFlags], into: dict[GroupKey, SessionGroup] | None = None
) -> dict[GroupKey, SessionGroup]:
    """Sum per-session findings into ``into`` (or a new dict) by (course, patient)."""
    groups = {} if into is None else into
    for f in flags:
        key = (f.course_id, f.patient_id)
        g = groups.get(key)
        if g is None:
            g = groups[key] = SessionGroup(f.course_id, f.patient_id)
        g.add_flags(f)
    return groups


@dataclass(frozen=True, slots=True)
class CourseSafety:
    """Per-course safety counts of the de-identified CSV."""

    bp_rise_sessions: int = 0
    adverse_events: int = 0


# --- outputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """A count over a denominator with its interval (Wilson for proportions, Garwood for rates)."""

    k: int
    n: int
    estimate: float
    lower: float
    upper: float
    unit: str = "%"  # "%" (proportion × 100) or "per 100 sessions"

    @classmethod
    def from_proportion(cls, p: Proportion) -> Rate:
        return cls(p.k, p.n, p.estimate * 100, p.lower * 100, p.upper * 100)

    @property
    def text(self) -> str:
        u = "%" if self.unit == "%" else ""
        return f"{self.estimate:.1f}{u} ({self.lower:.1f}–{self.upper:.1f})"


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    label: str
    value: str  # formatted clinic figure
    detail: str  # k/n, definition notes
    rate: Rate | None
    published: tuple[published.PublishedFigure, ...]
    definition: str = ""


@dataclass(frozen=True)
class Dashboard:
    instrument: str
    courses: int
    evaluable: int
    sessions: int
    patients: int
    cohort: CohortSummary
    outcomes: tuple[tuple[CourseInput, CourseOutcome], ...]
    efficacy: tuple[MetricRow, ...]
    safety: tuple[MetricRow, ...]
    sessions_to_response: tuple[int, ...]
    #: per-course counts (bp-rise sessions, adverse events) for the CSV
    course_safety: Mapping[int, CourseSafety] = field(default_factory=dict)
    #: the per-session findings, or a callable loading them on first use of :attr:`flags_by_course`
    #: (the figures need only :class:`SessionGroup` sums; detail is for checks and drill-down)
    flags_source: Mapping[int, list[SessionFlags]] | Callable[[], Iterable[SessionFlags]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @cached_property
    def flags_by_course(self) -> dict[int, list[SessionFlags]]:
        """Per-session findings by course (loaded on first use when built from SQL aggregates)."""
        src = self.flags_source
        if callable(src):
            by_course: dict[int, list[SessionFlags]] = defaultdict(list)
            for f in src():
                by_course[f.course_id].append(f)
            return dict(by_course)
        return dict(src)

    @property
    def time_to_relapse(self) -> KaplanMeier | None:
        return self.cohort.time_to_relapse

    @property
    def time_to_response(self) -> KaplanMeier | None:
        return self.cohort.time_to_response


def _rate_pct(k: int, n: int) -> Rate | None:
    return Rate.from_proportion(wilson_interval(k, n)) if n else None


def poisson_rate_per_100(events: int, sessions: int, confidence: float = 0.95) -> Rate | None:
    """Events per 100 sessions with the exact (Garwood 1936) Poisson interval."""
    if sessions < 1:
        return None
    if events < 0:
        raise DashboardError(f"events: {events} is outside the allowed range [0, inf)")
    from scipy.stats import chi2

    a = 1 - confidence
    lo = 0.0 if events == 0 else chi2.ppf(a / 2, 2 * events) / 2
    hi = chi2.ppf(1 - a / 2, 2 * events + 2) / 2
    f = 100.0 / sessions
    return Rate(events, sessions, events * f, float(lo) * f, float(hi) * f, "per 100 sessions")


def _median_text(km: KaplanMeier | None, unit: str = "days") -> tuple[str, str]:
    if km is None:
        return "—", "no courses with a response"
    if km.median is None:
        value = "not reached"
    else:
        value = f"{km.median:.0f} {unit}"
    lo = "—" if km.median_lower is None else f"{km.median_lower:.0f}"
    hi = "not reached" if km.median_upper is None else f"{km.median_upper:.0f}"
    return (
        value,
        f"95 % CI {lo}–{hi}; {km.events} events among {km.n} (Kaplan–Meier, censored at last assessment)",
    )


def summarise(
    courses: Sequence[CourseInput],
    session_flags: Iterable[SessionFlags],
    *,
    instrument: str,
    protocol_family: str = "",
    outcomes: Mapping[int, CourseOutcome] | None = None,
) -> Dashboard:
    """Classify every course on ``instrument`` and aggregate efficacy and safety figures.

    ``outcomes``: classifications already made (course id -> outcome, e.g. the materialised summaries of
    :mod:`kairos.measures.outcome_store`); the other courses are classified here from their points."""
    flags = list(session_flags)
    by_course: dict[int, list[SessionFlags]] = defaultdict(list)
    for f in flags:
        by_course[f.course_id].append(f)
    return summarise_groups(
        courses,
        group_sessions(flags).values(),
        instrument=instrument,
        protocol_family=protocol_family,
        outcomes=outcomes,
        flags_source=dict(by_course),
    )


def summarise_groups(
    courses: Sequence[CourseInput],
    groups: Iterable[SessionGroup],
    *,
    instrument: str,
    protocol_family: str = "",
    outcomes: Mapping[int, CourseOutcome] | None = None,
    flags_source: Mapping[int, list[SessionFlags]] | Callable[[], Iterable[SessionFlags]] | None = None,
) -> Dashboard:
    """:func:`summarise` over per-(course, patient) sums of the session findings instead of one row per
    session (the same figures: every safety figure is a count, or "at least once" per patient, whose
    28-day window only needs each group's earliest qualifying session). ``flags_source``: the per-session
    findings behind :attr:`Dashboard.flags_by_course`, or a callable loading them on demand."""
    if instrument not in INSTRUMENTS:
        raise DashboardError(f"instrument: {instrument!r} is not one of {', '.join(INSTRUMENTS)}")
    known = outcomes or {}
    pairs: list[tuple[CourseInput, CourseOutcome]] = []
    for c in courses:
        o = known.get(c.course_id)
        if o is None:
            o = classify_course(c.points, c.doses, instrument=instrument, protocol_id=c.protocol_id or None)
        pairs.append((c, o))
    cohort = cohort_summary([o for _, o in pairs])
    # sessions to response: doses given up to and including the response assessment
    s2r = tuple(sum(1 for d in c.doses if d <= o.response_at) for c, o in pairs if o.response_at is not None)
    fam = protocol_family

    def pub(metric: str) -> tuple[published.PublishedFigure, ...]:
        return published.figures_for(metric, fam)

    def prop_row(key: str, p: Proportion | None, detail: str, definition: str = "") -> MetricRow:
        r = Rate.from_proportion(p) if p is not None else None
        value = r.text if r else "—"
        det = f"{r.k} of {r.n} {detail}" if r else f"no {detail}"
        return MetricRow(key, published.METRICS[key], value, det, r, pub(key), definition)

    ttrel_value, ttrel_detail = _median_text(cohort.time_to_relapse)
    ttr_value, ttr_detail = _median_text(cohort.time_to_response)
    eff = (
        prop_row(
            "response",
            cohort.response,
            "evaluable courses",
            f"≥{OUTCOME_RULES.num('response.min_reduction_pct'):g} % reduction from baseline at any assessment",
        ),
        prop_row("remission", cohort.remission, "evaluable courses", "remission cut-off at any assessment"),
        prop_row(
            "rapid_response",
            cohort.rapid_response,
            f"courses assessed within {OUTCOME_RULES.num('rapid.window_h'):g} h of dose 1",
            f"response at an assessment within {OUTCOME_RULES.num('rapid.window_h'):g} h (+ tolerance) of the first dose",
        ),
        MetricRow(
            "time_to_response",
            "Median time to response",
            ttr_value,
            ttr_detail,
            None,
            (),
            "days from dose 1 to the first response",
        ),
        MetricRow(
            "sessions_to_response",
            published.METRICS["sessions_to_response"],
            f"{median(s2r):g}" if s2r else "—",
            f"among {len(s2r)} responders" if s2r else "no responders",
            None,
            pub("sessions_to_response"),
            "dosing sessions up to the first response",
        ),
        MetricRow(
            "median_relapse_days",
            published.METRICS["median_relapse_days"],
            ttrel_value,
            ttrel_detail,
            None,
            pub("median_relapse_days"),
            "days from first response to confirmed loss of response",
        ),
    )
    first_dose = {c.course_id: (min(c.doses) if c.doses else None) for c in courses}
    window = dt.timedelta(days=BP_PATIENT_DAYS)

    def in_window(course_id: int, at: dt.datetime | None) -> bool:
        fd = first_dose.get(course_id)
        return at is not None and (fd is None or (at - fd) <= window)

    # per patient: with any session / with the finding at least once; BP within the first 28 days
    patients: set[int] = set()
    patient_any: dict[str, set[int]] = {
        k: set() for k in ("sedation", "loss_of_consciousness", "dissociation")
    }
    bp_patients: set[int] = set()
    bp_rise_patients: set[int] = set()
    per_session: dict[str, int] = dict.fromkeys(("bp_rise", *patient_any), 0)
    n_sessions = bp_n = bp_k = ae_total = rd_total = 0
    by_course_safety: dict[int, tuple[int, int]] = {}
    for g in groups:
        if not g.sessions:
            continue
        pid = g.patient_id
        patients.add(pid)
        n_sessions += g.sessions
        bp_n += g.bp_assessable
        bp_k += g.bp_assessable_rise
        ae_total += g.adverse_events
        rd_total += g.respiratory_depression
        per_session["bp_rise"] += g.bp_rise
        for key, ids in patient_any.items():
            n = getattr(g, key)
            per_session[key] += n
            if n:
                ids.add(pid)
        if in_window(g.course_id, g.first_bp_assessable):
            bp_patients.add(pid)
        if in_window(g.course_id, g.first_bp_rise):
            bp_rise_patients.add(pid)
        rise, ae = by_course_safety.get(g.course_id, (0, 0))
        by_course_safety[g.course_id] = (rise + g.bp_rise, ae + g.adverse_events)
    denominators = {"bp_rise": bp_patients, **dict.fromkeys(patient_any, patients)}
    numerators = {"bp_rise": bp_rise_patients, **patient_any}

    def patient_row(key: str, detail: str, definition: str) -> MetricRow:
        k, n = len(numerators[key]), len(denominators[key])
        r = _rate_pct(k, n)
        extra = f"; {per_session[key]} of {n_sessions} sessions" if n_sessions else ""
        det = f"{k} of {n} patients {detail}{extra}" if r else "no sessions"
        return MetricRow(key, published.METRICS[key], r.text if r else "—", det, r, pub(key), definition)

    bp_rows = patient_row(
        "bp_rise",
        f"(at least once in the first {BP_PATIENT_DAYS} days)",
        f"SBP ≥{BP_SBP_RISE} and/or DBP ≥{BP_DBP_RISE} mmHg above the last pre-dose reading within "
        f"{BP_WINDOW_MIN} min of dosing",
    )
    bp_rows = MetricRow(
        bp_rows.key,
        bp_rows.label,
        bp_rows.value,
        bp_rows.detail.split(";")[0] + (f"; {bp_k} of {bp_n} sessions with BP charted" if bp_n else ""),
        bp_rows.rate,
        bp_rows.published,
        bp_rows.definition,
    )
    ae_rate = poisson_rate_per_100(ae_total, n_sessions)
    rd_rate = poisson_rate_per_100(rd_total, n_sessions)
    safety = (
        bp_rows,
        patient_row(
            "sedation",
            "(any session)",
            f"MOAA/S ≤{SEDATION_MOAAS_MAX} after dosing or a sedation event (⚠ clinic definition)",
        ),
        patient_row("loss_of_consciousness", "(any session)", "MOAA/S 0 after dosing"),
        patient_row(
            "dissociation",
            "(any session)",
            "CADSS-6 total above pre-dose, or a dissociation event (⚠ clinic definition)",
        ),
        MetricRow(
            "respiratory_depression",
            published.METRICS["respiratory_depression"],
            f"{rd_rate.estimate:.2f} ({rd_rate.lower:.2f}–{rd_rate.upper:.2f})" if rd_rate else "—",
            f"{rd_rate.k} events in {rd_rate.n} sessions, per 100 sessions" if rd_rate else "no sessions",
            rd_rate,
            pub("respiratory_depression"),
            "recorded respiratory-depression events per 100 sessions (exact Poisson 95 % CI)",
        ),
        MetricRow(
            "adverse_events_per_100",
            published.METRICS["adverse_events_per_100"],
            f"{ae_rate.estimate:.1f} ({ae_rate.lower:.1f}–{ae_rate.upper:.1f})" if ae_rate else "—",
            f"{ae_rate.k} events in {ae_rate.n} sessions" if ae_rate else "no sessions",
            ae_rate,
            (),
            "recorded adverse events per 100 sessions (exact Poisson 95 % CI); no comparable published figure",
        ),
    )
    return Dashboard(
        instrument=instrument,
        courses=len(courses),
        evaluable=cohort.evaluable,
        sessions=n_sessions,
        patients=len({c.patient_id for c in courses}),
        cohort=cohort,
        outcomes=tuple(pairs),
        efficacy=eff,
        safety=safety,
        sessions_to_response=s2r,
        course_safety={k: CourseSafety(*v) for k, v in by_course_safety.items()},
        flags_source={} if flags_source is None else flags_source,
    )


# --- Kaplan–Meier curve geometry (server-rendered SVG) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurveGeometry:
    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    path: str  # survival step line
    band: str  # CI polygon
    censor_marks: tuple[tuple[float, float], ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    median_x: float | None
    median_y: float


def nice_step(span: float, target: int = 6) -> float:
    """A 1-2-5 step giving about ``target`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


@dataclass(frozen=True, slots=True)
class KMStep:
    """One row of the page's Kaplan–Meier table: a step of the curve (a time with at least one event), with
    the observations censored since the previous step; a last row carries those censored after the last
    event (if any)."""

    time: float
    at_risk: int
    events: int
    censored: int  # censored since the previous row, up to and including ``time``
    survival: float
    lower: float
    upper: float


def km_steps(km: KaplanMeier) -> tuple[KMStep, ...]:
    """The curve's step points: one row per distinct event time (plus one for censoring after the last
    event) instead of one per distinct time, so the table stays small however many censoring times there
    are; the estimates are those of ``km.table`` at the same times."""
    out: list[KMStep] = []
    censored = 0
    for r in km.table:
        censored += r.censored
        if r.events:
            out.append(KMStep(r.time, r.at_risk, r.events, censored, r.survival, r.lower, r.upper))
            censored = 0
    if censored:
        last = km.table[-1]
        out.append(KMStep(last.time, last.at_risk, 0, censored, last.survival, last.lower, last.upper))
    return tuple(out)


def km_geometry(km: KaplanMeier, *, width: int = 640, height: int = 260) -> CurveGeometry:
    """Step-curve SVG geometry for a Kaplan–Meier estimate (survival on y from 0 to 1), drawn from the
    curve's step points (times without an event add no corner) with one censoring mark per distinct
    position."""
    left, top, right, bottom = 48, 14, 16, 36
    pw, ph = width - left - right, height - top - bottom
    t_max = max([km.table[-1].time if km.table else 0.0, 1.0])
    step = nice_step(t_max)
    x_max = math.ceil(t_max / step) * step

    def x(t: float) -> float:
        return round(left + pw * t / x_max, 1)

    def y(s: float) -> float:
        return round(top + ph * (1 - s), 1)

    pts = [(0.0, 1.0, 1.0, 1.0)] + [(r.time, r.survival, r.lower, r.upper) for r in km.table if r.events]
    line = [f"M{x(0)},{y(1)}"]
    upper: list[str] = [f"{x(0)},{y(1)}"]
    lower: list[str] = [f"{x(0)},{y(1)}"]
    prev = pts[0]
    for t, s, lo, hi in pts[1:]:
        line.append(f"H{x(t)}V{y(s)}")
        upper += [f"{x(t)},{y(prev[3])}", f"{x(t)},{y(hi)}"]
        lower += [f"{x(t)},{y(prev[2])}", f"{x(t)},{y(lo)}"]
        prev = (t, s, lo, hi)
    line.append(f"H{x(x_max)}")
    upper.append(f"{x(x_max)},{y(prev[3])}")
    lower.append(f"{x(x_max)},{y(prev[2])}")
    band = " ".join(upper + list(reversed(lower)))
    marks = tuple(dict.fromkeys((x(r.time), y(r.survival)) for r in km.table if r.censored))
    xt = tuple((x(k * step), f"{k * step:g}") for k in range(int(round(x_max / step)) + 1))
    yt = tuple((y(v / 4), f"{v * 25}%") for v in range(5))
    return CurveGeometry(
        width,
        height,
        left,
        top,
        pw,
        ph,
        "".join(line),
        band,
        marks,
        xt,
        yt,
        x(km.median) if km.median is not None else None,
        y(0.5),
    )


# --- de-identification --------------------------------------------------------------------------------


def _hmac(key: bytes | str, label: str, patient_id: int) -> bytes:
    k = key.encode() if isinstance(key, str) else key
    return hmac.digest(k, f"kairos-deid:{label}:{int(patient_id)}".encode(), "sha256")


def date_shift_days(patient_id: int, key: bytes | str) -> int:
    """The patient's keyed date offset in [−DATE_SHIFT_MAX_DAYS, +DATE_SHIFT_MAX_DAYS] days (HMAC-SHA256 of
    the patient id under the secret key): the same for every date of the patient, unknowable without it."""
    v = int.from_bytes(_hmac(key, "date-shift", patient_id)[:8], "big")
    return v % (2 * DATE_SHIFT_MAX_DAYS + 1) - DATE_SHIFT_MAX_DAYS


def pseudonym(patient_id: int, key: bytes | str) -> str:
    """A keyed, stable subject code (no way back to the patient without the key)."""
    return "S-" + _hmac(key, "subject", patient_id)[:6].hex().upper()


def age_text(date_of_birth: dt.date, on: dt.date) -> str:
    """Age in whole years; ages over 89 are aggregated as "90+" (Safe Harbor)."""
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return "90+" if age > 89 else str(age)


CSV_HEADER = (
    "subject",
    "course",
    "clinic",
    "protocol",
    "indication",
    "sex",
    "age_at_start",
    "start_date_shifted",
    "first_dose_shifted",
    "sessions",
    "instrument",
    "baseline",
    "latest",
    "best_reduction_pct",
    "responded",
    "days_to_response",
    "remitted",
    "rapid_response",
    "relapsed",
    "days_response_to_relapse_or_censor",
    "bp_rise_sessions",
    "adverse_events",
)


def deidentified_rows(dash: Dashboard, key: bytes | str) -> list[list[str]]:
    """One de-identified row per course (see the module docstring); header first."""
    clinic_codes: dict[int, str] = {}
    course_codes: dict[int, str] = {}
    indication_counts: dict[str, int] = defaultdict(int)
    for c, _ in dash.outcomes:
        indication_counts[c.indication.strip().lower()] += 1
    rows: list[list[str]] = [list(CSV_HEADER)]
    subjects: dict[int, str] = {}
    shifts: dict[int, dt.timedelta] = {}
    for c, _ in dash.outcomes:
        if c.patient_id not in subjects:
            subjects[c.patient_id] = pseudonym(c.patient_id, key)
            shifts[c.patient_id] = dt.timedelta(days=date_shift_days(c.patient_id, key))
    ordered = sorted(dash.outcomes, key=lambda p: (subjects[p[0].patient_id], p[0].start_date))
    no_safety = CourseSafety()

    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.1f}"

    def num0(v: float | None) -> str:
        return "" if v is None else f"{v:.0f}"

    flag_text = {None: "", True: "1", False: "0"}
    instrument = dash.instrument
    append = rows.append
    for c, o in ordered:
        shift = shifts[c.patient_id]
        clinic = clinic_codes.setdefault(c.clinic_id, f"C{len(clinic_codes) + 1}")
        course = course_codes.setdefault(c.course_id, f"K{len(course_codes) + 1}")
        ind = c.indication.strip().lower()
        indication = (
            ind if ind and indication_counts[ind] >= MIN_CELL and len(ind) <= 60 else ("other" if ind else "")
        )
        safety = dash.course_safety.get(c.course_id, no_safety)
        first = o.first_dose
        ttr = o.time_to_response
        ttrel = o.time_to_relapse
        evaluable = bool(o.baseline and o.assessments)
        append(
            [
                subjects[c.patient_id],
                course,
                clinic,
                c.protocol_id,
                indication,
                c.sex,
                age_text(c.date_of_birth, c.start_date),
                (c.start_date + shift).isoformat(),
                (first.date() + shift).isoformat() if first else "",
                str(len(c.doses)),
                instrument,
                num0(o.baseline.total if o.baseline else None),
                num0(o.assessments[-1].total if o.assessments else None),
                num(o.best_reduction_pct),
                flag_text[bool(o.responded)] if evaluable else "",
                num(ttr.days if ttr and ttr.event else None),
                flag_text[bool(o.remitted)] if evaluable else "",
                flag_text[None if o.rapid_response is None else bool(o.rapid_response)],
                flag_text[bool(o.relapsed)] if o.responded else "",
                num(ttrel.days if ttrel else None),
                str(safety.bp_rise_sessions),
                str(safety.adverse_events),
            ]
        )
    return rows


# --- comparison bars (clinic 95 % CI beside the published figures, 0–100 %) ---------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    width: int
    est: float
    lo: float
    hi: float
    published: tuple[tuple[float, float, str], ...]  # (x from, x to, label)


def comparison_bar(row: MetricRow, width: int = 200) -> Bar | None:
    """Geometry of a small 0–100 % bar: the clinic estimate with its CI and the published figures."""
    r = row.rate
    if r is None or r.unit != "%":
        return None
    pad = 6
    span = width - 2 * pad

    def x(v: float) -> float:
        return round(pad + span * min(max(v, 0.0), 100.0) / 100.0, 1)

    pubs = tuple(
        (x(p.value), x(p.value_high if p.value_high is not None else p.value), f"{p.label}: {p.display}")
        for p in row.published
        if p.unit == "%"
    )
    return Bar(width, x(r.estimate), x(r.lower), x(r.upper), pubs)
