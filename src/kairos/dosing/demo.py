"""Demo loader (filled in below)."""

from typing import Any


def load_dosing_demo(context: dict[str, Any]) -> str:
    return ""
