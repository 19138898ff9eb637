"""``kairos gate predose|monitoring|discharge``: run one of the pure session-safety gates on one reading.

    kairos gate predose|monitoring|discharge --protocol ID --bp SBP/DBP --hr N --rr N --spo2 N [--moaas N]
        [--minutes-since-dose N] [--baseline-bp SBP/DBP] [--json]

prints ``{"decision": "ok"|"caution"|"hold"|"escalate"|"hard_stop", "findings": [{"rule_id", "outcome",
"message", "value", "source"}], ...}``: the worst finding decides; for discharge "not ready" is ``hold``.
The gates are :func:`kairos.clinical.safety.predose.predose_gate`,
:func:`kairos.clinical.safety.monitoring.evaluate_reading` and
:func:`kairos.clinical.safety.discharge.discharge_readiness`, with the shipped rule sets (no clinic
overrides: this command reads no database and imports no Django).

The reading is taken now; ``--minutes-since-dose`` places the first dose that long before it (required for
discharge; the pre-dose ``--baseline-bp`` is taken just before the first dose). The command judges what it
is given: checks that need facts it was not given (fasting, ride home, no-driving acknowledgement, escort,
dissociation resolved; the BP rise without ``--baseline-bp``) are not run and are listed under
``not_assessed``; give ``--minutes-since-food``, ``--ride-home yes`` … to include them. A missing MOAA/S at
discharge is the gate's own unmet criterion (hold). Bad input exits 2 naming the option and its range.
Exit status 0 whenever a decision is printed, whatever it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from kairos.cli.main import UsageError

HELP = "Run a session-safety gate (pre-dose, in-session, discharge) on one reading."
GATES = ("predose", "monitoring", "discharge")
#: input bound of --minutes-since-dose / --minutes-since-end / --minutes-since-food|liquid: one day
#: (a data-entry bound, not a clinical threshold)
MAX_MINUTES = 1440.0
MOAAS_RANGE = (0, 5)  # MOAA/S scale 0-5 (clinical.md §4.8)
#: protocol route (kairos.clinical.protocols) -> route of the safety rules
_SAFETY_ROUTE = {"intranasal": "esketamine", "IV": "iv", "IM": "im"}
_YES_NO = ("yes", "no")


@dataclass
class GateReport:
    decision: str
    findings: list[dict[str, Any]]
    gate: str
    protocol: str
    route: str
    not_assessed: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "findings": self.findings,
            "gate": self.gate,
            "protocol": self.protocol,
            "route": self.route,
            "not_assessed": self.not_assessed,
            **self.extra,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kairos.clinical.protocols import PROTOCOL_IDS
    from kairos.clinical.safety.vitals import CrisisSymptom

    parser.add_argument("gate", choices=GATES, help="which gate: predose, monitoring or discharge")
    parser.add_argument("--protocol", required=True, help=f"one of: {', '.join(PROTOCOL_IDS)}")
    parser.add_argument("--bp", required=True, metavar="SBP/DBP", help="blood pressure, e.g. 128/82 (mmHg)")
    parser.add_argument("--hr", required=True, metavar="N", help="heart rate (/min)")
    parser.add_argument("--rr", required=True, metavar="N", help="respiratory rate (/min)")
    parser.add_argument("--spo2", required=True, metavar="N", help="SpO₂ (%%)")
    parser.add_argument("--moaas", metavar="N", help="MOAA/S 0-5 (discharge: required for readiness)")
    parser.add_argument(
        "--minutes-since-dose", metavar="N", help="minutes from the first dose to this reading (discharge)"
    )
    parser.add_argument(
        "--minutes-since-end",
        metavar="N",
        help="minutes since dosing ended (discharge after IV; default IM: the first dose)",
    )
    parser.add_argument(
        "--baseline-bp", metavar="SBP/DBP", help="pre-dose blood pressure (monitoring, discharge)"
    )
    parser.add_argument(
        "--symptom",
        action="append",
        default=[],
        choices=[s.value for s in CrisisSymptom],
        help="a hypertensive-crisis symptom (repeatable)",
    )
    parser.add_argument("--minutes-since-food", metavar="N", help="predose: minutes since the last food")
    parser.add_argument("--minutes-since-liquid", metavar="N", help="predose: minutes since the last liquid")
    parser.add_argument("--ride-home", choices=_YES_NO, help="predose: safe ride home confirmed")
    parser.add_argument("--driving-ack", choices=_YES_NO, help="predose: no-driving acknowledged")
    parser.add_argument("--escort", choices=_YES_NO, help="discharge: escort present")
    parser.add_argument("--dissociation-resolved", choices=_YES_NO, help="discharge: dissociation resolved")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


# --- parsing ---------------------------------------------------------------------------------------------


def _number(option: str, raw: str, lo: float, hi: float, unit: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise UsageError(f"{option}: {raw!r} is outside the allowed range [{lo:g}, {hi:g}] {unit}".rstrip())
    return value


def _plausible(key: str) -> tuple[float, float, str]:
    from kairos.clinical.rules.safety import RULES

    bounds = RULES[key]
    if not isinstance(bounds, tuple) or len(bounds) != 2:
        raise TypeError(f"safety.{key}: expected a (low, high) pair, got {bounds!r}")
    return float(bounds[0]), float(bounds[1]), RULES.param(key).unit


def _bp(option: str, raw: str) -> tuple[float, float]:
    s_lo, s_hi, unit = _plausible("plausible.sbp")
    d_lo, d_hi, _ = _plausible("plausible.dbp")
    parts = raw.split("/")
    if len(parts) != 2:
        raise UsageError(
            f"{option}: {raw!r} is not SBP/DBP; expected e.g. 128/82, systolic [{s_lo:g}, {s_hi:g}] and "
            f"diastolic [{d_lo:g}, {d_hi:g}] {unit}"
        )
    sbp = _number(f"{option} (systolic)", parts[0].strip(), s_lo, s_hi, unit)
    dbp = _number(f"{option} (diastolic)", parts[1].strip(), d_lo, d_hi, unit)
    if dbp >= sbp:
        raise UsageError(f"{option}: diastolic {dbp:g} must be below systolic {sbp:g} {unit}")
    return sbp, dbp


def _minutes(option: str, raw: str | None) -> float | None:
    return None if raw is None else _number(option, raw, 0, MAX_MINUTES, "min")


def _route(protocol_id: str) -> str:
    from kairos.clinical.protocols import PROTOCOL_IDS, get_protocol

    if protocol_id not in PROTOCOL_IDS:
        raise UsageError(f"--protocol: {protocol_id!r} is not one of {', '.join(PROTOCOL_IDS)}")
    route = get_protocol(protocol_id).route
    if route not in _SAFETY_ROUTE:
        with_rules = ", ".join(p for p in PROTOCOL_IDS if get_protocol(p).route in _SAFETY_ROUTE)
        raise UsageError(
            f"--protocol: {protocol_id} ({route}) has no session-safety rules; use one of {with_rules}"
        )
    return _SAFETY_ROUTE[route]


@dataclass(frozen=True)
class _Inputs:
    route: str
    sbp: float
    dbp: float
    hr: float
    rr: float
    spo2: float
    moaas: int | None
    since_dose: float | None
    since_end: float | None
    baseline: tuple[float, float] | None
    symptoms: tuple[str, ...] = ()


def _parse(args: argparse.Namespace) -> _Inputs:
    route = _route(args.protocol)
    sbp, dbp = _bp("--bp", args.bp)
    hr = _number("--hr", args.hr, *_plausible("plausible.heart_rate"))
    rr = _number("--rr", args.rr, *_plausible("plausible.resp_rate"))
    spo2 = _number("--spo2", args.spo2, *_plausible("plausible.spo2"))
    moaas: int | None = None
    if args.moaas is not None:
        lo, hi = MOAAS_RANGE
        if args.moaas.strip() not in {str(n) for n in range(lo, hi + 1)}:
            raise UsageError(f"--moaas: {args.moaas!r} is not a whole number in [{lo}, {hi}] (MOAA/S)")
        moaas = int(args.moaas)
    baseline = None if args.baseline_bp is None else _bp("--baseline-bp", args.baseline_bp)
    since_dose = _minutes("--minutes-since-dose", args.minutes_since_dose)
    since_end = _minutes("--minutes-since-end", args.minutes_since_end)
    if args.gate == "discharge":
        if since_dose is None:
            raise UsageError(f"--minutes-since-dose: required for discharge, range [0, {MAX_MINUTES:g}] min")
        if route == "iv" and since_end is None:
            raise UsageError(
                f"--minutes-since-end: required for discharge after an IV infusion (minimum observation "
                f"runs from its end), range [0, {MAX_MINUTES:g}] min"
            )
        if since_end is not None and since_end > since_dose:
            raise UsageError(
                f"--minutes-since-end: {since_end:g} min is longer than --minutes-since-dose {since_dose:g} min "
                "(dosing cannot end before it starts)"
            )
    symptoms = tuple(args.symptom)
    return _Inputs(route, sbp, dbp, hr, rr, spo2, moaas, since_dose, since_end, baseline, symptoms)


# --- running the gate ---------------------------------------------------------------------------------------


def _value(code: str, i: _Inputs) -> str | None:
    """The input a finding judged, for the report (by the finding's code)."""
    bp = f"{i.sbp:g}/{i.dbp:g} mmHg"
    if "symptom" in code:
        return ", ".join(i.symptoms) or None
    if "spo2" in code:
        return f"{i.spo2:g} %"
    if code.startswith(("bp", "hypertensive")) or "crisis" in code:
        if ("rise" in code or "settled" in code) and i.baseline is not None:
            return f"{bp} (pre-dose {i.baseline[0]:g}/{i.baseline[1]:g})"
        return bp
    if code.startswith(("hr", "heart")) or "brady" in code or "tachy" in code:
        return f"{i.hr:g} /min"
    if code.startswith(("rr", "resp")):
        return f"{i.rr:g} /min"
    if "moaas" in code or "sedat" in code:
        return None if i.moaas is None else f"MOAA/S {i.moaas}"
    if code == "min_observation":
        return None if i.since_dose is None else f"{i.since_dose:g} min since the first dose"
    return None


def _yes(raw: str | None) -> bool | None:
    return None if raw is None else raw == "yes"


def _evaluate(args: argparse.Namespace, i: _Inputs, now: dt.datetime) -> tuple[Any, list[str]]:
    from kairos.clinical.config import Override
    from kairos.clinical.rules.safety import RULES
    from kairos.clinical.safety.discharge import discharge_readiness
    from kairos.clinical.safety.monitoring import evaluate_reading
    from kairos.clinical.safety.predose import predose_gate
    from kairos.clinical.safety.vitals import Vitals

    reading = Vitals(now, sbp=i.sbp, dbp=i.dbp, heart_rate=i.hr, spo2=i.spo2, resp_rate=i.rr)
    first_dose = None if i.since_dose is None else now - dt.timedelta(minutes=i.since_dose)
    before = (first_dose or now) - dt.timedelta(minutes=1)
    baseline = None if i.baseline is None else Vitals(before, sbp=i.baseline[0], dbp=i.baseline[1])
    not_assessed: list[str] = []
    if args.gate == "predose":
        rules = RULES
        food = _minutes("--minutes-since-food", args.minutes_since_food)
        liquid = _minutes("--minutes-since-liquid", args.minutes_since_liquid)
        if food is None and liquid is None and i.route in RULES["fasting.routes"]:  # type: ignore[operator]
            not_assessed.append("fasting (give --minutes-since-food and --minutes-since-liquid)")
            rules = RULES.with_overrides(
                [Override("fasting.routes", (), "kairos gate", now, "fasting not given on the command line")]
            )
        ride, ack = _yes(args.ride_home), _yes(args.driving_ack)
        if ride is None:
            not_assessed.append("ride home (give --ride-home yes|no)")
        if ack is None:
            not_assessed.append("no-driving acknowledgement (give --driving-ack yes|no)")
        result = predose_gate(
            route=i.route,
            readings=[reading],
            planned_dose_at=now,
            ride_home_confirmed=ride is not False,
            no_driving_acknowledged=ack is not False,
            symptoms=args.symptom,
            last_food_at=None if food is None else now - dt.timedelta(minutes=food),
            last_liquid_at=None if liquid is None else now - dt.timedelta(minutes=liquid),
            rules=rules,
        )
        return result, not_assessed
    if args.gate == "monitoring":
        if baseline is None:
            not_assessed.append("BP rise from pre-dose (give --baseline-bp)")
        result = evaluate_reading(
            route=i.route,
            reading=reading,
            baseline=baseline if baseline is not None else Vitals(before),
            symptoms=args.symptom,
        )
        return result, not_assessed
    assert first_dose is not None
    escort, resolved = _yes(args.escort), _yes(args.dissociation_resolved)
    if escort is None:
        not_assessed.append("escort present (give --escort yes|no)")
    if resolved is None:
        not_assessed.append("dissociation resolved (give --dissociation-resolved yes|no)")
    if baseline is None:
        not_assessed.append("BP settled towards pre-dose (give --baseline-bp)")
    ended = None
    if i.route != "esketamine":
        ended = now - dt.timedelta(minutes=i.since_end if i.since_end is not None else i.since_dose or 0)
    result = discharge_readiness(
        route=i.route,
        first_dose_at=first_dose,
        now=now,
        latest=reading,
        baseline=baseline,
        moaas=i.moaas,
        dissociation_resolved=resolved is not False,
        escort_present=escort is not False,
        dosing_ended_at=ended,
        symptoms=args.symptom,
    )
    return result, not_assessed


def evaluate(args: argparse.Namespace, now: dt.datetime | None = None) -> GateReport:
    """Parse the arguments, run the gate and return its report (``UsageError`` on bad input)."""
    from kairos.clinical.safety.result import Outcome
    from kairos.clinical.safety.vitals import VitalsError

    inputs = _parse(args)
    at = dt.datetime.now(dt.UTC) if now is None else now
    try:
        result, not_assessed = _evaluate(args, inputs, at)
    except VitalsError as exc:  # a bound the options' own checks do not cover
        raise UsageError(str(exc)) from None
    decision = result.outcome
    extra: dict[str, Any] = {}
    if args.gate == "discharge":
        extra = {"ready": result.ready}
        if not result.ready and decision.rank < Outcome.HOLD.rank:
            decision = Outcome.HOLD  # "not ready" is a hold
    findings = [
        {
            "rule_id": f.code,
            "outcome": str(f.severity),
            "message": f.message,
            "value": _value(f.code, inputs),
            "source": f.source,
        }
        for f in result.findings
    ]
    return GateReport(str(decision), findings, args.gate, args.protocol, inputs.route, not_assessed, extra)


def run(args: argparse.Namespace) -> int:
    report = evaluate(args)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for f in report.findings:
        value = f" [{f['value']}]" if f["value"] else ""
        print(f"{f['outcome']:<9} {f['rule_id']}{value}: {f['message']} ({f['source']})")
    for item in report.not_assessed:
        print(f"not assessed: {item}")
    print(f"decision: {report.decision}")
    return 0
