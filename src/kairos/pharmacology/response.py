"""Semi-mechanistic antidepressant response model — population bands only, hypothesis-generating.

NEVER an individual prediction. No validated mechanistic human model exists (reference §0, §3.5); this is
the reference's proposed structure, fitted to published trial-level targets (``calibration.py``):

    occ(t)  NMDA occupancy estimate (occupancy.py) from effect-site S-/R-ketamine
    g(occ)  = occ^h / (occ50^h + occ^h)                     plasticity trigger
    dP/dt   = kP·(g − P)                                    plasticity window, P ∈ [0, 1]
    dD/dt   = kout·(P − D)                                  synaptic-strength surrogate D = S − 1
    MADRS_i(t) = clip(B_i − E_arm(t) − δ_i·h(t) − β_i·(D_i(t) + w·P_i(t)) + ε_it, 0, 60)

(``w·P`` is a fast, window-bound component: the early effect needs no new spines, Moda-Sava 2019 §3.4.)

``E_arm`` is an explicit control/expectancy arm modelled as each trial ran it (active placebo midazolam,
open-label series, new oral antidepressant + placebo spray); ``β_i = β·r_i·L_i`` carries responder
heterogeneity (r_i ~ Bernoulli(p_resp), L_i lognormal), following Dahan 2011's probabilistic responder idea.

Occupancy is evaluated on a fine grid inside a window after each session (exposure is negligible
afterwards); between windows P and D decay analytically (g = 0).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology.effects import Parameter
from kairos.pharmacology.types import InputError

FloatArray = NDArray[np.float64]
Arm = Literal["none", "active_placebo", "open_label", "ad_placebo_spray"]
ARMS: tuple[Arm, ...] = ("none", "active_placebo", "open_label", "ad_placebo_spray")

#: per-patient standard normals used by the response layer (columns)
N_Z = 5

DISCLAIMER = (
    "Population band from a calibrated semi-mechanistic model; hypothesis-generating only, not an "
    "individual prediction, not a measurement. Bookings follow the clinical protocol rules."
)


@cache
def load_parameters() -> dict[str, Parameter]:
    """Response-model parameters (value, unit, source, status) from ``response_parameters.json``."""
    raw = json.loads(
        resources.files("kairos.pharmacology").joinpath("response_parameters.json").read_text("utf-8")
    )
    return {k: Parameter(float(v["value"]), v["unit"], v["source"], v["status"]) for k, v in raw.items()}


def params_values(params: Mapping[str, Parameter] | None = None) -> dict[str, float]:
    return {k: p.value for k, p in (params or load_parameters()).items()}


def expectancy(arm: Arm, t_min: FloatArray, p: Mapping[str, float]) -> FloatArray:
    """Expected MADRS improvement (points, ≥ 0) from the control/expectancy component of an arm."""
    t = np.maximum(np.asarray(t_min, dtype=np.float64), 0.0)
    on = 1.0 - np.exp(-t / (p["expectancy_onset_h"] * 60.0))
    if arm == "none":
        return np.zeros_like(t)
    if arm == "active_placebo":
        return np.asarray(p["expectancy_active_placebo"] * on, dtype=np.float64)
    if arm == "open_label":
        return np.asarray(p["expectancy_open_label"] * on, dtype=np.float64)
    if arm == "ad_placebo_spray":
        tau = p["ad_placebo_tau_d"] * 1440.0
        scale = p["ad_placebo_day28"] / (1.0 - math.exp(-28.0 * 1440.0 / tau))
        return np.asarray(scale * (1.0 - np.exp(-t / tau)), dtype=np.float64)
    raise InputError(f"arm must be one of {', '.join(ARMS)} (got {arm!r})")


@dataclass(frozen=True, slots=True)
class OccupancyWindows:
    """Occupancy ``occ[n, s, j]`` at ``session_start[s] + j·step_min`` for each session window."""

    occ: FloatArray
    session_start: FloatArray
    step_min: float

    @property
    def window_min(self) -> float:
        return float((self.occ.shape[2] - 1) * self.step_min)


def plasticity_states(
    win: OccupancyWindows, p: Mapping[str, float], readout_min: Sequence[float] | FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Plasticity window P and synaptic surrogate D at the readout times; arrays ``[n, R]``.

    Exact for a trigger held constant (midpoint value) on each fine step; analytic between windows.
    """
    occ = win.occ
    n, s_count, j_count = occ.shape
    starts = win.session_start
    if s_count and np.any(np.diff(starts) < win.window_min):
        raise InputError("sessions must be at least one occupancy window apart")
    kp = math.log(2.0) / (p["plasticity_t_half_h"] * 60.0)
    ko = math.log(2.0) / (p["synaptic_t_half_d"] * 1440.0)
    h = win.step_min
    hill = p["trigger_hill"]
    x = np.clip(occ, 0.0, 1.0)
    g_all = x**hill / (p["trigger_occ50"] ** hill + x**hill)
    gm = 0.5 * (g_all[:, :, 1:] + g_all[:, :, :-1])
    ep, eo = math.exp(-kp * h), math.exp(-ko * h)
    cross = _cross(kp, ko, h)
    readouts = np.asarray(readout_min, dtype=np.float64)
    p_out = np.zeros((n, readouts.size))
    d_out = np.zeros((n, readouts.size))
    P = np.zeros(n)
    D = np.zeros(n)
    t_state = -math.inf
    p_win = np.empty((n, j_count))
    d_win = np.empty((n, j_count))
    r_idx = 0
    order = np.argsort(readouts, kind="stable")

    def decay(P0: FloatArray, D0: FloatArray, dt: float) -> tuple[FloatArray, FloatArray]:
        if not math.isfinite(dt):
            return np.zeros(n), np.zeros(n)
        return P0 * math.exp(-kp * dt), D0 * math.exp(-ko * dt) + P0 * _cross(kp, ko, dt)

    for s in range(s_count + 1):
        t_next = starts[s] if s < s_count else math.inf
        # readouts before this session: analytic decay from the current state
        while r_idx < readouts.size and readouts[order[r_idx]] < t_next:
            r = order[r_idx]
            pr, dr = decay(P, D, readouts[r] - t_state) if t_state > -math.inf else (np.zeros(n), np.zeros(n))
            p_out[:, r], d_out[:, r] = pr, dr
            r_idx += 1
        if s == s_count:
            break
        if t_state > -math.inf:
            P, D = decay(P, D, t_next - t_state)
        p_win[:, 0], d_win[:, 0] = P, D
        for j in range(j_count - 1):
            g = gm[:, s, j]
            dp = P - g
            D = D * eo + g * (1.0 - eo) + dp * cross
            P = g + dp * ep
            p_win[:, j + 1], d_win[:, j + 1] = P, D
        t_state = starts[s] + win.window_min
        while r_idx < readouts.size and readouts[order[r_idx]] <= t_state:
            r = order[r_idx]
            j = int(min(j_count - 1, max(0, math.floor((readouts[r] - starts[s]) / h + 1e-9))))
            p_out[:, r], d_out[:, r] = p_win[:, j], d_win[:, j]
            r_idx += 1
    return p_out, d_out


