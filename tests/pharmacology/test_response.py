import math

import numpy as np
import pytest

from kairos.pharmacology import calibration as cal
from kairos.pharmacology import response as resp

#: targets and tolerances as stated in docs/pharmacology-validation.md ## Response model (reference §3)
TARGET_TABLE = {
    "murrough2013a_ketamine_24h": (-16.5, 1.5),
    "murrough2013a_midazolam_24h": (-8.8, 1.5),
    "zarate2006_day7_to_24h_effect_ratio": (0.47, 0.15),
    "murrough2013b_response": (70.8, 8.0),
    "murrough2013b_relapse_median_d": (18.0, 4.0),
    "phillips2019_infusions_to_response": (3.0, 1.0),
    "phillips2019_series_response": (59.0, 8.0),
    "transform2_day28_difference": (-4.0, 1.5),
}
#: measured misses (strict xfail; they fail loudly if a refit starts to reproduce them)
NOT_YET = {"transform2_day28_difference"}  # model −5.90 (esketamine effect over-predicted)


@pytest.fixture(scope="module")
def stats():
    sc = cal.build_scenarios(n=cal.N_CAL)
    return cal.model_statistics(sc, resp.params_values())


def test_targets_match_the_documented_table():
    assert {t.name: (t.value, t.tolerance) for t in cal.TARGETS} == TARGET_TABLE


REPRODUCED = [t for t in cal.TARGETS if t.name not in NOT_YET]


@pytest.mark.parametrize("target", REPRODUCED, ids=lambda t: t.name)
def test_target_reproduced_within_tolerance(stats, target):
    assert abs(stats[target.name] - target.value) <= target.tolerance


@pytest.mark.parametrize("target", [t for t in cal.TARGETS if t.name in NOT_YET], ids=lambda t: t.name)
@pytest.mark.xfail(strict=True, reason="known misfit (see docs/pharmacology-validation.md ## Response model)")
def test_targets_not_yet_reproduced(stats, target):
    assert abs(stats[target.name] - target.value) <= target.tolerance


def test_statistics_are_deterministic(stats):
    again = cal.model_statistics(cal.build_scenarios(n=cal.N_CAL), resp.params_values())
    assert again == stats


def test_smooth_surrogates_agree_with_the_integer_medians(stats):
    assert abs(stats["_relapse_interp_d"] - stats["murrough2013b_relapse_median_d"]) <= 1.0
    assert abs(stats["_phillips_interp"] - stats["phillips2019_infusions_to_response"]) <= 1.0


def test_parameters_are_records_with_status():
    params = resp.load_parameters()
    for p in params.values():
        assert p.status in ("published", "calibrated", "placeholder") and p.source
    for name in cal.FITTED:
        assert params[name].status == "calibrated" and "seed 20240611" in params[name].source


def test_rapid_effect_is_transient_and_slow_state_is_cumulative():
    sc = cal.build_scenarios(n=64)
    p = resp.params_values()
    assert p["rapid_t_half_d"] < p["slow_t_half_d"]
    one = resp.plasticity_components(sc.single, p, [1440.0, 7 * 1440.0])
    six = resp.plasticity_components(sc.series, p, [12 * 1440.0])
    assert np.all(one.rapid[:, 1] < 0.1 * one.rapid[:, 0])  # rapid state gone within a week
    assert np.all(six.slow[:, 0] > 3.0 * one.slow[:, 0])  # slow state builds with repeated infusions


def test_latent_ceiling_makes_some_patients_never_respond():
    p = resp.params_values()
    z = np.random.default_rng(3).standard_normal((4000, resp.N_Z))
    eff = resp.PatientEffects.from_normals(z, p, 32.0)
    assert np.all((eff.beta > 0) & (eff.beta < 1))
    assert abs(eff.beta.mean() - p["emax_mean"]) < 0.01
    # at full drug effect (u = 1) and no control, the reduction is exactly the ceiling Emax_i
    score = resp.madrs(np.ones((4000, 1)), np.array([1440.0]), "none", eff, p)
    assert np.allclose(score[:, 0], np.clip(eff.baseline * (1 - eff.beta), 0, 60))
    never = ~resp.responders(score, eff.baseline)[:, 0]
    assert np.array_equal(never, ~eff.responder) and 0.05 < never.mean() < 0.5


@pytest.mark.parametrize("arm", resp.ARMS)
def test_drug_never_worsens_and_never_exceeds_the_reducible_part(arm):
    p = resp.params_values()
    z = np.random.default_rng(5).standard_normal((500, resp.N_Z))
    eff = resp.PatientEffects.from_normals(z, p, 32.0)
    t = np.array([1440.0, 28 * 1440.0])
    lo = resp.madrs(np.zeros((500, 2)), t, arm, eff, p)
    hi = resp.madrs(np.full((500, 2), 0.999), t, arm, eff, p)
    assert np.all(hi <= lo + 1e-12)
    floor = eff.baseline[:, None] * (1 - eff.beta[:, None])
    assert np.all(hi >= np.minimum(lo, floor) - 1e-9)
    assert not np.isnan(hi).any() and math.isfinite(float(hi.sum()))


def test_drug_signal_is_a_bounded_fraction():
    p = resp.params_values()
    x = np.array([[0.0, 0.5, 5.0, 1e6]])
    u = resp.drug_signal(np.zeros_like(x), x, p)
    assert np.all((u >= 0) & (u <= 1)) and np.all(np.diff(u) > 0) and u[0, 0] == 0


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
