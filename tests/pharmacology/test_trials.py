import numpy as np
import pytest
from scipy.integrate import solve_ivp

from kairos.pharmacology import trials_fastpath as fp
from kairos.pharmacology.trials import Regimen, compare, run_trial
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route, Subject

DAYS = (0, 2, 4, 7, 9, 11)


def course(drug=Drug.ESKETAMINE):
    return tuple(DoseEvent(d * 1440 + 540, drug, Route.IV, 35.0, 40.0) for d in DAYS)


def test_fast_path_matches_solve_ivp():
    """Independent check: LSODA on the model library's own K (typical + IIV), 3 patients."""
    from kairos.pharmacology.pk import linear_system

    pc = fp.courses_for(course(), fp.block_normals(3, 0, 3, fp.N_ETA))
    t = np.arange(337) * 60.0
    c = fp.grid_concentrations(pc.courses[0], 0.0, 60.0, 337)
    bps = sorted({0.0, t[-1]} | {e.start_min for e in course()} | {e.start_min + 40.0 for e in course()})
    for i in range(3):
        sys_ = linear_system(
            pc.model, Subject(), Drug.ESKETAMINE, parameters={k: float(v[i]) for k, v in pc.params.items()}
        )
        K = sys_.K
        cen = sys_.state_names.index("central")

        def rhs(tt, x, K=K, cen=cen):
            u = np.zeros(K.shape[0])
            u[cen] = sum(e.amount_mg_base / 40.0 for e in course() if e.start_min <= tt < e.start_min + 40.0)
            return K @ x + u

        x = np.zeros(K.shape[0])
        ref = np.empty(t.size)
        for a, b in zip(bps[:-1], bps[1:], strict=True):
            sel = (t >= a) & (t < b)
            s = solve_ivp(rhs, (a, b), x, method="LSODA", rtol=1e-11, atol=1e-13, t_eval=np.r_[t[sel], b])
            ref[sel] = s.y[:, :-1].T @ sys_.outputs["parent"]
            x = s.y[:, -1]
        ref[-1] = x @ sys_.outputs["parent"]
        assert np.max(np.abs(c[i] - ref)) / ref.max() <= 1e-6


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
