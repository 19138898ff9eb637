"""Wilson and Kaplan–Meier checked against statsmodels and lifelines (independent implementations)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from kairos.clinical.stats import StatsError, kaplan_meier, proportion, wilson_interval


@given(
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
@settings(max_examples=60)
def test_wilson_matches_statsmodels(kn, conf):
    k, n = kn
    lo, hi = proportion_confint(k, n, alpha=1 - conf, method="wilson")
    r = wilson_interval(k, n, conf)
    assert r.lower == pytest.approx(lo, abs=1e-12)
    assert r.upper == pytest.approx(hi, abs=1e-12)
    assert 0 <= r.lower <= r.estimate <= r.upper <= 1


def test_wilson_published_example():
    # Newcombe 1998 Stat Med 17:857, table I: 81/263 -> 0.2553 to 0.3662 (Wilson, no CC)
    r = wilson_interval(81, 263)
    assert (round(r.lower, 4), round(r.upper, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("k", "n", "field"), [(1, 0, "n"), (5, 4, "k"), (-1, 4, "k"), (1.5, 4, "k"), (1, True, "n")]
)
def test_wilson_bad_input_names_field(k, n, field):
    with pytest.raises(StatsError, match=f"^{field}:"):
        wilson_interval(k, n)


def test_confidence_range_and_proportion_helper():
    with pytest.raises(StatsError, match="confidence"):
        wilson_interval(1, 2, 1.0)
    assert proportion([True, False, True, True]).k == 3


def _data(seed, n=40, cens=0.3):
    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(20, n))  # rounding creates ties
    e = rng.random(n) > cens
    return t, e


@pytest.mark.parametrize("seed", range(8))
def test_km_table_matches_lifelines(seed):
    t, e = _data(seed)
    km = kaplan_meier(list(t), list(e))
    kmf = KaplanMeierFitter().fit(t, e)
    sf = kmf.survival_function_["KM_estimate"]
    ci = kmf.confidence_interval_survival_function_
    for row in km.table:
        assert row.survival == pytest.approx(sf.loc[row.time], abs=1e-12)
        if 0 < row.survival < 1:
            assert row.lower == pytest.approx(ci.iloc[:, 0].loc[row.time], abs=1e-9)
            assert row.upper == pytest.approx(ci.iloc[:, 1].loc[row.time], abs=1e-9)
    assert km.median == (None if math.isinf(kmf.median_survival_time_) else kmf.median_survival_time_)


@pytest.mark.parametrize("seed", range(8))
def test_km_se_and_median_ci_match_statsmodels(seed):
    t, e = _data(seed)
    km = kaplan_meier(list(t), list(e))
    sm = SurvfuncRight(t, e.astype(int))
    by_time = {r.time: r for r in km.table}
    for time, s, se in zip(sm.surv_times, sm.surv_prob, sm.surv_prob_se, strict=True):
        assert by_time[time].survival == pytest.approx(s, abs=1e-12)
        if s > 0:
            assert by_time[time].std_err == pytest.approx(se, rel=1e-9)
    with np.errstate(all="ignore"):
        lo, hi = sm.quantile_ci(0.5, method="cloglog")
    assert km.median_lower == (None if math.isnan(lo) else lo)
    assert km.median_upper == (None if (math.isinf(hi) or math.isnan(hi)) else hi)


def test_km_hand_example():
    # times 1,2,2+,3,4+ (+ censored): S(1)=4/5, S(2)=4/5*3/4=0.6, S(3)=0.6*1/2=0.3
    km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert [(r.time, r.at_risk, r.events, r.censored) for r in km.table] == [
        (1, 5, 1, 0),
        (2, 4, 1, 1),
        (3, 2, 1, 0),
        (4, 1, 0, 1),
    ]
    assert [round(r.survival, 10) for r in km.table] == [0.8, 0.6, 0.3, 0.3]
    assert km.median == 3
    assert km.survival_at(2.5) == pytest.approx(0.6)
    assert km.survival_at(0) == 1.0
    assert km.to_dict()["n"] == 5


def test_km_all_events_median_not_reached_and_all_dead():
    km = kaplan_meier([5, 6, 7], [0, 0, 0])
    assert km.median is None
    assert km.median_lower is None
    assert km.events == 0
    dead = kaplan_meier([1, 2], [1, 1])
    assert dead.table[-1].survival == 0
    assert dead.table[-1].lower == 0


@pytest.mark.parametrize(
    ("times", "events", "field"),
    [
        ([], [], "times"),
        ([1, 2], [1], "events"),
        ([-1], [1], r"times\[0\]"),
        ([float("nan")], [1], r"times\[0\]"),
        ([1], [2], r"events\[0\]"),
    ],
)
def test_km_bad_input(times, events, field):
    with pytest.raises(StatsError, match=f"^{field}"):
        kaplan_meier(times, events)
