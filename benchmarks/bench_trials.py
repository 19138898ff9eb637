"""Benchmark of the virtual-trial fast path (never run in CI).

Course: 6 × 0.5 mg/kg S-ketamine IV over 40 min, Mon-Wed-Fri for two weeks (09:00), 3-compartment
S-ketamine from the model library (``fanta-otto-2021``: Fanta 2015 disposition, Otto 2021 IIV), hourly grid
over 14 days (337 points), every patient with own parameters, float64. In the same run: a 1,000-patient
accuracy check against scipy ``solve_ivp`` (LSODA, rtol 1e-10) on the library's own rate matrix, exact
event-based Cmax / time above threshold, and peak RSS.
Usage: ``python benchmarks/bench_trials.py [N] [--chunk C] [--accuracy-n A]``.
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
    ap.add_argument("--threshold", type=float, default=60.0)
    args = ap.parse_args()

    import numba
    import scipy
    from scipy.integrate import solve_ivp

    from kairos.pharmacology import trials_fastpath as fp
    from kairos.pharmacology.pk import linear_system
    from kairos.pharmacology.types import DoseEvent, Drug, Route, Subject

    w = 70.0
    events = [
        DoseEvent(d * 1440 + 540, Drug.ESKETAMINE, Route.IV, 0.5 * w, 40.0) for d in (0, 2, 4, 7, 9, 11)
    ]
    n_t, dt = 337, 60.0
    t_grid = np.arange(n_t) * dt
    load_before = os.getloadavg()

    def chunk(lo: int, hi: int) -> fp.PatientCourses:
        return fp.courses_for(events, fp.block_normals(1, lo, hi, fp.N_ETA), w)

    def lsoda(pc: fp.PatientCourses, i: int) -> np.ndarray:
        row = {k: float(v[i]) for k, v in pc.params.items()}
        sys_ = linear_system(pc.model, Subject(weight_kg=w), Drug.ESKETAMINE, parameters=row)
        K, cout = sys_.K, sys_.outputs["parent"]
        cen = sys_.state_names.index("central")

        def rhs(t: float, x: np.ndarray) -> np.ndarray:
            u = np.zeros(K.shape[0])
            u[cen] = sum(e.amount_mg_base / 40.0 for e in events if e.start_min <= t < e.start_min + 40.0)
            return K @ x + u

        bps = sorted({0.0, t_grid[-1]} | {e.start_min for e in events} | {e.start_min + 40.0 for e in events})
        x = np.zeros(K.shape[0])
        out = np.empty(n_t)
        for a, b in zip(bps[:-1], bps[1:], strict=True):
            sel = (t_grid >= a) & (t_grid < b)
            s = solve_ivp(
                rhs, (a, b), x, method="LSODA", rtol=1e-10, atol=1e-12, t_eval=np.r_[t_grid[sel], b]
            )
            out[sel] = s.y[:, :-1].T @ cout
            x = s.y[:, -1]
        out[-1] = x @ cout
        return out

    # warm-up (JIT compile / cache load)
    c0 = chunk(0, 64).courses[0]
    fp.grid_concentrations(c0, 0.0, dt, n_t)
    fp.event_summary(c0, t_grid[-1], args.threshold)

    # 1) accuracy + LSODA speed on the first accuracy_n patients (same patients as the fast path)
    pc = chunk(0, args.accuracy_n)
    ca = fp.grid_concentrations(pc.courses[0], 0.0, dt, n_t)
    err = 0.0
    t0 = time.perf_counter()
    for i in range(args.accuracy_n):
        ref = lsoda(pc, i)
        err = max(err, float(np.max(np.abs(ca[i] - ref)) / ref.max()))
    lsoda_rate = args.accuracy_n * n_t / (time.perf_counter() - t0)

    # 2) naive vectorised numpy closed form
    nn = 20_000
    cn = chunk(0, nn).courses[0]
    t0 = time.perf_counter()
    fp.exact_concentrations(cn, t_grid)
    naive = nn * n_t / (time.perf_counter() - t0)

    # 3) fast path, N patients in chunks; one reused float64 output buffer
    buf = np.empty((args.chunk, n_t))
    t_setup = t_grid_k = t_event = 0.0
    cmax_hi = 0.0
    above_mean = 0.0
    for lo in range(0, args.n, args.chunk):
        hi = min(args.n, lo + args.chunk)
        t0 = time.perf_counter()
        co = chunk(lo, hi).courses[0]
        t1 = time.perf_counter()
        fp.grid_concentrations(co, 0.0, dt, n_t, out=buf)
        t2 = time.perf_counter()
        ev = fp.event_summary(co, t_grid[-1], args.threshold)
        t3 = time.perf_counter()
        t_setup += t1 - t0
        t_grid_k += t2 - t1
        t_event += t3 - t2
        cmax_hi = max(cmax_hi, float(ev.cmax.max()))
        above_mean += float(ev.time_above_min.sum())
    n_conc = args.n * n_t
    fast = n_conc / t_grid_k
    fast_incl = n_conc / (t_grid_k + t_setup)
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    load_after = os.getloadavg()

    print(
        f"N={args.n:,} patients x {n_t} hourly points = {n_conc:,} concentrations, chunk {args.chunk}, float64"
    )
    print(
        f"cores: os.cpu_count()={os.cpu_count()}, affinity={len(os.sched_getaffinity(0))}, numba threads={numba.get_num_threads()}"
    )
    print(f"load average before {load_before[0]:.2f} after {load_after[0]:.2f} (1 min)")
    print(
        f"versions: python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}"
    )
    print(f"scipy LSODA (library K, rtol 1e-10, N={args.accuracy_n}): {lsoda_rate:,.0f} conc/s")
    print(
        f"naive vectorised numpy closed form (N={nn}): {naive:,.0f} conc/s  ({naive / lsoda_rate:,.0f}x LSODA)"
    )
    print(f"fast path grid kernel: {fast:,.0f} conc/s  ({fast / lsoda_rate:,.0f}x LSODA)")
    print(f"fast path incl. parameter sampling + library K + modes: {fast_incl:,.0f} conc/s")
    print(
        f"exact event-based Cmax/Tmax/time above {args.threshold:g} ng/mL: {args.n / t_event:,.0f} patients/s "
        f"(max Cmax {cmax_hi:.1f} ng/mL, mean time above {above_mean / args.n:.1f} min)"
    )
    print(f"accuracy vs solve_ivp (N={args.accuracy_n}): max|d|/max(c_ref) = {err:.2e}")
    print(f"peak RSS: {rss_gb:.2f} GB")


if __name__ == "__main__":
    main()
