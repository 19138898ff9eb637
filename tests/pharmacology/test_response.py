import numpy as np
import pytest

from kairos.pharmacology import calibration as cal
from kairos.pharmacology import response as resp


@pytest.fixture(scope="module")
def stats():
    sc = cal.build_scenarios(n=1024)
    return cal.model_statistics(sc, resp.params_values())


REPRODUCED = [
    t
    for t in cal.TARGETS
    if t.name not in ("murrough2013b_relapse_median_d", "phillips2019_infusions_to_response")
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
