"""Semi-mechanistic antidepressant response model — population bands only, hypothesis-generating.

NEVER an individual prediction. No validated mechanistic human model exists (reference §0, §3.5); this is
the reference's proposed structure, extended to two synaptic time scales and fitted to published
trial-level targets (``calibration.py``):

    occ(t)  NMDA occupancy estimate (occupancy.py) from effect-site S-/R-ketamine
    g(occ)  = occ^h / (occ50^h + occ^h)                      plasticity trigger
    dP/dt   = kP·(g − P)                                     plasticity window, P ∈ [0, 1]
    dA/dt   = kA·(P − A)                                     rapid, transient synaptic potentiation
    dS/dt   = kS·(P − S)                                     slow cumulative synaptic strength (spines)
    X       = wA·A + gS·S                                    synaptic drive ("D" of ``plasticity_states``)
    u(t)    = 1 − exp(−(X + w·P))                            fraction of the patient's maximal drug effect
    MADRS_i = clip(max(B_i − C_i(t), 0)·(1 − Emax_i·u_i(t)) + ε_it, 0, 60)
    C_i(t)  = E_arm(t) + δ_i·h(t)                            control/expectancy arm as each trial ran it

* A (t½ ~1–2 d) carries the large effect 24 h after one infusion and fades over 3–7 days (Zarate 2006
  d 1.46 → 0.68 at 1 week); it needs no new spines (Moda-Sava 2019, reference §3.4).
* S (t½ ~weeks) builds up only with repeated infusions and decays slowly — new-spine survival
  (Phoumthipphavong 2016; Moda-Sava 2019) — which gives cumulative response and relapse after a series.
* Emax_i ~ Beta (mean, concentration): the patient's latent ceiling, as the largest fraction of the
  residual (post-control) score the drug can remove. Patients with a low ceiling never reach a 50 %
  reduction, so the responder fraction saturates (Dahan 2011's probabilistic responders, reference §3.5).
* The drug acts on the residual after the control arm (independent action), so an active control that
  already improves the score (new oral antidepressant, TRANSFORM-2) leaves less room for it.

Occupancy is evaluated on a fine grid inside a window after each session (exposure is negligible
afterwards); between windows P, A and S decay analytically (g = 0).
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
from scipy.signal import lfilter

from kairos.pharmacology.effects import Parameter
from kairos.pharmacology.types import InputError

FloatArray = NDArray[np.float64]
Arm = Literal["none", "active_placebo", "open_label", "ad_placebo_spray"]
ARMS: tuple[Arm, ...] = ("none", "active_placebo", "open_label", "ad_placebo_spray")

#: per-patient standard normals used by the response layer (columns; 3 and 4 reserved)
N_Z = 5

#: a latent ceiling at or above this makes a "model responder" (the drug alone can halve the residual)
RESPONDER_EMAX = 0.5

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


@dataclass(frozen=True, slots=True)
class PlasticityComponents:
    """States at the readouts, arrays ``[n, R]``: window P, rapid A and slow S (each relaxes to P)."""

    window: FloatArray
    rapid: FloatArray
    slow: FloatArray

    def drive(self, p: Mapping[str, float]) -> FloatArray:
        """Synaptic drive X = wA·A + gS·S."""
        return np.asarray(p["rapid_gain"] * self.rapid + p["slow_gain"] * self.slow, dtype=np.float64)


def _rate(t_half_min: float) -> float:
    return math.log(2.0) / t_half_min


def plasticity_components(
    win: OccupancyWindows, p: Mapping[str, float], readout_min: Sequence[float] | FloatArray
) -> PlasticityComponents:
    """P, A and S at the readouts (``PlasticityComponents``).

    Exact for a trigger held constant (midpoint value) on each fine step; analytic between windows.
    """
    kp = _rate(p["plasticity_t_half_h"] * 60.0)
    ks = (_rate(p["rapid_t_half_d"] * 1440.0), _rate(p["slow_t_half_d"] * 1440.0))
    p_out, (a_out, s_out) = _cascade(win, p, kp, ks, readout_min)
    return PlasticityComponents(window=p_out, rapid=a_out, slow=s_out)


def plasticity_states(
    win: OccupancyWindows, p: Mapping[str, float], readout_min: Sequence[float] | FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Plasticity window P and synaptic drive D = wA·A + gS·S at the readouts; arrays ``[n, R]``."""
    c = plasticity_components(win, p, readout_min)
    return c.window, c.drive(p)


