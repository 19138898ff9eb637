# mypy: allow-untyped-decorators, allow-untyped-calls, allow-untyped-defs, disable-error-code="no-any-return"
"""numba kernels of the virtual-trial fast path. Imported lazily (only when the fast path runs).

Representation (see :mod:`kairos.pharmacology.trials_fastpath`): the central concentration of a linear
model is a sum of modes ``Σ_m x_m(t)``, each decaying as ``exp(−λ_m t)``. An event ``e`` with start
``ts`` and end ``te`` adds to mode ``m`` of patient ``n``:

* bolus (kind 0): ``amp[n,e,m]·exp(−λ(t − ts))`` for ``t ≥ ts``;
* zero-order infusion (kind 1): ``amp[n,e,m]·(exp(−λ·max(t − te, 0)) − exp(−λ(t − ts)))`` for ``t ≥ ts``.

Both are exact; on a uniform grid the modes advance by the exponential recurrence
``x(t+Δ) = x(t)·exp(−λΔ) + (input over (t, t+Δ])`` in float64.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_NEG_INF = -1.0e300


@njit(cache=True)
def _add_inputs(x, lam_n, amp_n, ev_start, ev_end, ev_kind, e_lo, t_prev, t):  # pragma: no cover - jit
    """Add the inputs of events overlapping (t_prev, t] to the mode states ``x`` (valid at ``t``)."""
    m_count = x.shape[0]
    for e in range(e_lo, ev_start.shape[0]):
        ts = ev_start[e]
        if ts > t:
            break
        if ev_kind[e] == 1:
            a = ts if ts > t_prev else t_prev
            b = ev_end[e] if ev_end[e] < t else t
            if b > a:
                for m in range(m_count):
                    lm = lam_n[m]
                    x[m] += amp_n[e, m] * (math.exp(-lm * (t - b)) - math.exp(-lm * (t - a)))
        elif ts > t_prev:
            for m in range(m_count):
                x[m] += amp_n[e, m] * math.exp(-lam_n[m] * (t - ts))


@njit(cache=True)
def _advance_lo(e_lo, ev_end, t_prev):  # pragma: no cover - jit
    while e_lo < ev_end.shape[0] and ev_end[e_lo] < t_prev:
        e_lo += 1
    return e_lo


@njit(cache=True, parallel=True)
def grid_kernel(lam, amp, ev_start, ev_end, ev_kind, t0, dt, out):  # pragma: no cover - jit
    """Concentrations ``out[n, k]`` at ``t0 + k·dt`` (scale already in ``amp``)."""
    n_pat, m_count = lam.shape
    n_t = out.shape[1]
    for n in prange(n_pat):
        lam_n = lam[n]
        amp_n = amp[n]
        x = np.zeros(m_count)
        dec = np.empty(m_count)
        for m in range(m_count):
            dec[m] = math.exp(-lam_n[m] * dt)
        _add_inputs(x, lam_n, amp_n, ev_start, ev_end, ev_kind, 0, _NEG_INF, t0)
        s = 0.0
        for m in range(m_count):
            s += x[m]
        out[n, 0] = s
        e_lo = 0
        for k in range(1, n_t):
            t = t0 + k * dt
            t_prev = t - dt
            e_lo = _advance_lo(e_lo, ev_end, t_prev)
            for m in range(m_count):
                x[m] *= dec[m]
            if e_lo < ev_start.shape[0] and ev_start[e_lo] <= t:
                _add_inputs(x, lam_n, amp_n, ev_start, ev_end, ev_kind, e_lo, t_prev, t)
            s = 0.0
            for m in range(m_count):
                s += x[m]
            out[n, k] = s


@njit(cache=True)
def _state_at(x0, lam_n, amp_n, ev_start, ev_end, ev_kind, t_a, t, x_out):  # pragma: no cover - jit
    """Mode states at ``t`` from the states ``x0`` at ``t_a`` (exact)."""
    for m in range(x0.shape[0]):
        x_out[m] = x0[m] * math.exp(-lam_n[m] * (t - t_a))
    _add_inputs(x_out, lam_n, amp_n, ev_start, ev_end, ev_kind, 0, t_a, t)
    s = 0.0
    for m in range(x0.shape[0]):
        s += x_out[m]
    return s


@njit(cache=True, parallel=True)
def event_kernel(
    lam, amp, ev_start, ev_end, ev_kind, t_end, thr, scan_dt, cmax, tmax, t_above
):  # pragma: no cover
    """Exact event-based Cmax/Tmax and time above ``thr`` over ``[first event, t_end]``.

    Scans each inter-event window on substeps of at most ``scan_dt`` (event starts/ends are substep
    boundaries); a sign change of ``c − thr`` is refined by Illinois regula falsi on the exact solution,
    a local maximum by golden-section search. After an input ends the scan stops once the concentration
    is below ``thr`` and falling (mammillary disposition then decays monotonically).
    """
    n_pat, m_count = lam.shape
    n_ev = ev_start.shape[0]
    gr = 0.6180339887498949
    for n in prange(n_pat):
        lam_n = lam[n]
        amp_n = amp[n]
        x = np.zeros(m_count)
        xt = np.zeros(m_count)
        xs = np.zeros(m_count)
        x_m1 = np.zeros(m_count)
        best = 0.0
        best_t = ev_start[0]
        above = 0.0
        for e in range(n_ev):
            w_start = ev_start[e]
            if w_start >= t_end:
                break
            if e > 0 and ev_start[e] == ev_start[e - 1]:
                continue
            w_end = t_end
            for f in range(e + 1, n_ev):
                if ev_start[f] > w_start:
                    w_end = min(ev_start[f], t_end)
                    break
            # latest input end among events started so far
            in_end = w_start
            for f in range(n_ev):
                if ev_start[f] <= w_start and ev_end[f] > in_end:
                    in_end = ev_end[f]
            for m in range(m_count):
                x[m] = 0.0
            c_prev2 = -1.0
            c_prev = _state_at(x, lam_n, amp_n, ev_start, ev_end, ev_kind, _NEG_INF, w_start, xt)
            for m in range(m_count):
                x[m] = xt[m]
            t_a = w_start
            t_am1 = w_start
            for m in range(m_count):
                x_m1[m] = x[m]
            while t_a < w_end:
                t_b = t_a + scan_dt
                if t_a < in_end < t_b:
                    t_b = in_end
                if t_b > w_end:
                    t_b = w_end
                c_b = _state_at(x, lam_n, amp_n, ev_start, ev_end, ev_kind, t_a, t_b, xt)
                # time above threshold on (t_a, t_b]
                fa = c_prev - thr
                fb = c_b - thr
                if fa >= 0.0 and fb >= 0.0:
                    above += t_b - t_a
                elif (fa >= 0.0) != (fb >= 0.0):
                    lo = t_a
                    hi = t_b
                    flo = fa
                    fhi = fb
                    side = 0
                    root = 0.5 * (lo + hi)
                    for _ in range(60):
                        root = (lo * fhi - hi * flo) / (fhi - flo)
                        fr = _state_at(x, lam_n, amp_n, ev_start, ev_end, ev_kind, t_a, root, xs) - thr
                        if (fr >= 0.0) == (flo >= 0.0):
                            lo = root
                            flo = fr
                            if side == -1:
                                fhi *= 0.5
                            side = -1
                        else:
                            hi = root
                            fhi = fr
                            if side == 1:
                                flo *= 0.5
                            side = 1
                        if hi - lo < 1e-9 or fr == 0.0:
                            break
                    if fa >= 0.0:
                        above += root - t_a
                    else:
                        above += t_b - root
                # local maximum at t_a (sampled c_prev2 <= c_prev >= c_b): refine on [t_am1, t_b]
                if c_prev >= c_b and c_prev >= c_prev2 and c_prev > best:
                    cand = c_prev
                    cand_t = t_a
                    if t_a != in_end and t_a != w_start:
                        lo = t_am1
                        hi = t_b
                        c1 = hi - gr * (hi - lo)
                        c2 = lo + gr * (hi - lo)
                        f1 = _state_at(x_m1, lam_n, amp_n, ev_start, ev_end, ev_kind, t_am1, c1, xs)
                        f2 = _state_at(x_m1, lam_n, amp_n, ev_start, ev_end, ev_kind, t_am1, c2, xs)
                        for _ in range(60):
                            if f1 > f2:
                                hi = c2
                                c2 = c1
                                f2 = f1
                                c1 = hi - gr * (hi - lo)
                                f1 = _state_at(x_m1, lam_n, amp_n, ev_start, ev_end, ev_kind, t_am1, c1, xs)
                            else:
                                lo = c1
                                c1 = c2
                                f1 = f2
                                c2 = lo + gr * (hi - lo)
                                f2 = _state_at(x_m1, lam_n, amp_n, ev_start, ev_end, ev_kind, t_am1, c2, xs)
                            if hi - lo < 1e-8:
                                break
                        if f1 > cand:
                            cand = f1
                            cand_t = c1
                        if f2 > cand:
                            cand = f2
                            cand_t = c2
                    best = cand
                    best_t = cand_t
                if c_b > best:
                    best = c_b
                    best_t = t_b
                for m in range(m_count):
                    x_m1[m] = x[m]
                    x[m] = xt[m]
                t_am1 = t_a
                c_prev2 = c_prev
                c_prev = c_b
                t_a = t_b
                if t_a >= in_end and c_b < thr and c_b < c_prev2:
                    break
        cmax[n] = best
        tmax[n] = best_t
        t_above[n] = above
