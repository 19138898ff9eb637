"""``manage.py openapi``: write the API's OpenAPI document as sorted, indented JSON.

``docs/openapi.json`` is committed; a test fails when the API changes without it (``make openapi``
regenerates it, and the diff is reviewed with the change). ``--check`` exits 1 when the file differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def render_schema() -> str:
    """The OpenAPI document of :data:`kairos.api.main.api` as stable text (sorted keys, 2-space indent)."""
    from kairos.api.main import api

    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1 (sorted, indented JSON) to docs/openapi.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", "-o", default=str(DEFAULT_OUTPUT), help="file to write ('-' for stdout)"
        )
        parser.add_argument(
            "--check", action="store_true", help="only compare; exit 1 if the file is out of date"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = render_schema()
        output = options["output"]
        if output == "-":
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                raise CommandError(
                    f"{path} is out of date: run `make openapi` (manage.py openapi) and review the diff"
                )
            self.stdout.write(f"{path} is up to date")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
