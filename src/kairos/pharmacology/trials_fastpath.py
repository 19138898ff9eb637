"""Closed-form population PK fast path for virtual trials (linear models only, reference §0/§5).

Every number comes from the model library (:mod:`kairos.pharmacology.models`): each virtual patient's
parameters are the model's typical values with its published IIV (:func:`kairos.pharmacology.pk.
parameters_from_normals`, the same transform as ``sample_parameters`` but fed by the trial's
chunk-invariant random blocks), and the rate matrix, input channels (bioavailability, zero-order lead-ins,
per-device intranasal fractions) and output vectors come from the model's own builder, called once for all
patients of a chunk (:func:`kairos.pharmacology.pk.batch_linear_system`). No PK value is restated here.

From ``K[n, s, s]`` the fast path keeps the states that are reachable from the dosed states and feed the
plasma output (exactly the same output), takes the eigenvalues ``μ`` (closed-form Cardano roots with Newton
polish for 3 states, reference §5; LAPACK otherwise) and the modal amplitudes by Sylvester's formula
``c·exp(Kt)·e_j = Σ_m e^{μ_m t} · c·Π_{k≠m}(K − μ_k I)/(μ_m − μ_k)·e_j``. For three kept states (the
3-compartment IV case) this setup is one fused numba pass per patient (:func:`trials_kernels.modes3_kernel`:
reduced K → cubic → Cardano roots → Sylvester amplitudes → per-event mode amplitudes, no temporaries), read
straight from the builder's batched arrays. Doses become bolus / zero-order mode inputs; the numba kernels
(:mod:`kairos.pharmacology.trials_kernels`) evaluate a uniform grid by exponential recurrence and
Cmax/Tmax/time above a threshold exactly (event-based root finding).

Default model per (drug, route): :data:`kairos.pharmacology.timeline.DEFAULT_MODELS` (reference §0/§1.6
ranking restricted to the library), so trials and single-patient timelines use the same model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology.pk import batch_linear_system, iiv_dimension, linear_system, parameters_from_normals
from kairos.pharmacology.pk.linear import DOSE_SHARE, LinearSystem, events_with_session_prior
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Subject

FloatArray = NDArray[np.float64]

#: Patients per random block. Block b uses SeedSequence(seed, spawn_key=(b,)), so a patient's parameters
#: do not depend on the chunk size or on the execution path (local, Dask, JAX).
BLOCK = 1024

#: number of standard normals reserved per patient for PK IIV (fixed so that adding a use never shifts
#: other draws; every library model used by the fast path needs at most this many, checked at use)
N_ETA = 16

#: modes whose eigenvalues are closer than this (relative) are refused (cancellation in Sylvester's formula)
MIN_RELATIVE_GAP = 1e-9


def rng_for_block(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def block_normals(seed: int, lo: int, hi: int, k: int) -> FloatArray:
    """Standard normals ``z[hi−lo, k]`` for patients ``lo..hi−1``; chunk-size invariant."""
    if not 0 <= lo <= hi:
        raise InputError(f"patient range must satisfy 0 <= lo <= hi (got {lo}, {hi})")
    out = np.empty((hi - lo, k))
    b0, b1 = lo // BLOCK, (hi - 1) // BLOCK if hi > lo else lo // BLOCK - 1
    for b in range(b0, b1 + 1):
        s, e = max(lo, b * BLOCK), min(hi, (b + 1) * BLOCK)
        if e - s == BLOCK:  # whole block: draw straight into the output (same stream, no copy)
            rng_for_block(seed, b).standard_normal(out=out[s - lo : e - lo])
        else:
            z = rng_for_block(seed, b).standard_normal((BLOCK, k))
            out[s - lo : e - lo] = z[s - b * BLOCK : e - b * BLOCK]
    return out


def model_for(events: Sequence[DoseEvent]) -> str:
    """The library model for these events (``timeline.DEFAULT_MODELS``); InputError naming the pairs."""
    from kairos.pharmacology.timeline import default_model

    return default_model(events)


def course_drug(events: Sequence[DoseEvent]) -> Drug:
    drugs = {e.drug for e in events}
    if len(drugs) != 1 or not drugs <= {Drug.ESKETAMINE, Drug.RACEMIC}:
        raise InputError("dose_events: one course must use a single drug, esketamine or racemic")
    return drugs.pop()


def patient_parameters(model: str, eta: FloatArray) -> dict[str, FloatArray]:
    """Individual parameters (published IIV of ``model``) from standard normals ``eta[n, N_ETA]``."""
    need = iiv_dimension(model)
    if need > N_ETA:  # pragma: no cover - guards future models
        raise InputError(f"model {model} needs {need} IIV normals; the fast path reserves {N_ETA}")
    return parameters_from_normals(model, eta[:, :N_ETA])


@dataclass(frozen=True, slots=True)
class ModeCourse:
    """Course in mode form: rates ``lam[n,M]`` (1/min, ascending), ``amp[n,E,M]`` (ng/mL) and common
    event times (min) and kinds (0 bolus, 1 zero-order input)."""

    lam: FloatArray
    amp: FloatArray
    ev_start: FloatArray
    ev_end: FloatArray
    ev_kind: NDArray[np.int64]

    def segments(self) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
        """Boundaries ``seg_t[S]`` and per segment the boluses at its start / inputs running on it."""
        seg_t = np.unique(np.concatenate([self.ev_start, self.ev_end]))
        start, end, kind = self.ev_start[None, :], self.ev_end[None, :], self.ev_kind[None, :]
        t = seg_t[:, None]
        bolus = (kind == 0) & (start == t)
        active = (kind == 1) & (start <= t) & (end > t)
        return seg_t, np.ascontiguousarray(bolus), np.ascontiguousarray(active)


def _keep_states(system: LinearSystem, dosed: set[int], output: str) -> list[int]:
    """States reachable from the dosed states that also reach the output (exact reduced system)."""
    adj = system.K != 0  # adj[i, j]: flow j -> i
    n = system.n
    reach = set(dosed)
    stack = list(dosed)
    while stack:
        j = stack.pop()
        for i in range(n):
            if adj[i, j] and i not in reach:
                reach.add(i)
                stack.append(i)
    obs = {i for i in range(n) if system.outputs[output][i] != 0}
    stack = list(obs)
    while stack:
        i = stack.pop()
        for j in range(n):
            if adj[i, j] and j not in obs:
                obs.add(j)
                stack.append(j)
    return sorted(reach & obs)


def _eigenvalues(K: FloatArray) -> FloatArray:
    """Real eigenvalues ``μ[n, s]`` of stacked compartment matrices."""
    s = K.shape[-1]
    if s == 1:
        return K[:, :, 0].copy()
    if s == 3:
        # characteristic polynomial μ³ + a μ² + b μ + c (reference §5: trigonometric Cardano roots)
        a = -np.trace(K, axis1=1, axis2=2)
        b = (
            K[:, 0, 0] * K[:, 1, 1]
            - K[:, 0, 1] * K[:, 1, 0]
            + K[:, 0, 0] * K[:, 2, 2]
            - K[:, 0, 2] * K[:, 2, 0]
            + K[:, 1, 1] * K[:, 2, 2]
            - K[:, 1, 2] * K[:, 2, 1]
        )
        c = -np.linalg.det(K)
        p = b - a * a / 3.0
        q = 2.0 * a**3 / 27.0 - a * b / 3.0 + c
        rp = np.sqrt(np.maximum(-p / 3.0, 1e-300))
        arg = np.clip(-q / (2.0 * rp**3), -1.0, 1.0)
        phi = np.arccos(arg) / 3.0
        mu = np.stack([2.0 * rp * np.cos(phi - 2.0 * math.pi * k / 3.0) - a / 3.0 for k in range(3)], axis=1)
        for _ in range(3):  # Newton polish on the cubic
            f = ((mu + a[:, None]) * mu + b[:, None]) * mu + c[:, None]
            df = (3.0 * mu + 2.0 * a[:, None]) * mu + b[:, None]
            mu = mu - np.where(df != 0.0, f / np.where(df != 0.0, df, 1.0), 0.0)
        return np.asarray(mu, dtype=np.float64)
    ev = np.linalg.eigvals(K)
    if np.max(np.abs(ev.imag)) > 1e-9 * max(1e-300, float(np.max(np.abs(ev.real)))):
        raise ArithmeticError("complex eigenvalues: not a compartmental (real-spectrum) system")
    return np.asarray(ev.real, dtype=np.float64)


def modes(K: FloatArray, c: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rates ``λ[n, s]`` (ascending, 1/min) and amplitudes ``A[n, s, j]`` (output per unit amount put in
    state ``j``, per mode) of ``c·exp(K t)`` for stacked ``K[n, s, s]``, ``c[n, s]`` (Sylvester's formula)."""
    n, s, _ = K.shape
    mu = _eigenvalues(K)
    mu.sort(axis=1)
    lam = -mu[:, ::-1].copy()  # ascending rates
    mu = mu[:, ::-1]
    if np.any(lam <= 0.0) or not np.all(np.isfinite(lam)):
        raise ArithmeticError("fast path: non-decaying or non-finite mode")
    if s > 1:
        gap = np.min(np.diff(lam, axis=1) / lam[:, 1:], axis=1)
        bad = np.nonzero(gap < MIN_RELATIVE_GAP)[0]
        if bad.size:
            raise ArithmeticError(
                f"fast path: {bad.size} patient(s) with (nearly) coinciding exponents (first index {bad[0]}); "
                "use kairos.pharmacology.pk.simulate (expm-based, Jordan-safe) for them"
            )
    amp = np.empty((n, s, s))
    eye = np.eye(s)
    for m in range(s):
        v = c.copy()
        for k in range(s):
            if k != m:
                v = (
                    np.einsum("ns,nst->nt", v, K - mu[:, k, None, None] * eye)
                    / (mu[:, m] - mu[:, k])[:, None]
                )
        amp[:, m, :] = v
    return lam, amp


