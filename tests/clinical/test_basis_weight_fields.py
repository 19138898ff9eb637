"""The dosing weight, every field, on each basis (issue #17 §3).

Devine 1974 (rules/dosing.py ibw.*): male 50 kg + 0.9055 kg per cm above 152.4 cm; at 170 cm
50 + 0.9055 × 17.6 = 65.937 kg. Adjusted = IBW + 0.4 × (actual − IBW) (abw.factor, ⚠).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.clinical.config import Override
from kairos.clinical.dosing import DoseError, basis_weight
from kairos.clinical.rules.dosing import RULES

pytestmark = pytest.mark.db_independent

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 2)


def _on(basis: str):
    return RULES.with_overrides([Override("weight.basis", basis, "dr-test", NOW, "test")])


def test_actual_basis_every_field():
    bw = basis_weight(80)
    assert (bw.basis, bw.kg, bw.actual_kg, bw.ideal_kg) == ("actual", 80.0, 80.0, None)
    assert bw.reasons == ("weight 80 kg (taken as measured at the session)",)


def test_weight_date_without_a_session_date_is_not_age_checked():
    bw = basis_weight(80, weight_measured_on=DAY)
    assert bw.reasons == ("weight 80 kg (taken as measured at the session)",)
    same_day = basis_weight(80, weight_measured_on=DAY, session_date=DAY)
    assert same_day.reasons == ("weight 80 kg measured 2026-03-02",)


def test_ideal_basis_every_field():
    bw = basis_weight(90, height_cm=170, sex="male", rules=_on("ideal"))
    assert bw.basis == "ideal" and bw.actual_kg == 90.0
    assert bw.ideal_kg == pytest.approx(65.9368, abs=1e-4)
    assert bw.kg == pytest.approx(65.9368, abs=1e-4)
    assert bw.reasons == (
        "weight 90 kg (taken as measured at the session)",
        "height 170 cm, sex male",
        "ideal body weight 65.9 kg (Devine)",
        "ideal weight 65.9 kg used",
    )


def test_adjusted_basis_every_field():
    bw = basis_weight(90, height_cm=170, sex="male", rules=_on("adjusted"))
    assert bw.kg == pytest.approx(65.9368 + 0.4 * (90 - 65.9368), abs=1e-4)  # 75.562
    assert bw.ideal_kg == pytest.approx(65.9368, abs=1e-4)
    assert bw.reasons[-1] == "adjusted weight 75.6 kg used"


def test_actual_below_ideal_uses_actual():
    bw = basis_weight(60, height_cm=170, sex="male", rules=_on("ideal"))
    assert bw.kg == 60.0 and bw.actual_kg == 60.0
    assert bw.reasons[-1] == "actual weight is below the ideal weight: actual weight used"


def test_height_date_without_a_session_date_is_not_age_checked():
    bw = basis_weight(90, height_cm=170, sex="male", height_measured_on=DAY, rules=_on("ideal"))
    assert bw.reasons[1] == "height 170 cm measured 2026-03-02, sex male"


@pytest.mark.parametrize(("weight", "ok"), [(29.9, False), (30, True), (300, True), (300.1, False)])
def test_weight_range_30_to_300_kg(weight, ok):
    if ok:
        assert basis_weight(weight).kg == weight
    else:
        with pytest.raises(DoseError) as exc:
            basis_weight(weight)
        assert str(exc.value) == f"weight_kg: {weight:g} is outside the allowed range [30, 300] kg"
