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
The session-safety terms are the named definitions of :mod:`kairos.clinical.definitions` (each labelled with
its cut-off on the page, distinct from the REMS form's terms of the same name):

* BP rise within 90 min of dosing (``bp_rise_within_window``): a reading within 90 min of the start of
  dosing with systolic ≥ 40 mmHg above, and/or diastolic ≥ 25 mmHg above, the last pre-dose reading
  (clinical.md §1.5, S6). Per session and per patient (at least once in the course's first 28 days, the
  label's denominator).
* significant sedation (``significant_sedation``): a MOAA/S ≤ 3 reading after dosing or a recorded sedation
  event (⚠ clinic definition; the label counts trial-reported sedation) — not the REMS form's "sedation"
  (MOAA/S < 5); loss of consciousness (``loss_of_consciousness``): MOAA/S 0 (§4.8).
* dissociation above pre-dose (``dissociation_above_predose``): a CADSS-6 total after dosing above the
  pre-dose total, or a recorded dissociation event (⚠ clinic definition; the label used full CADSS) — not
  the REMS form's "dissociation" (any CADSS-6 above 0).
* adverse events per 100 sessions with an exact (Garwood) Poisson 95 % interval.

De-identification (the CSV export) is :mod:`kairos.measures.dashboard_deid`; the chart geometry (Kaplan–Meier
curves, comparison bars) is :mod:`kairos.measures.dashboard_charts`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from statistics import median

from kairos.clinical import definitions as defs
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
#: the named definitions behind the safety rows (kairos.clinical.definitions), with their labels
DEFINITIONS = defs.definitions()
#: dashboard metric key -> the named definition it counts
METRIC_DEFINITION: dict[str, str] = {
    "bp_rise": "bp_rise_within_window",
    "sedation": "significant_sedation",
    "loss_of_consciousness": "loss_of_consciousness",
    "dissociation": "dissociation_above_predose",
}


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
    # win_* are the maxima of the readings inside the window (selected in SQL): "any reading in the window
    # rises significantly" is the named definition bp_rise_within_window applied to those maxima.
    rise = bp_ok and defs.significant_bp_rise(pre_sbp, pre_dbp, [win_sbp], [win_dbp], rules=SAFETY_RULES)
    return SessionFlags(
        session_id=session_id,
        course_id=course_id,
        patient_id=patient_id,
        started_at=started_at,
        bp_assessable=bp_ok,
        bp_rise=bool(rise),
        sedation=defs.significant_sedation(
            [min_moaas], sedation_event=bool(ae_sedation), rules=REPORTING_RULES
        ),
        loss_of_consciousness=defs.loss_of_consciousness([min_moaas], rules=REPORTING_RULES),
        dissociation=defs.dissociation_above_predose(
            pre_cadss, [max_cadss], dissociation_event=bool(ae_dissociation)
        ),
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
    pairs = _classify(courses, instrument, outcomes or {})
    cohort = cohort_summary([o for _, o in pairs])
    # sessions to response: doses given up to and including the response assessment
    s2r = tuple(sum(1 for d in c.doses if d <= o.response_at) for c, o in pairs if o.response_at is not None)
    fam = protocol_family

    def pub(metric: str) -> tuple[published.PublishedFigure, ...]:
        return published.figures_for(metric, fam)

    tally = _SafetyTally({c.course_id: (min(c.doses) if c.doses else None) for c in courses})
    for g in groups:
        tally.add(g)
    return Dashboard(
        instrument=instrument,
        courses=len(courses),
        evaluable=cohort.evaluable,
        sessions=tally.n_sessions,
        patients=len({c.patient_id for c in courses}),
        cohort=cohort,
        outcomes=tuple(pairs),
        efficacy=_efficacy_rows(cohort, s2r, pub),
        safety=_safety_rows(tally, pub),
        sessions_to_response=s2r,
        course_safety={k: CourseSafety(*v) for k, v in tally.by_course.items()},
        flags_source={} if flags_source is None else flags_source,
    )


_Pub = Callable[[str], tuple[published.PublishedFigure, ...]]


def _classify(
    courses: Sequence[CourseInput], instrument: str, known: Mapping[int, CourseOutcome]
) -> list[tuple[CourseInput, CourseOutcome]]:
    """Each course with its outcome: the one already made (``known``), or classified here from its points."""
    pairs: list[tuple[CourseInput, CourseOutcome]] = []
    for c in courses:
        o = known.get(c.course_id)
        if o is None:
            o = classify_course(c.points, c.doses, instrument=instrument, protocol_id=c.protocol_id or None)
        pairs.append((c, o))
    return pairs


def _efficacy_rows(cohort: CohortSummary, s2r: tuple[int, ...], pub: _Pub) -> tuple[MetricRow, ...]:
    def prop_row(key: str, p: Proportion | None, detail: str, definition: str = "") -> MetricRow:
        r = Rate.from_proportion(p) if p is not None else None
        value = r.text if r else "—"
        det = f"{r.k} of {r.n} {detail}" if r else f"no {detail}"
        return MetricRow(key, published.METRICS[key], value, det, r, pub(key), definition)

    ttrel_value, ttrel_detail = _median_text(cohort.time_to_relapse)
    ttr_value, ttr_detail = _median_text(cohort.time_to_response)
    rapid_h = OUTCOME_RULES.num("rapid.window_h")
    return (
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
            f"courses assessed within {rapid_h:g} h of dose 1",
            f"response at an assessment within {rapid_h:g} h (+ tolerance) of the first dose",
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


_PATIENT_FINDINGS = ("sedation", "loss_of_consciousness", "dissociation")


@dataclass
class _SafetyTally:
    """The safety counts of a cohort, summed over its session groups: per patient (with any session / with
    the finding at least once; BP within the first ``BP_PATIENT_DAYS`` days of the course), per session and
    per course."""

    first_dose: dict[int, dt.datetime | None]
    patients: set[int] = field(default_factory=set)
    patient_any: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in _PATIENT_FINDINGS})
    bp_patients: set[int] = field(default_factory=set)
    bp_rise_patients: set[int] = field(default_factory=set)
    per_session: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("bp_rise", *_PATIENT_FINDINGS), 0)
    )
    n_sessions: int = 0
    bp_n: int = 0
    bp_k: int = 0
    ae_total: int = 0
    rd_total: int = 0
    by_course: dict[int, tuple[int, int]] = field(default_factory=dict)  # course id -> (BP rises, AEs)

    def in_window(self, course_id: int, at: dt.datetime | None) -> bool:
        fd = self.first_dose.get(course_id)
        return at is not None and (fd is None or (at - fd) <= dt.timedelta(days=BP_PATIENT_DAYS))

    def add(self, g: SessionGroup) -> None:
        if not g.sessions:
            return
        pid = g.patient_id
        self.patients.add(pid)
        self.n_sessions += g.sessions
        self.bp_n += g.bp_assessable
        self.bp_k += g.bp_assessable_rise
        self.ae_total += g.adverse_events
        self.rd_total += g.respiratory_depression
        self.per_session["bp_rise"] += g.bp_rise
        for key, ids in self.patient_any.items():
            n = getattr(g, key)
            self.per_session[key] += n
            if n:
                ids.add(pid)
        if self.in_window(g.course_id, g.first_bp_assessable):
            self.bp_patients.add(pid)
        if self.in_window(g.course_id, g.first_bp_rise):
            self.bp_rise_patients.add(pid)
        rise, ae = self.by_course.get(g.course_id, (0, 0))
        self.by_course[g.course_id] = (rise + g.bp_rise, ae + g.adverse_events)

    def patients_with(self, key: str) -> tuple[int, int]:
        """(patients with the finding, patients counted) for ``key``."""
        if key == "bp_rise":
            return len(self.bp_rise_patients), len(self.bp_patients)
        return len(self.patient_any[key]), len(self.patients)