@dataclass(frozen=True, slots=True)
class _Input:
    start: float
    duration: float
    state: int
    amount: FloatArray  # mg reaching the state, per patient


def _inputs(system: LinearSystem, events: Sequence[DoseEvent], n: int) -> list[_Input]:
    """Dose events -> per-channel inputs with per-patient amounts (same rules as ``pk.linear.expand_doses``)."""
    out: list[_Input] = []
    for ev, prior in events_with_session_prior(system, events):
        for ch in system.inputs[ev.route]:
            share = DOSE_SHARE[ev.drug][ch.enantiomer]
            if share == 0.0 or ev.amount_mg_base == 0.0:
                continue
            frac = np.broadcast_to(np.asarray(ch.fraction, dtype=float), (n,))
            if ch.fraction_after_first_device is None:
                amount = ev.amount_mg_base * frac
            else:
                device = np.asarray(ch.device_mg, dtype=float)
                first = np.maximum(0.0, np.minimum(ev.amount_mg_base, device - prior))
                later = np.broadcast_to(np.asarray(ch.fraction_after_first_device, dtype=float), (n,))
                amount = first * frac + (ev.amount_mg_base - first) * later
            dur = np.asarray(ev.duration_min if ch.duration_min is None else ch.duration_min, dtype=float)
            if dur.size > 1 and np.ptp(dur) > 0:  # pragma: no cover - no library model has IIV on a lead-in
                raise InputError("fast path: input durations must be common to all patients")
            out.append(_Input(ev.start_min, float(dur.flat[0]), ch.state, amount * share))
    return out


