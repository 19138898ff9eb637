"""Explicit write-path hooks of the dosing services (no Django signals, no import of other apps).

Apps that keep data derived from dosing sessions register a callable in their ``AppConfig.ready()``
(:func:`on_session_changed`); the dosing services call :func:`session_changed` inside their transaction
after a change to a session's flowsheet, adverse events or dosing start, so derived rows commit (or roll
back) with the change. Used by :mod:`kairos.measures.outcome_store` (per-session safety findings of the
outcomes dashboard).
"""

from __future__ import annotations

from collections.abc import Callable

SessionHook = Callable[[int], None]
_SESSION_HOOKS: list[SessionHook] = []


def on_session_changed(fn: SessionHook) -> None:
    """Register ``fn(session_id)`` (idempotent)."""
    if fn not in _SESSION_HOOKS:
        _SESSION_HOOKS.append(fn)


def session_changed(session_id: int) -> None:
    """Run every registered hook for ``session_id`` (in the caller's transaction)."""
    for fn in list(_SESSION_HOOKS):
        fn(session_id)
