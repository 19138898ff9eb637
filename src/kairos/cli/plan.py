"""``kairos plan PROTOCOL --start YYYY-MM-DD [--weight KG] [--json]``: print a protocol's dated plan.

Shows each dosing session's number, date, phase, dose (free base) and, for IV, the admixture and pump
rate; preparation sessions and integration-session windows where the protocol has them. Doses in the plan
are provisional: the dose is recomputed at each session from the weight measured there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from kairos.cli.main import UsageError

HELP = "Print the dated session plan of a treatment protocol."
_WEIGHT_ROUTES = ("IV", "IM")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kairos.clinical.protocols import PROTOCOL_IDS

    parser.add_argument("protocol", metavar="PROTOCOL", help=f"one of: {', '.join(PROTOCOL_IDS)}")
    parser.add_argument("--start", required=True, help="first day of the course, YYYY-MM-DD")
    parser.add_argument("--weight", help="body weight in kg (required for IV and IM protocols)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def _parse(args: argparse.Namespace) -> tuple[str, dt.date, float | None]:
    from kairos.clinical.protocols import PROTOCOL_IDS, get_protocol
    from kairos.clinical.rules.dosing import RULES

    if args.protocol not in PROTOCOL_IDS:
        raise UsageError(f"PROTOCOL: {args.protocol!r} is not one of {', '.join(PROTOCOL_IDS)}")
    try:
        start = dt.date.fromisoformat(args.start)
    except ValueError:
        raise UsageError(
            f"--start: {args.start!r} is not a date; expected YYYY-MM-DD between 0001-01-01 and 9999-12-31"
        ) from None
    lo, hi = RULES.num("weight.min_kg"), RULES.num("weight.max_kg")
    weight: float | None = None
    if args.weight is not None:
        try:
            weight = float(args.weight)
        except ValueError:
            weight = float("nan")
        if not (lo <= weight <= hi):  # also rejects NaN and inf
            raise UsageError(f"--weight: {args.weight!r} is outside the allowed range [{lo:g}, {hi:g}] kg")
    route = get_protocol(args.protocol).route
    if route in _WEIGHT_ROUTES and weight is None:
        raise UsageError(
            f"--weight: required for {args.protocol} ({route} dosing is mg/kg), range [{lo:g}, {hi:g}] kg"
        )
    return args.protocol, start, weight


def run(args: argparse.Namespace) -> int:
    from kairos.clinical.schedule import ScheduleError, generate_schedule

    protocol_id, start, weight = _parse(args)
    try:
        plan = generate_schedule(protocol_id, start, weight_kg=weight)
    except (ScheduleError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{plan.title} [{plan.protocol_id}] from {plan.start.isoformat()}")
    if weight is not None:
        print(f"Weight {weight:g} kg (provisional: recompute with the weight measured at each session)")
    for t in plan.preparation:
        print(f"  prep {t.number:>2}  {t.date.isoformat()} {t.date:%a}  {t.phase}")
    windows = {w.after_session: w for w in plan.integration}
    for s in plan.sessions:
        dose = "dose at session" if s.dose_mg is None else f"{s.dose_mg:g} mg base"
        extra = ""
        if s.devices is not None:
            extra = f"  {s.devices} device(s) 5 min apart"
        if s.admixture is not None:
            a = s.admixture
            extra = (
                f"  admixture {a['drug_volume_ml']:g} mL of {a['vial_mg_ml']:g} mg/mL in {a['total_volume_ml']:g} mL"
                f" ({a['final_mg_ml']:.3g} mg/mL) at {a['rate_ml_h']:g} mL/h over {a['run_min']:.1f} min"
            )
        print(
            f"  #{s.number:>2}  {s.date.isoformat()} {s.date:%a}  {s.phase:<12} {s.route:<10} {dose:<16}"
            f" {s.duration_min} min{extra}"
        )
        w = windows.get(s.number)
        if w is not None:
            booked = w.booked.isoformat() if w.booked else "not bookable"
            print(f"        integration {w.earliest.isoformat()}..{w.latest.isoformat()}  booked {booked}")
    for warning in plan.warnings:
        print(f"  warning: {warning}")
    for note in plan.notes:
        print(f"  note: {note}")
    return 0
