"""Benchmark of the virtual-trial fast path (never run in CI).

Course: 6 × 0.5 mg/kg S-ketamine IV over 40 min, Mon-Wed-Fri for two weeks (09:00), 3-compartment
S-ketamine (Fanta 2015 / Otto 2021 IIV), hourly grid over 14 days (337 points), every patient with own
parameters. Usage: ``python benchmarks/bench_trials.py [N] [--threads T]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=65_536)
    ap.add_argument("--accuracy-n", type=int, default=1000)
    ap.add_argument("--lsoda-n", type=int, default=20)
    args = ap.parse_args()

    import numba
    import scipy
    from scipy.integrate import solve_ivp

    from kairos.pharmacology import trials_fastpath as fp
    from kairos.pharmacology.types import DoseEvent, Drug, Route

    w = 70.0
    events = [
        DoseEvent(d * 1440 + 540, Drug.ESKETAMINE, Route.IV, 0.5 * w, 40.0) for d in (0, 2, 4, 7, 9, 11)
    ]
    n_t, dt = 337, 60.0
    t_grid = np.arange(n_t) * dt

    def course(lo: int, hi: int) -> fp.ModeCourse:
        return fp.build_course(fp.sample_pk("fanta-2015", fp.block_normals(1, lo, hi, fp.N_ETA), w), events)

    def ivp(pk: fp.PatientPK, i: int) -> np.ndarray:
        k10, k12, k21 = pk.cl[i] / pk.v1[i], pk.q2[i] / pk.v1[i], pk.q2[i] / pk.v2[i]
        k13, k31 = pk.q3[i] / pk.v1[i], pk.q3[i] / pk.v3[i]

        def rhs(t: float, x: np.ndarray) -> list[float]:
            r = sum(e.amount_mg_base / 40.0 for e in events if e.start_min <= t < e.start_min + 40.0)
            return [
                r - (k10 + k12 + k13) * x[0] + k21 * x[1] + k31 * x[2],
                k12 * x[0] - k21 * x[1],
                k13 * x[0] - k31 * x[2],
            ]

        bps = sorted({0.0, t_grid[-1]} | {e.start_min for e in events} | {e.start_min + 40.0 for e in events})
        x = np.zeros(3)
        out = np.empty(n_t)
        for a, b in zip(bps[:-1], bps[1:], strict=True):
            sel = (t_grid >= a) & (t_grid < b)
            s = solve_ivp(
                rhs, (a, b), x, method="LSODA", rtol=1e-10, atol=1e-12, t_eval=np.r_[t_grid[sel], b]
            )
            out[sel] = s.y[0, :-1] / pk.v1[i] * 1000.0
            x = s.y[:, -1]
            if b == t_grid[-1]:
                out[-1] = s.y[0, -1] / pk.v1[i] * 1000.0
        return out

    # warm-up (JIT compile / cache load)
    c0 = course(0, 64)
    fp.grid_concentrations(c0, 0.0, dt, n_t)
    fp.event_summary(c0, t_grid[-1], 60.0)

    # 1) scipy LSODA, Python RHS
    pk = fp.sample_pk("fanta-2015", fp.block_normals(1, 0, args.lsoda_n, fp.N_ETA), w)
    t0 = time.perf_counter()
    for i in range(args.lsoda_n):
        ivp(pk, i)
    lsoda = args.lsoda_n * n_t / (time.perf_counter() - t0)

    # 2) naive vectorised numpy closed form
    nn = 20_000
    cn = course(0, nn)
    t0 = time.perf_counter()
    fp.grid_concentrations_numpy(cn, t_grid)
    naive = nn * n_t / (time.perf_counter() - t0)

    # 3) Kairos fast path, N patients in chunks (sampling + modes + grid; events timed separately)
    t_grid_total = t_setup = t_event = 0.0
    cmax_max = 0.0
    buf = np.empty((args.chunk, n_t))
    for lo in range(0, args.n, args.chunk):
        hi = min(args.n, lo + args.chunk)
        t0 = time.perf_counter()
        co = course(lo, hi)
        t1 = time.perf_counter()
        out = buf[: hi - lo]
        fp._kernels().grid_kernel(co.lam, co.amp, co.ev_start, co.ev_end, co.ev_kind, 0.0, dt, out)
        t2 = time.perf_counter()
        ev = fp.event_summary(co, t_grid[-1], 60.0)
        t3 = time.perf_counter()
        t_setup += t1 - t0
        t_grid_total += t2 - t1
        t_event += t3 - t2
        cmax_max = max(cmax_max, float(ev.cmax.max()))
    fast_grid = args.n * n_t / t_grid_total
    fast_incl = args.n * n_t / (t_grid_total + t_setup)

    # accuracy vs solve_ivp on 1,000 patients
    pk = fp.sample_pk("fanta-2015", fp.block_normals(1, 0, args.accuracy_n, fp.N_ETA), w)
    ca = fp.grid_concentrations(fp.build_course(pk, events), 0.0, dt, n_t)
    err = 0.0
    for i in range(args.accuracy_n):
        ref = ivp(pk, i)
        err = max(err, float(np.max(np.abs(ca[i] - ref)) / ref.max()))

    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"N={args.n} patients x {n_t} hourly points, chunk {args.chunk}, float64")
    print(f"cores: os.cpu_count()={os.cpu_count()}, numba threads={numba.get_num_threads()}")
    print(
        f"versions: python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}"
    )
    print(f"scipy LSODA (Python RHS, rtol 1e-10, N={args.lsoda_n}): {lsoda:,.0f} conc/s")
    print(f"naive vectorised numpy closed form (N={nn}): {naive:,.0f} conc/s  ({naive / lsoda:,.0f}x LSODA)")
    print(f"Kairos fast path grid kernel: {fast_grid:,.0f} conc/s  ({fast_grid / lsoda:,.0f}x LSODA)")
    print(f"Kairos fast path incl. parameter sampling + modes: {fast_incl:,.0f} conc/s")
    print(f"exact event-based Cmax/Tmax/time-above: {args.n / t_event:,.0f} patients/s")
    print(f"accuracy vs solve_ivp (N={args.accuracy_n}): max|d|/max(c_ref) = {err:.2e}")
    print(f"peak RSS: {rss_gb:.2f} GB")


if __name__ == "__main__":
    main()
