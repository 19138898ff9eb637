"""The only bridge from the dosing app to :mod:`kairos.pharmacology`: typical concentration and effect curves
for the administered dose, drawn behind the measured flowsheet values. Degrades to ``None`` when the engine
(or a model for the route) is missing: the flowsheet never depends on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# (drug, route) -> PK model name; models are chosen by the pharmacology package's own support table.
MODEL_FOR = {("esketamine", "intranasal"): "perez-ruixo-2021", ("ketamine", "iv"): "fanta-otto-2021"}


@dataclass(frozen=True)
class Curves:
    model: str
    t_min: list[float]
    conc_ng_ml: list[float]
    effect: list[float]  # dissociation effect (0..1 of Emax)
    note: str


def typical_curves(session: Any, *, until_min: float = 180.0, step_min: float = 2.0) -> Curves | None:
    """Typical-subject curves for the session's administration (minutes from the first dose)."""
    admin = getattr(session, "administration", None)
    order = getattr(session, "order", None)
    model = MODEL_FOR.get((session.drug, session.route))
    if admin is None or order is None or model is None:
        return None
    try:
        from kairos.pharmacology.effects import effect_curves, endpoints_for_model
        from kairos.pharmacology.pk import simulate
        from kairos.pharmacology.types import DoseEvent, Drug, Route, Subject
    except ImportError:
        return None
    try:
        start = admin.started_at
        weight = float(order.weight_kg) if order.weight_kg else 70.0
        age = session.patient.age_on(start.date())
        sex = session.patient.sex if session.patient.sex in ("female", "male") else "unknown"
        subject = Subject(weight_kg=min(max(weight, 30.0), 250.0), age_y=min(max(age, 18), 100), sex=sex)
        events = []
        if session.drug == "esketamine":
            for iso in admin.device_times:
                t = (dt.datetime.fromisoformat(iso) - start).total_seconds() / 60
                events.append(DoseEvent(t, Drug.ESKETAMINE, Route.INTRANASAL, 28.0))
        else:
            dur = float(order.infusion_min or 40)
            events.append(DoseEvent(0.0, Drug.RACEMIC, Route.IV, float(order.dose_mg), dur))
        times = [i * step_min for i in range(int(until_min / step_min) + 1)]
        res = simulate(model, subject, events, times)
        s_conc = res.parent_s if res.parent_s is not None else res.parent
        curves = effect_curves(times, s_conc, endpoints_for_model(model))
        diss = curves.effect.get("dissociation")
        return Curves(
            model=res.model,
            t_min=times,
            conc_ng_ml=[float(x) for x in res.parent],
            effect=[float(x) for x in diss] if diss is not None else [],
            note=f"typical subject, {res.model} ({res.sampling_site}); not this patient's measured levels",
        )
    except Exception:  # noqa: BLE001 - the engine is optional decoration; never break the flowsheet
        return None
