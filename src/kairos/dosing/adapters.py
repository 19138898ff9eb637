"""The only bridge from the dosing app to :mod:`kairos.pharmacology`: typical concentration and effect curves
for the administered dose, drawn behind the measured flowsheet values. Degrades to ``None`` when there is no
model for the route or the engine fails: the flowsheet never depends on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kairos.clinical.rules.dosing import RULES as DOSING_RULES
from kairos.clinical.rules.safety import RULES as SAFETY_RULES
from kairos.pharmacology.effects import effect_curves, endpoints_for_model
from kairos.pharmacology.pk import simulate
from kairos.pharmacology.types import DoseEvent, Drug, Route, Subject

# (drug, route) -> PK model name; models are chosen by the pharmacology package's own support table.
MODEL_FOR = {("esketamine", "intranasal"): "perez-ruixo-2021", ("ketamine", "iv"): "fanta-otto-2021"}
# Model inputs, not clinical limits: the typical subject's weight when none was recorded (Subject's default),
# and the covariate ranges pharmacology.types.Subject accepts (the patient is clamped into them for the curve).
TYPICAL_WEIGHT_KG = Subject().weight_kg
MODEL_WEIGHT_KG = (30.0, 250.0)
MODEL_AGE_Y = (18, 100)


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
        start = admin.started_at
        weight = float(order.weight_kg) if order.weight_kg else TYPICAL_WEIGHT_KG
        age = session.patient.age_on(start.date())
        sex = session.patient.sex if session.patient.sex in ("female", "male") else "unknown"
        subject = Subject(
            weight_kg=min(max(weight, MODEL_WEIGHT_KG[0]), MODEL_WEIGHT_KG[1]),
            age_y=min(max(age, MODEL_AGE_Y[0]), MODEL_AGE_Y[1]),
            sex=sex,
        )
        events = []
        if session.drug == "esketamine":
            for iso in admin.device_times:
                t = (dt.datetime.fromisoformat(iso) - start).total_seconds() / 60
                events.append(
                    DoseEvent(t, Drug.ESKETAMINE, Route.INTRANASAL, DOSING_RULES.num("esketamine.device_mg"))
                )
        else:
            dur = float(order.infusion_min or SAFETY_RULES.num("monitor.iv_infusion_min"))
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