def _cascade(
    win: OccupancyWindows,
    p: Mapping[str, float],
    kp: float,
    ks: tuple[float, ...],
    readout_min: Sequence[float] | FloatArray,
) -> tuple[FloatArray, list[FloatArray]]:
    occ = win.occ
    n, s_count, j_count = occ.shape
    starts = win.session_start
    if s_count and np.any(np.diff(starts) < win.window_min):
        raise InputError("sessions must be at least one occupancy window apart")
    h = win.step_min
    hill = p["trigger_hill"]
    x = np.clip(occ, 0.0, 1.0)
    g_all = x**hill / (p["trigger_occ50"] ** hill + x**hill)
    gm = 0.5 * (g_all[:, :, 1:] + g_all[:, :, :-1])
    ep = math.exp(-kp * h)
    eos = [math.exp(-k * h) for k in ks]
    crosses = [_cross(kp, k, h) for k in ks]
    readouts = np.asarray(readout_min, dtype=np.float64)
    m = len(ks)
    p_out = np.zeros((n, readouts.size))
    d_out = [np.zeros((n, readouts.size)) for _ in ks]
    P = np.zeros(n)
    D = [np.zeros(n) for _ in ks]
    t_state = -math.inf
    p_win = np.empty((n, j_count))
    d_win = [np.empty((n, j_count)) for _ in ks]
    r_idx = 0
    order = np.argsort(readouts, kind="stable")

    def decay(P0: FloatArray, D0: list[FloatArray], dt: float) -> tuple[FloatArray, list[FloatArray]]:
        if not math.isfinite(dt):
            return np.zeros(n), [np.zeros(n) for _ in ks]
        e = math.exp(-kp * dt)
        return P0 * e, [D0[i] * math.exp(-ks[i] * dt) + P0 * _cross(kp, ks[i], dt) for i in range(m)]

    for s in range(s_count + 1):
        t_next = starts[s] if s < s_count else math.inf
        # readouts before this session: analytic decay from the current state
        while r_idx < readouts.size and readouts[order[r_idx]] < t_next:
            r = order[r_idx]
            if t_state > -math.inf:
                pr, dr = decay(P, D, readouts[r] - t_state)
                p_out[:, r] = pr
                for i in range(m):
                    d_out[i][:, r] = dr[i]
            r_idx += 1
        if s == s_count:
            break
        if t_state > -math.inf:
            P, D = decay(P, D, t_next - t_state)
        # linear recurrences over the fine steps, vectorised over patients (scipy lfilter):
        #   P_{j+1} = ep·P_j + (1 − ep)·g_j
        #   D_{j+1} = eo·D_j + (1 − eo − cross)·g_j + cross·P_j
        g = gm[:, s, :]
        p_win[:, 0] = P
        p_win[:, 1:] = lfilter([1.0 - ep], [1.0, -ep], g, axis=1, zi=(ep * P)[:, None])[0]
        for i in range(m):
            inp = (1.0 - eos[i] - crosses[i]) * g + crosses[i] * p_win[:, :-1]
            d_win[i][:, 0] = D[i]
            d_win[i][:, 1:] = lfilter([1.0], [1.0, -eos[i]], inp, axis=1, zi=(eos[i] * D[i])[:, None])[0]
            D[i] = d_win[i][:, -1].copy()
        P = p_win[:, -1].copy()
        t_state = starts[s] + win.window_min
        while r_idx < readouts.size and readouts[order[r_idx]] <= t_state:
            r = order[r_idx]
            j = int(min(j_count - 1, max(0, math.floor((readouts[r] - starts[s]) / h + 1e-9))))
            p_out[:, r] = p_win[:, j]
            for i in range(m):
                d_out[i][:, r] = d_win[i][:, j]
            r_idx += 1
    return p_out, d_out