def _cross(kp: float, ko: float, dt: float) -> float:
    """∫ coupling of an exponentially relaxing P into D: ko·(e^{−kp dt} − e^{−ko dt})/(ko − kp)."""
    if abs(ko - kp) < 1e-12 * max(ko, kp):
        return ko * dt * math.exp(-ko * dt)
    return ko * (math.exp(-kp * dt) - math.exp(-ko * dt)) / (ko - kp)


@dataclass(frozen=True, slots=True)
class PatientEffects:
    """Per-patient random effects of the response layer (from standard normals ``z[n, N_Z]``)."""

    baseline: FloatArray
    placebo_dev: FloatArray
    beta: FloatArray
    responder: NDArray[np.bool_]

    @classmethod
    def from_normals(cls, z: FloatArray, p: Mapping[str, float], baseline_mean: float) -> PatientEffects:
        from scipy.special import ndtr

        base = np.clip(baseline_mean + p["baseline_sd"] * z[:, 0], 22.0, 60.0)
        responder = ndtr(z[:, 2]) < p["responder_fraction"]
        cv = p["beta_cv"]
        logn = np.exp(math.sqrt(math.log1p(cv * cv)) * z[:, 3] - 0.5 * math.log1p(cv * cv))
        beta = np.where(responder, p["beta"] * logn, 0.0)
        return cls(baseline=base, placebo_dev=p["placebo_sd"] * z[:, 1], beta=beta, responder=responder)


def drug_signal(p_state: FloatArray, d: FloatArray, p: Mapping[str, float]) -> FloatArray:
    """Combined drug signal D + w·P that ``madrs`` scales by β."""
    return np.asarray(d + p["fast_weight"] * p_state, dtype=np.float64)


def madrs(
    d: FloatArray,
    readout_min: FloatArray,
    arm: Arm,
    eff: PatientEffects,
    p: Mapping[str, float],
    visit_noise: FloatArray | None = None,
) -> FloatArray:
    """MADRS ``[n, R]`` at the readouts given the synaptic surrogate ``d`` and the arm's expectancy."""
    t = np.asarray(readout_min, dtype=np.float64)
    e = expectancy(arm, t, p)[None, :]
    onset = (1.0 - np.exp(-np.maximum(t, 0.0) / (p["expectancy_onset_h"] * 60.0)))[None, :]
    score = eff.baseline[:, None] - e - eff.placebo_dev[:, None] * onset - eff.beta[:, None] * d
    if visit_noise is not None:
        score = score + p["visit_sd"] * visit_noise
    return np.asarray(np.clip(score, 0.0, 60.0), dtype=np.float64)


def responders(score: FloatArray, baseline: FloatArray) -> NDArray[np.bool_]:
    """Response = MADRS reduced by ≥ 50 % from baseline (convention of the target trials)."""
    return np.asarray(score <= 0.5 * baseline[:, None], dtype=np.bool_)


def time_to_relapse_days(daily_score: FloatArray, baseline: FloatArray, consecutive: int = 2) -> FloatArray:
    """Days (1-based readout index) to relapse = loss of response on ``consecutive`` daily visits; NaN if none.

    Decision where the targets are silent: relapse is MADRS > 50 % of baseline at two consecutive visits.
    """
    lost = daily_score > 0.5 * baseline[:, None]
    run = np.zeros(lost.shape[0], dtype=np.int64)
    out = np.full(lost.shape[0], np.nan)
    for k in range(lost.shape[1]):
        run = np.where(lost[:, k], run + 1, 0)
        hit = (run >= consecutive) & np.isnan(out)
        out[hit] = k + 2 - consecutive
    return out
