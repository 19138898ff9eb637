"""Adapter between the clinical plan and the pharmacology engine.

The ONLY module allowed to import both ``kairos.clinical`` and ``kairos.pharmacology``: it turns a dated
clinical plan (``kairos.clinical.schedule.generate_schedule``) into neutral ``DoseEvent``s.
"""

from __future__ import annotations

import datetime as dt

from kairos.pharmacology.types import DoseEvent, Drug, Route

PROTOCOLS = ("iv-racemic", "esketamine-trd", "esketamine-mdsi", "im-racemic", "sublingual-kap")

_DRUG = {"ketamine": Drug.RACEMIC, "racemic": Drug.RACEMIC, "esketamine": Drug.ESKETAMINE}
_ROUTE = {
    "iv": Route.IV,
    "intranasal": Route.INTRANASAL,
    "im": Route.IM,
    "sublingual": Route.SUBLINGUAL,
    "oral": Route.ORAL,
}

SESSION_CLOCK = dt.time(9, 0)  # doses are placed at 09:00 on the planned date (plans carry dates only)


def plan_dose_events(
    protocol_id: str, *, weight_kg: float = 70.0, start: dt.date | None = None
) -> tuple[DoseEvent, ...]:
    """Dose events (minutes from the first session) of a protocol's dated plan."""
    from kairos.clinical.schedule import generate_schedule

    first = start or dt.date(2025, 1, 6)  # a Monday: a fixed, reproducible anchor
    plan = generate_schedule(protocol_id, first, weight_kg=weight_kg)
    sessions = [s for s in plan.sessions if s.dose_mg is not None]
    if not sessions:
        return ()
    day0 = sessions[0].date
    out = []
    for s in sessions:
        route = _ROUTE[s.route.lower()]
        duration = 0.0
        if route is Route.IV:
            duration = float((s.admixture or {}).get("infusion_min", s.administration_min))
        assert s.dose_mg is not None
        out.append(
            DoseEvent(
                start_min=(s.date - day0).days * 1440.0 + SESSION_CLOCK.hour * 60.0,
                drug=_DRUG[s.drug.lower()],
                route=route,
                amount_mg_base=float(s.dose_mg),
                duration_min=duration,
            )
        )
    return tuple(out)
