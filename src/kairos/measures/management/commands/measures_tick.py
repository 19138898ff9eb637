"""``manage.py measures_tick``: expire/miss due items, send link reminders, (re)send alert notifications.

Run it every few minutes from cron or a systemd timer beside ``manage.py db_worker``, e.g.::

    */5 * * * *  cd /srv/kairos && .venv/bin/python manage.py measures_tick --base-url https://kairos.example.org

It is idempotent: running it twice sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Measurement housekeeping: expire links, mark missed items, send reminders, re-send alert notifications."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url", default="", help="Public URL of Kairos for links in e-mails (else KAIROS_BASE_URL)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from kairos.measures.services.housekeeping import tick

        self.stdout.write(str(tick(base_url=options["base_url"])))
