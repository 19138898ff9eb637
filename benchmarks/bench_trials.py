"""Benchmark of the virtual-trial fast path (never run in CI).

Course: 6 × 0.5 mg/kg S-ketamine IV over 40 min, Mon-Wed-Fri for two weeks (09:00), 3-compartment
S-ketamine from the model library (``fanta-otto-2021``: Fanta 2015 disposition, Otto 2021 IIV), hourly grid
over 14 days (337 points), every patient with own parameters, float64. In the same run: a 1,000-patient
accuracy check against scipy ``solve_ivp`` (LSODA, rtol 1e-10) on the library's own rate matrix, exact
event-based Cmax / time above threshold, and peak RSS.
End-to-end = standard normals (chunk-invariant blocks) + library parameters (typical values + IIV) +
library builder on arrays + fused numba setup (eigenvalues, amplitudes) + grid; each stage timed.
Usage: ``python benchmarks/bench_trials.py [N] [--chunk C] [--accuracy-n A] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kairos.pharmacology.trials_fastpath import ModeCourse


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=65_536)
    ap.add_argument("--accuracy-n", type=int, default=1000)
    ap.add_argument("--threshold", type=float, default=60.0)
    ap.add_argument(
        "--repeat", type=int, default=3, help="timed passes over the N patients (median reported)"
    )
    ap.add_argument(
        "--jax-n",
        type=int,
        default=16_384,
        help="patients for the optional JAX grid, timed against the numba grid on the same patients (0: skip)",
    )
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

    # 3) fast path, N patients in chunks; one reused float64 output buffer; whole pipeline timed per stage
    buf = np.empty((args.chunk, n_t))
    w_subject = Subject(weight_kg=w)
    model = fp.model_for(events)

    def run_once() -> dict[str, float]:
        st = {"normals": 0.0, "params": 0.0, "setup": 0.0, "grid": 0.0, "event": 0.0}
        cmax_hi = above_sum = 0.0
        load0 = os.getloadavg()[0]
        for lo in range(0, args.n, args.chunk):
            hi = min(args.n, lo + args.chunk)
            t0 = time.perf_counter()
            z = fp.block_normals(1, lo, hi, fp.N_ETA)
            t1 = time.perf_counter()
            params = fp.patient_parameters(model, z)
            t2 = time.perf_counter()
            co = fp.build_course(model, params, events, subject=w_subject)
            t3 = time.perf_counter()
            fp.grid_concentrations(co, 0.0, dt, n_t, out=buf)
            t4 = time.perf_counter()
            ev = fp.event_summary(co, t_grid[-1], args.threshold)
            t5 = time.perf_counter()
            for k, v in zip(st, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                st[k] += v
            cmax_hi = max(cmax_hi, float(ev.cmax.max()))
            above_sum += float(ev.time_above_min.sum())
        st["load0"], st["load1"] = load0, os.getloadavg()[0]
        st["cmax_hi"], st["above_mean"] = cmax_hi, above_sum / args.n
        return st

    n_conc = args.n * n_t
    runs = [run_once() for _ in range(args.repeat)]
    for r in runs:
        r["e2e"] = n_conc / (r["normals"] + r["params"] + r["setup"] + r["grid"])
        r["grid_rate"] = n_conc / r["grid"]
    med = sorted(runs, key=lambda r: r["e2e"])[len(runs) // 2]
    fast, fast_incl = med["grid_rate"], med["e2e"]
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
    for i, r in enumerate(runs):
        us = {k: r[k] / args.n * 1e6 for k in ("normals", "params", "setup", "grid", "event")}
        print(
            f"run {i + 1} (load {r['load0']:.2f} -> {r['load1']:.2f}): end-to-end {r['e2e']:,.0f} conc/s, "
            f"grid {r['grid_rate']:,.0f} conc/s; us/patient "
            + ", ".join(f"{k} {v:.3f}" for k, v in us.items())
        )
    print(f"median run: fast path grid kernel: {fast:,.0f} conc/s  ({fast / lsoda_rate:,.0f}x LSODA)")
    print(
        f"median run: end-to-end (normals + library parameters + library K + fused modes + grid): {fast_incl:,.0f} conc/s"
    )
    print(
        f"exact event-based Cmax/Tmax/time above {args.threshold:g} ng/mL: {args.n / med['event']:,.0f} patients/s "
        f"(max Cmax {med['cmax_hi']:.1f} ng/mL, mean time above {med['above_mean']:.1f} min)"
    )
    print(f"accuracy vs solve_ivp (N={args.accuracy_n}): max|d|/max(c_ref) = {err:.2e}")
    print(f"peak RSS: {rss_gb:.2f} GB")
    if args.jax_n > 0:
        jax_section(chunk(0, args.jax_n).courses[0], dt, n_t)


def jax_section(course: ModeCourse, dt: float, n_t: int) -> None:
    """The optional JAX grid (``backend="jax"``) on whatever device JAX finds, against the numba grid on the
    same patients in the same run. Best of 3 after a compile/warm-up call."""
    try:
        import jax
    except ImportError:
        print("JAX grid: not run (jax not installed)")
        return
    from kairos.pharmacology import trials
    from kairos.pharmacology import trials_fastpath as fp

    grid = trials._jax_grid()
    n = course.lam.shape[0]
    ref = fp.grid_concentrations(course, 0.0, dt, n_t)
    got = grid(course, 0.0, dt, n_t)  # warm-up (trace + compile)
    diff = float(np.max(np.abs(got - ref)) / np.max(ref))

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    t_jax = best(lambda: grid(course, 0.0, dt, n_t))
    t_numba = best(lambda: fp.grid_concentrations(course, 0.0, dt, n_t))
    devices = ", ".join(str(d) for d in jax.devices())
    print(
        f"JAX grid (jax {jax.__version__}, devices: {devices}), N={n:,}: {n * n_t / t_jax:,.0f} conc/s; "
        f"numba grid, same patients: {n * n_t / t_numba:,.0f} conc/s (JAX/numba {t_numba / t_jax:.2f}); "
        f"max|d|/max(c) = {diff:.1e}"
    )


if __name__ == "__main__":
    main()
