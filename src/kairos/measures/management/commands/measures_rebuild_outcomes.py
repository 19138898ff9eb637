"""Backfill the outcomes dashboard's read model (course outcome summaries, session safety findings).

Run after a migration that adds or changes it, after any load that bypasses the services
(``benchmarks/bulk_load.py``, restores), or after changing the outcome rules. Idempotent.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kairos.measures import outcome_store


class Command(BaseCommand):
    help = "Recompute the clinic outcomes dashboard's per-course summaries and per-session safety findings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", type=int, action="append", help="only this course id (repeatable)")
        parser.add_argument(
            "--batch", type=int, default=outcome_store.BATCH, help="courses per transaction (1–100000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = options["batch"]
        if not 1 <= batch <= 100_000:
            from django.core.management.base import CommandError

            raise CommandError(f"--batch: {batch} is outside the allowed range [1, 100000]")
        t = time.perf_counter()
        done = outcome_store.rebuild(options["course"], batch=batch)
        self.stdout.write(
            f"rebuilt outcome summaries of {done['courses']} courses and safety findings of "
            f"{done['sessions']} sessions in {time.perf_counter() - t:.1f} s"
        )
