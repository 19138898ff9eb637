"""Monitoring schedule per route and in-session reading evaluation (clinical.md §1.5, §2.2)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.safety.monitoring import evaluate_reading, monitoring_schedule
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import Vitals

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(m):
    return T0 + dt.timedelta(minutes=m)


def offsets(due):
    return [(d.phase, (d.at - T0).total_seconds() / 60) for d in due]


def test_esketamine_pre_40_and_before_discharge():  # §1.5 S4 §5.6 / S5; ≥2 h §1.3
    assert offsets(monitoring_schedule("esketamine", T0)) == [("pre_dose", 0), ("post", 40), ("post", 120)]


def test_iv_every_10_during_and_every_15_after():  # §2.2 S17 Emory; 40-min infusion §2.1
    assert offsets(monitoring_schedule("iv", T0)) == [
        ("pre_dose", 0),
        ("during", 10),
        ("during", 20),
        ("during", 30),
        ("during", 40),
        ("post", 55),
        ("post", 70),
        ("post", 85),
        ("post", 100),
    ]


def test_iv_odd_infusion_length_ends_with_a_reading():
    during = [m for p, m in offsets(monitoring_schedule("iv", T0, infusion_min=25)) if p == "during"]
    assert during == [10, 20, 25]


def test_im_schedule_and_bad_infusion():
    assert offsets(monitoring_schedule("im", T0))[-1] == ("post", 90)
    with pytest.raises(ValueError, match="infusion_min"):
        monitoring_schedule("iv", T0, infusion_min=0)
    with pytest.raises(ValueError, match="start"):
        monitoring_schedule("iv", dt.datetime(2026, 1, 1))


@given(st.sampled_from(["esketamine", "iv", "im", "sc"]), st.integers(5, 120))
def test_schedule_sorted_and_starts_with_pre_dose(route, length):
    due = monitoring_schedule(route, T0, infusion_min=length)
    assert due[0].phase == "pre_dose"
    assert all(a.at < b.at for a, b in zip(due, due[1:], strict=False))


BASE = Vitals(at=T0, sbp=130, dbp=80, spo2=98)

# (sbp, dbp) → significant rise? (≥40 systolic and/or ≥25 diastolic above pre-dose, §1.5 S6)
RISE = [((169, 104), False), ((170, 80), True), ((130, 105), True), ((150, 95), False)]


@pytest.mark.parametrize(("bp", "flag"), RISE)
def test_significant_rise(bp, flag):
    result = evaluate_reading(
        route="esketamine", reading=Vitals(at=at(40), sbp=bp[0], dbp=bp[1]), baseline=BASE
    )
    assert ("bp_significant_rise" in result.codes) is flag
    assert result.outcome is (Outcome.CAUTION if flag else Outcome.OK)


def test_in_session_hold_on_iv():
    # Above the IV hold line (>110 diastolic) on two readings 10 min apart, below crisis level (<180/<120).
    prev = [Vitals(at=at(10), sbp=170, dbp=112)]
    result = evaluate_reading(
        route="iv", reading=Vitals(at=at(20), sbp=175, dbp=115), baseline=BASE, previous=prev
    )
    assert result.outcome is Outcome.HOLD
    assert {"bp_hold", "bp_significant_rise"} <= set(result.codes)


def test_spo2_two_consecutive_escalates_single_cautions():
    prev = [Vitals(at=at(10), spo2=92)]
    two = evaluate_reading(
        route="esketamine", reading=Vitals(at=at(15), spo2=90), baseline=BASE, previous=prev
    )
    assert two.outcome is Outcome.ESCALATE
    assert "respiratory" in two.findings[0].message
    one = evaluate_reading(route="esketamine", reading=Vitals(at=at(15), spo2=90), baseline=BASE)
    assert one.codes == ["spo2_low_recheck"]


def test_crisis_symptoms_escalate():
    result = evaluate_reading(
        route="iv", reading=Vitals(at=at(20), sbp=120, dbp=70), baseline=BASE, symptoms=["visual_change"]
    )
    assert result.outcome is Outcome.ESCALATE


def test_reading_must_be_latest():
    with pytest.raises(ValueError, match="reading"):
        evaluate_reading(
            route="iv",
            reading=Vitals(at=at(10), spo2=97),
            baseline=BASE,
            previous=[Vitals(at=at(20), spo2=97)],
        )
