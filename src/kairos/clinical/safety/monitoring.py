"""In-session monitoring: when readings are due, and what each new reading means."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.result import Outcome, Route, RuleResult, require_aware
from kairos.clinical.safety.vitals import (
    CrisisSymptom,
    Vitals,
    bp_hold_findings,
    bp_rise_findings,
    crisis_findings,
    judged_findings,
    spo2_findings,
    validate_series,
    validate_vitals,
)


@dataclass(frozen=True, slots=True)
class DueReading:
    """A vital-sign reading due at ``at`` (BP, HR and SpO₂), with its session phase and a label."""

    at: dt.datetime
    phase: str  # "pre_dose", "during", "post"
    label: str


def _every(start: dt.datetime, step: float, total: float) -> list[dt.datetime]:
    times: list[dt.datetime] = []
    t = step
    while t < total:
        times.append(start + dt.timedelta(minutes=t))
        t += step
    times.append(start + dt.timedelta(minutes=total))
    return times


def monitoring_schedule(
    route: Route | str,
    start: dt.datetime,
    *,
    infusion_min: float | None = None,
    rules: RuleSet = RULES,
) -> list[DueReading]:
    """Due reading times from ``start`` (first esketamine device, or start of the IV infusion / IM-SC dose).

    * esketamine: before dosing, ~40 min after the first device, and before discharge (2 h);
    * IV: before, every 10 min during the infusion (and at its end), then every 15 min for the post period;
    * IM/SC: before, then every 15 min for the observation period (⚠ defaults).
    """
    route = Route(route)
    require_aware(start, "start")
    due = [DueReading(start, "pre_dose", "before dosing")]
    if route is Route.ESKETAMINE:
        post = rules.num("monitor.esketamine_post_min")
        end = rules.num("discharge.esketamine_min_obs_min")
        due.append(
            DueReading(start + dt.timedelta(minutes=post), "post", f"~{post:g} min after first device")
        )
        due.append(DueReading(start + dt.timedelta(minutes=end), "post", "before discharge"))
        return due
    if route is Route.IV:
        length = rules.num("monitor.iv_infusion_min") if infusion_min is None else infusion_min
        if not 0 < length <= 600:
            raise ValueError(f"infusion_min: {length} is outside (0, 600] min")
        for t in _every(start, rules.num("monitor.iv_during_every_min"), length):
            due.append(DueReading(t, "during", f"+{(t - start).total_seconds() / 60:g} min (infusion)"))
        end_at = start + dt.timedelta(minutes=length)
        for t in _every(
            end_at, rules.num("monitor.iv_after_every_min"), rules.num("monitor.iv_after_total_min")
        ):
            due.append(DueReading(t, "post", f"+{(t - end_at).total_seconds() / 60:g} min after infusion"))
        return due
    for t in _every(start, rules.num("monitor.im_every_min"), rules.num("monitor.im_total_min")):
        due.append(DueReading(t, "post", f"+{(t - start).total_seconds() / 60:g} min after dose"))
    return due


def evaluate_reading(
    *,
    route: Route | str,
    reading: Vitals,
    baseline: Vitals | None,
    previous: Sequence[Vitals] = (),
    symptoms: Iterable[CrisisSymptom | str] = (),
    rules: RuleSet = RULES,
) -> RuleResult:
    """Evaluate a new in-session reading against the pre-dose ``baseline`` and the ``previous`` readings.

    Flags a significant BP rise (caution; needs a ``baseline``), the clinic's hold threshold on hold routes
    (hold: pause further dosing), SpO₂ below the alarm threshold on consecutive checks (escalate) and crisis
    symptoms (escalate). The new reading's own values are judged too (issue #12 §1): hypertensive-crisis
    BP, one SpO₂ below the floor, and heart or respiratory rate outside the hold band escalate (a hold cannot
    undo a dose: stop further devices / the infusion and get help); outside the caution band, caution.
    """
    route = Route(route)
    if baseline is not None:
        validate_vitals(baseline, rules)
    series = validate_series([*previous, reading], rules)
    if series[-1] is not reading:
        raise ValueError("reading: must be the latest reading (previous readings are later)")
    findings = crisis_findings(symptoms)
    if baseline is not None:
        findings.extend(bp_rise_findings(reading, baseline, rules))
    findings.extend(judged_findings([reading], in_session=True, rules=rules))
    findings.extend(bp_hold_findings([v for v in series if v.has_bp], route, rules))
    findings.extend(
        spo2_findings(
            series,
            Outcome.ESCALATE,
            "possible respiratory depression: stimulate, assess airway and breathing, give "
            "oxygen per protocol and call the responsible clinician now.",
            rules,
        )
    )
    return RuleResult.of(findings)
