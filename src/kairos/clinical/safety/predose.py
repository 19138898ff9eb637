"""Pre-dose gate: blood pressure, SpO₂, crisis symptoms, fasting, ride home and no-driving acknowledgement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.result import Finding, Outcome, Route, RuleResult, require_aware
from kairos.clinical.safety.vitals import (
    CrisisSymptom,
    Vitals,
    VitalsError,
    bp_caution_findings,
    bp_crisis_findings,
    bp_hold_findings,
    crisis_findings,
    heart_rate_findings,
    resp_rate_findings,
    spo2_findings,
    spo2_floor_findings,
    validate_series,
    validate_vitals,
)

__all__ = ["CrisisSymptom", "Vitals", "VitalsError", "predose_gate", "validate_vitals"]

SRC_FASTING = "clinical.md §1.1 (spravato.com, Epocrates): no food ≥2 h, no liquids ≥30 min (nausea/vomiting)"
SRC_RIDE = "Spravato REMS counselling (S9) and PI §17 (S4) via clinical.md §1.3; escort §2.1/§2.2"
SRC_BP_BEFORE = "Spravato PI §5.6 (S4) via clinical.md §1.5: assess blood pressure before dosing"
SRC_SPO2_EACH = "clinical.md §1.5 (S5): monitor respiratory status including pulse oximetry at each session"


def _fasting(kind: str, last: dt.datetime | None, planned: dt.datetime, minutes: float) -> list[Finding]:
    if last is None:
        return [
            Finding(
                f"{kind}_not_recorded",
                Outcome.CAUTION,
                f"Time of last {kind} not recorded: ask and record it (at least {minutes:g} min before "
                "dosing).",
                SRC_FASTING,
            )
        ]
    require_aware(last, f"last_{kind}_at")
    if last > planned:
        raise ValueError(f"last_{kind}_at: {last.isoformat()} is after planned_dose_at {planned.isoformat()}")
    earliest = last + dt.timedelta(minutes=minutes)
    if earliest <= planned:
        return []
    gap = (planned - last).total_seconds() / 60
    return [
        Finding(
            f"recent_{kind}",
            Outcome.CAUTION,
            f"Last {kind} {gap:.0f} min before the planned dose (advised ≥{minutes:g} min): nausea and "
            f"vomiting are more likely; consider dosing at or after {earliest.isoformat(timespec='minutes')}.",
            SRC_FASTING,
        )
    ]


def predose_gate(
    *,
    route: Route | str,
    readings: Sequence[Vitals],
    planned_dose_at: dt.datetime,
    ride_home_confirmed: bool,
    no_driving_acknowledged: bool,
    symptoms: Iterable[CrisisSymptom | str] = (),
    last_food_at: dt.datetime | None = None,
    last_liquid_at: dt.datetime | None = None,
    rules: RuleSet = RULES,
) -> RuleResult:
    """Decide whether dosing may start now.

    ``readings`` are today's pre-dose vitals (validated with :func:`validate_vitals`; any order). The latest
    blood pressure is compared with the hypertensive-crisis level (hold, every route and drug), on routes in
    ``bp.hold_routes`` with the clinic's hold threshold (hold), else with the label's 'consider delaying'
    guide (caution). The latest SpO₂ is held below its single-reading floor (beside the consecutive-checks
    rule); the latest heart rate and respiratory rate are held outside their hold bands and cautioned
    outside their caution bands. Crisis symptoms escalate whatever the numbers.
    """
    route = Route(route)
    require_aware(planned_dose_at, "planned_dose_at")
    series = validate_series(readings, rules)
    if series and series[-1].at > planned_dose_at:
        raise ValueError("readings: pre-dose readings must not be later than planned_dose_at")
    findings = crisis_findings(symptoms)
    bp = [v for v in series if v.has_bp]
    if not bp:
        findings.append(
            Finding(
                "bp_missing",
                Outcome.HOLD,
                "No pre-dose blood pressure recorded: measure it before dosing.",
                SRC_BP_BEFORE,
            )
        )
    else:
        hold = bp_crisis_findings(bp[-1], in_session=False, rules=rules) + bp_hold_findings(bp, route, rules)
        findings.extend(hold or bp_caution_findings(bp[-1], rules))
    if not any(v.spo2 is not None for v in series):
        findings.append(
            Finding(
                "spo2_missing",
                Outcome.CAUTION,
                "No pre-dose SpO₂ recorded: take a baseline pulse-oximetry reading.",
                SRC_SPO2_EACH,
            )
        )
    findings.extend(
        spo2_findings(
            series, Outcome.HOLD, "do not dose; assess breathing and re-check before deciding.", rules
        )
    )
    # Every vital sign judged, each on its latest pre-dose value (issue #12 §1).
    for name, judge in (
        ("spo2", spo2_floor_findings),
        ("heart_rate", heart_rate_findings),
        ("resp_rate", resp_rate_findings),
    ):
        latest = next((v for v in reversed(series) if getattr(v, name) is not None), None)
        if latest is not None:
            findings.extend(judge(latest, in_session=False, rules=rules))
    if route.value in rules["fasting.routes"]:  # type: ignore[operator]
        findings.extend(_fasting("food", last_food_at, planned_dose_at, rules.num("fasting.food_min")))
        findings.extend(_fasting("liquid", last_liquid_at, planned_dose_at, rules.num("fasting.liquid_min")))
    if not ride_home_confirmed:
        findings.append(
            Finding(
                "no_ride_home",
                Outcome.HOLD,
                "No safe way home confirmed: arrange a ride (an escort) before dosing.",
                SRC_RIDE,
            )
        )
    if not no_driving_acknowledged:
        findings.append(
            Finding(
                "driving_not_acknowledged",
                Outcome.HOLD,
                "Patient has not acknowledged: no driving or operating machinery until the next "
                "day after a restful sleep.",
                SRC_RIDE,
            )
        )
    return RuleResult.of(findings)
