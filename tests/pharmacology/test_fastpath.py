"""Fast path: every number from the model library, exact vs pk.simulate / solve_ivp, exact event summary."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kairos.pharmacology import trials_fastpath as fp
from kairos.pharmacology.pk import sample_parameters, simulate
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route, Subject

DAY = 1440.0
IV6 = tuple(DoseEvent(d * DAY + 540, Drug.ESKETAMINE, Route.IV, 35.0, 40.0) for d in (0, 2, 4, 7, 9, 11))
RAC2 = tuple(DoseEvent(d * DAY, Drug.RACEMIC, Route.IV, 40.0, 40.0) for d in (0, 2))
# one two-device session (devices 5 min apart) and a later 84 mg session: exercises the per-device rule
NASAL = (
    DoseEvent(0.0, Drug.ESKETAMINE, Route.INTRANASAL, 28.0),
    DoseEvent(5.0, Drug.ESKETAMINE, Route.INTRANASAL, 28.0),
    DoseEvent(3 * DAY, Drug.ESKETAMINE, Route.INTRANASAL, 84.0),
)


@pytest.mark.parametrize("events", [IV6, RAC2, NASAL], ids=["esk-iv-course", "racemic-iv", "esk-nasal"])
def test_fast_path_equals_library_simulate(events):
    """Fast-path concentrations == pk.simulate with the same sampled parameters (<= 1e-6 relative)."""
    eta = fp.block_normals(3, 0, 4, fp.N_ETA)
    pc = fp.courses_for(events, eta, weight_kg=82.0)
    t = np.arange(0.0, 14 * DAY, 13.0)
    for i in range(4):
        row = {k: float(v[i]) for k, v in pc.params.items()}
        ref = simulate(pc.model, Subject(weight_kg=82.0), events, t, parameters=row)
        refs = [ref.parent] if ref.parent_s is None else [ref.parent_s, ref.parent_r]
        assert len(refs) == len(pc.courses)
        for course, r in zip(pc.courses, refs, strict=True):
            c = fp.grid_concentrations(course, 0.0, 13.0, t.size)[i]
            assert np.max(np.abs(c - r)) / r.max() <= 1e-6


def test_parameters_are_the_library_iiv():
    """Typical values + published IIV: the fast path's parameter spread matches sample_parameters."""
    pc = fp.courses_for(IV6, fp.block_normals(0, 0, 20_000, fp.N_ETA))
    ref = sample_parameters(pc.model, np.random.default_rng(0), 20_000)
    for k in ("V1", "CL"):
        a, b = np.log(pc.params[k]), np.log(ref[k])
        assert a.mean() == pytest.approx(b.mean(), abs=0.01)
        assert a.std() == pytest.approx(b.std(), rel=0.03)
    assert np.corrcoef(np.log(pc.params["V1"]), np.log(pc.params["CL"]))[0, 1] == pytest.approx(
        np.corrcoef(np.log(ref["V1"]), np.log(ref["CL"]))[0, 1], abs=0.03
    )


