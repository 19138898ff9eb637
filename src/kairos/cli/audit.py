"""``kairos audit verify``: recompute every hash chain; exit 1 naming the first bad row."""

from __future__ import annotations

import argparse

HELP = "Verify the audit trail's hash chains."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["verify"], help="verify: check every clinic's chain")


def run(args: argparse.Namespace) -> int:
    from kairos.cli._django import setup

    setup()
    from kairos.audit.models import AuditEvent
    from kairos.audit.services import verify_all

    count, problems = verify_all()
    rows = AuditEvent.objects.count()
    if problems:
        for problem in problems:
            print(f"BROKEN {problem}")
        print(f"{len(problems)} of {count} chains broken ({rows} rows)")
        return 1
    print(f"OK: {count} chains intact ({rows} rows)")
    return 0
