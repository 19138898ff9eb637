"""Set up Django for the CLI commands that need the database (audit, token, demo)."""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kairos.config.settings")
    import django

    django.setup()
