import numpy as np
import pytest

from kairos.pharmacology import calibration as cal
from kairos.pharmacology import response as resp


@pytest.fixture(scope="module")
def stats():
    sc = cal.build_scenarios(n=1024)
    return cal.model_statistics(sc, resp.params_values())


REPRODUCED = [
    t for t in cal.TARGETS if t.name not in ("murrough2013b_response", "phillips2019_infusions_to_response")
]
NOT_YET = [t for t in cal.TARGETS if t not in REPRODUCED]


@pytest.mark.parametrize("target", REPRODUCED, ids=lambda t: t.name)
def test_target_reproduced_within_tolerance(stats, target):
    assert abs(stats[target.name] - target.value) <= target.tolerance


@pytest.mark.parametrize("target", NOT_YET, ids=lambda t: t.name)
@pytest.mark.xfail(
    strict=True, reason="known misfit of the current model structure (see docs/pharmacology-validation.md)"
)
def test_targets_not_yet_reproduced(stats, target):
    assert abs(stats[target.name] - target.value) <= target.tolerance


def test_parameters_are_records_with_status():
    for p in resp.load_parameters().values():
        assert p.status in ("published", "calibrated", "placeholder") and p.source
    assert resp.load_parameters()["beta"].status == "calibrated"


def test_plasticity_decays_without_drug():
    occ = np.zeros((2, 1, 145))
    occ[:, 0, :20] = 0.8
    win = resp.OccupancyWindows(occ=occ, session_start=np.array([0.0]), step_min=5.0)
    p, d = resp.plasticity_states(win, resp.params_values(), [60.0, 1440.0, 20 * 1440.0])
    assert np.all((p >= 0) & (p <= 1))
    assert d[0, 1] > d[0, 2] > 0


def test_relapse_needs_two_consecutive_visits():
    base = np.array([30.0])
    scores = np.array([[10.0, 16.0, 10.0, 16.0, 17.0, 20.0]])
    assert resp.time_to_relapse_days(scores, base)[0] == 4


# --- Hypothesis properties (response model / trials) ---------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from kairos.pharmacology.trials import Regimen, run_trial  # noqa: E402
from kairos.pharmacology.types import DoseEvent, Drug, Route  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    occ=arrays(np.float64, (3, 2, 145), elements=st.floats(0.0, 1.0)),
    bump=st.floats(0.0, 0.5),
)
def test_more_occupancy_never_less_plasticity(occ, bump):
    """The trigger is increasing in occupancy and the P -> D cascade is cooperative: P, D monotone."""
    starts = np.array([0.0, 2 * 1440.0])
    p = resp.params_values()
    r = [30.0, 600.0, 1440.0, 3 * 1440.0, 10 * 1440.0]
    lo = resp.plasticity_states(resp.OccupancyWindows(occ, starts, 5.0), p, r)
    hi = resp.plasticity_states(resp.OccupancyWindows(np.minimum(occ + bump, 1.0), starts, 5.0), p, r)
    for a, b in zip(lo, hi, strict=True):
        assert np.all(b >= a - 1e-12)
        assert np.all(a >= -1e-12)


def _course(mg_per_kg):
    return tuple(
        DoseEvent(d * 1440.0, Drug.RACEMIC, Route.IV, mg_per_kg * 70.0, 40.0) for d in (0, 2, 4, 7, 9, 11)
    )


@settings(max_examples=4, deadline=None)
@given(d1=st.floats(0.1, 0.5), extra=st.floats(0.05, 0.5), seed=st.integers(0, 2**31))
def test_madrs_change_monotone_in_dose_within_range(d1, extra, seed):
    """Same virtual patients (common random numbers): a higher dose never improves MADRS less."""
    lo = run_trial(Regimen("lo", _course(d1)), 40, seed=seed).outcomes
    hi = run_trial(Regimen("hi", _course(min(d1 + extra, 1.0))), 40, seed=seed).outcomes
    assert np.all(hi["madrs_change"] <= lo["madrs_change"] + 1e-9)
    assert np.all(hi["cmax_s_ng_ml"] >= lo["cmax_s_ng_ml"])
    assert np.all(hi["time_above_threshold_min"] >= lo["time_above_threshold_min"] - 1e-6)


@settings(max_examples=4, deadline=None)
@given(chunk=st.integers(1, 97), seed=st.integers(0, 2**31))
def test_trial_outcomes_do_not_depend_on_chunk_size(chunk, seed):
    reg = Regimen("iv", _course(0.5)[:2])
    a = run_trial(reg, 60, seed=seed, chunk_size=60).outcomes
    b = run_trial(reg, 60, seed=seed, chunk_size=chunk).outcomes
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
