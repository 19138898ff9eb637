"""Adapter between measurement-based care and the pharmacology engine's population response model.

The ONLY module of ``kairos.measures`` that imports :mod:`kairos.pharmacology`. It translates clinic
records (aware datetimes, the dosing app's drug/route names, milligrams) into the engine's inputs
(minutes from the first dose, :class:`~kairos.pharmacology.types.DoseEvent`) and its outputs back into
instrument score units.

What the model is (and is not): a calibrated semi-mechanistic *population* model of MADRS over a dosing
course (:mod:`kairos.pharmacology.response`), hypothesis-generating only, never an individual prediction.
The band drawn on a patient's chart is the 10th–90th percentile of the modelled score of virtual patients
given the same dose times, expressed as a fraction of each virtual patient's baseline and scaled to the
patient's own baseline. For instruments other than MADRS the same relative change is assumed
(percent change from baseline carried across instruments: a documented simplification, ⚠).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology import response as _resp
from kairos.pharmacology import trials as _trials
from kairos.pharmacology import trials_fastpath as _fp
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route

FloatArray = NDArray[np.float64]

BAND_LABEL = "population band (model), clinician-only"
DISCLAIMER = _resp.DISCLAIMER
SOURCE = (
    "kairos.pharmacology.response (calibrated to published trial targets; docs/pharmacology-validation.md)"
)
QUANTILES = (10.0, 50.0, 90.0)
ARM: _resp.Arm = "open_label"  # clinic practice is open-label treatment
_MAX_BAND_DOSES = 40  # the band covers at most this many sessions (the latest ones are the relevant ones)

_DRUGS = {"ketamine": Drug.RACEMIC, "racemic": Drug.RACEMIC, "esketamine": Drug.ESKETAMINE}
_ROUTES = {
    "iv": Route.IV,
    "intranasal": Route.INTRANASAL,
    "im": Route.IM,
    "sublingual": Route.SUBLINGUAL,
    "oral": Route.ORAL,
}


class AdapterError(ValueError):
    """A record cannot be translated for the model; the message names the field."""


@dataclass(frozen=True, slots=True)
class DoseInput:
    """One administered (or planned) dose as the clinic records it."""

    at: dt.datetime
    drug: str  # "ketamine" (racemic) | "esketamine"
    route: str  # "iv" | "intranasal" | "im" | "sublingual" | "oral"
    mg: float  # free base
    duration_min: float = 0.0  # infusion time (IV); 0 = bolus / spray


@dataclass(frozen=True, slots=True)
class BandPoint:
    at: dt.datetime
    low: float
    mid: float
    high: float


@dataclass(frozen=True, slots=True)
class PopulationBand:
    """The modelled band in the instrument's score units (10th, 50th, 90th percentile)."""

    points: tuple[BandPoint, ...]
    n_virtual: int
    label: str = BAND_LABEL
    disclaimer: str = DISCLAIMER
    source: str = SOURCE
    quantiles: tuple[float, float, float] = QUANTILES


def _event(d: DoseInput, origin: dt.datetime) -> DoseEvent:
    drug = _DRUGS.get(d.drug)
    if drug is None:
        raise AdapterError(f"drug: {d.drug!r} is not one of {', '.join(_DRUGS)}")
    route = _ROUTES.get(d.route)
    if route is None:
        raise AdapterError(f"route: {d.route!r} is not one of {', '.join(_ROUTES)}")
    if not (isinstance(d.mg, int | float) and math.isfinite(d.mg) and 0 < d.mg <= 1000):
        raise AdapterError(f"mg: {d.mg!r} is outside the allowed range (0, 1000]")
    start = (d.at - origin).total_seconds() / 60.0
    return DoseEvent(round(start, 0), drug, route, round(float(d.mg), 1), round(float(d.duration_min), 0))


def _events(doses: Sequence[DoseInput]) -> tuple[dt.datetime, tuple[DoseEvent, ...]]:
    if not doses:
        raise AdapterError("doses: at least one dose is needed for a band")
    for i, d in enumerate(doses):
        if not isinstance(d.at, dt.datetime) or d.at.tzinfo is None:
            raise AdapterError(f"doses[{i}].at: expected a timezone-aware datetime, got {d.at!r}")
    ordered = sorted(doses, key=lambda d: d.at)
    origin = ordered[0].at
    return origin, tuple(_event(d, origin) for d in ordered)


