"""Pure checks for changing a dated plan (no Django). The numbers come from the clinical core.

A clinician may move a dosing session within the protocol's own limits, the same limits
:func:`kairos.clinical.schedule.generate_schedule` places sessions by (``Protocol.min_interval_days`` —
rule ``<protocol>.min_interval_days`` in :mod:`kairos.clinical.rules.schedule`, each with its source — and
each phase's ``per_period`` doses per ``period_days``):

* the day must be an open clinic day (:class:`kairos.clinical.schedule.ClinicCalendar`);
* sessions keep their order;
* at least ``min_interval_days`` between consecutive doses;
* at most ``per_period`` doses of a phase in any ``period_days`` window.

:func:`check_move` returns the violations, each naming the field and the limit; empty means allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from kairos.clinical.protocols import get_protocol
from kairos.clinical.schedule import ClinicCalendar


@dataclass(frozen=True, slots=True)
class DatedSession:
    number: int
    date: dt.date
    phase: str


def apply_move(sessions: Sequence[DatedSession], number: int, new_date: dt.date) -> list[DatedSession]:
    out = []
    found = False
    for s in sessions:
        if s.number == number:
            out.append(DatedSession(s.number, new_date, s.phase))
            found = True
        else:
            out.append(s)
    if not found:
        raise ValueError(f"number: session {number} is not in the plan (1..{len(sessions)})")
    return out


def check_plan(protocol_id: str, sessions: Sequence[DatedSession], calendar: ClinicCalendar) -> list[str]:
    """Every spacing/calendar violation of a dated dosing plan, each naming the session and the limit."""
    p = get_protocol(protocol_id)
    errors: list[str] = []
    ordered = sorted(sessions, key=lambda s: s.number)
    for s in ordered:
        if not calendar.is_open(s.date):
            errors.append(f"session {s.number} date: {s.date.isoformat()} is not an open clinic day")
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        gap = (cur.date - prev.date).days
        if gap < 0:
            errors.append(
                f"session {cur.number} date: {cur.date.isoformat()} is before session {prev.number} "
                f"({prev.date.isoformat()}); sessions keep their order"
            )
        elif gap < p.min_interval_days:
            errors.append(
                f"session {cur.number} date: {gap} day(s) after session {prev.number}; "
                f"{p.id}.min_interval_days requires at least {p.min_interval_days}"
            )
    phases = {ph.name: ph for ph in p.dosing_phases}
    for name, ph in phases.items():
        days = sorted(s.date for s in ordered if s.phase == name)
        for i, first in enumerate(days):
            window_end = first + dt.timedelta(days=ph.period_days)
            count = sum(1 for d in days[i:] if d < window_end)
            if count > ph.per_period:
                errors.append(
                    f"{name} phase: {count} doses in the {ph.period_days} days from {first.isoformat()}; "
                    f"the protocol allows at most {ph.per_period} ({ph.source})"
                )
                break
    return errors


def check_move(
    protocol_id: str,
    sessions: Sequence[DatedSession],
    number: int,
    new_date: dt.date,
    calendar: ClinicCalendar,
) -> list[str]:
    """Violations introduced by moving session ``number`` to ``new_date`` (pre-existing ones are ignored)."""
    before = set(check_plan(protocol_id, sessions, calendar))
    after = check_plan(protocol_id, apply_move(sessions, number, new_date), calendar)
    return [e for e in after if e not in before]
