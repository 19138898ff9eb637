"""Outcome rules: table-driven from clinical.md §3/§4.1, edge cases and cohort summary."""

import datetime as dt

import pytest

from kairos.clinical.config import Override
from kairos.clinical.outcomes import (
    OutcomeError,
    ScorePoint,
    classify_course,
    cohort_summary,
    percent_reduction,
    remission_rule,
)
from kairos.clinical.rules.outcomes import RULES

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def d(days, hours=0):
    return T0 + dt.timedelta(days=days, hours=hours)


def course(scores, instrument="madrs", protocol=None, rules=RULES, doses=None):
    pts = [(d(day), s) for day, s in scores]
    return classify_course(
        pts, doses if doses is not None else [T0], instrument=instrument, protocol_id=protocol, rules=rules
    )


@pytest.mark.parametrize(
    ("inst", "protocol", "score", "remit"),
    [
        ("madrs", None, 10, True),
        ("madrs", None, 11, False),  # ≤10 (ESCAPE-TRD, KetECT)
        ("madrs", "esketamine-trd", 12, True),
        ("madrs", "esketamine-trd", 13, False),  # ≤12 (TRANSFORM/SUSTAIN)
        ("madrs", "iv-racemic", 12, False),
        ("phq9", None, 4, True),
        ("phq9", None, 5, False),  # <5
        ("qids_sr16", None, 5, True),
        ("qids_sr16", None, 6, False),  # ≤5
        ("hamd17", None, 7, True),
        ("hamd17", None, 8, False),
    ],
)
def test_remission_cutoffs(inst, protocol, score, remit):
    assert remission_rule(inst, protocol).met(score) is remit


def test_unknown_instrument():
    with pytest.raises(OutcomeError, match="instrument: 'foo' is not one of .*madrs"):
        remission_rule("foo")


@pytest.mark.parametrize(
    ("base", "score", "cat", "pct"),
    [
        (30, 15, "response", 50.0),  # exactly 50 % (§3: response ≥ 50 % reduction)
        (30, 16, "partial", 46.6667),  # 14/30
        (32, 24, "partial", 25.0),  # 8/32: partial from 25 % (⚠ common convention 25–49 %)
        (32, 25, "non-response", 21.875),  # 7/32
        (30, 10, "remission", 66.6667),  # 20/30, and MADRS ≤ 10
        (30, 33, "non-response", -10.0),  # worse by 3/30
    ],
)
def test_categories(base, score, cat, pct):
    o = course([(-1, base), (7, score)])
    assert o.current == cat
    assert o.latest_reduction_pct == pytest.approx(pct, abs=1e-4)


@pytest.mark.parametrize(
    ("base", "score", "pct"),
    [(30, 15, 50.0), (40, 10, 75.0), (32, 25, 21.875), (20, 25, -25.0), (27, 0, 100.0), (10, 10, 0.0)],
)
def test_percent_reduction_values(base, score, pct):
    assert percent_reduction(base, score) == pytest.approx(pct, abs=1e-12)


def test_percent_reduction_of_a_zero_baseline_is_undefined():
    assert percent_reduction(0, 5) is None


def test_baseline_is_last_before_first_dose_and_stale_flag():
    o = course([(-60, 40), (-2, 30), (0.5, 28)], doses=[d(1), T0])
    assert o.baseline.total == 30
    assert not o.baseline_stale
    stale = course([(-45, 30), (7, 10)])
    assert stale.baseline_stale
    assert any("older than 30" in r for r in stale.reasons)


def test_response_time_and_rapid_response():
    o = course([(-1, 30), (1, 14), (7, 12), (14, 20)])
    assert o.responded
    assert o.response_at == d(1)
    assert o.rapid_response is True
    assert o.time_to_response.days == 1
    assert o.time_to_response.event
    assert o.best_reduction_pct == pytest.approx(60)


