"""Closed-form population PK fast path for virtual trials (linear models only, reference §0/§5).

Each virtual patient gets its own parameters (published IIV). The central (plasma) concentration is a
sum of exponential modes: the three disposition exponents of a 3-compartment mammillary model (Cardano
roots, reference §5) plus one mode per first-order absorption depot. Inputs are IV zero-order infusions
or boluses into an absorption depot. On a uniform grid the modes advance by exponential recurrences
(numba, ``prange`` over patients, float64); Cmax/Tmax and time above a threshold come from an exact
event-based evaluation (:func:`kairos.pharmacology.trials_kernels.event_kernel`), not from the grid.

Population models here are *surrogates for the fast path*:

* ``fanta-2015`` — S-ketamine 3-cmt, venous (Fanta 2015 via Otto 2021 / nlmixr2lib; IIV ω² V1 0.084,
  CL 0.026, cov 0.023 from Otto 2021; allometric scaling on V1 and CL only). Racemic doses are split
  into S and R halves; R-ketamine uses CL × 0.9 (reference §1.6: 0.80–0.95).
* ``perez-ruixo-2021-surrogate`` — esketamine intranasal: Perez-Ruixo 2021 3-cmt disposition with the
  hepatic compartment collapsed into CL = Qh·E ≈ 109 L/h (reference §1.2), nasal first-order absorption
  (ka,n 2.93 h⁻¹, FRn per spray), swallowed fraction (1 − FRn)·Fgut·(1 − E) = 18.6 % absorbed at
  ka,sw 1.45 h⁻¹ without its 0.53 h zero-order delay. Checked against the reference's 56/84 mg Cmax table
  in the tests. The full model lives in ``kairos.pharmacology.models`` (timelines use that one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology.effects import Parameter
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route

FloatArray = NDArray[np.float64]

#: Patients per random block. Block b uses SeedSequence(seed, spawn_key=(b,)), so a patient's parameters
#: do not depend on the chunk size or on the execution path (local, Dask, JAX).
BLOCK = 1024

_OTTO = "Otto 2021 / Fanta 2015 as encoded in nlmixr2lib Otto_2021_s_ketamine.R (reference §1.1)"
_PR = "Perez-Ruixo 2021 (reference §1.1/§1.2)"

FANTA = {
    "cl_l_h": Parameter(95.2, "L/h/70 kg", _OTTO, "published"),
    "v1_l": Parameter(133.0, "L/70 kg", _OTTO, "published"),
    "q2_l_h": Parameter(23.2, "L/h", _OTTO, "published"),
    "v2_l": Parameter(187.0, "L", _OTTO, "published"),
    "q3_l_h": Parameter(157.0, "L/h", _OTTO, "published"),
    "v3_l": Parameter(98.8, "L", _OTTO, "published"),
    "omega2_v1": Parameter(0.084, "ω²", _OTTO, "published"),
    "omega2_cl": Parameter(0.026, "ω²", _OTTO, "published"),
    "cov_v1_cl": Parameter(0.023, "ω", _OTTO, "published"),
    "r_cl_factor": Parameter(
        0.9, "1", "reference §1.6: R-CL 0.80–0.95 × S (Henthorn 2018, Persson 2002, Hasan 2021)", "calibrated"
    ),
}

PEREZ_RUIXO = {
    "cl_l_h": Parameter(109.0, "L/h", _PR + ": CL = Qh·E computed in reference §1.2", "published"),
    "v1_l": Parameter(192.0, "L", _PR, "published"),
    "q2_l_h": Parameter(84.3, "L/h", _PR, "published"),
    "v2_l": Parameter(143.0, "L", _PR, "published"),
    "q3_l_h": Parameter(37.6, "L/h", _PR, "published"),
    "v3_l": Parameter(417.0, "L", _PR, "published"),
    "ka_nasal_h": Parameter(2.93, "1/h", _PR, "published"),
    "fr_nasal_first": Parameter(0.54, "1", _PR + ": FRn 0.54 per spray", "published"),
    "fr_nasal_next": Parameter(0.62, "1", _PR + ": subsequent 28-mg sprays × 0.62", "published"),
    "f_swallowed": Parameter(0.186, "1", _PR + ": Fgut·(1−E) 18.6 % of swallowed dose", "published"),
    "ka_swallowed_h": Parameter(1.45, "1/h", _PR, "published"),
    "cv_v1": Parameter(0.275, "CV", _PR, "published"),
    "cv_v2": Parameter(0.493, "CV", _PR, "published"),
    "cv_cl": Parameter(0.232, "CV", _PR + ": Qh IIV applied to CL (surrogate)", "placeholder"),
    "cv_ka_nasal": Parameter(0.615, "CV", _PR, "published"),
}

#: Extravascular racemic routes of the clinic protocols (fast-path surrogates; reference §1.3).
EXTRAVASCULAR = {
    Route.IM: (
        Parameter(
            0.93, "1", "Clements 1982 via secondary source (reference §1.3) — unconfirmed", "placeholder"
        ),
        Parameter(6.0, "1/h", "Tmax 5–15 min (reference §1.3, secondary) → ka design value", "placeholder"),
    ),
    Route.SUBLINGUAL: (
        Parameter(0.29, "1", "Rolan 2014 sublingual racemic wafer F 29 % (reference §1.3)", "published"),
        Parameter(2.0, "1/h", "Tmax 0.75 h (Rolan 2014) → ka design value", "placeholder"),
    ),
    Route.ORAL: (
        Parameter(0.17, "1", "oral racemic F 17–20 % (reference §1.3)", "published"),
        Parameter(1.5, "1/h", "Tmax ~1 h (Chong 2009) → ka design value", "placeholder"),
    ),
}


def rng_for_block(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def block_normals(seed: int, lo: int, hi: int, k: int) -> FloatArray:
    """Standard normals ``z[hi−lo, k]`` for patients ``lo..hi−1``; chunk-size invariant."""
    if not 0 <= lo <= hi:
        raise InputError(f"patient range must satisfy 0 <= lo <= hi (got {lo}, {hi})")
    out = np.empty((hi - lo, k))
    b0, b1 = lo // BLOCK, (hi - 1) // BLOCK if hi > lo else lo // BLOCK - 1
    for b in range(b0, b1 + 1):
        z = rng_for_block(seed, b).standard_normal((BLOCK, k))
        s, e = max(lo, b * BLOCK), min(hi, (b + 1) * BLOCK)
        out[s - lo : e - lo] = z[s - b * BLOCK : e - b * BLOCK]
    return out


#: number of standard normals drawn per patient (fixed so that adding a use never shifts other draws)
N_ETA = 8


@dataclass(frozen=True, slots=True)
class PatientPK:
    """Per-patient 3-cmt parameters (L/min, L) and absorption rates (1/min)."""

    cl: FloatArray
    v1: FloatArray
    q2: FloatArray
    v2: FloatArray
    q3: FloatArray
    v3: FloatArray
    ka_nasal: FloatArray

    @property
    def n(self) -> int:
        return int(self.cl.shape[0])


def sample_pk(model: str, eta: FloatArray, weight_kg: float = 70.0) -> PatientPK:
    """Individual parameters from standard normals ``eta[n, N_ETA]`` (published IIV)."""
    n = eta.shape[0]
    w = weight_kg / 70.0
    if model == "fanta-2015":
        p = FANTA
        om = np.array(
            [[p["omega2_v1"].value, p["cov_v1_cl"].value], [p["cov_v1_cl"].value, p["omega2_cl"].value]]
        )
        chol = np.linalg.cholesky(om)
        e = eta[:, :2] @ chol.T
        ones = np.ones(n)
        return PatientPK(
            cl=p["cl_l_h"].value * w**0.75 / 60.0 * np.exp(e[:, 1]),
            v1=p["v1_l"].value * w * np.exp(e[:, 0]),
            q2=ones * p["q2_l_h"].value / 60.0,
            v2=ones * p["v2_l"].value,
            q3=ones * p["q3_l_h"].value / 60.0,
            v3=ones * p["v3_l"].value,
            ka_nasal=ones,
        )
    if model == "perez-ruixo-2021-surrogate":
        p = PEREZ_RUIXO

        def lognorm(cv: float, z: FloatArray) -> FloatArray:
            return np.asarray(np.exp(math.sqrt(math.log1p(cv * cv)) * z), dtype=np.float64)

        ones = np.ones(n)
        return PatientPK(
            cl=p["cl_l_h"].value / 60.0 * lognorm(p["cv_cl"].value, eta[:, 1]),
            v1=p["v1_l"].value * lognorm(p["cv_v1"].value, eta[:, 0]),
            q2=ones * p["q2_l_h"].value / 60.0,
            v2=p["v2_l"].value * lognorm(p["cv_v2"].value, eta[:, 2]),
            q3=ones * p["q3_l_h"].value / 60.0,
            v3=ones * p["v3_l"].value,
            ka_nasal=p["ka_nasal_h"].value / 60.0 * lognorm(p["cv_ka_nasal"].value, eta[:, 3]),
        )
    raise InputError(f"model must be fanta-2015 or perez-ruixo-2021-surrogate (got {model!r})")


def modes_3cmt(
    cl: FloatArray, v1: FloatArray, q2: FloatArray, v2: FloatArray, q3: FloatArray, v3: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Exponents ``λ[n,3]`` (1/min) and unit-impulse coefficients ``A[n,3]`` (1/L), reference §5 (Cardano)."""
    k10, k12, k21, k13, k31 = cl / v1, q2 / v1, q2 / v2, q3 / v1, q3 / v3
    a0 = k10 * k21 * k31
    a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12
    a2 = k10 + k12 + k13 + k21 + k31
    p = a1 - a2 * a2 / 3.0
    q = 2.0 * a2**3 / 27.0 - a1 * a2 / 3.0 + a0
    r1 = np.sqrt(np.maximum(-(p**3) / 27.0, 1e-300))
    phi = np.arccos(np.clip(-q / (2.0 * r1), -1.0, 1.0)) / 3.0
    r2 = 2.0 * np.cbrt(r1)
    lam = np.stack([-(np.cos(phi + 2.0 * math.pi * k / 3.0) * r2 - a2 / 3.0) for k in range(3)], axis=1)
    lam = np.sort(lam, axis=1)
    # polish the roots with two Newton steps on the cubic (float64 round-off of the trig form)
    for _ in range(2):
        f = ((lam - a2[:, None]) * lam + a1[:, None]) * lam - a0[:, None]
        df = (3.0 * lam - 2.0 * a2[:, None]) * lam + a1[:, None]
        lam = lam - f / df
    a = np.empty_like(lam)
    for i in range(3):
        j, k = [x for x in range(3) if x != i]
        a[:, i] = (
            (k21 - lam[:, i]) * (k31 - lam[:, i]) / ((lam[:, j] - lam[:, i]) * (lam[:, k] - lam[:, i])) / v1
        )
    return np.asarray(lam, dtype=np.float64), np.asarray(a, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ModeCourse:
    """Course in mode form: ``lam[n,M]`` (1/min), ``amp[n,E,M]`` (ng/mL) and common event times (min)."""

    lam: FloatArray
    amp: FloatArray
    ev_start: FloatArray
    ev_end: FloatArray
    ev_kind: NDArray[np.int64]


def _nasal_fraction(amount_mg: float) -> float:
    """Perez-Ruixo per-dose nasal fraction for n 28-mg devices (reference §1.2)."""
    n_dev = max(1, round(amount_mg / 28.0))
    f1, fn = PEREZ_RUIXO["fr_nasal_first"].value, PEREZ_RUIXO["fr_nasal_next"].value
    return f1 * (1.0 + (n_dev - 1) * fn) / n_dev


def build_course(pk: PatientPK, events: Sequence[DoseEvent], *, enantiomer_share: float = 1.0) -> ModeCourse:
    """Mode amplitudes of every dose for every patient. ``enantiomer_share`` scales the amount (0.5 = S half)."""
    if not events:
        raise InputError("dose_events must contain at least one dose")
    evs = sorted(events, key=lambda d: d.start_min)
    lam3, a3 = modes_3cmt(pk.cl, pk.v1, pk.q2, pk.v2, pk.q3, pk.v3)
    n = pk.n
    ka_sw = PEREZ_RUIXO["ka_swallowed_h"].value / 60.0
    extra = {r: ka.value / 60.0 for r, (_, ka) in EXTRAVASCULAR.items()}
    # modes: 3 disposition + nasal + swallowed + one per extravascular route used
    routes = sorted({e.route for e in evs if e.route in EXTRAVASCULAR})
    m_total = 3 + 2 + len(routes)
    lam = np.empty((n, m_total))
    lam[:, :3] = lam3
    lam[:, 3] = pk.ka_nasal
    lam[:, 4] = ka_sw
    for i, r in enumerate(routes):
        lam[:, 5 + i] = extra[r]
    # keep absorption rates away from disposition exponents (limit form otherwise; error ~1e-9 relative)
    for m in range(3, m_total):
        close = np.abs(lam[:, m : m + 1] - lam3) < 1e-9 * lam[:, m : m + 1]
        lam[:, m] = np.where(close.any(axis=1), lam[:, m] * (1.0 + 1e-8), lam[:, m])
    amp = np.zeros((n, len(evs), m_total))
    starts = np.empty(len(evs))
    ends = np.empty(len(evs))
    kinds = np.zeros(len(evs), dtype=np.int64)

    def absorb(e_idx: int, m: int, dose_mg: float) -> None:
        ka = lam[:, m]
        coef = dose_mg * 1000.0 * ka[:, None] * a3 / (ka[:, None] - lam3)
        amp[:, e_idx, :3] += coef
        amp[:, e_idx, m] -= coef.sum(axis=1)

    for i, ev in enumerate(evs):
        dose = ev.amount_mg_base * enantiomer_share
        starts[i] = ev.start_min
        if ev.route is Route.IV:
            if ev.duration_min > 0:
                ends[i] = ev.start_min + ev.duration_min
                kinds[i] = 1
                rate = dose / ev.duration_min
                amp[:, i, :3] = rate * 1000.0 * a3 / lam3
            else:
                ends[i] = ev.start_min
                amp[:, i, :3] = dose * 1000.0 * a3
        elif ev.route is Route.INTRANASAL:
            ends[i] = ev.start_min
            fr = _nasal_fraction(ev.amount_mg_base)
            absorb(i, 3, dose * fr)
            absorb(i, 4, dose * (1.0 - fr) * PEREZ_RUIXO["f_swallowed"].value)
        else:
            ends[i] = ev.start_min
            f, _ = EXTRAVASCULAR[ev.route]
            absorb(i, 5 + routes.index(ev.route), dose * f.value)
    return ModeCourse(lam=lam, amp=amp, ev_start=starts, ev_end=ends, ev_kind=kinds)


def model_for(events: Sequence[DoseEvent]) -> str:
    drugs = {e.drug for e in events}
    routes = {e.route for e in events}
    if Route.INTRANASAL in routes:
        if drugs != {Drug.ESKETAMINE}:
            raise InputError("intranasal route: only esketamine has an intranasal model")
        return "perez-ruixo-2021-surrogate"
    return "fanta-2015"


def _kernels() -> Any:
    from kairos.pharmacology import trials_kernels

    return trials_kernels


def grid_concentrations(course: ModeCourse, t0: float, dt: float, n_t: int) -> FloatArray:
    """Concentrations (ng/mL) on the uniform grid ``t0 + k·dt`` via the numba recurrence kernel."""
    if not (dt > 0 and n_t >= 1):
        raise InputError("grid: dt must be > 0 and n_t >= 1")
    out = np.empty((course.lam.shape[0], n_t))
    _kernels().grid_kernel(
        course.lam, course.amp, course.ev_start, course.ev_end, course.ev_kind, float(t0), float(dt), out
    )
    return out


def grid_concentrations_numpy(course: ModeCourse, t: FloatArray) -> FloatArray:
    """Naive vectorised closed form (superposition over events at every time; benchmark baseline)."""
    c = np.zeros((course.lam.shape[0], t.size))
    lam = course.lam[:, None, :]
    for e in range(course.ev_start.size):
        ts, te = course.ev_start[e], course.ev_end[e]
        tau = t - ts
        on = tau >= 0
        if not on.any():
            continue
        tt = np.where(on, tau, 0.0)[None, :, None]
        if course.ev_kind[e] == 1:
            after = np.maximum(t - te, 0.0)[None, :, None]
            term = np.exp(-lam * after) - np.exp(-lam * tt)
        else:
            term = np.exp(-lam * tt)
        c += np.where(on[None, :], np.einsum("ntm,nm->nt", term, course.amp[:, e, :]), 0.0)
    return c


def exact_concentrations(course: ModeCourse, t: FloatArray) -> FloatArray:
    """Exact evaluation at arbitrary times (same superposition as the numpy path)."""
    return grid_concentrations_numpy(course, np.asarray(t, dtype=np.float64))


@dataclass(frozen=True, slots=True)
class EventSummary:
    cmax: FloatArray
    tmax: FloatArray
    time_above_min: FloatArray


def event_summary(course: ModeCourse, t_end: float, threshold: float, scan_dt: float = 1.0) -> EventSummary:
    """Exact event-based Cmax, Tmax and time above ``threshold`` (ng/mL) up to ``t_end`` (min)."""
    if not (threshold > 0 and math.isfinite(threshold)):
        raise InputError(f"threshold must be a positive number of ng/mL (got {threshold!r})")
    n = course.lam.shape[0]
    cmax, tmax, above = np.empty(n), np.empty(n), np.empty(n)
    _kernels().event_kernel(
        course.lam,
        course.amp,
        course.ev_start,
        course.ev_end,
        course.ev_kind,
        float(t_end),
        float(threshold),
        float(scan_dt),
        cmax,
        tmax,
        above,
    )
    return EventSummary(cmax=cmax, tmax=tmax, time_above_min=above)
