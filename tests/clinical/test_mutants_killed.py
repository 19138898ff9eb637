"""Tests written to kill mutants that survived the whole suite (issue #17 §1).

Each expected number is written from its source (clinical.md section or the cited Param), never recomputed
with the code's own helpers. Every time-based rule is tested on both sides of its boundary: one second
short of the minimum is refused, the minimum itself is accepted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kairos.clinical.dosing import check_device_spacing, compute_dose
from kairos.clinical.safety.discharge import discharge_readiness
from kairos.clinical.safety.predose import predose_gate
from kairos.clinical.safety.result import Outcome, Route
from kairos.clinical.safety.vitals import Vitals, bp_hold_findings

pytestmark = pytest.mark.db_independent

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ONE_SECOND = dt.timedelta(seconds=1)


def mins(m: float) -> dt.timedelta:
    return dt.timedelta(minutes=m)


# --- IV titration: the dose in mg follows the level (mutant: dose_mg at 0.5 mg/kg whatever the level) ----
# iv-racemic: start 0.5 mg/kg (clinical.md §2.2, S19), +0.1 mg/kg per level (clinic-configured, ⚠),
# ceiling 0.75 mg/kg (§2.2 clinical range 0.1–0.75), absolute cap 100 mg, rounded to 0.1 mg.


@pytest.mark.parametrize(
    ("weight", "level", "dose_mg", "capped"),
    [
        (60, 0, 30.0, False),  # 0.5 × 60
        (60, 1, 36.0, False),  # 0.6 × 60
        (60, 2, 42.0, False),  # 0.7 × 60
        (60, 3, 45.0, True),  # 0.8 → ceiling 0.75 × 60
        (60, 9, 45.0, True),  # far above: still the ceiling
        (80, 0, 40.0, False),
        (80, 1, 48.0, False),
        (80, 2, 56.0, False),
        (80, 3, 60.0, True),  # 0.75 × 80
        (130, 0, 65.0, False),
        (130, 1, 78.0, False),
        (130, 2, 91.0, False),
        (130, 3, 97.5, True),  # ceiling 0.75 × 130
        (150, 2, 100.0, True),  # 0.7 × 150 = 105 → the absolute cap 100 mg
    ],
)
def test_iv_dose_in_mg_for_each_titration_level(weight, level, dose_mg, capped):
    r = compute_dose("iv-racemic", weight_kg=weight, level=level)
    assert r.dose_mg == dose_mg
    assert r.capped is capped
    assert r.admixture is not None
    assert r.admixture.delivered_mg == pytest.approx(dose_mg)  # the pump delivers the dose


def test_iv_dose_rises_between_levels_below_the_ceiling():
    doses = [compute_dose("iv-racemic", weight_kg=70, level=lv).dose_mg for lv in range(4)]
    assert doses == [35.0, 42.0, 49.0, 52.5]  # 0.5, 0.6, 0.7 and the 0.75 ceiling × 70 kg


# --- esketamine device spacing: 5 min between devices (clinical.md §1.1, S5/S7) -------------------------


def test_second_device_at_4_59_is_refused():
    problems = check_device_spacing([T0, T0 + mins(5) - ONE_SECOND])
    assert len(problems) == 1
    assert problems[0].startswith("device 2 given 4.98")
    assert problems[0].endswith("wait at least 5 min")


def test_second_device_at_5_00_is_accepted():
    assert check_device_spacing([T0, T0 + mins(5)]) == []


def test_third_device_spacing_is_checked_from_the_second():
    assert check_device_spacing([T0, T0 + mins(5), T0 + mins(10)]) == []
    problems = check_device_spacing([T0, T0 + mins(5), T0 + mins(10) - ONE_SECOND])
    assert len(problems) == 1 and problems[0].startswith("device 3 given 4.98")


# --- discharge minimum observation ---------------------------------------------------------------------
# esketamine: ≥ 120 min from the first device (§1.3 S1, §1.5 S4 boxed warning);
# IV/IM: ≥ 30 min after dosing ended (§2.2, ◐, clinic-configured).


def _discharge(route: str, now: dt.datetime, **kw):
    args: dict[str, Any] = dict(
        route=route,
        first_dose_at=T0,
        now=now,
        latest=Vitals(at=now - mins(2), sbp=130, dbp=80, spo2=98, heart_rate=72, resp_rate=14),
        baseline=Vitals(at=T0 - mins(5), sbp=128, dbp=82, spo2=98),
        moaas=5,
        dissociation_resolved=True,
        escort_present=True,
    )
    args.update(kw)
    return discharge_readiness(**args)


def test_esketamine_discharge_at_119_59_is_refused():
    r = _discharge("esketamine", T0 + mins(120) - ONE_SECOND)
    assert not r.ready
    assert [f.code for f in r.findings] == ["min_observation"]
    assert r.earliest_allowed == dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)


def test_esketamine_discharge_at_120_00_is_ready():
    r = _discharge("esketamine", T0 + mins(120))
    assert r.ready
    assert r.findings == ()


@pytest.mark.parametrize("route", ["iv", "im"])
def test_iv_im_discharge_boundary_is_30_min_after_dosing_ended(route):
    ended = T0 + mins(40)
    before = _discharge(route, ended + mins(30) - ONE_SECOND, dosing_ended_at=ended)
    assert not before.ready
    assert [f.code for f in before.findings] == ["min_observation"]
    at = _discharge(route, ended + mins(30), dosing_ended_at=ended)
    assert at.ready
    assert at.earliest_allowed == dt.datetime(2026, 3, 2, 10, 10, tzinfo=dt.UTC)


# --- blood-pressure hold re-check: two readings above 180/110, ≥ 5 min apart (§2.2 S18) ----------------


def _high(at: dt.datetime) -> Vitals:
    return Vitals(at=at, sbp=185, dbp=100, spo2=98)  # above 180 systolic, below the single-reading 200/120


def test_bp_recheck_at_4_59_only_asks_to_remeasure():
    findings = bp_hold_findings([_high(T0), _high(T0 + mins(5) - ONE_SECOND)], Route.IV)
    assert [f.code for f in findings] == ["bp_hold_recheck"]
    assert "re-measure in 5 min" in findings[0].message


def test_bp_recheck_at_5_00_confirms_the_hold():
    findings = bp_hold_findings([_high(T0), _high(T0 + mins(5))], Route.IV)
    assert [f.code for f in findings] == ["bp_hold"]
    assert findings[0].severity is Outcome.HOLD
    assert "5 min or more apart" in findings[0].message


# --- fasting before dosing: no food ≥ 120 min, no liquids ≥ 30 min (§1.1) -------------------------------


def _predose(**kw):
    args: dict[str, Any] = dict(
        route="esketamine",
        readings=[Vitals(at=T0 - mins(10), sbp=120, dbp=78, spo2=98)],
        planned_dose_at=T0,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        last_food_at=T0 - mins(180),
        last_liquid_at=T0 - mins(60),
    )
    args.update(kw)
    return predose_gate(**args)


def _codes(result) -> list[str]:
    return [f.code for f in result.findings]


def test_fasting_boundaries_accept_the_minimum():
    assert _codes(_predose(last_food_at=T0 - mins(120), last_liquid_at=T0 - mins(30))) == []


def test_food_at_119_59_before_dosing_is_flagged():
    assert _codes(_predose(last_food_at=T0 - mins(120) + ONE_SECOND)) == ["recent_food"]


def test_liquid_at_29_59_before_dosing_is_flagged():
    assert _codes(_predose(last_liquid_at=T0 - mins(30) + ONE_SECOND)) == ["recent_liquid"]