def _safety_rows(t: _SafetyTally, pub: _Pub) -> tuple[MetricRow, ...]:
    def patient_row(key: str, detail: str, definition: str) -> MetricRow:
        k, n = t.patients_with(key)
        r = _rate_pct(k, n)
        extra = f"; {t.per_session[key]} of {t.n_sessions} sessions" if t.n_sessions else ""
        det = f"{k} of {n} patients {detail}{extra}" if r else "no sessions"
        label = DEFINITIONS[METRIC_DEFINITION[key]].label
        return MetricRow(key, label, r.text if r else "—", det, r, pub(key), definition)

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
        bp_rows.detail.split(";")[0] + (f"; {t.bp_k} of {t.bp_n} sessions with BP charted" if t.bp_n else ""),
        bp_rows.rate,
        bp_rows.published,
        bp_rows.definition,
    )
    ae_rate = poisson_rate_per_100(t.ae_total, t.n_sessions)
    rd_rate = poisson_rate_per_100(t.rd_total, t.n_sessions)
    return (
        bp_rows,
        patient_row(
            "sedation",
            "(any session)",
            f"MOAA/S ≤{SEDATION_MOAAS_MAX} after dosing or a sedation event (⚠ clinic definition; not the "
            f"REMS form's: {DEFINITIONS['rems_sedation'].label})",
        ),
        patient_row("loss_of_consciousness", "(any session)", DEFINITIONS["loss_of_consciousness"].text),
        patient_row(
            "dissociation",
            "(any session)",
            "CADSS-6 total above pre-dose, or a dissociation event (⚠ clinic definition; not the REMS form's: "
            f"{DEFINITIONS['rems_dissociation'].label})",
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
