"""Outcome rules for one course: baseline, percent change, response, partial response, remission,
loss of response (relapse), rapid response, and times to response and relapse with censoring.

Definitions (numbers in :mod:`kairos.clinical.rules.outcomes`, ``§`` = ``shared/reference/clinical.md``):

* **Baseline** - the last assessment strictly before the first dose (§2.1 baseline rating). Flagged when
  older than ``baseline.max_age_days``.
* **Percent reduction** - (baseline − score) / baseline × 100; undefined (never NaN) for a baseline of 0.
* **Response** - reduction ≥ ``response.min_reduction_pct`` (50 %, §3). **Partial response** - reduction in
  [``partial.min_reduction_pct``, response) (⚠ band). **Remission** - the instrument's cut-off, per protocol
  where the protocol defines its own (MADRS ≤10 by default, ≤12 for ``esketamine-trd``; PHQ-9 <5; QIDS ≤5).
* **Loss of response / relapse** - after the first response, ``relapse.confirm_assessments`` consecutive
  assessments with reduction below ``relapse.below_reduction_pct``, the first and last at least
  ``relapse.confirm_min_days`` apart (⚠ confirmation rule). The relapse date is the first of them.
* **Rapid response** - response at an assessment within ``rapid.window_h`` + ``rapid.tolerance_h`` hours
  after the first dose (None when no assessment falls in that window).
* **Time to response** - days from the first dose to the first response; censored at the last
  assessment. **Time to relapse** - days from the first response to the relapse; censored at the last
  assessment.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.outcomes import RULES
from kairos.clinical.stats import KaplanMeier, Proportion, kaplan_meier, proportion


class OutcomeError(ValueError):
    """Bad outcome input; the message names the field and the allowed range."""


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One instrument total at an aware datetime."""

    at: dt.datetime
    total: float


@dataclass(frozen=True, slots=True)
class Assessment:
    """A post-baseline assessment and its classification."""

    at: dt.datetime
    total: float
    reduction_pct: float | None
    category: str  # remission | response | partial | non-response | unclassified


@dataclass(frozen=True, slots=True)
class TimeToEvent:
    """Days from an origin to an event, or to censoring when ``event`` is false."""

    days: float
    event: bool


@dataclass(frozen=True, slots=True)
class RemissionRule:
    instrument: str
    cutoff: float
    op: str
    source: str

    def met(self, total: float) -> bool:
        return total <= self.cutoff if self.op == "<=" else total < self.cutoff

    def __str__(self) -> str:
        return f"{self.instrument} {self.op} {self.cutoff:g}"


@dataclass(frozen=True, slots=True)
class CourseOutcome:
    """Classification of one course of one instrument, with reasons."""

    instrument: str
    protocol_id: str | None
    first_dose: dt.datetime | None
    baseline: ScorePoint | None
    baseline_stale: bool
    assessments: tuple[Assessment, ...]
    latest_reduction_pct: float | None
    best_reduction_pct: float | None
    current: str  # category of the latest assessment ("no data" when none)
    responded: bool
    response_at: dt.datetime | None
    partial_response: bool  # latest assessment in the partial band
    remitted: bool  # remission at any assessment
    remission_at: dt.datetime | None
    in_remission: bool  # remission at the latest assessment
    rapid_response: bool | None
    relapsed: bool
    relapse_at: dt.datetime | None
    time_to_response: TimeToEvent | None
    time_to_relapse: TimeToEvent | None
    remission_rule: str
    reasons: tuple[str, ...]

    @property
    def responding_now(self) -> bool:
        return self.current in ("response", "remission") and not self.relapsed

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return _jsonable(d)  # type: ignore[no-any-return]


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, dt.datetime | dt.date):
        return x.isoformat()
    return x


def remission_rule(instrument: str, protocol_id: str | None = None, rules: RuleSet = RULES) -> RemissionRule:
    """The remission cut-off for ``instrument``, the protocol's own where it defines one."""
    key = f"remission.{instrument}"
    if protocol_id is not None and f"{key}@{protocol_id}" in rules.params:
        key = f"{key}@{protocol_id}"
    if key not in rules.params:
        known = sorted(
            k.split(".")[1]
            for k in rules.params
            if k.startswith("remission.") and k.count(".") == 1 and "@" not in k
        )
        raise OutcomeError(f"instrument: {instrument!r} is not one of {', '.join(known)}")
    return RemissionRule(instrument, rules.num(key), str(rules[f"{key}.op"]), rules.param(key).source)


