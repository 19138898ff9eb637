"""Explicit read-path hook of the patient selectors: break-glass grants (issue #10).

:mod:`kairos.patients` sits below :mod:`kairos.access` and must not import it. The break-glass grant model
and its pages live in access; access registers its grant lookup here in ``AccessConfig.ready()``
(:func:`on_grant_lookup`), and :func:`kairos.patients.selectors.get_patient` asks :func:`active_grant`.
With no lookup registered there is no grant (fail closed). Same style as :mod:`kairos.dosing.hooks`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kairos.core.actor import Viewer

if TYPE_CHECKING:
    from kairos.patients.models import Patient


class Grant(Protocol):
    """What the chart needs of a break-glass grant."""

    @property
    def reason(self) -> str: ...

    @property
    def expires_at(self) -> dt.datetime: ...


GrantLookup = Callable[[Viewer, "Patient"], Grant | None]
_GRANT_LOOKUPS: list[GrantLookup] = []


def on_grant_lookup(fn: GrantLookup) -> None:
    """Register ``fn(user, patient) -> grant | None`` (idempotent)."""
    if fn not in _GRANT_LOOKUPS:
        _GRANT_LOOKUPS.append(fn)


def active_grant(user: Viewer, patient: Patient) -> Grant | None:
    """The user's unexpired break-glass grant to ``patient``, if a registered lookup finds one."""
    if not user.is_authenticated:
        return None
    for fn in list(_GRANT_LOOKUPS):
        grant = fn(user, patient)
        if grant is not None:
            return grant
    return None
