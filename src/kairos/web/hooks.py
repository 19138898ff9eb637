"""Badge counts for the navigation (issue #11 §5).

``web`` sits below ``measures`` and ``dosing`` in the import layers, so those apps register callables
here from their ``AppConfig.ready()``. Each callable takes the signed-in user and returns a small,
non-negative count of items needing that user's attention (a constant number of queries each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BadgeCounter = Callable[[Any], int]

_badge_counters: list[tuple[str, BadgeCounter]] = []


def on_badge_count(name: str, counter: BadgeCounter) -> None:
    """Register ``counter`` under ``name``; registering the same name again replaces it."""
    for i, (existing, _) in enumerate(_badge_counters):
        if existing == name:
            _badge_counters[i] = (name, counter)
            return
    _badge_counters.append((name, counter))


def badge_counts(user: Any) -> dict[str, int]:
    """Each registered count for ``user`` (anonymous users: none)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    return {name: max(0, int(counter(user))) for name, counter in _badge_counters}


HomePanel = Callable[[Any], str]

_home_panels: list[tuple[str, HomePanel]] = []


def on_home_panel(name: str, panel: HomePanel) -> None:
    """Register a home-page panel: ``panel(request)`` returns rendered HTML ("" when it has nothing)."""
    for i, (existing, _) in enumerate(_home_panels):
        if existing == name:
            _home_panels[i] = (name, panel)
            return
    _home_panels.append((name, panel))


def home_panels(request: Any) -> list[str]:
    return [html for _, panel in _home_panels if (html := panel(request))]