def build_course(
    model: str,
    params: Mapping[str, FloatArray],
    events: Sequence[DoseEvent],
    *,
    output: str = "parent",
    subject: Subject | None = None,
) -> ModeCourse:
    """Mode form of ``output`` (``parent``, or ``parent_S`` / ``parent_R`` for racemic) for every patient."""
    if not events:
        raise InputError("dose_events must contain at least one dose")
    subj = subject or Subject()
    drug = course_drug(events)
    typical = linear_system(model, subj, drug)
    if output not in typical.outputs:
        raise InputError(f"output must be one of {', '.join(typical.outputs)} (got {output!r})")
    n = int(np.shape(next(iter(params.values())))[0])
    system = batch_linear_system(model, subj, drug, params)
    inputs = _inputs(system, events, n)
    keep = _keep_states(typical, {i.state for i in inputs}, output)
    idx = {s: j for j, s in enumerate(keep)}
    inputs = [i for i in inputs if i.state in idx]
    if not inputs:
        raise InputError(f"dose_events do not reach output {output!r} of {model}")
    inputs.sort(key=lambda i: i.start)
    starts = np.array([i.start for i in inputs], dtype=np.float64)
    durations = np.array([i.duration for i in inputs], dtype=np.float64)
    ends = starts + durations
    kinds = (durations > 0).astype(np.int64)
    if len(keep) == 3:
        lam, amp = _modes3(
            system, keep, [idx[i.state] for i in inputs], [i.amount for i in inputs], durations, output
        )
        return ModeCourse(lam=lam, amp=amp, ev_start=starts, ev_end=ends, ev_kind=kinds)
    K = np.ascontiguousarray(system.K[:, keep][:, :, keep])
    c = np.ascontiguousarray(system.outputs[output][:, keep])
    lam, a_unit = modes(K, c)
    amp = np.empty((n, len(inputs), len(keep)))
    for e, inp in enumerate(inputs):
        a_j = a_unit[:, :, idx[inp.state]]
        if inp.duration > 0:
            amp[:, e, :] = (inp.amount / inp.duration)[:, None] * a_j / lam
        else:
            amp[:, e, :] = inp.amount[:, None] * a_j
    return ModeCourse(lam=lam, amp=amp, ev_start=starts, ev_end=ends, ev_kind=kinds)