@pytest.mark.parametrize(("events", "thr"), [(IV6, 60.0), (NASAL, 40.0)], ids=["iv", "nasal"])
def test_event_summary_exact_vs_dense_evaluation(events, thr):
    pc = fp.courses_for(events, fp.block_normals(4, 0, 3, fp.N_ETA))
    course = pc.courses[0]
    t_end = 13 * DAY
    ev = fp.event_summary(course, t_end, thr)
    step = 0.01
    tf = np.arange(0.0, t_end, step)
    cf = fp.exact_concentrations(course, tf)
    for i in range(3):
        assert ev.cmax[i] >= cf[i].max() - 1e-9
        assert ev.cmax[i] == pytest.approx(cf[i].max(), rel=1e-7)
        assert ev.tmax[i] == pytest.approx(tf[cf[i].argmax()], abs=2 * step)
        n_cross = 2 * len(set(e.start_min // DAY for e in events)) + 2
        assert ev.time_above_min[i] == pytest.approx((cf[i] >= thr).sum() * step, abs=step * n_cross)


@settings(max_examples=60, deadline=None)
@given(
    w=st.lists(st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3), min_size=2, max_size=4),
    gaps=st.lists(st.floats(0.05, 3.0), min_size=4, max_size=4),
)
def test_expsum_zeros_finds_every_sign_change(w, gaps):
    """Generalised-Rolle root finder: every sign change of an exponential sum on a fine grid is found."""
    k = fp._kernels()
    mu = np.cumsum(np.r_[0.0, gaps])[: len(w)]
    w = np.asarray(w)
    n = len(w)
    za, zb = np.empty(n), np.empty(n)
    cnt = k.expsum_zeros(w, mu, 10.0, np.empty((n, n)), np.empty((n, n)), za, zb)
    t = np.linspace(0.0, 10.0, 20_001)
    f = (w[None, :] * np.exp(-mu[None, :] * t[:, None])).sum(axis=1)
    sign_changes = np.nonzero(np.sign(f[1:]) * np.sign(f[:-1]) < 0)[0]
    assert cnt <= n - 1
    assert cnt >= sign_changes.size  # a tangential double zero may be found without a grid sign change
    for z in za[:cnt]:
        assert abs((w * np.exp(-mu * z)).sum()) <= 1e-6 * np.abs(w).sum()


def test_grid_buffer_reuse_and_chunk_invariance():
    eta = fp.block_normals(9, 0, 300, fp.N_ETA)
    whole = fp.grid_concentrations(fp.courses_for(IV6, eta).courses[0], 0.0, 60.0, 337)
    buf = np.full((128, 400), np.nan)
    for lo in range(0, 300, 128):
        co = fp.courses_for(IV6, eta[lo : lo + 128]).courses[0]
        part = fp.grid_concentrations(co, 0.0, 60.0, 337, out=buf)
        np.testing.assert_array_equal(part, whole[lo : lo + 128])


def test_unsupported_route_names_the_pairs():
    with pytest.raises(InputError, match="dose_events"):
        fp.courses_for([DoseEvent(0.0, Drug.RACEMIC, Route.IM, 35.0)], fp.block_normals(0, 0, 2, fp.N_ETA))


def test_fused_setup_equals_numpy_modes():
    """The fused numba setup (Cardano + Sylvester per patient) equals the vectorised numpy/LAPACK path."""
    from kairos.pharmacology.pk import batch_linear_system

    pc = fp.courses_for(IV6, fp.block_normals(21, 0, 5000, fp.N_ETA), weight_kg=60.0)
    system = batch_linear_system(pc.model, Subject(weight_kg=60.0), Drug.ESKETAMINE, pc.params)
    keep = [system.state_names.index(s) for s in ("central", "peripheral1", "peripheral2")]
    K = np.ascontiguousarray(system.K[:, keep][:, :, keep])
    c = np.ascontiguousarray(system.outputs["parent"][:, keep])
    lam, unit = fp.modes(K, c)
    course = pc.courses[0]
    np.testing.assert_allclose(course.lam, lam, rtol=1e-12)
    rate = IV6[0].amount_mg_base / IV6[0].duration_min
    np.testing.assert_allclose(course.amp[:, 0, :], rate * unit[:, :, 0] / lam, rtol=1e-10, atol=0.0)


def test_fused_setup_refuses_coinciding_exponents():
    from types import SimpleNamespace

    K = np.array([[[-0.5, 0.0, 0.0], [0.0, -0.5, 0.0], [0.0, 0.0, -0.5]]])  # triple eigenvalue
    system = SimpleNamespace(K=K, outputs={"parent": np.ones((1, 3))})
    with pytest.raises(ArithmeticError, match="coinciding"):
        fp._modes3(system, [0, 1, 2], [0], [np.ones(1)], np.zeros(1), "parent")


@settings(max_examples=25, deadline=None)
@given(
    t0=st.one_of(st.sampled_from([0.0, 540.0, 580.0, 2 * DAY + 540.0, 20 * DAY]), st.floats(0.0, 5 * DAY)),
    dt=st.one_of(st.sampled_from([1.0, 20.0, 40.0, 60.0]), st.floats(0.5, 300.0)),
    n_t=st.integers(1, 400),
    nasal=st.booleans(),
)
def test_grid_equals_closed_form_anywhere(t0, dt, n_t, nasal):
    """Counted-loop grid kernel == superposition closed form for any grid start/step, incl. points exactly
    on event starts/ends (3-mode specialised kernel for IV, general kernel for intranasal)."""
    events = NASAL if nasal else IV6
    course = fp.courses_for(events, fp.block_normals(5, 0, 3, fp.N_ETA)).courses[0]
    got = fp.grid_concentrations(course, t0, dt, n_t)
    ref = fp.exact_concentrations(course, t0 + np.arange(n_t) * dt)
    scale = max(float(np.abs(ref).max()), 1e-300)
    assert np.max(np.abs(got - ref)) <= 1e-9 * scale
