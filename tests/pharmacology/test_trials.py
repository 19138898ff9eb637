import numpy as np
import pytest
from scipy.integrate import solve_ivp

from kairos.pharmacology import trials_fastpath as fp
from kairos.pharmacology.trials import Regimen, compare, run_trial
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route

DAYS = (0, 2, 4, 7, 9, 11)


def course(drug=Drug.ESKETAMINE):
    return tuple(DoseEvent(d * 1440 + 540, drug, Route.IV, 35.0, 40.0) for d in DAYS)


def _ivp(pk, i, events, t_eval):
    k10, k12, k21 = pk.cl[i] / pk.v1[i], pk.q2[i] / pk.v1[i], pk.q2[i] / pk.v2[i]
    k13, k31 = pk.q3[i] / pk.v1[i], pk.q3[i] / pk.v3[i]

    def rhs(t, x):
        r = sum(
            e.amount_mg_base / e.duration_min
            for e in events
            if e.start_min <= t < e.start_min + e.duration_min
        )
        return [
            r - (k10 + k12 + k13) * x[0] + k21 * x[1] + k31 * x[2],
            k12 * x[0] - k21 * x[1],
            k13 * x[0] - k31 * x[2],
        ]

    bps = sorted(
        {0.0, float(t_eval[-1])}
        | {e.start_min for e in events}
        | {e.start_min + e.duration_min for e in events}
    )
    x = np.zeros(3)
    out = np.full(t_eval.size, np.nan)
    for a, b in zip(bps[:-1], bps[1:], strict=True):
        sel = (t_eval >= a) & (t_eval < b)
        s = solve_ivp(
            rhs,
            (a, b),
            x,
            method="LSODA",
            rtol=1e-11,
            atol=1e-13,
            t_eval=np.r_[t_eval[sel], b],
            first_step=1e-3,
        )
        out[sel] = s.y[0, :-1] / pk.v1[i] * 1000.0
        if b == t_eval[-1]:
            out[-1] = s.y[0, -1] / pk.v1[i] * 1000.0
        x = s.y[:, -1]
    return out


def test_fast_path_matches_solve_ivp():
    pk = fp.sample_pk("fanta-2015", fp.block_normals(3, 0, 5, fp.N_ETA))
    co = fp.build_course(pk, course())
    t = np.arange(337) * 60.0
    c = fp.grid_concentrations(co, 0.0, 60.0, 337)
    for i in range(3):
        ref = _ivp(pk, i, course(), t)
        assert np.max(np.abs(c[i] - ref)) / ref.max() <= 1e-6


def test_event_summary_exact_vs_dense_grid():
    pk = fp.sample_pk("fanta-2015", fp.block_normals(4, 0, 3, fp.N_ETA))
    co = fp.build_course(pk, course())
    ev = fp.event_summary(co, 14 * 1440.0, 60.0)
    tf = np.arange(0, 14 * 1440.0, 0.02)
    cf = fp.exact_concentrations(co, tf)
    for i in range(3):
        assert ev.cmax[i] >= cf[i].max() - 1e-9
        assert ev.cmax[i] == pytest.approx(cf[i].max(), rel=1e-6)
        assert ev.time_above_min[i] == pytest.approx((cf[i] >= 60.0).sum() * 0.02, abs=0.02 * 13)


def test_nasal_surrogate_close_to_reference_table():
    # reference §1.2: Perez-Ruixo 56 mg Cmax 73 ng/mL at 38 min; 84 mg 102 ng/mL at 40 min
    eta = np.zeros((1, fp.N_ETA))
    pk = fp.sample_pk("perez-ruixo-2021-surrogate", eta)
    for dose, cmax in ((56.0, 73.0), (84.0, 102.0)):
        co = fp.build_course(pk, [DoseEvent(0.0, Drug.ESKETAMINE, Route.INTRANASAL, dose)])
        ev = fp.event_summary(co, 600.0, 1.0)
        assert ev.cmax[0] == pytest.approx(cmax, rel=0.2)
        assert 20 <= ev.tmax[0] <= 60


REG = Regimen("iv", course(Drug.RACEMIC), arm="open_label")


def test_chunk_size_invariance():
    a = run_trial(REG, 300, seed=7, chunk_size=300)
    b = run_trial(REG, 300, seed=7, chunk_size=77)
    for k in a.outcomes:
        np.testing.assert_array_equal(a.outcomes[k], b.outcomes[k])


def test_block_normals_do_not_depend_on_range_split():
    whole = fp.block_normals(11, 0, 3000, 4)
    parts = np.vstack([fp.block_normals(11, lo, min(3000, lo + 700), 4) for lo in range(0, 3000, 700)])
    np.testing.assert_array_equal(whole, parts)


def test_dask_equals_local():
    pytest.importorskip("dask")
    a = run_trial(REG, 200, seed=5, chunk_size=64)
    b = run_trial(REG, 200, seed=5, chunk_size=64, backend="dask")
    for k in a.outcomes:
        np.testing.assert_array_equal(a.outcomes[k], b.outcomes[k])


@pytest.mark.jax
def test_jax_matches_local():
    pytest.importorskip("jax", reason="JAX not installed: optional accelerator path not tested")
    a = run_trial(REG, 50, seed=5)
    b = run_trial(REG, 50, seed=5, backend="jax")
    for k in a.outcomes:
        np.testing.assert_allclose(a.outcomes[k], b.outcomes[k], rtol=1e-9, atol=1e-9)


def test_comparison_is_paired_and_summarised():
    single = Regimen("single", course(Drug.RACEMIC)[:1], arm="open_label", endpoint_min=12 * 1440.0 + 540)
    cmp = compare(REG, single, 200, seed=1).to_dict()
    d = cmp["madrs_change_difference_a_minus_b"]
    assert d["ci95"][0] <= d["mean"] <= d["ci95"][1]
    assert d["mean"] < 0  # six infusions improve more than one at the same endpoint


def test_bad_n_rejected():
    with pytest.raises(InputError, match="n must"):
        run_trial(REG, 0)