def test_rapid_response_unknown_without_early_assessment():
    o = course([(-1, 30), (7, 14)])
    assert o.rapid_response is None
    assert o.responded
    late = course([(-1, 30), (1, 25), (7, 14)])
    assert late.rapid_response is False


def test_non_responder_is_censored_at_last_assessment():
    o = course([(-1, 30), (7, 25), (21, 22)])
    assert not o.responded
    assert o.time_to_response.days == 21
    assert not o.time_to_response.event
    assert o.time_to_relapse is None


def test_relapse_needs_confirmation():
    # response at day 7; two assessments below 50 % reduction ≥5 days apart -> relapse at the first
    o = course([(-1, 30), (7, 12), (20, 20), (27, 22)])
    assert o.relapsed
    assert o.relapse_at == d(20)
    assert o.time_to_relapse.days == 13
    assert o.time_to_relapse.event
    single = course([(-1, 30), (7, 12), (20, 20)])
    assert not single.relapsed
    assert any("not confirmed" in r for r in single.reasons)
    assert single.time_to_relapse.days == 13
    assert not single.time_to_relapse.event
    too_close = course([(-1, 30), (7, 12), (20, 20), (22, 22)])
    assert not too_close.relapsed
    recovered = course([(-1, 30), (7, 12), (20, 20), (24, 12), (30, 21)])
    assert not recovered.relapsed  # the run was broken by a response
    one = RULES.with_overrides([Override("relapse.confirm_assessments", 1, "dr", NOW, "t")])
    assert course([(-1, 30), (7, 12), (20, 20)], rules=one).relapsed


def test_no_dose_no_baseline_no_followup():
    assert course([(-1, 30)], doses=[]).current == "no data"
    assert course([(1, 30)]).baseline is None
    o = course([(-1, 30)])
    assert o.baseline.total == 30
    assert o.current == "no data"
    assert not o.time_to_response.event
    assert "no assessment after the first dose" in o.reasons


def test_zero_baseline_never_nan():
    o = course([(-1, 0), (7, 0)])
    assert o.latest_reduction_pct is None
    assert o.current == "remission"
    u = course([(-1, 0), (7, 15)])
    assert u.current == "unclassified"
    assert not u.responded


@pytest.mark.parametrize(
    ("pts", "doses", "field"),
    [
        ([(dt.datetime(2026, 1, 1), 3)], [T0], r"points\[0\].at"),
        ([(T0, -1)], [T0], r"points\[0\].total"),
        ([(T0, float("nan"))], [T0], r"points\[0\].total"),
        ([(T0, 3)], [dt.datetime(2026, 1, 1)], r"doses\[0\]"),
    ],
)
def test_bad_input(pts, doses, field):
    with pytest.raises(OutcomeError, match=f"^{field}"):
        classify_course(pts, doses, instrument="phq9")


def test_to_dict_and_scorepoint_input():
    o = classify_course([ScorePoint(d(-1), 20), ScorePoint(d(7), 4)], [T0], instrument="phq9")
    js = o.to_dict()
    assert js["in_remission"]
    assert js["baseline"]["at"].startswith("2026-03-01")
    assert o.responding_now


def test_cohort_summary():
    a = course([(-1, 30), (1, 12), (14, 10)])  # responder, remitter, rapid
    b = course([(-1, 30), (7, 25)])  # non-responder
    c = course([(-1, 30), (7, 12), (20, 20), (27, 22)])  # responder then relapse
    e = course([(1, 20)])  # not evaluable
    s = cohort_summary([a, b, c, e])
    assert (s.n, s.evaluable) == (4, 3)
    assert (s.response.k, s.response.n) == (2, 3)
    assert (s.remission.k, s.remission.n) == (1, 3)
    assert (s.relapse_among_responders.k, s.relapse_among_responders.n) == (1, 2)
    assert s.time_to_response.n == 3
    assert s.time_to_relapse.events == 1
    assert s.to_dict()["rapid_response"]["n"] == 1
    empty = cohort_summary([])
    assert empty.response is None
    assert empty.time_to_response is None
