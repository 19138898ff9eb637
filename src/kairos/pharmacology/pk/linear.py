"""Exact solution of linear compartment models: dx/dt = K x + b(t), y = c . x.

No ODE solver is involved. Between two consecutive *event boundaries* (dose times, ends of zero-order
inputs) the input b is constant, so the state moves exactly by

    x(t0 + d) = E(d) x(t0) + Phi(d) b,           E(d) = exp(K d),  Phi(d) = int_0^d exp(K s) ds,
    int_0^d x(t0 + s) ds = Phi(d) x(t0) + Psi(d) b,  Psi(d) = int_0^d Phi(s) ds,

and E, Phi, Psi are read off ONE matrix exponential of the block matrix [[K, I, 0], [0, 0, I], [0, 0, 0]] d
(Van Loan 1978; the phi-functions of exponential integrators). This formulation is Jordan-safe: it never
divides by eigenvalue differences, so coinciding or nearly coinciding eigenvalues (ka = lambda, ke0 =
lambda, equal-rate transit chains) are handled exactly (scipy's Pade expm, ~1e-15 relative). Outputs are
sums of exponentials evaluated through these exact propagators; every distinct step length needs one
expm, cached, so a uniform time grid costs a handful of expm calls plus one mat-vec per point.

Exact derived quantities:
* AUC over [0, T]: the segment integrals above (no quadrature).
* AUC to infinity: after the last input has ended, int_T^inf c x = -c K^-1 x(T).
* Cmax/Tmax: y'(t) = c (K x(t) + b) is evaluated exactly; maxima are located on the continuous curve by
  bracketing sign changes of y' on a dense sub-grid of every segment and refining with Brent's method;
  jumps (boluses) and kinks (input switches) are covered by checking segment end points.

For vectorised many-subject work, :meth:`LinearSystem.modal` returns the eigen-decomposition (sums of
exponentials) with its condition number so callers can choose the closed form when it is well conditioned.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.linalg import expm
from scipy.optimize import brentq

from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route

FloatArray = npt.NDArray[np.float64]

# Share of one dose event that reaches each enantiomer block of a system.
DOSE_SHARE: dict[Drug, dict[str, float]] = {
    Drug.ESKETAMINE: {"S": 1.0, "R": 0.0},
    Drug.ARKETAMINE: {"S": 0.0, "R": 1.0},
    Drug.RACEMIC: {"S": 0.5, "R": 0.5},  # racemate is 50:50 by definition
}


#: intranasal devices of one session: consecutive intranasal events at most this far apart (min)
INTRANASAL_SESSION_GAP_MIN = 30.0


@dataclass(frozen=True, slots=True)
class InputChannel:
    """Where (part of) a dose goes.

    ``fraction`` multiplies the enantiomer's share of the dose (bioavailability-type fraction into
    ``state``). ``duration_min``: ``None`` = take the dose event's own duration (IV infusions), ``0`` =
    instantaneous, ``> 0`` = zero-order input over that time (e.g. a zero-order lead-in to a depot).
    ``fraction_after_first_device``: when set, milligrams beyond the first ``device_mg`` of an intranasal
    session use this fraction instead (Perez-Ruixo per-spray dose effect).
    """

    state: int
    fraction: float
    duration_min: float | None = 0.0
    enantiomer: str = "S"
    fraction_after_first_device: float | None = None
    device_mg: float = 28.0


@dataclass(frozen=True)
class LinearSystem:
    """A linear time-invariant compartment system in amounts (mg) and minutes.

    ``K``: rate matrix (1/min), ``dK/dt`` convention ``dx/dt = K x``. ``inputs``: per route, the input
    channels. ``outputs``: per analyte name, a row vector mapping amounts to ng/mL.
    """

    K: FloatArray
    state_names: tuple[str, ...]
    inputs: Mapping[Route, tuple[InputChannel, ...]]
    outputs: Mapping[str, FloatArray]
    enantiomers: tuple[str, ...] = ("S",)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.K.shape[-1])

    def input_vector(self, route: Route, drug: Drug, amount_mg: float = 1.0) -> FloatArray:
        """Amount reaching each state per ``amount_mg`` of a first-device dose (all channels summed)."""
        b = np.zeros(self.n)
        for ch in self.inputs[route]:
            b[ch.state] += amount_mg * DOSE_SHARE[drug][ch.enantiomer] * ch.fraction
        return b

    def output_vector(self, name: str) -> FloatArray:
        return self.outputs[name]

    def with_effect_site(
        self, ke0_per_min: float, source: str = "parent", name: str = "effect"
    ) -> LinearSystem:
        """Append an effect compartment dCe/dt = ke0 (C_source - Ce) (Ce in the source's units)."""
        if not (math.isfinite(ke0_per_min) and ke0_per_min > 0):
            raise InputError(f"ke0_per_min must be a positive finite number (got {ke0_per_min!r})")
        n = self.n
        K = np.zeros((n + 1, n + 1))
        K[:n, :n] = self.K
        K[n, :n] = ke0_per_min * self.outputs[source]
        K[n, n] = -ke0_per_min
        outputs = {k: np.append(v, 0.0) for k, v in self.outputs.items()}
        e = np.zeros(n + 1)
        e[n] = 1.0
        outputs[name] = e
        return LinearSystem(K, (*self.state_names, name), self.inputs, outputs, self.enantiomers)

    def modal(self) -> tuple[FloatArray, FloatArray, FloatArray, float]:
        """Eigen-decomposition ``K = V diag(lam) V^-1`` -> (lam, V, V^-1, cond(V)).

        Sums of exponentials: ``c exp(K t) b = sum_i (c V)_i (V^-1 b)_i exp(lam_i t)``. Only use it when
        ``cond(V)`` is moderate (say < 1e6); near-coinciding eigenvalues make V ill-conditioned, and
        :class:`Trajectory` (expm-based) is the exact fallback.
        """
        if "modal" not in self._cache:
            lam, V = np.linalg.eig(self.K)
            # compartment cascades have real spectra; a complex pair means a (numerically) defective
            # eigenvalue (e.g. an equal-rate transit chain): report cond = inf so callers use expm
            defective = bool(np.max(np.abs(lam.imag)) > 1e-12 * max(1.0, float(np.max(np.abs(lam.real)))))
            lam = lam.real
            V = V.real
            cond = math.inf if defective else float(np.linalg.cond(V))
            Vinv = np.linalg.inv(V) if math.isfinite(cond) else np.full_like(V, np.nan)
            self._cache["modal"] = (lam, V, Vinv, cond)
        result: tuple[FloatArray, FloatArray, FloatArray, float] = self._cache["modal"]
        return result

    def propagators(self, d: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(E, Phi, Psi) for a step of ``d`` minutes (one 3n x 3n expm), cached by step length."""
        key = round(d, 12)
        cache: dict[float, tuple[FloatArray, FloatArray, FloatArray]] = self._cache.setdefault("prop3", {})
        hit = cache.get(key)
        if hit is None:
            n = self.n
            M = np.zeros((3 * n, 3 * n))
            M[:n, :n] = self.K
            M[:n, n : 2 * n] = np.eye(n)
            M[n : 2 * n, 2 * n :] = np.eye(n)
            X = expm(M * key)
            hit = (X[:n, :n], X[:n, n : 2 * n], X[:n, 2 * n :])
            if len(cache) > 4096:
                cache.clear()
            cache[key] = hit
        return hit

    def step(self, d: float) -> tuple[FloatArray, FloatArray]:
        """(E, Phi) for a step of ``d`` minutes (one 2n x 2n expm, cheaper), cached by step length."""
        key = round(d, 12)
        cache: dict[float, tuple[FloatArray, FloatArray]] = self._cache.setdefault("prop2", {})
        hit = cache.get(key)
        if hit is None:
            n = self.n
            M = np.zeros((2 * n, 2 * n))
            M[:n, :n] = self.K
            M[:n, n:] = np.eye(n)
            X = expm(M * key)
            hit = (X[:n, :n], X[:n, n:])
            if len(cache) > 4096:
                cache.clear()
            cache[key] = hit
        return hit


@dataclass(frozen=True, slots=True)
class _Input:
    start: float
    end: float  # == start for a bolus
    vector: FloatArray  # amount (bolus) or total amount spread over [start, end]


def events_with_session_prior(
    system: LinearSystem, events: Sequence[DoseEvent]
) -> Iterator[tuple[DoseEvent, float]]:
    """Dose events in time order, each with the mg of its drug already given earlier in the same intranasal
    session (devices of one session are consecutive intranasal events <= INTRANASAL_SESSION_GAP_MIN apart;
    the per-device absorption split needs it); 0 for other routes. Refuses a route the model lacks."""
    session_mg: dict[Drug, float] = {}
    last_in_time: dict[Drug, float] = {}
    for ev in sorted(events, key=lambda e: e.start_min):
        if ev.route not in system.inputs:
            raise InputError(f"route {ev.route.value!r} is not available in this model")
        prior = 0.0
        if ev.route is Route.INTRANASAL:
            if ev.drug in last_in_time and ev.start_min - last_in_time[ev.drug] <= INTRANASAL_SESSION_GAP_MIN:
                prior = session_mg[ev.drug]
            session_mg[ev.drug] = prior + ev.amount_mg_base
            last_in_time[ev.drug] = ev.start_min
        yield ev, prior


def expand_doses(system: LinearSystem, events: Sequence[DoseEvent]) -> list[_Input]:
    """Turn dose events into bolus / zero-order inputs on states (per-device session logic included)."""
    out: list[_Input] = []
    for ev, prior in events_with_session_prior(system, events):
        for ch in system.inputs[ev.route]:
            share = DOSE_SHARE[ev.drug][ch.enantiomer]
            if share == 0.0 or ev.amount_mg_base == 0.0:
                continue
            if ch.fraction_after_first_device is None:
                amount = ev.amount_mg_base * ch.fraction
            else:
                first = max(0.0, min(ev.amount_mg_base, ch.device_mg - prior))
                amount = first * ch.fraction + (ev.amount_mg_base - first) * ch.fraction_after_first_device
            amount *= share
            if amount == 0.0:
                continue
            dur = ev.duration_min if ch.duration_min is None else ch.duration_min
            v = np.zeros(system.n)
            v[ch.state] = amount
            out.append(_Input(ev.start_min, ev.start_min + dur, v))
    return out


# absolute sub-grid offsets (min) near every segment start, where fast exponentials act
_GEO = np.array([1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0])


class Trajectory:
    """Exact state trajectory of a :class:`LinearSystem` under a list of dose events."""

    def __init__(self, system: LinearSystem, events: Sequence[DoseEvent]) -> None:
        self.system = system
        inputs = expand_doses(system, events)
        n = system.n
        bounds = sorted({0.0} | {i.start for i in inputs} | {i.end for i in inputs})
        self.bounds = np.asarray(bounds, dtype=float)
        nb = len(bounds)
        idx = {b: k for k, b in enumerate(bounds)}
        bolus = np.zeros((nb, n))
        rate = np.zeros((nb, n))  # constant input rate on segment [bounds[k], bounds[k+1])
        for inp in inputs:
            if inp.end == inp.start:
                bolus[idx[inp.start]] += inp.vector
            else:
                r = inp.vector / (inp.end - inp.start)
                rate[idx[inp.start] : idx[inp.end]] += r
        self.rate = rate
        # state just after each boundary (boluses applied), and cumulative integral of x up to it
        x_plus = np.zeros((nb, n))
        cum = np.zeros((nb, n))
        x = np.zeros(n)
        acc = np.zeros(n)
        for k in range(nb):
            x = x + bolus[k]
            x_plus[k] = x
            cum[k] = acc
            if k + 1 < nb:
                E, P, S = system.propagators(bounds[k + 1] - bounds[k])
                acc = acc + P @ x + S @ rate[k]
                x = E @ x + P @ rate[k]
        self.x_plus = x_plus
        self.cum = cum

    # -- evaluation --------------------------------------------------------------------------------
    def _segment(self, t: float) -> int:
        return int(np.searchsorted(self.bounds, t, side="right") - 1)

    def state_at(self, t: float) -> FloatArray:
        k = self._segment(t)
        E, P = self.system.step(t - self.bounds[k])
        result: FloatArray = E @ self.x_plus[k] + P @ self.rate[k]
        return result

    def states(self, times: Iterable[float]) -> FloatArray:
        """States at sorted non-negative ``times`` (right-continuous at boluses), by exact stepping."""
        t_arr = np.asarray(list(times), dtype=float)
        out = np.zeros((t_arr.size, self.system.n))
        if t_arr.size == 0:
            return out
        order = np.argsort(t_arr, kind="stable")
        prev_t = math.nan
        prev_k = -1
        x = np.zeros(self.system.n)
        for j in order:
            t = float(t_arr[j])
            k = self._segment(t)
            if k != prev_k:
                base_t, x = float(self.bounds[k]), self.x_plus[k]
            else:
                base_t = prev_t
            d = t - base_t
            if d > 0:
                E, P = self.system.step(d)
                x = E @ x + P @ self.rate[k]
            out[j] = x
            prev_t, prev_k = t, k
        return out

    def output(self, name: str, times: Iterable[float]) -> FloatArray:
        result: FloatArray = self.states(times) @ self.system.outputs[name]
        return result

    def integral(self, T: float) -> FloatArray:
        """Exact integral of the state vector over [0, T] (mg.min)."""
        k = self._segment(T)
        _, P, S = self.system.propagators(T - self.bounds[k])
        result: FloatArray = self.cum[k] + P @ self.x_plus[k] + S @ self.rate[k]
        return result

    def auc(self, name: str, T: float) -> float:
        """Exact AUC of output ``name`` over [0, T] in (output units).min."""
        return float(self.system.outputs[name] @ self.integral(T))

    def auc_inf(self, name: str) -> float:
        """Exact AUC over [0, inf): integral to the last boundary plus -c K^-1 x after it."""
        t_last = float(self.bounds[-1])
        tail = -np.linalg.solve(self.system.K, self.x_plus[-1])
        return float(self.system.outputs[name] @ (self.integral(t_last) + tail))

    # -- continuous maximum ------------------------------------------------------------------------
    def cmax(self, name: str, T: float, n_sub: int = 240) -> tuple[float, float]:
        """Continuous maximum of output ``name`` over [0, T] -> (cmax, tmax)."""
        c = self.system.outputs[name]
        K = self.system.K
        best_c, best_t = -math.inf, 0.0

        def consider(val: float, t: float) -> None:
            nonlocal best_c, best_t
            if val > best_c * (1 + 1e-13) + 1e-300 or (val >= best_c and t < best_t):
                best_c, best_t = val, t

        for k, t0 in enumerate(self.bounds):
            t0 = float(t0)
            if t0 > T:
                break
            t1 = float(self.bounds[k + 1]) if k + 1 < len(self.bounds) else T
            t1 = min(t1, T)
            x0 = self.x_plus[k]
            b = self.rate[k]
            consider(float(c @ x0), t0)
            L = t1 - t0
            if L <= 0:
                continue
            # sub-grid: geometric near the segment start (fast exponentials), then uniform
            h = L / n_sub
            geo = _GEO[_GEO < h]  # absolute offsets, shared (cached) by all segments
            uni = np.linspace(0.0, L, n_sub + 1)[1:]
            taus = np.unique(np.concatenate([geo, uni]))
            xs = np.empty((taus.size, x0.size))
            prev, x = 0.0, x0
            for i, tau in enumerate(taus):
                E, P = self.system.step(float(tau - prev))
                x = E @ x + P @ b
                xs[i] = x
                prev = float(tau)
            ys = xs @ c
            dys = (xs @ K.T + b) @ c
            consider(float(ys[-1]), t1)
            dy0 = float(c @ (K @ x0 + b))
            all_tau = np.concatenate([[0.0], taus])
            all_x = np.vstack([x0, xs])
            all_dy = np.concatenate([[dy0], dys])
            for i in range(all_tau.size - 1):
                if all_dy[i] > 0 and all_dy[i + 1] <= 0:
                    xa, ta = all_x[i], float(all_tau[i])

                    def dy(tau: float, xa: FloatArray = xa, ta: float = ta, b: FloatArray = b) -> float:
                        E, P = self.system.step(tau - ta)
                        return float(c @ (K @ (E @ xa + P @ b) + b))

                    tb = float(all_tau[i + 1])
                    if all_dy[i + 1] == 0:
                        root = tb
                    else:
                        root = brentq(dy, ta, tb, xtol=1e-9, rtol=1e-13, maxiter=200)
                    E, P = self.system.step(root - ta)
                    consider(float(c @ (E @ xa + P @ b)), t0 + root)
            # safety net: the best sampled point (catches a max+min pair inside one sub-interval)
            j = int(np.argmax(ys))
            consider(float(ys[j]), t0 + float(taus[j]))
        return best_c, best_t


def block_diagonal(systems: Sequence[LinearSystem], names: Sequence[str]) -> LinearSystem:
    """Stack independent systems (e.g. S and R enantiomers) into one block-diagonal system.

    Outputs of equal name are summed (total ketamine = S + R); each block's outputs also stay available
    as ``"<output>_<block name>"``. Input channels keep their enantiomer tag.
    """
    n_tot = sum(s.n for s in systems)
    shape = tuple(np.broadcast_shapes(*(s.K.shape[:-2] for s in systems)))  # () unless batched (N, n, n)
    K = np.zeros((*shape, n_tot, n_tot))
    state_names: list[str] = []
    inputs: dict[Route, list[InputChannel]] = {}
    outputs: dict[str, FloatArray] = {}
    off = 0
    for s, nm in zip(systems, names, strict=True):
        K[..., off : off + s.n, off : off + s.n] = s.K
        state_names += [f"{x}_{nm}" for x in s.state_names]
        for r, chans in s.inputs.items():
            inputs.setdefault(r, []).extend(
                InputChannel(
                    ch.state + off,
                    ch.fraction,
                    ch.duration_min,
                    ch.enantiomer,
                    ch.fraction_after_first_device,
                    ch.device_mg,
                )
                for ch in chans
            )
        for o, vec in s.outputs.items():
            full = np.zeros((*shape, n_tot))
            full[..., off : off + s.n] = vec
            outputs[f"{o}_{nm}"] = full
            outputs[o] = outputs.get(o, np.zeros((*shape, n_tot))) + full
        off += s.n
    enants = tuple(dict.fromkeys(e for s in systems for e in s.enantiomers))
    return LinearSystem(K, tuple(state_names), {r: tuple(c) for r, c in inputs.items()}, outputs, enants)
