# mypy: allow-untyped-decorators, allow-untyped-calls, allow-untyped-defs, disable-error-code="no-any-return"
"""numba kernels of the virtual-trial fast path. Imported lazily (only when the fast path runs).

Representation (see :mod:`kairos.pharmacology.trials_fastpath`): the plasma concentration of a linear
model is a sum of modes ``Σ_m x_m(t)`` with rates ``λ_m > 0`` (sorted ascending per patient). Event ``e``
(start ``ts``, end ``te``) adds to mode ``m`` of patient ``n``:

* bolus (kind 0): ``amp[n,e,m]·exp(−λ(t − ts))`` for ``t ≥ ts``;
* zero-order input (kind 1): ``amp[n,e,m]·(exp(−λ·max(t − te, 0)) − exp(−λ(t − ts)))`` for ``t ≥ ts``.

Event boundaries (all starts and ends) cut time into *segments* with constant input. On a segment
starting at ``a`` every mode relaxes exactly to the sum ``r_m`` of the amplitudes of the zero-order inputs
running on it:  ``x_m(a + τ) = r_m + (x_m(a) − r_m)·e^{−λ_m τ}``  (boluses at ``a`` are added first).
Segment tables (``seg_t``, ``bolus``, ``active``) are common to all patients and built by the caller.

* :func:`grid_kernel` — uniform grid: per segment one exponential per mode, then the recurrence
  ``y_m ← y_m·e^{−λ_m Δ}`` (``y = x − r``), one store per point; the grid index range of each segment is
  common to all patients (``seg_k``), so the inner loops are counted, with no time comparisons.
* :func:`modes3_kernel` — fused per-patient setup for three kept states (eigenvalues by Cardano, Sylvester
  amplitudes, per-event mode amplitudes) straight from the library's batched rate matrices.
* :func:`event_kernel` — exact Cmax/Tmax and time above a threshold. On a segment ``c(τ) = R + Σ u_m e^{−λ_m τ}``
  is a sum of exponentials; its critical points (zeros of ``c'``) are found exactly by the generalised-Rolle recursion for exponential sums: multiplying
  ``f = Σ w_m e^{−μ_m τ}`` by ``e^{μ_0 τ}`` and differentiating removes one term, so the zeros of the
  derivative chain (computed bottom-up, a single term has none) split the segment into pieces on which the
  level above is monotone and has at most one, sign-bracketed, zero; each is refined by Illinois regula
  falsi to 1e-9 min. Between critical points ``c`` is monotone, so each piece holds at most one threshold
  crossing, bracketed by the piece ends and refined the same way. No sub-stepping, no grid.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_INF = math.inf


@njit(cache=True)
def _apply_segment_inputs(x, r, amp_n, bolus_s, active_s):  # pragma: no cover - jit
    """Add the boluses at the segment start to ``x``; ``r`` = sum of amplitudes of running inputs."""
    m_count = x.shape[0]
    for m in range(m_count):
        r[m] = 0.0
    for e in range(bolus_s.shape[0]):
        if bolus_s[e]:
            for m in range(m_count):
                x[m] += amp_n[e, m]
        if active_s[e]:
            for m in range(m_count):
                r[m] += amp_n[e, m]


def grid_kernel(lam, amp, seg_t, seg_k, bolus, active, t0, dt, out):
    """Concentrations ``out[n, k]`` at ``t0 + k·dt`` (``out`` may be a reused buffer).

    ``seg_k[s]``: first grid index with ``t0 + k·dt ≥ seg_t[s]`` (``seg_k[S] = n_t``), common to all
    patients, so the per-point loops are counted loops without time comparisons.
    """
    kernel = _grid3 if lam.shape[1] == 3 else _grid_any
    kernel(lam, amp, seg_t, seg_k, bolus, active, t0, dt, out)


@njit(cache=True, parallel=True)
def _grid_any(lam, amp, seg_t, seg_k, bolus, active, t0, dt, out):  # pragma: no cover - jit
    """:func:`grid_kernel` for any number of modes."""
    n_pat, m_count = lam.shape
    n_seg = seg_t.shape[0]
    for n in prange(n_pat):
        lam_n = lam[n]
        amp_n = amp[n]
        row = out[n]
        x = np.zeros(m_count)
        r = np.zeros(m_count)
        y = np.empty(m_count)
        dec = np.empty(m_count)
        for m in range(m_count):
            dec[m] = math.exp(-lam_n[m] * dt)
        for k in range(seg_k[0]):
            row[k] = 0.0
        for s in range(n_seg):
            a = seg_t[s]
            _apply_segment_inputs(x, r, amp_n, bolus[s], active[s])
            k0, k1 = seg_k[s], seg_k[s + 1]
            if k1 > k0:
                tau = t0 + k0 * dt - a
                rsum = 0.0
                for m in range(m_count):
                    y[m] = (x[m] - r[m]) * math.exp(-lam_n[m] * tau)
                    rsum += r[m]
                for k in range(k0, k1):
                    acc = rsum
                    for m in range(m_count):
                        acc += y[m]
                        y[m] *= dec[m]
                    row[k] = acc
            if s + 1 < n_seg:
                length = seg_t[s + 1] - a
                for m in range(m_count):
                    x[m] = r[m] + (x[m] - r[m]) * math.exp(-lam_n[m] * length)


@njit(cache=True, parallel=True)
def _grid3(lam, amp, seg_t, seg_k, bolus, active, t0, dt, out):  # pragma: no cover - jit
    """:func:`grid_kernel` for three modes (the 3-compartment IV case): scalar registers only."""
    n_pat = lam.shape[0]
    n_seg = seg_t.shape[0]
    n_ev = bolus.shape[1]
    for n in prange(n_pat):
        l0, l1, l2 = lam[n, 0], lam[n, 1], lam[n, 2]
        d0, d1, d2 = math.exp(-l0 * dt), math.exp(-l1 * dt), math.exp(-l2 * dt)
        x0 = x1 = x2 = 0.0
        row = out[n]
        for k in range(seg_k[0]):
            row[k] = 0.0
        for s in range(n_seg):
            a = seg_t[s]
            r0 = r1 = r2 = 0.0
            for e in range(n_ev):
                if bolus[s, e]:
                    x0 += amp[n, e, 0]
                    x1 += amp[n, e, 1]
                    x2 += amp[n, e, 2]
                if active[s, e]:
                    r0 += amp[n, e, 0]
                    r1 += amp[n, e, 1]
                    r2 += amp[n, e, 2]
            k0, k1 = seg_k[s], seg_k[s + 1]
            if k1 > k0:
                tau = t0 + k0 * dt - a
                y0 = (x0 - r0) * math.exp(-l0 * tau)
                y1 = (x1 - r1) * math.exp(-l1 * tau)
                y2 = (x2 - r2) * math.exp(-l2 * tau)
                rsum = r0 + r1 + r2
                for k in range(k0, k1):
                    row[k] = rsum + y0 + y1 + y2
                    y0 *= d0
                    y1 *= d1
                    y2 *= d2
            if s + 1 < n_seg:
                length = seg_t[s + 1] - a
                x0 = r0 + (x0 - r0) * math.exp(-l0 * length)
                x1 = r1 + (x1 - r1) * math.exp(-l1 * length)
                x2 = r2 + (x2 - r2) * math.exp(-l2 * length)


@njit(cache=True)
def _eval(c, u, k0, count, tau):  # pragma: no cover - jit
    s = 0.0
    for m in range(k0, count):
        s += c[m] * math.exp(-u[m] * tau)
    return s


@njit(cache=True)
def _refine(c, u, k0, count, lo, hi, flo, fhi):  # pragma: no cover - jit
    """Zero of ``Σ_{m≥k0} c_m e^{−u_m τ}`` in the sign bracket [lo, hi] (Illinois regula falsi)."""
    side = 0
    root = 0.5 * (lo + hi)
    for _ in range(100):
        root = (lo * fhi - hi * flo) / (fhi - flo)
        if not lo < root < hi:
            root = 0.5 * (lo + hi)
        fr = _eval(c, u, k0, count, root)
        if fr == 0.0:
            return root
        if (fr > 0.0) == (flo > 0.0):
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
        if hi - lo < 1e-9:
            break
    return root


@njit(cache=True)
def expsum_zeros(w, mu, length, cw, cu, za, zb):  # pragma: no cover - jit
    """Zeros in (0, length) of ``f(τ) = Σ_m w_m e^{−μ_m τ}`` (``μ`` ascending, ≥ 0); returns their count.

    Zeros are written sorted to ``za``. ``cw``/``cu`` are [count, count] work arrays, ``zb`` a work vector.
    Exact up to the root tolerance: an exponential sum with K terms has at most K − 1 zeros, located by
    the bottom-up derivative chain described in the module docstring.
    """
    count = w.shape[0]
    for m in range(count):
        cw[0, m] = w[m]
        cu[0, m] = mu[m]
    for k in range(count - 1):
        for m in range(k + 1, count):
            du = cu[k, m] - cu[k, k]
            cu[k + 1, m] = du
            cw[k + 1, m] = -du * cw[k, m]
    n_z = 0  # zeros of level count-1 (single term): none
    for k in range(count - 2, -1, -1):
        # pieces: 0, za[0..n_z-1], length ; level k has <= 1 zero per piece
        n_new = 0
        lo = 0.0
        flo = _eval(cw[k], cu[k], k, count, lo)
        for i in range(n_z + 1):
            hi = za[i] if i < n_z else length
            fhi = _eval(cw[k], cu[k], k, count, hi)
            if (flo > 0.0 and fhi < 0.0) or (flo < 0.0 and fhi > 0.0):
                zb[n_new] = _refine(cw[k], cu[k], k, count, lo, hi, flo, fhi)
                n_new += 1
            lo = hi
            flo = fhi
        for i in range(n_new):
            za[i] = zb[i]
        n_z = n_new
    return n_z


@njit(cache=True, parallel=True)
def event_kernel(lam, amp, seg_t, bolus, active, t_end, thr, cmax, tmax, t_above):  # pragma: no cover
    """Exact Cmax/Tmax and time with ``c ≥ thr`` over [first event, ``t_end``] (see module docstring)."""
    n_pat, m_count = lam.shape
    n_seg = seg_t.shape[0]
    k_all = m_count + 1
    for n in prange(n_pat):
        lam_n = lam[n]
        amp_n = amp[n]
        x = np.zeros(m_count)
        r = np.zeros(m_count)
        w = np.empty(k_all)
        mu = np.empty(k_all)
        cw = np.empty((k_all, k_all))
        cu = np.empty((k_all, k_all))
        za = np.empty(k_all)
        zb = np.empty(k_all)
        best = 0.0
        best_t = seg_t[0]
        above = 0.0
        for s in range(n_seg):
            a = seg_t[s]
            if a >= t_end:
                break
            b = seg_t[s + 1] if s + 1 < n_seg else t_end
            if b > t_end:
                b = t_end
            length = b - a
            _apply_segment_inputs(x, r, amp_n, bolus[s], active[s])
            rsum = 0.0
            c0 = 0.0
            for m in range(m_count):
                rsum += r[m]
                c0 += x[m]
            # u_m = x_m − r_m ; c(τ) = rsum + Σ u_m e^{−λ_m τ}
            # candidates: segment ends and interior critical points (zeros of c')
            c_end = rsum
            for m in range(m_count):
                c_end += (x[m] - r[m]) * math.exp(-lam_n[m] * length)
            if c0 > best:
                best = c0
                best_t = a
            if c_end > best:
                best = c_end
                best_t = b
            for m in range(m_count):
                w[m] = -lam_n[m] * (x[m] - r[m])
                mu[m] = lam_n[m]
            n_c = expsum_zeros(w[:m_count], mu[:m_count], length, cw, cu, za, zb)
            # c − thr = (rsum − thr) + Σ u_m e^{−λ_m τ}; c is monotone between its critical points, so each
            # piece [critical point, next] holds at most one threshold crossing, bracketed by its ends
            w[0] = rsum - thr
            mu[0] = 0.0
            for m in range(m_count):
                w[m + 1] = x[m] - r[m]
                mu[m + 1] = lam_n[m]
            lo = 0.0
            glo = c0 - thr
            for i in range(n_c + 1):
                if i < n_c:
                    hi = za[i]
                    ghi = _eval(w, mu, 0, k_all, hi)
                    if ghi + thr > best:
                        best = ghi + thr
                        best_t = a + hi
                else:
                    hi = length
                    ghi = c_end - thr
                if glo >= 0.0 and ghi >= 0.0:
                    above += hi - lo
                elif (glo >= 0.0) != (ghi >= 0.0):
                    root = _refine(w, mu, 0, k_all, lo, hi, glo, ghi)
                    above += (root - lo) if glo >= 0.0 else (hi - root)
                lo = hi
                glo = ghi
            for m in range(m_count):
                x[m] = r[m] + (x[m] - r[m]) * math.exp(-lam_n[m] * length)
        cmax[n] = best
        tmax[n] = best_t
        t_above[n] = above


@njit(cache=True)
def _newton_cubic(mu, a, b, cc):  # pragma: no cover - jit
    """Three Newton steps on ``μ³ + aμ² + bμ + cc`` from ``mu`` (polish of a Cardano root)."""
    for _ in range(3):
        f = ((mu + a) * mu + b) * mu + cc
        df = (3.0 * mu + 2.0 * a) * mu + b
        if df != 0.0:
            mu = mu - f / df
    return mu


@njit(cache=True)
def _sylvester_row(kk, c0, c1, c2, mm, ma, mb):  # pragma: no cover - jit
    """``c·(K − μ_a I)(K − μ_b I) / ((μ_m − μ_a)(μ_m − μ_b))`` for row-major ``kk`` = K (3 × 3)."""
    k00, k01, k02, k10, k11, k12, k20, k21, k22 = kk
    v0, v1, v2 = c0, c1, c2
    for mk in (ma, mb):
        inv = 1.0 / (mm - mk)
        w0 = (v0 * (k00 - mk) + v1 * k10 + v2 * k20) * inv
        w1 = (v0 * k01 + v1 * (k11 - mk) + v2 * k21) * inv
        w2 = (v0 * k02 + v1 * k12 + v2 * (k22 - mk)) * inv
        v0, v1, v2 = w0, w1, w2
    return (v0, v1, v2)


@njit(cache=True, parallel=True)
def modes3_kernel(K, c, keep, ev_state, ev_amount, ev_duration, min_gap, lam, amp, bad):  # pragma: no cover
    """Fused setup for three kept states: eigenvalues, Sylvester amplitudes and per-event mode amplitudes.

    Per patient ``n`` (``prange``, scalars only, no temporaries): the reduced matrix ``K[n][keep][:, keep]``
    and output row ``c[n][keep]``; characteristic cubic ``μ³ + aμ² + bμ + c₀`` → trigonometric Cardano roots
    with three Newton steps (reference §5); rates ``λ = −μ`` ascending; unit amplitudes
    ``A[m, j] = (c·Π_{k≠m}(K − μ_k I)/(μ_m − μ_k))_j``; event ``e`` puts ``ev_amount[n, e]`` into reduced
    state ``ev_state[e]``: bolus ``amp = amount·A`` or zero-order ``amp = (amount/duration)·A/λ``
    (``ev_duration[e]``, 0 for a bolus). ``bad[n]``: 0 ok, 1 non-decaying/non-finite mode,
    2 relative eigenvalue gap below ``min_gap``.
    """
    n_pat = K.shape[0]
    n_ev = ev_state.shape[0]
    i0, i1, i2 = keep[0], keep[1], keep[2]
    for n in prange(n_pat):
        Kn = K[n]
        k00, k01, k02 = Kn[i0, i0], Kn[i0, i1], Kn[i0, i2]
        k10, k11, k12 = Kn[i1, i0], Kn[i1, i1], Kn[i1, i2]
        k20, k21, k22 = Kn[i2, i0], Kn[i2, i1], Kn[i2, i2]
        c0, c1, c2 = c[n, i0], c[n, i1], c[n, i2]
        a = -(k00 + k11 + k22)
        b = k00 * k11 - k01 * k10 + k00 * k22 - k02 * k20 + k11 * k22 - k12 * k21
        det = k00 * (k11 * k22 - k12 * k21) - k01 * (k10 * k22 - k12 * k20) + k02 * (k10 * k21 - k11 * k20)
        cc = -det
        p = b - a * a / 3.0
        q = 2.0 * a * a * a / 27.0 - a * b / 3.0 + cc
        rp = math.sqrt(max(-p / 3.0, 1e-300))
        arg = min(1.0, max(-1.0, -q / (2.0 * rp * rp * rp)))
        phi = math.acos(arg) / 3.0
        # roots 2·rp·cos(φ − 2πk/3) − a/3, k = 0, 1, 2, expanded with cos φ and sin φ (two calls, not three)
        cphi, sphi = math.cos(phi), math.sin(phi)
        half_sqrt3 = 0.5 * math.sqrt(3.0)
        m0 = _newton_cubic(2.0 * rp * cphi - a / 3.0, a, b, cc)
        m1 = _newton_cubic(2.0 * rp * (half_sqrt3 * sphi - 0.5 * cphi) - a / 3.0, a, b, cc)
        m2 = _newton_cubic(2.0 * rp * (-half_sqrt3 * sphi - 0.5 * cphi) - a / 3.0, a, b, cc)
        # descending μ (ascending rates λ = −μ)
        if m0 < m1:
            m0, m1 = m1, m0
        if m1 < m2:
            m1, m2 = m2, m1
        if m0 < m1:
            m0, m1 = m1, m0
        l0, l1, l2 = -m0, -m1, -m2
        flag = 0
        if not (l0 > 0.0 and math.isfinite(l0) and math.isfinite(l1) and math.isfinite(l2)):
            flag = 1
        elif min((l1 - l0) / l1, (l2 - l1) / l2) < min_gap:
            flag = 2
        bad[n] = flag
        lam[n, 0] = l0
        lam[n, 1] = l1
        lam[n, 2] = l2
        if flag != 0:
            for e in range(n_ev):
                for m in range(3):
                    amp[n, e, m] = 0.0
        else:
            kk = (k00, k01, k02, k10, k11, k12, k20, k21, k22)
            _mode_amplitudes(n, kk, (c0, c1, c2), m0, m1, m2, ev_state, ev_amount, ev_duration, amp)


@njit(cache=True)
def _mode_amplitudes(n, kk, cv, m0, m1, m2, ev_state, ev_amount, ev_duration, amp):  # pragma: no cover - jit
    """Per-event mode amplitudes of patient ``n`` (see :func:`modes3_kernel`)."""
    c0, c1, c2 = cv
    u0 = _sylvester_row(kk, c0, c1, c2, m0, m1, m2)
    u1 = _sylvester_row(kk, c0, c1, c2, m1, m0, m2)
    u2 = _sylvester_row(kk, c0, c1, c2, m2, m0, m1)
    for e in range(ev_state.shape[0]):
        j = ev_state[e]
        dur = ev_duration[e]
        if dur > 0.0:
            rate = ev_amount[n, e] / dur
            amp[n, e, 0] = rate * u0[j] / -m0
            amp[n, e, 1] = rate * u1[j] / -m1
            amp[n, e, 2] = rate * u2[j] / -m2
        else:
            amt = ev_amount[n, e]
            amp[n, e, 0] = amt * u0[j]
            amp[n, e, 1] = amt * u1[j]
            amp[n, e, 2] = amt * u2[j]
