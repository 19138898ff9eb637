import pytest

from kairos.pharmacology.timeline import timeline
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route, Subject

ESK56 = [DoseEvent(0.0, Drug.ESKETAMINE, Route.INTRANASAL, 56.0)]


@pytest.fixture(scope="module")
def tl():
    return timeline(Subject(), ESK56, discharge_minimum_min=120.0, response_band_n=100)


def test_dissociation_peak_near_40_min(tl):
    # reference §2.1: CADSS peak ~40 min after esketamine, resolved by ~1.5–2 h (venous calibration)
    e = tl.effects.effect["dissociation"]
    t_peak = tl.times_min[e.argmax()]
    assert 30 <= t_peak <= 55
    assert e[tl.times_min == 120.0][0] < 0.5 * e.max()


def test_bp_rise_magnitude_and_duration(tl):
    # reference §2.2: placebo-adjusted SBP ≈ +7–9 mmHg at 56–84 mg; peak ~40 min, lasting ~4 h
    bp = tl.effects.effect["sbp_rise"]
    assert 5.0 <= bp.max() <= 12.0
    assert bp[tl.times_min == 240.0][0] > 0.2 * bp.max()


def test_worn_off_never_before_rule_minimum():
    t = timeline(Subject(), ESK56, discharge_minimum_min=600.0, response_band_n=0)
    s = t.sessions[0]
    assert s.worn_off_min == 600.0 and s.model_worn_off_min < 600.0


def test_course_has_one_readout_per_session_and_to_dict():
    ev = [DoseEvent(d * 1440.0, Drug.ESKETAMINE, Route.INTRANASAL, 56.0) for d in (0, 3)]
    t = timeline(Subject(), ev, threshold=40.0, response_band_n=0)
    assert len(t.sessions) == 2 and t.threshold_source == "caller"
    d = t.to_dict()
    assert d["sessions"][1]["start_min"] == 4320.0 and d["response_band"] is None


def test_band_and_notes(tl):
    assert tl.response_band is not None and "disclaimer" in tl.response_band
    assert any("precedence" in n for n in tl.notes)
    assert tl.threshold_source.startswith("⚠ default")


def test_unsupported_route_names_field():
    with pytest.raises(InputError, match="dose_events"):
        timeline(Subject(), [DoseEvent(0.0, Drug.RACEMIC, Route.IM, 35.0)])
