"""``manage.py audit_checkpoint``: write a signed checkpoint of every audit chain head when one is due.

Writes ``checkpoint-<UTC time>.json`` into ``KAIROS_AUDIT_CHECKPOINT_DIR`` when the newest checkpoint
there is older than ``KAIROS_AUDIT_CHECKPOINT_MINUTES`` (``--force``: now). Files are never overwritten.
``make run`` runs it with the periodic jobs; in production run it from cron or a systemd timer, e.g.::

    */5 * * * *  cd /srv/kairos && .venv/bin/python manage.py audit_checkpoint -v 0

and ship the directory to write-once storage (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Write a signed checkpoint of the audit chain heads when one is due (or now with --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default="", help="directory (default KAIROS_AUDIT_CHECKPOINT_DIR)")
        parser.add_argument("--force", action="store_true", help="write one now even if not yet due")

    def handle(self, *args: Any, **options: Any) -> None:
        from kairos.audit.checkpoint import write_scheduled
        from kairos.audit.keys import KeyFileError
        from kairos.audit.services import AuditKeyMissing

        directory = Path(options["dir"] or settings.AUDIT_CHECKPOINT_DIR)
        interval = dt.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES)
        try:
            path = write_scheduled(directory, interval, force=options["force"])
        except (KeyFileError, AuditKeyMissing, OSError) as exc:
            raise CommandError(f"audit checkpoint not written: {exc}") from None
        if path is None:
            self.stdout.write(f"no checkpoint due (interval {settings.AUDIT_CHECKPOINT_MINUTES} min)")
        else:
            self.stdout.write(f"checkpoint written: {path}")
