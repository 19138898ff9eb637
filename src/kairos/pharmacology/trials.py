"""Virtual trials: N virtual patients, each with their own sampled parameters, regimen A vs B.

* Memory stays bounded at any N: patients are processed in chunks; only per-patient summaries are kept.
* Identical results across chunk sizes and execution paths: every patient's random numbers come from
  ``SeedSequence(seed, spawn_key=(block,))`` for its fixed-size block (``trials_fastpath.BLOCK``), never
  from the chunk. The local, Dask (lazy import) and JAX (lazy import, optional) paths run the same
  per-chunk computation.
* Comparisons use common random numbers: the same virtual patients receive regimen A and regimen B
  (a paired virtual crossover), so differences have tight, honest intervals.

Outputs are population summaries (means with 95 % intervals, 5–95 % population bands, response rates) —
hypothesis-generating, never individual predictions.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology import response as resp
from kairos.pharmacology import trials_fastpath as fp
from kairos.pharmacology.effects import effect_site, venous_endpoints
from kairos.pharmacology.occupancy import nmda_occupancy
from kairos.pharmacology.types import DoseEvent, InputError

FloatArray = NDArray[np.float64]
Backend = Literal["local", "dask", "jax"]

#: random-number columns per patient: PK etas, response effects, endpoint visit noise
_COL_PK = slice(0, fp.N_ETA)
_COL_RESP = slice(fp.N_ETA, fp.N_ETA + resp.N_Z)
_COL_VISIT = fp.N_ETA + resp.N_Z
N_COLS = fp.N_ETA + resp.N_Z + 1

WINDOW_MIN = 12 * 60.0  # occupancy window after each session (exposure negligible afterwards)
STEP_MIN = 5.0


@dataclass(frozen=True, slots=True)
class Regimen:
    """One arm: dose events (common to all patients), its control/expectancy arm and endpoint."""

    name: str
    events: tuple[DoseEvent, ...]
    arm: resp.Arm = "open_label"
    baseline_mean: float = 32.0
    endpoint_min: float | None = None  # default: 24 h after the last session
    weight_kg: float = 70.0

    def __post_init__(self) -> None:
        if self.arm not in resp.ARMS:
            raise InputError(f"arm must be one of {', '.join(resp.ARMS)} (got {self.arm!r})")
        if not 10.0 <= self.baseline_mean <= 60.0:
            raise InputError(
                f"baseline_mean must be between 10 and 60 MADRS points (got {self.baseline_mean})"
            )

    @property
    def endpoint(self) -> float:
        if self.endpoint_min is not None:
            return self.endpoint_min
        return max(e.start_min for e in self.events) + 1440.0 if self.events else 1440.0


def session_starts(events: Sequence[DoseEvent], gap_min: float = WINDOW_MIN) -> FloatArray:
    """Session start times: doses closer than ``gap_min`` to the previous one belong to its session."""
    out: list[float] = []
    for t in sorted(e.start_min for e in events):
        if not out or t - out[-1] >= gap_min:
            out.append(t)
    return np.asarray(out, dtype=np.float64)


def _courses(events: Sequence[DoseEvent], eta: FloatArray, weight_kg: float) -> list[fp.ModeCourse]:
    """Mode courses for each active enantiomer: [S] or [S, R] (model library parameters, own IIV each)."""
    return fp.courses_for(events, eta, weight_kg).courses


GridFn = Callable[[fp.ModeCourse, float, float, int], FloatArray]


def occupancy_windows(
    events: Sequence[DoseEvent], eta: FloatArray, weight_kg: float = 70.0, grid: GridFn | None = None
) -> tuple[resp.OccupancyWindows, list[fp.ModeCourse]]:
    """NMDA occupancy estimate on a 5-min grid inside a 12-h window after each session."""
    grid_fn = grid or fp.grid_concentrations
    courses = _courses(events, eta, weight_kg)
    starts = session_starts(events)
    j = int(WINDOW_MIN / STEP_MIN) + 1
    ke0 = venous_endpoints()["dissociation"].ke0_per_min
    t_local = np.arange(j) * STEP_MIN
    occ = np.empty((eta.shape[0], starts.size, j))
    for s, t0 in enumerate(starts):
        ce = [effect_site(t_local, np.maximum(grid_fn(c, float(t0), STEP_MIN, j), 0.0), ke0) for c in courses]
        conc = {"s_ketamine": ce[0]} if len(ce) == 1 else {"s_ketamine": ce[0], "r_ketamine": ce[1]}
        occ[:, s, :] = nmda_occupancy(conc)
    return resp.OccupancyWindows(occ=occ, session_start=starts, step_min=STEP_MIN), courses


def default_threshold() -> float:
    """⚠ Default dissociation threshold on venous plasma S-ketamine (ng/mL): the calibrated venous C50.

    Anchor: reference §1.2 — dissociation at 100–250 ng/mL venous racemic (Krystal 1994), i.e. 50–125
    ng/mL S; configurable by the caller.
    """
    return venous_endpoints()["dissociation"].c50.value


def run_chunk(
    regimen: Regimen, seed: int, lo: int, hi: int, threshold: float, grid: GridFn | None = None
) -> dict[str, FloatArray]:
    """Per-patient outcomes for patients ``lo..hi−1`` (pure function of its arguments)."""
    z = fp.block_normals(seed, lo, hi, N_COLS)
    p = resp.params_values()
    eff = resp.PatientEffects.from_normals(z[:, _COL_RESP], p, regimen.baseline_mean)
    endpoint = np.array([regimen.endpoint])
    if regimen.events:
        win, courses = occupancy_windows(regimen.events, z[:, _COL_PK], regimen.weight_kg, grid)
        ps, d = resp.plasticity_states(win, p, endpoint)
        d = resp.drug_signal(ps, d, p)
        t_end = regimen.endpoint
        ev = fp.event_summary(courses[0], t_end, threshold)
        cmax, above = ev.cmax, ev.time_above_min
        peak_occ = win.occ.max(axis=(1, 2))
    else:
        d = np.zeros((hi - lo, 1))
        cmax = above = peak_occ = np.zeros(hi - lo)
    score = resp.madrs(d, endpoint, regimen.arm, eff, p, z[:, _COL_VISIT : _COL_VISIT + 1])
    return {
        "cmax_s_ng_ml": cmax,
        "time_above_threshold_min": above,
        "peak_occupancy": peak_occ,
        "madrs_endpoint": score[:, 0],
        "madrs_change": score[:, 0] - eff.baseline,
        "responder": resp.responders(score, eff.baseline)[:, 0].astype(np.float64),
        "model_responder": eff.responder.astype(np.float64),
    }


@functools.cache  # one jitted kernel per process: compiled once per array shape, not once per trial
def _jax_grid() -> GridFn:
    """The grid of :func:`trials_fastpath.grid_concentrations` as one compiled JAX kernel (XLA on CPU or an
    accelerator): a ``lax.scan`` over dose events adds each event's closed-form modal term, all patients and
    time points at once. Same formula as the numba kernel (tested to 1e-9)."""
    import jax  # lazy: optional accelerator

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # jax leaves it untyped
    import jax.numpy as jnp

    @jax.jit
    def kernel(lam: Any, amp: Any, start: Any, end: Any, kind: Any, t: Any) -> Any:
        lam3 = lam[:, None, :]  # [n, 1, m]

        def add_event(c: Any, ev: Any) -> tuple[Any, None]:
            ev_start, ev_end, ev_kind, a = ev  # a: [n, m]
            tau = t - ev_start
            on = tau >= 0
            decay = jnp.exp(-lam3 * jnp.where(on, tau, 0.0)[None, :, None])
            after = jnp.exp(-lam3 * jnp.maximum(t - ev_end, 0.0)[None, :, None])
            term = jnp.where(ev_kind == 1, after - decay, decay)  # zero-order input vs bolus
            return c + jnp.where(on[None, :], jnp.einsum("ntm,nm->nt", term, a), 0.0), None

        c0 = jnp.zeros((lam.shape[0], t.shape[0]), dtype=jnp.float64)
        c, _ = jax.lax.scan(add_event, c0, (start, end, kind, jnp.moveaxis(amp, 1, 0)))
        return c

    def grid(course: fp.ModeCourse, t0: float, dt: float, n_t: int) -> FloatArray:
        if course.ev_start.size == 0:
            return np.zeros((course.lam.shape[0], n_t))
        c = kernel(
            jnp.asarray(course.lam),
            jnp.asarray(course.amp),
            jnp.asarray(course.ev_start, dtype=jnp.float64),
            jnp.asarray(course.ev_end, dtype=jnp.float64),
            jnp.asarray(course.ev_kind),
            jnp.asarray(t0 + np.arange(n_t) * dt),
        )
        return np.asarray(c, dtype=np.float64)

    return grid


@dataclass(frozen=True, slots=True)
class Summary:
    mean: float
    ci95: tuple[float, float]
    band_5_95: tuple[float, float]

    def to_dict(self) -> dict[str, object]:
        return {"mean": self.mean, "ci95": list(self.ci95), "band_5_95": list(self.band_5_95)}


def summarise(x: FloatArray) -> Summary:
    n = x.size
    m = float(np.mean(x))
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    lo, hi = np.quantile(x, [0.05, 0.95])
    return Summary(mean=m, ci95=(m - 1.96 * se, m + 1.96 * se), band_5_95=(float(lo), float(hi)))


def wilson(k: float, n: int) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    z = 1.96
    ph = k / n
    den = 1 + z * z / n
    c = (ph + z * z / (2 * n)) / den
    h = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / den
    return (c - h, c + h)


@dataclass(frozen=True, slots=True)
class TrialResult:
    regimen: str
    n: int
    seed: int
    threshold_ng_ml: float
    outcomes: dict[str, FloatArray] = field(repr=False)

    def summary(self) -> dict[str, object]:
        o = self.outcomes
        k = float(o["responder"].sum())
        return {
            "regimen": self.regimen,
            "n": self.n,
            "seed": self.seed,
            "cmax_s_ng_ml": summarise(o["cmax_s_ng_ml"]).to_dict(),
            "time_above_threshold_min": summarise(o["time_above_threshold_min"]).to_dict(),
            "threshold_ng_ml": self.threshold_ng_ml,
            "peak_occupancy_estimate": summarise(o["peak_occupancy"]).to_dict(),
            "madrs_change_endpoint": summarise(o["madrs_change"]).to_dict(),
            "response_rate": {"rate": k / self.n, "ci95": list(wilson(k, self.n))},
            "disclaimer": resp.DISCLAIMER,
        }

    def to_dict(self) -> dict[str, object]:
        return self.summary()


def run_trial(
    regimen: Regimen,
    n: int,
    seed: int = 0,
    *,
    chunk_size: int = 16_384,
    backend: Backend = "local",
    threshold: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Simulate ``n`` virtual patients on one regimen (chunked; see module docstring)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100_000_000:
        raise InputError(f"n must be an integer between 1 and 100000000 (got {n!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InputError(f"seed must be an integer between 0 and 2**63-1 (got {seed!r})")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive integer (got {chunk_size!r})")
    thr = default_threshold() if threshold is None else float(threshold)
    if not (thr > 0 and math.isfinite(thr)):
        raise InputError(f"threshold must be a positive number of ng/mL (got {threshold!r})")
    bounds = [(lo, min(n, lo + chunk_size)) for lo in range(0, n, chunk_size)]
    parts: list[dict[str, FloatArray]]
    if backend == "local":
        parts = []
        for i, (lo, hi) in enumerate(bounds):
            parts.append(run_chunk(regimen, seed, lo, hi, thr))
            if progress is not None:
                progress(i + 1, len(bounds))
    elif backend == "dask":
        import importlib

        dask: Any = importlib.import_module("dask")  # lazy, optional

        tasks = [dask.delayed(run_chunk)(regimen, seed, lo, hi, thr) for lo, hi in bounds]
        parts = list(dask.compute(*tasks, scheduler="threads"))
    elif backend == "jax":
        grid = _jax_grid()
        parts = [run_chunk(regimen, seed, lo, hi, thr, grid) for lo, hi in bounds]
    else:
        raise InputError(f"backend must be local, dask or jax (got {backend!r})")
    outcomes = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return TrialResult(regimen=regimen.name, n=n, seed=seed, threshold_ng_ml=thr, outcomes=outcomes)


@dataclass(frozen=True, slots=True)
class Comparison:
    a: TrialResult
    b: TrialResult

    def to_dict(self) -> dict[str, object]:
        d = self.a.outcomes["madrs_change"] - self.b.outcomes["madrs_change"]
        r = self.a.outcomes["responder"] - self.b.outcomes["responder"]
        n = d.size
        rse = float(np.std(r, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        rm = float(r.mean())
        return {
            "a": self.a.summary(),
            "b": self.b.summary(),
            "design": "paired virtual crossover (common random numbers: same virtual patients in A and B)",
            "madrs_change_difference_a_minus_b": summarise(d).to_dict(),
            "response_rate_difference_a_minus_b": {"mean": rm, "ci95": [rm - 1.96 * rse, rm + 1.96 * rse]},
        }


def compare(a: Regimen, b: Regimen, n: int, seed: int = 0, **kwargs: Any) -> Comparison:
    """Regimen A vs B on the same ``n`` virtual patients."""
    return Comparison(a=run_trial(a, n, seed, **kwargs), b=run_trial(b, n, seed, **kwargs))
