"""``kairos score INSTRUMENT ANSWER… [--json]``: score one administration from answers in item order."""

from __future__ import annotations

import argparse
import json

from kairos.cli.main import UsageError
from kairos.clinical.instruments import AnswerError, LicenceError, UnknownInstrumentError, get, score
from kairos.clinical.rules.alerts import evaluate_alerts

HELP = "Score an instrument from its item answers."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instrument", help="instrument id, e.g. phq9, gad7, qids_sr16, madrs, cssrs_screener")
    parser.add_argument(
        "answers", nargs="*", metavar="ANSWER", help="answers in item order; '-' marks a blank"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    try:
        inst = get(args.instrument)
    except UnknownInstrumentError as exc:
        raise UsageError(f"instrument: {exc}") from None
    core, full = len(inst.core_items), len(inst.items)
    n = len(args.answers)
    if n not in (core, full):
        expected = str(core) if core == full else f"{core} or {full}"
        raise UsageError(f"answers: {inst.name} needs {expected} answers in item order, got {n}")
    items = inst.core_items if n == core else inst.items
    answers: dict[str, int | None] = {}
    for item, raw in zip(items, args.answers, strict=True):
        if raw == "-":
            answers[item.id] = None
            continue
        try:
            answers[item.id] = int(raw)
        except ValueError:
            raise UsageError(item.describe_error(raw)) from None
    try:
        result = score(inst.id, answers)
    except (AnswerError, LicenceError) as exc:
        raise UsageError(str(exc)) from None
    alerts = evaluate_alerts(result)
    if args.json:
        data = result.to_dict() | {"alerts": [a.to_dict() for a in alerts]}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    total = "not scored" if result.total is None else str(result.total)
    print(
        f"{inst.name} (v{inst.version}): total {total}" + (f" — {result.severity}" if result.severity else "")
    )
    if result.prorated:
        print(f"  prorated from raw {result.raw_total}")
    for f in result.flags:
        print(f"  flag {f.code}: {f.reason}")
    for a in alerts:
        print(f"  ALERT [{a.urgency}] {a.code}: {a.reason}")
    return 0
