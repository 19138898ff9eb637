"""Explicit read-path hook of the courses board: the dosing state of each appointment (issue #10).

:mod:`kairos.courses` sits below :mod:`kairos.dosing` and must not import it. Dosing registers its
``board_states(clinic, day) -> {appointment_id: state}`` here in ``DosingConfig.ready()``
(:func:`on_board_states`); :func:`kairos.courses.selectors.board` asks :func:`board_states`. With nothing
registered every patient of the day is 'expected'. Same style as :mod:`kairos.dosing.hooks` and
:mod:`kairos.patients.hooks`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kairos.accounts.models import Clinic

BoardStates = Callable[["Clinic", dt.date], dict[int, str]]
_BOARD_STATES: list[BoardStates] = []


def on_board_states(fn: BoardStates) -> None:
    """Register ``fn(clinic, day) -> {appointment_id: state}`` (idempotent)."""
    if fn not in _BOARD_STATES:
        _BOARD_STATES.append(fn)


def board_states(clinic: Clinic, day: dt.date) -> dict[int, str]:
    """Every registered provider's states merged (later providers win on a shared key)."""
    states: dict[int, str] = {}
    for fn in list(_BOARD_STATES):
        states.update(fn(clinic, day))
    return states
