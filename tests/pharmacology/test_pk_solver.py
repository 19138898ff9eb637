"""Exactness of the linear-compartment solver against independent integrators and identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad, solve_ivp
from scipy.linalg import expm

from kairos.pharmacology.pk import LinearSystem, Trajectory, linear_system, simulate, summarize
from kairos.pharmacology.pk.linear import InputChannel, expand_doses
from kairos.pharmacology.types import DoseEvent, Drug, Route, Subject

pytestmark = pytest.mark.db_independent

SUBJECT = Subject(weight_kg=80.0, age_y=65.0)
CASES = [
    ("perez-ruixo-2021", Drug.ESKETAMINE, Route.INTRANASAL, 28.0, 0.0),
    ("perez-ruixo-2021", Drug.ESKETAMINE, Route.ORAL, 84.0, 0.0),
    ("perez-ruixo-2021", Drug.ESKETAMINE, Route.IV, 28.0, 40.0),
    ("fanta-otto-2021", Drug.RACEMIC, Route.IV, 35.0, 40.0),
    ("fanta-otto-2021", Drug.ESKETAMINE, Route.ORAL, 50.0, 0.0),
    ("simons-2022", Drug.ESKETAMINE, Route.SUBLINGUAL, 50.0, 0.0),
    ("simons-2022", Drug.ESKETAMINE, Route.IV, 20.0, 20.0),
    ("domino-1984", Drug.RACEMIC, Route.IV, 35.0, 40.0),
    ("clements-1981", Drug.RACEMIC, Route.IV, 35.0, 0.0),
]


def _ode_reference(system: LinearSystem, events: list[DoseEvent], times: np.ndarray) -> np.ndarray:
    """Independent piecewise DOP853 integration (rtol 1e-12) of the same K and dose inputs."""
    inputs = expand_doses(system, events)
    bounds = sorted({0.0, float(times[-1])} | {i.start for i in inputs} | {i.end for i in inputs})
    bounds = [b for b in bounds if b <= times[-1]]
    x = np.zeros(system.n)
    out = np.zeros((times.size, system.n))
    for a, b in zip(bounds, bounds[1:] + [math.inf], strict=True):
        for i in inputs:
            if i.start == a and i.end == i.start:
                x = x + i.vector
        rate = sum(
            (i.vector / (i.end - i.start) for i in inputs if i.end > i.start and i.start <= a < i.end),
            np.zeros(system.n),
        )
        mask = (times >= a) & (times < b) if math.isfinite(b) else (times >= a)
        if b == bounds[-1] and math.isfinite(b):
            mask |= times == b
        end = b if math.isfinite(b) else a
        if end > a:
            sol = solve_ivp(
                lambda _t, y, r=rate: system.K @ y + r,
                (a, end),
                x,
                method="DOP853",
                rtol=1e-12,
                atol=1e-15,
                dense_output=True,
            )
            if mask.any():
                out[mask] = sol.sol(times[mask]).T
            x = sol.y[:, -1]
        elif mask.any():
            out[mask] = x
    return out


@pytest.mark.parametrize(("model", "drug", "route", "dose", "dur"), CASES)
def test_matches_dop853_to_1e6_relative(
    model: str, drug: Drug, route: Route, dose: float, dur: float
) -> None:
    times = np.array([0.0, 1.0, 3.0, 7.5, 15.0, 30.0, 39.0, 45.0, 60.0, 90.0, 180.0, 360.0, 720.0])
    events = [DoseEvent(0.0, drug, route, dose, dur if route is Route.IV else 0.0)]
    if route is Route.INTRANASAL:
        events += [DoseEvent(5.0, drug, route, dose), DoseEvent(10.0, drug, route, dose)]
    system = linear_system(model, SUBJECT, drug, route)
    ours = Trajectory(system, events).states(times)
    ref = _ode_reference(system, events, times)
    for name, c in system.outputs.items():
        y, r = ours @ c, ref @ c
        scale = max(float(np.max(np.abs(r))), 1e-300)
        np.testing.assert_allclose(y, r, rtol=1e-6, atol=1e-9 * scale, err_msg=f"{model} {name}")


@pytest.mark.parametrize(("model", "drug", "route", "dose", "dur"), CASES)
def test_bolus_matches_scipy_expm(model: str, drug: Drug, route: Route, dose: float, dur: float) -> None:
    system = linear_system(model, SUBJECT, drug, route)
    b = system.input_vector(route, drug, dose)
    # IV / first-order depots are instantaneous here (zero-order lead-ins replaced by boluses):
    chans = {
        r: tuple(InputChannel(c.state, c.fraction, 0.0, c.enantiomer) for c in ch)
        for r, ch in system.inputs.items()
    }
    bolus_system = LinearSystem(system.K, system.state_names, chans, system.outputs, system.enantiomers)
    times = np.array([0.5, 2.0, 10.0, 60.0, 240.0, 1440.0])
    traj = Trajectory(bolus_system, [DoseEvent(0.0, drug, route, dose)])
    ours = traj.states(times)
    for k, t in enumerate(times):
        np.testing.assert_allclose(ours[k], expm(system.K * t) @ b, rtol=1e-9, atol=1e-12 * dose)


def _one_cmt_oral(ka: float, k: float) -> LinearSystem:
    K = np.array([[-ka, 0.0], [ka, -k]])
    return LinearSystem(
        K, ("depot", "central"), {Route.ORAL: (InputChannel(0, 1.0, 0.0),)}, {"parent": np.array([0.0, 1.0])}
    )


@settings(max_examples=40, deadline=None)
@given(
    k=st.floats(1e-3, 0.2),
    rel=st.one_of(st.just(0.0), st.floats(-1e-3, 1e-3), st.sampled_from([1e-15, 1e-12, 1e-9, -1e-7])),
)
def test_near_equal_ka_and_lambda_is_exact(k: float, rel: float) -> None:
    """ka -> k: the Bateman function's 0/0 limit k t e^{-k t}; our expm formulation is Jordan-safe."""
    ka = k * (1.0 + rel)
    traj = Trajectory(_one_cmt_oral(ka, k), [DoseEvent(0.0, Drug.ESKETAMINE, Route.ORAL, 1.0)])
    t = np.array([0.1, 1.0, 10.0, 100.0, 1000.0])
    y = traj.output("parent", t)
    if abs(ka - k) > 1e-4 * k:  # well separated: Bateman formula is well conditioned
        ref = ka / (ka - k) * (np.exp(-k * t) - np.exp(-ka * t))
    else:  # second-order expansion around the confluent limit (error O(d^3) < 1e-12)
        d = ka - k
        ref = ka * t * np.exp(-k * t) * (1 - d * t / 2 + (d * t) ** 2 / 6)
    np.testing.assert_allclose(y, ref, rtol=1e-8, atol=1e-14)
    # AUC_inf = F D / k exactly (independent of ka)
    assert traj.auc_inf("parent") == pytest.approx(1.0 / k, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(rel=st.one_of(st.just(0.0), st.floats(-1e-6, 1e-6), st.floats(-0.05, 0.05)), which=st.integers(0, 2))
def test_effect_site_with_ke0_equal_to_an_eigenvalue_matches_dop853(rel: float, which: int) -> None:
    system = linear_system("domino-1984", Subject(), Drug.RACEMIC, Route.IV)
    lam = np.sort(-np.linalg.eigvals(system.K).real)
    ke0 = float(np.unique(lam)[which]) * (1.0 + rel)
    eff = system.with_effect_site(ke0, "parent_S")
    events = [DoseEvent(0.0, Drug.RACEMIC, Route.IV, 35.0, 40.0)]
    times = np.array([1.0, 10.0, 40.0, 41.0, 60.0, 300.0])
    ours = Trajectory(eff, events).output("effect", times)
    ref = _ode_reference(eff, events, times) @ eff.outputs["effect"]
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_equal_rate_transit_chain_is_jordan_safe() -> None:
    """Simons' 2-compartment metabolism chain has an exactly repeated eigenvalue (defective K)."""
    system = linear_system("simons-2022", Subject(), Drug.ESKETAMINE, Route.IV)
    assert system.modal()[3] > 1e6 or not math.isfinite(system.modal()[3])  # eigen-decomposition unusable
    k = 3.0
    K = np.array([[-k, 0.0, 0.0], [k, -k, 0.0], [0.0, k, -k]])
    chain = LinearSystem(
        K, ("a", "b", "c"), {Route.IV: (InputChannel(0, 1.0, 0.0),)}, {"parent": np.array([0, 0, 1.0])}
    )
    t = np.array([0.1, 0.5, 1.0, 3.0])
    y = Trajectory(chain, [DoseEvent(0.0, Drug.ESKETAMINE, Route.IV, 1.0)]).output("parent", t)
    np.testing.assert_allclose(y, (k * t) ** 2 / 2 * np.exp(-k * t), rtol=1e-12)


@pytest.mark.parametrize(("model", "drug", "route", "dose", "dur"), CASES)
def test_linearity_and_superposition(model: str, drug: Drug, route: Route, dose: float, dur: float) -> None:
    times = np.linspace(0, 720, 97)
    d = dur if route is Route.IV else 0.0
    a = [DoseEvent(0.0, drug, route, dose, d)]
    b = [DoseEvent(130.0, drug, route, dose, d)]
    double = [DoseEvent(0.0, drug, route, 2 * dose, d)]
    ya = simulate(model, SUBJECT, a, times).parent
    yb = simulate(model, SUBJECT, b, times).parent
    if route is not Route.INTRANASAL:  # the per-device effect makes IN dose-nonlinear by design
        np.testing.assert_allclose(
            simulate(model, SUBJECT, double, times).parent, 2 * ya, rtol=1e-10, atol=1e-12
        )
    np.testing.assert_allclose(simulate(model, SUBJECT, a + b, times).parent, ya + yb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("model", "drug", "route", "dose", "dur"), CASES)
def test_mass_balance(model: str, drug: Drug, route: Route, dose: float, dur: float) -> None:
    """Amount in the body + amount eliminated = amount administered into the states, at all times."""
    system = linear_system(model, SUBJECT, drug, route)
    events = [DoseEvent(0.0, drug, route, dose, dur if route is Route.IV else 0.0)]
    traj = Trajectory(system, events)
    inputs = expand_doses(system, events)
    outflow = -system.K.sum(axis=0)  # per-state elimination rate out of the system
    for T in (5.0, 60.0, 600.0, 5000.0):
        in_body = float(traj.states([T])[0].sum())
        eliminated = float(outflow @ traj.integral(T))
        administered = sum(
            float(i.vector.sum()) * (1.0 if i.end == i.start else min(1.0, (T - i.start) / (i.end - i.start)))
            for i in inputs
        )
        assert in_body + eliminated == pytest.approx(administered, rel=1e-9)


@pytest.mark.parametrize(
    ("model", "clearance_l_per_min"),
    [
        ("fanta-otto-2021", 95.2 / 60.0),
        ("domino-1984", 0.4381 * 0.063 * 80.0 / (80.0 / 70.0) ** 0.75 * (80.0 / 70.0) ** 0.75),
        ("clements-1981", 0.0109 * 1.7522 * 80.0),
        ("simons-2022", 1.48 * (80.0 / 70.0) ** 0.75),
    ],
)
def test_auc_times_clearance_equals_dose(model: str, clearance_l_per_min: float) -> None:
    drug = Drug.RACEMIC if model in ("domino-1984", "clements-1981") else Drug.ESKETAMINE
    if model == "fanta-otto-2021":
        clearance_l_per_min *= (80.0 / 70.0) ** 0.75
    res = simulate(model, SUBJECT, [DoseEvent(0.0, drug, Route.IV, 30.0, 40.0)], [0.0, 60.0])
    auc_mg_min_per_l = summarize(res).auc_inf_ng_h_per_ml * 60.0 / 1000.0
    assert auc_mg_min_per_l * clearance_l_per_min == pytest.approx(30.0, rel=1e-9)


def test_perez_ruixo_auc_times_hepatic_clearance_equals_f_dose() -> None:
    p = {"Qh": 151.0 - 2.19 * 5.0, "Vh": 101.0, "k": 1.11 + 2.77}
    clint = p["Vh"] * p["k"]
    cl = p["Qh"] * clint / (p["Qh"] + clint)  # well-stirred, reference §1.2
    f_oral = 0.64 * (1 - clint / (p["Qh"] + clint))
    res = simulate(
        "perez-ruixo-2021", SUBJECT, [DoseEvent(0.0, Drug.ESKETAMINE, Route.ORAL, 84.0)], [0.0, 60.0]
    )
    auc = summarize(res).auc_inf_ng_h_per_ml / 1000.0  # mg.h/L
    assert auc * cl == pytest.approx(f_oral * 84.0, rel=1e-9)


@pytest.mark.parametrize(("model", "drug", "route", "dose", "dur"), CASES)
def test_auc_equals_quadrature_and_cmax_is_continuous_max(
    model: str, drug: Drug, route: Route, dose: float, dur: float
) -> None:
    events = [DoseEvent(0.0, drug, route, dose, dur if route is Route.IV else 0.0)]
    if route is Route.INTRANASAL:
        events.append(DoseEvent(5.0, drug, route, dose))
    res = simulate(model, SUBJECT, events, [0.0, 30.0, 600.0])
    traj = res.trajectory
    s = summarize(res)
    bps = sorted({float(b) for b in traj.bounds if 0 < b < 600})
    quad_auc, _ = quad(
        lambda t: float(traj.state_at(t) @ traj.system.outputs["parent"]),
        0,
        600,
        points=bps or None,
        limit=400,
        epsabs=0,
        epsrel=1e-11,
    )
    assert s.auc_ng_h_per_ml == pytest.approx(quad_auc / 60.0, rel=1e-7)
    fine = np.linspace(0, 600, 12001)
    grid_max = float(np.max(traj.output("parent", fine)))
    assert s.cmax_ng_per_ml >= grid_max * (1 - 1e-12)
    assert s.cmax_ng_per_ml == pytest.approx(grid_max, rel=1e-4)
    # at an interior smooth maximum the exact derivative vanishes
    if not any(abs(s.tmax_min - b) < 1e-6 for b in [0.0, *bps]):
        x = traj.state_at(s.tmax_min)
        k = traj._segment(s.tmax_min)
        dy = float(traj.system.outputs["parent"] @ (traj.system.K @ x + traj.rate[k]))
        assert abs(dy) < 1e-6 * s.cmax_ng_per_ml


def test_outputs_never_nan_or_negative() -> None:
    res = simulate(
        "simons-2022",
        Subject(),
        [DoseEvent(0.0, Drug.ESKETAMINE, Route.SUBLINGUAL, 50.0)],
        np.linspace(0, 1e5, 50),
    )
    for arr in (res.parent, res.metabolite):
        assert arr is not None
        assert np.all(np.isfinite(arr))
        assert np.all(arr >= 0)
