"""``kairos score INSTRUMENT ANSWER… [--sex SEX] [--json]``: score one administration from answers in item order.

``--sex`` is the patient's recorded sex, used by instruments with sex-specific cut-offs (AUDIT-C: >=4 men,
>=3 women); left out, such a screen uses the lower cut-off and says so.
"""

from __future__ import annotations

import argparse
import json

from kairos.cli.main import UsageError
from kairos.clinical.instruments import (
    SEXES,
    AnswerError,
    LicenceError,
    ScoringRule,
    UnknownInstrumentError,
    get,
    score,
)
from kairos.clinical.rules.alerts import evaluate_alerts

HELP = "Score an instrument from its item answers."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instrument", help="instrument id, e.g. phq9, gad7, qids_sr16, madrs, cssrs_screener")
    parser.add_argument(
        "answers", nargs="*", metavar="ANSWER", help="answers in item order; '-' marks a blank"
    )
    parser.add_argument(
        "--sex",
        type=str.lower,
        choices=SEXES,
        help="the patient's recorded sex, for sex-specific cut-offs (AUDIT-C); left out: the lower cut-off, "
        "flagged",
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
        result = score(inst.id, answers, sex=args.sex)
    except (AnswerError, LicenceError) as exc:
        raise UsageError(str(exc)) from None
    alerts = evaluate_alerts(result)
    if args.json:
        data = result.to_dict() | {"alerts": [a.to_dict() for a in alerts]}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    head = f"{inst.name} (v{inst.version}): "
    if (
        inst.scoring is ScoringRule.TRIAGE
    ):  # no total: the risk level, or "not assessed" while items are blank
        if result.severity is not None:
            print(head + f"risk {result.severity}")
        else:
            floor = result.minimum_severity
            known = (
                "no item answered yes" if floor == "none" else f"the items answered yes give at least {floor}"
            )
            print(head + f"risk not assessed ({known})")
    else:
        total = "not scored" if result.total is None else str(result.total)
        print(head + f"total {total}" + (f" — {result.severity}" if result.severity else ""))
    if result.prorated:
        print(f"  prorated from raw {result.raw_total}")
    for f in result.flags:
        print(f"  flag {f.code}: {f.reason}")
    for a in alerts:
        print(f"  ALERT [{a.urgency}] {a.code}: {a.reason}")
    return 0