def _modes3(
    system: LinearSystem,
    keep: list[int],
    ev_state: list[int],
    amounts: list[FloatArray],
    durations: FloatArray,
    output: str,
) -> tuple[FloatArray, FloatArray]:
    """Three kept states: fused numba setup (eigenvalues, Sylvester amplitudes, event amplitudes) straight
    from the library's batched ``K``/output arrays, one pass per patient without temporaries."""
    n = system.K.shape[0]
    lam = np.empty((n, 3))
    amp = np.empty((n, len(ev_state), 3))
    bad = np.empty(n, dtype=np.int8)
    ev_amount = np.empty((n, len(amounts)))
    for e, a in enumerate(amounts):
        ev_amount[:, e] = a
    _kernels().modes3_kernel(
        system.K,
        system.outputs[output],
        np.asarray(keep, dtype=np.int64),
        np.asarray(ev_state, dtype=np.int64),
        ev_amount,
        durations,
        MIN_RELATIVE_GAP,
        lam,
        amp,
        bad,
    )
    if bad.any():
        if np.any(bad == 1):
            raise ArithmeticError("fast path: non-decaying or non-finite mode")
        first = int(np.argmax(bad == 2))
        raise ArithmeticError(
            f"fast path: {int(np.count_nonzero(bad == 2))} patient(s) with (nearly) coinciding exponents "
            f"(first index {first}); use kairos.pharmacology.pk.simulate (expm-based, Jordan-safe) for them"
        )
    return lam, amp


@dataclass(frozen=True, slots=True)
class PatientCourses:
    """The model, per-patient parameters and mode courses (S first, then R for racemic) of one chunk."""

    model: str
    params: dict[str, FloatArray]
    courses: list[ModeCourse]