def percent_reduction(baseline: float, score: float) -> float | None:
    """Reduction from baseline in percent (positive = improvement); None when the baseline is 0."""
    if baseline == 0:
        return None
    return (baseline - score) / baseline * 100.0


def _points(points: Iterable[ScorePoint | tuple[dt.datetime, float]]) -> list[ScorePoint]:
    out: list[ScorePoint] = []
    for i, p in enumerate(points):
        sp = p if isinstance(p, ScorePoint) else ScorePoint(p[0], p[1])
        if not isinstance(sp.at, dt.datetime) or sp.at.tzinfo is None:
            raise OutcomeError(f"points[{i}].at: expected a timezone-aware datetime, got {sp.at!r}")
        t = sp.total
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            raise OutcomeError(f"points[{i}].total: {t!r} is outside the allowed range [0, inf)")
        out.append(ScorePoint(sp.at, float(t)))
    return sorted(out, key=lambda s: s.at)


def _days(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 86400.0


def classify_course(
    points: Iterable[ScorePoint | tuple[dt.datetime, float]],
    doses: Sequence[dt.datetime],
    *,
    instrument: str,
    protocol_id: str | None = None,
    rules: RuleSet = RULES,
) -> CourseOutcome:
    """Classify a course from instrument totals and dose datetimes (all timezone-aware)."""
    # Long by design: response, remission, relapse and sustained response are one ordered classification of
    # the same dated totals (each definition refers to the earlier ones); splitting it hides that order.
    rem = remission_rule(instrument, protocol_id, rules)
    pts = _points(points)
    for i, d in enumerate(doses):
        if not isinstance(d, dt.datetime) or d.tzinfo is None:
            raise OutcomeError(f"doses[{i}]: expected a timezone-aware datetime, got {d!r}")
    reasons: list[str] = [f"remission rule {rem} ({rem.source})"]
    first_dose = min(doses) if doses else None
    empty = CourseOutcome(
        instrument,
        protocol_id,
        first_dose,
        None,
        False,
        (),
        None,
        None,
        "no data",
        False,
        None,
        False,
        False,
        None,
        False,
        None,
        False,
        None,
        None,
        None,
        str(rem),
        (),
    )
    if first_dose is None:
        return _with(empty, reasons + ["no dose recorded: no baseline can be set"])
    before = [p for p in pts if p.at < first_dose]
    after = [p for p in pts if p.at >= first_dose]
    if not before:
        return _with(empty, reasons + ["no assessment before the first dose: no baseline"])
    baseline = before[-1]
    stale = _days(baseline.at, first_dose) > rules.num("baseline.max_age_days")
    reasons.append(f"baseline {baseline.total:g} on {baseline.at.date().isoformat()} (last before dose 1)")
    if stale:
        reasons.append(f"baseline is older than {rules.num('baseline.max_age_days'):g} days before dose 1")
    resp_pct = rules.num("response.min_reduction_pct")
    part_pct = rules.num("partial.min_reduction_pct")
    assessments: list[Assessment] = []
    for p in after:
        red = percent_reduction(baseline.total, p.total)
        if rem.met(p.total):
            cat = "remission"
        elif red is None:
            cat = "unclassified"
        elif red >= resp_pct:
            cat = "response"
        elif red >= part_pct:
            cat = "partial"
        else:
            cat = "non-response"
        assessments.append(Assessment(p.at, p.total, red, cat))
    if baseline.total == 0:
        reasons.append("baseline is 0: percent change is undefined")
    reductions = [a.reduction_pct for a in assessments if a.reduction_pct is not None]
    latest = assessments[-1] if assessments else None
    # response: reduction criterion (remission alone is not response: it needs the ≥50 % reduction)
    responses = [a for a in assessments if a.reduction_pct is not None and a.reduction_pct >= resp_pct]
    response_at = responses[0].at if responses else None
    remissions = [a for a in assessments if rem.met(a.total)]
    # rapid response
    window = dt.timedelta(hours=rules.num("rapid.window_h") + rules.num("rapid.tolerance_h"))
    early = [a for a in assessments if a.at <= first_dose + window]
    rapid: bool | None = None
    if early:
        rapid = any(a.reduction_pct is not None and a.reduction_pct >= resp_pct for a in early)
    # loss of response
    relapse_at: dt.datetime | None = None
    if response_at is not None:
        relapse_at = _relapse(assessments, response_at, rules, reasons)
    # times to event
    end = assessments[-1].at if assessments else first_dose
    ttr = (
        TimeToEvent(_days(first_dose, response_at), True)
        if response_at
        else TimeToEvent(_days(first_dose, end), False)
    )
    ttrel: TimeToEvent | None = None
    if response_at is not None:
        ttrel = (
            TimeToEvent(_days(response_at, relapse_at), True)
            if relapse_at
            else TimeToEvent(_days(response_at, end), False)
        )
    if response_at is not None:
        reasons.append(f"response (≥{resp_pct:g}% reduction) first on {response_at.date().isoformat()}")
    elif assessments:
        reasons.append(f"no assessment reached a {resp_pct:g}% reduction")
    else:
        reasons.append("no assessment after the first dose")
    if remissions:
        reasons.append(f"remission ({rem}) first on {remissions[0].at.date().isoformat()}")
    if rapid is None:
        reasons.append(
            "rapid response not assessable: no assessment within "
            f"{rules.num('rapid.window_h'):g} h (+{rules.num('rapid.tolerance_h'):g} h) of dose 1"
        )
    current = latest.category if latest else "no data"
    return CourseOutcome(
        instrument=instrument,
        protocol_id=protocol_id,
        first_dose=first_dose,
        baseline=baseline,
        baseline_stale=stale,
        assessments=tuple(assessments),
        latest_reduction_pct=latest.reduction_pct if latest else None,
        best_reduction_pct=max(reductions) if reductions else None,
        current=current,
        responded=response_at is not None,
        response_at=response_at,
        partial_response=current == "partial",
        remitted=bool(remissions),
        remission_at=remissions[0].at if remissions else None,
        in_remission=current == "remission",
        rapid_response=rapid,
        relapsed=relapse_at is not None,
        relapse_at=relapse_at,
        time_to_response=ttr,
        time_to_relapse=ttrel,
        remission_rule=str(rem),
        reasons=tuple(reasons),
    )


def _with(o: CourseOutcome, reasons: list[str]) -> CourseOutcome:
    return replace(o, reasons=tuple(reasons))


def _relapse(
    assessments: Sequence[Assessment], response_at: dt.datetime, rules: RuleSet, reasons: list[str]
) -> dt.datetime | None:
    below = rules.num("relapse.below_reduction_pct")
    need = int(rules.num("relapse.confirm_assessments"))
    min_days = rules.num("relapse.confirm_min_days")
    run: list[Assessment] = []
    for a in assessments:
        if a.at <= response_at:
            continue
        if a.reduction_pct is not None and a.reduction_pct < below:
            run.append(a)
            if len(run) >= need and (need == 1 or _days(run[0].at, run[-1].at) >= min_days):
                reasons.append(
                    f"loss of response confirmed: {len(run)} consecutive assessments below {below:g}% reduction "
                    f"from {run[0].at.date().isoformat()} (confirmation rule ⚠)"
                )
                return run[0].at
        else:
            run = []
    if run:
        reasons.append(
            f"possible loss of response from {run[0].at.date().isoformat()}, not confirmed "
            f"({len(run)} of {need} assessments, ≥{min_days:g} days apart needed)"
        )
    return None


# --- cohort summaries -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CohortSummary:
    """Response/remission proportions (Wilson 95 %) and Kaplan–Meier times to response and relapse."""

    n: int
    evaluable: int
    response: Proportion | None
    remission: Proportion | None
    rapid_response: Proportion | None
    relapse_among_responders: Proportion | None
    time_to_response: KaplanMeier | None
    time_to_relapse: KaplanMeier | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cohort_summary(outcomes: Sequence[CourseOutcome], confidence: float = 0.95) -> CohortSummary:
    """Summaries over courses that have a baseline and at least one post-dose assessment."""
    ev = [o for o in outcomes if o.baseline is not None and o.assessments]
    responders = [o for o in ev if o.responded]
    rapid = [o for o in ev if o.rapid_response is not None]

    def prop(flags: list[bool]) -> Proportion | None:
        return proportion(flags, confidence) if flags else None

    def km(items: list[TimeToEvent]) -> KaplanMeier | None:
        return kaplan_meier([x.days for x in items], [x.event for x in items], confidence) if items else None

    return CohortSummary(
        n=len(outcomes),
        evaluable=len(ev),
        response=prop([o.responded for o in ev]),
        remission=prop([o.remitted for o in ev]),
        rapid_response=prop([bool(o.rapid_response) for o in rapid]),
        relapse_among_responders=prop([o.relapsed for o in responders]),
        time_to_response=km([o.time_to_response for o in ev if o.time_to_response is not None]),
        time_to_relapse=km([o.time_to_relapse for o in responders if o.time_to_relapse is not None]),
    )