def virtual_cohort(
    events: Sequence[DoseEvent],
    readout_min: Sequence[float] | FloatArray,
    *,
    n: int,
    seed: int = 0,
    first: int = 0,
    weight_kg: float = 70.0,
    baseline_mean: float = 32.0,
    visit_noise: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Modelled MADRS of virtual patients ``first .. first+n−1`` of stream ``seed`` at the readouts.

    Returns ``(baseline[n], madrs[n, R])``. Each virtual patient's random effects come from its own fixed
    block of the engine's random stream, so a patient's trajectory does not depend on ``n``.
    """
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1_000_000:
        raise AdapterError(f"n: {n!r} is outside the allowed range [1, 1000000]")
    z = _fp.block_normals(seed, first, first + n, _trials.N_COLS)
    p = _resp.params_values()
    eff = _resp.PatientEffects.from_normals(z[:, _trials._COL_RESP], p, baseline_mean)
    ro = np.maximum(np.asarray(readout_min, dtype=np.float64), 0.0)
    if events:
        try:
            win, _ = _trials.occupancy_windows(tuple(events), z[:, _trials._COL_PK], weight_kg)
        except InputError as exc:
            raise AdapterError(f"doses: {exc}") from None
        ps, d = _resp.plasticity_states(win, p, ro)
        sig = _resp.drug_signal(ps, d, p)
    else:
        sig = np.zeros((n, ro.size))
    noise = None
    if visit_noise:
        noise = np.random.default_rng([seed, first, 7]).standard_normal((n, ro.size))
    score = _resp.madrs(sig, ro, ARM, eff, p, noise)
    return eff.baseline, score


@lru_cache(maxsize=256)
def _band_fractions(
    events: tuple[DoseEvent, ...], horizon_min: float, step_min: float, weight_kg: float, n: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    ro = np.arange(0.0, horizon_min + step_min / 2, step_min)
    baseline, score = virtual_cohort(events, ro, n=n, seed=seed, weight_kg=weight_kg, visit_noise=False)
    frac = score / baseline[:, None]
    return ro, np.percentile(frac, QUANTILES, axis=0)


def population_band(
    doses: Sequence[DoseInput],
    *,
    baseline: float,
    until: dt.datetime,
    weight_kg: float = 70.0,
    n: int = 200,
    seed: int = 0,
    step_h: float = 6.0,
    max_score: float | None = None,
) -> PopulationBand:
    """The population band for these dose times, from the first dose to ``until``, in score units.

    ``baseline`` is the patient's own baseline on the instrument (the band is relative change × baseline).
    Raises :class:`AdapterError` for doses the model cannot take (the message names the field).
    """
    if not (isinstance(baseline, int | float) and math.isfinite(baseline) and baseline >= 0):
        raise AdapterError(f"baseline: {baseline!r} is outside the allowed range [0, inf)")
    recent = sorted(doses, key=lambda d: d.at)[-_MAX_BAND_DOSES:]
    origin, events = _events(recent)
    horizon = max((until - origin).total_seconds() / 60.0, 24 * 60.0)
    horizon = min(horizon, 400 * 24 * 60.0)
    w = float(min(max(weight_kg, 30.0), 250.0))
    ro, q = _band_fractions(events, round(horizon, -1), step_h * 60.0, round(w), n, seed)
    top = max_score if max_score is not None else math.inf
    pts = tuple(
        BandPoint(
            origin + dt.timedelta(minutes=float(t)),
            float(min(q[0, i] * baseline, top)),
            float(min(q[1, i] * baseline, top)),
            float(min(q[2, i] * baseline, top)),
        )
        for i, t in enumerate(ro)
    )
    return PopulationBand(points=pts, n_virtual=n)


def dose_events(doses: Sequence[DoseInput]) -> tuple[dt.datetime, tuple[DoseEvent, ...]]:
    """(origin, engine dose events in minutes from origin) for ``doses`` (validated)."""
    return _events(doses)


def relative_events(
    days: Sequence[float], *, drug: str, route: str, mg: float, duration_min: float = 0.0
) -> tuple[DoseEvent, ...]:
    """Engine dose events for doses on ``days`` after the first (used by the synthetic generator)."""
    origin = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return tuple(
        _event(DoseInput(origin + dt.timedelta(days=float(d)), drug, route, mg, duration_min), origin)
        for d in days
    )