def courses_for(events: Sequence[DoseEvent], eta: FloatArray, weight_kg: float = 70.0) -> PatientCourses:
    """Mode courses for each active enantiomer: [S] (esketamine) or [S, R] (racemic)."""
    model = model_for(events)
    params = patient_parameters(model, eta)
    subject = Subject(weight_kg=weight_kg)
    drug = course_drug(events)
    outs = ["parent"] if drug is Drug.ESKETAMINE else ["parent_S", "parent_R"]
    courses = [build_course(model, params, events, output=o, subject=subject) for o in outs]
    return PatientCourses(model=model, params=params, courses=courses)


def _kernels() -> Any:
    from kairos.pharmacology import trials_kernels

    return trials_kernels


def grid_concentrations(
    course: ModeCourse, t0: float, dt: float, n_t: int, out: FloatArray | None = None
) -> FloatArray:
    """Concentrations (ng/mL) on the uniform grid ``t0 + k·dt`` (numba recurrence kernel).

    ``out``: optional float64 buffer ``[n, ≥ n_t]`` reused across chunks (its first ``n_t`` columns are used).
    """
    if not (dt > 0 and n_t >= 1):
        raise InputError("grid: dt must be > 0 and n_t >= 1")
    n = course.lam.shape[0]
    buf = np.empty((n, n_t)) if out is None else out[:n, :n_t]
    seg_t, bolus, active = course.segments()
    # first grid index at or after each segment start: the same float expression t0 + k·dt as the kernel
    t_grid = float(t0) + np.arange(n_t, dtype=np.int64) * float(dt)
    seg_k = np.append(np.searchsorted(t_grid, seg_t, side="left"), n_t).astype(np.int64)
    _kernels().grid_kernel(course.lam, course.amp, seg_t, seg_k, bolus, active, float(t0), float(dt), buf)
    return buf


def exact_concentrations(course: ModeCourse, t: FloatArray) -> FloatArray:
    """Vectorised closed form at arbitrary times (superposition over events; reference/benchmark baseline)."""
    t = np.asarray(t, dtype=np.float64)
    c = np.zeros((course.lam.shape[0], t.size))
    lam = course.lam[:, None, :]
    for e in range(course.ev_start.size):
        ts, te = course.ev_start[e], course.ev_end[e]
        on = t >= ts
        if not on.any():
            continue
        tt = np.where(on, t - ts, 0.0)[None, :, None]
        if course.ev_kind[e] == 1:
            after = np.maximum(t - te, 0.0)[None, :, None]
            term = np.exp(-lam * after) - np.exp(-lam * tt)
        else:
            term = np.exp(-lam * tt)
        c += np.where(on[None, :], np.einsum("ntm,nm->nt", term, course.amp[:, e, :]), 0.0)
    return c


#: kept for the benchmark's naive baseline
grid_concentrations_numpy = exact_concentrations


@dataclass(frozen=True, slots=True)
class EventSummary:
    cmax: FloatArray
    tmax: FloatArray
    time_above_min: FloatArray


def event_summary(course: ModeCourse, t_end: float, threshold: float) -> EventSummary:
    """Exact event-based Cmax, Tmax and time above ``threshold`` (ng/mL) over [first event, ``t_end``]."""
    if not (threshold > 0 and math.isfinite(threshold)):
        raise InputError(f"threshold must be a positive number of ng/mL (got {threshold!r})")
    if not math.isfinite(t_end):
        raise InputError(f"t_end must be a finite time in minutes (got {t_end!r})")
    n = course.lam.shape[0]
    cmax, tmax, above = np.empty(n), np.empty(n), np.empty(n)
    seg_t, bolus, active = course.segments()
    _kernels().event_kernel(
        course.lam, course.amp, seg_t, bolus, active, float(t_end), float(threshold), cmax, tmax, above
    )
    return EventSummary(cmax=cmax, tmax=tmax, time_above_min=above)
