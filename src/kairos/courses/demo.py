"""Demo data for courses (filled in later)."""

from __future__ import annotations

from typing import Any


def load_courses_demo(ctx: dict[str, Any]) -> str:
    return "courses: nothing yet"