def _cross(kp: float, ko: float, dt: float) -> float:
    """∫ coupling of an exponentially relaxing P into D: ko·(e^{−kp dt} − e^{−ko dt})/(ko − kp)."""
    if abs(ko - kp) < 1e-12 * max(ko, kp):
        return ko * dt * math.exp(-ko * dt)
    return ko * (math.exp(-kp * dt) - math.exp(-ko * dt)) / (ko - kp)


@dataclass(frozen=True, slots=True)
class PatientEffects:
    """Per-patient random effects of the response layer (from standard normals ``z[n, N_Z]``).

    ``beta`` is the latent ceiling Emax_i (fraction of the residual score the drug can remove at most);
    ``responder`` marks Emax_i ≥ ``RESPONDER_EMAX``.
    """

    baseline: FloatArray
    placebo_dev: FloatArray
    beta: FloatArray
    responder: NDArray[np.bool_]

    @classmethod
    def from_normals(cls, z: FloatArray, p: Mapping[str, float], baseline_mean: float) -> PatientEffects:
        from scipy.special import betaincinv, ndtr

        base = np.clip(baseline_mean + p["baseline_sd"] * z[:, 0], 22.0, 60.0)
        mean, conc = p["emax_mean"], p["emax_concentration"]
        q = np.clip(ndtr(z[:, 2]), 1e-12, 1.0 - 1e-12)
        emax = np.asarray(betaincinv(mean * conc, (1.0 - mean) * conc, q), dtype=np.float64)
        return cls(
            baseline=base,
            placebo_dev=p["placebo_sd"] * z[:, 1],
            beta=emax,
            responder=np.asarray(emax >= RESPONDER_EMAX, dtype=np.bool_),
        )


def drug_signal(p_state: FloatArray, d: FloatArray, p: Mapping[str, float]) -> FloatArray:
    """Fraction u ∈ [0, 1) of the maximal drug effect: 1 − exp(−(D + w·P)), scaled by Emax_i in ``madrs``."""
    x = np.maximum(d + p["fast_weight"] * p_state, 0.0)
    return np.asarray(-np.expm1(-x), dtype=np.float64)


def control_improvement(
    arm: Arm, readout_min: FloatArray, eff: PatientEffects, p: Mapping[str, float]
) -> FloatArray:
    """Control/expectancy improvement C_i(t) in MADRS points ``[n, R]`` (arm mean + patient deviation)."""
    t = np.asarray(readout_min, dtype=np.float64)
    e = expectancy(arm, t, p)[None, :]
    if arm == "none":  # no control component at all (neither the arm mean nor a patient deviation)
        return np.zeros((eff.baseline.size, t.size))
    onset = (1.0 - np.exp(-np.maximum(t, 0.0) / (p["expectancy_onset_h"] * 60.0)))[None, :]
    return np.asarray(e + eff.placebo_dev[:, None] * onset, dtype=np.float64)


def madrs(
    d: FloatArray,
    readout_min: FloatArray,
    arm: Arm,
    eff: PatientEffects,
    p: Mapping[str, float],
    visit_noise: FloatArray | None = None,
) -> FloatArray:
    """MADRS ``[n, R]`` at the readouts given the drug signal ``d`` (``drug_signal``) and the arm."""
    t = np.asarray(readout_min, dtype=np.float64)
    base = eff.baseline[:, None]
    control = control_improvement(arm, t, eff, p)
    reducible = np.maximum(eff.beta[:, None] * base - control, 0.0)
    score = base - control - reducible * np.clip(d, 0.0, 1.0)
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
