"""Session and course timelines: concentrations, acute effects, worn-off estimate, plasticity window, band.

Precedence (documented contract): clinical discharge rules always take precedence. The model's worn-off
estimate is never earlier than the rule minimum the caller passes (``discharge_minimum_min``), and the
modelled plasticity window is an illustration only — bookings follow the clinical protocol rule. The
response band is a population band (hypothesis-generating), never an individual prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology import response as resp
from kairos.pharmacology.effects import EffectCurves, effect_curves, endpoints_for_model
from kairos.pharmacology.occupancy import nmda_occupancy
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route, Subject

FloatArray = NDArray[np.float64]

#: Default PK model per (drug, route): the reference's ranking (§0, §1.6) restricted to models in the library.
DEFAULT_MODELS: dict[tuple[Drug, Route], str] = {
    (Drug.ESKETAMINE, Route.INTRANASAL): "perez-ruixo-2021",
    (Drug.ESKETAMINE, Route.IV): "fanta-otto-2021",
    (Drug.ESKETAMINE, Route.ORAL): "perez-ruixo-2021",
    (Drug.ESKETAMINE, Route.SUBLINGUAL): "simons-2022",
    (Drug.RACEMIC, Route.IV): "fanta-otto-2021",
    (Drug.RACEMIC, Route.ORAL): "fanta-otto-2021",
}

WEAR_OFF_FRACTION = 0.1  # effect below 10 % of Emax counts as worn off (design value, ⚠ configurable)


def default_model(events: Sequence[DoseEvent]) -> str:
    pairs = {(e.drug, e.route) for e in events}
    models = {DEFAULT_MODELS.get(p) for p in pairs}
    if None in models or len(models) != 1:
        supported = ", ".join(f"{d.value}/{r.value}" for d, r in DEFAULT_MODELS)
        raise InputError(
            f"dose_events: no single PK model for these drug/route pairs (supported: {supported})"
        )
    m = models.pop()
    assert m is not None
    return m


@dataclass(frozen=True, slots=True)
class SessionReadout:
    start_min: float
    time_above_threshold_min: float
    peak_dissociation: float
    model_worn_off_min: float  # minutes after session start, model only
    worn_off_min: float  # max(model estimate, clinical rule minimum)
    rule_minimum_min: float | None
    plasticity_window_min: tuple[float, float] | None  # illustration only

    def to_dict(self) -> dict[str, object]:
        return {
            "start_min": self.start_min,
            "time_above_threshold_min": self.time_above_threshold_min,
            "peak_dissociation": self.peak_dissociation,
            "model_worn_off_min": self.model_worn_off_min,
            "worn_off_min": self.worn_off_min,
            "rule_minimum_min": self.rule_minimum_min,
            "plasticity_window_min": list(self.plasticity_window_min) if self.plasticity_window_min else None,
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    model: str
    sampling_site: str
    times_min: FloatArray
    plasma_ng_ml: FloatArray
    plasma_s_ng_ml: FloatArray
    effects: EffectCurves
    threshold_ng_ml: float
    threshold_source: str
    plasticity: FloatArray
    sessions: tuple[SessionReadout, ...]
    response_band: dict[str, object] | None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "sampling_site": self.sampling_site,
            "times_min": self.times_min.tolist(),
            "plasma_ng_ml": self.plasma_ng_ml.tolist(),
            "plasma_s_ng_ml": self.plasma_s_ng_ml.tolist(),
            "effects": self.effects.to_dict(),
            "threshold_ng_ml": self.threshold_ng_ml,
            "threshold_source": self.threshold_source,
            "plasticity_illustration": self.plasticity.tolist(),
            "sessions": [s.to_dict() for s in self.sessions],
            "response_band": self.response_band,
            "notes": list(self.notes),
        }


def _time_above(t: FloatArray, y: FloatArray, thr: float) -> float:
    """Time with ``y ≥ thr`` on a piecewise-linear curve (crossings interpolated)."""
    total = 0.0
    for k in range(t.size - 1):
        a, b = y[k] - thr, y[k + 1] - thr
        h = t[k + 1] - t[k]
        if a >= 0 and b >= 0:
            total += h
        elif a >= 0 > b:
            total += h * a / (a - b)
        elif b >= 0 > a:
            total += h * b / (b - a)
    return total


def timeline(
    subject: Subject,
    dose_events: Sequence[DoseEvent],
    *,
    model: str | None = None,
    threshold: float | None = None,
    discharge_minimum_min: float | None = None,
    horizon_min: float = 360.0,
    step_min: float = 1.0,
    response_band_n: int = 400,
) -> Timeline:
    """Timeline of one session or a course (doses ≥ 12 h apart start new sessions).

    ``threshold``: dissociation effect-site S-ketamine threshold (ng/mL). ⚠ Default: the dissociation C50
    of the parameter set paired with the model's sampling site (anchor: Olofsen 2022 0.51 nmol/mL
    arterial; venous value calibrated to 100–250 ng/mL racemic, reference §1.2/§2.1).
    ``discharge_minimum_min``: the clinical rule's minimum observation time; the worn-off time reported
    is never earlier (clinical rules take precedence).
    """
    # Long by design: one pass builds every panel of the timeline (concentration, occupancy, plasticity,
    # response band) from the same solved grid; splitting it would re-solve or thread a dozen arrays through helpers.
    from kairos.pharmacology.pk import simulate
    from kairos.pharmacology.trials import STEP_MIN, WINDOW_MIN, session_starts

    if not dose_events:
        raise InputError("dose_events must contain at least one dose")
    if not (0 < step_min <= 30):
        raise InputError(f"step_min must be in (0, 30] minutes (got {step_min!r})")
    if not (30 <= horizon_min <= 7 * 1440):
        raise InputError(f"horizon_min must be between 30 and 10080 minutes (got {horizon_min!r})")
    if discharge_minimum_min is not None and not (0 <= discharge_minimum_min <= 1440):
        raise InputError(f"discharge_minimum_min must be between 0 and 1440 (got {discharge_minimum_min!r})")
    name = model or default_model(dose_events)
    eps = endpoints_for_model(name)
    diss = eps["dissociation"]
    thr = diss.c50.value if threshold is None else float(threshold)
    if not (thr > 0 and math.isfinite(thr)):
        raise InputError(f"threshold must be a positive number of ng/mL (got {threshold!r})")
    thr_src = (
        f"⚠ default = dissociation C50 ({diss.c50.status}; {diss.c50.source})"
        if threshold is None
        else "caller"
    )
    last = max(e.start_min + e.duration_min for e in dose_events)
    t = np.arange(0.0, last + horizon_min + step_min / 2, step_min)
    pk = simulate(name, subject, dose_events, t)
    cp_s = pk.parent_s if pk.parent_s is not None else pk.parent
    curves = effect_curves(t, cp_s, eps)
    ce_diss = curves.ce["dissociation"]
    e_diss = curves.effect["dissociation"]

    # plasticity illustration: occupancy from effect-site S (+R) on each session window
    starts = session_starts(dose_events)
    j = int(WINDOW_MIN / STEP_MIN) + 1
    occ = np.zeros((1, starts.size, j))
    for s, t0 in enumerate(starts):
        tw = t0 + np.arange(j) * STEP_MIN
        w = simulate(name, subject, dose_events, tw)
        conc = {"s_ketamine": np.interp(tw, t, ce_diss)}
        if w.parent_r is not None:
            conc["r_ketamine"] = w.parent_r
        occ[0, s] = nmda_occupancy(conc)
    win = resp.OccupancyWindows(occ=occ, session_start=starts, step_min=STEP_MIN)
    p_state, _ = resp.plasticity_states(win, resp.params_values(), t)
    plast = p_state[0]

    sessions = []
    for s, t0 in enumerate(starts):
        t1 = starts[s + 1] if s + 1 < starts.size else t[-1] + step_min
        m = (t >= t0) & (t < t1)
        ts, es, cs = t[m], e_diss[m], ce_diss[m]
        peak = float(es.max())
        i_peak = int(es.argmax())
        below = np.nonzero(es[i_peak:] < WEAR_OFF_FRACTION * diss.emax.value)[0]
        model_off = float(ts[i_peak + below[0]] - t0) if below.size else float(ts[-1] - t0)
        off = max(model_off, discharge_minimum_min or 0.0)
        ps = plast[m]
        pw = None
        if ps.max() > 0:
            on = np.nonzero(ps >= 0.5 * ps.max())[0]
            pw = (float(ts[on[0]] - t0), float(ts[on[-1]] - t0))
        sessions.append(
            SessionReadout(
                start_min=float(t0),
                time_above_threshold_min=_time_above(ts, cs, thr),
                peak_dissociation=peak,
                model_worn_off_min=model_off,
                worn_off_min=off,
                rule_minimum_min=discharge_minimum_min,
                plasticity_window_min=pw,
            )
        )
    notes = [
        "Clinical discharge rules take precedence over the model's worn-off estimate.",
        "Plasticity window: model illustration only; bookings follow the clinical protocol rule.",
        resp.DISCLAIMER,
    ]
    if discharge_minimum_min is None:
        notes.append("No clinical minimum supplied: worn-off time is the model estimate only.")
    notes.extend(pk.warnings)
    band = _response_band(dose_events, subject, response_band_n, notes)
    return Timeline(
        model=pk.model,
        sampling_site=pk.sampling_site,
        times_min=t,
        plasma_ng_ml=pk.parent,
        plasma_s_ng_ml=cp_s,
        effects=curves,
        threshold_ng_ml=thr,
        threshold_source=thr_src,
        plasticity=plast,
        sessions=tuple(sessions),
        response_band=band,
        notes=tuple(notes),
    )


def _response_band(
    events: Sequence[DoseEvent], subject: Subject, n: int, notes: list[str]
) -> dict[str, object] | None:
    from kairos.pharmacology.trials import Regimen, run_trial

    if n <= 0:
        return None
    try:
        reg = Regimen(name="timeline", events=tuple(events), arm="open_label", weight_kg=subject.weight_kg)
        res = run_trial(reg, n, seed=0)
    except InputError as exc:
        notes.append(f"no population response band: {exc}")
        return None
    s = res.summary()
    return {
        "endpoint_min": reg.endpoint,
        "madrs_change": s["madrs_change_endpoint"],
        "response_rate": s["response_rate"],
        "n_virtual_patients": n,
        "disclaimer": resp.DISCLAIMER,
    }
