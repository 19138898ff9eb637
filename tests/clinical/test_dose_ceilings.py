"""Issue #12 §4: override ceilings per route and drug, and the ideal/adjusted weight basis with height.

Expected numbers are written from the sources, not recomputed with the code's helpers:
* IV: soft = 0.75 mg/kg (clinical.md §2.2 S19 top of range) capped at 100 mg; hard = 1.0 mg/kg (§2.2 Fava
  2018, highest dose studied) capped at 150 mg (⚠ clinic).
* IM: soft = 0.5 mg/kg (§2.4 Chilukuri 2014) capped at 100 mg; hard = 1.5 mg/kg (§2.4 KAP ⚠) capped at 150 mg.
* Esketamine: 84 mg (§1.2 label) is both.
* Devine IBW: 50 kg (male) / 45.5 kg (female) + 2.3 kg per inch over 5 ft (0.9055 kg/cm over 152.4 cm).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical import dosing
from kairos.clinical.config import Override
from kairos.clinical.rules.dosing import RULES

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _basis(value: str):
    return RULES.with_overrides([Override("weight.basis", value, "dr test", AT, "testing the weight basis")])


@pytest.mark.parametrize(
    ("protocol", "kg", "soft", "hard"),
    [
        ("iv-racemic", 80.0, 60.0, 80.0),  # 0.75 × 80; 1.0 × 80
        ("iv-racemic", 200.0, 100.0, 150.0),  # caps: 100 mg soft, 150 mg hard
        ("iv-racemic", 140.0, 100.0, 140.0),  # 0.75 × 140 = 105 → 100 cap; 1.0 × 140
        ("im-racemic", 80.0, 40.0, 120.0),  # 0.5 × 80; 1.5 × 80
        ("im-racemic", 120.0, 60.0, 150.0),  # 0.5 × 120; 1.5 × 120 = 180 → 150 cap
    ],
)
def test_weight_based_ceilings(protocol, kg, soft, hard):
    c = dosing.dose_ceilings(protocol, weight_kg=kg)
    assert (c.soft_mg, c.hard_mg) == (soft, hard)
    assert f"{protocol}.hard_ceiling_mg_per_kg" in c.hard_rule


def test_esketamine_ceiling_is_the_label_maximum():
    c = dosing.dose_ceilings("esketamine-trd")
    assert (c.soft_mg, c.hard_mg) == (84.0, 84.0)
    assert dosing.dose_ceilings("esketamine-mdsi").hard_mg == 84.0


def test_sublingual_ceilings_in_free_base():
    c = dosing.dose_ceilings("sublingual-kap")
    # 100 mg and 300 mg ketamine HCl × 237.73 / 274.19
    assert c.soft_mg == pytest.approx(86.7027, abs=1e-3)
    assert c.hard_mg == pytest.approx(260.108, abs=1e-3)


@pytest.mark.parametrize(
    ("dose", "cosign"),
    [(40.0, False), (60.0, False), (60.1, True), (79.9, True), (80.0, True)],
)
def test_iv_override_boundaries_80_kg(dose, cosign):
    c = dosing.dose_ceilings("iv-racemic", weight_kg=80.0)
    assert dosing.check_override(dose, c) is cosign


@pytest.mark.parametrize("dose", [80.1, 120.0, 999.0])
def test_iv_override_above_the_hard_ceiling_is_refused_naming_it(dose):
    c = dosing.dose_ceilings("iv-racemic", weight_kg=80.0)
    with pytest.raises(dosing.DoseError, match=r"above the hard ceiling 80 mg for iv-racemic"):
        dosing.check_override(dose, c)


def test_esketamine_override_above_84_is_refused():
    c = dosing.dose_ceilings("esketamine-trd")
    assert dosing.check_override(84.0, c) is False
    with pytest.raises(dosing.DoseError, match="hard ceiling 84 mg"):
        dosing.check_override(112.0, c)


def test_weight_based_override_without_weight_is_refused():
    with pytest.raises(dosing.DoseError, match="weight_kg: required to bound a dose override"):
        dosing.dose_ceilings("iv-racemic")


def test_a_clinic_cannot_raise_the_hard_ceiling_beyond_its_bound():
    from kairos.clinical.config import ConfigError

    with pytest.raises(ConfigError, match="above the allowed range"):
        RULES.with_overrides(
            [Override("iv-racemic.hard_ceiling_mg_per_kg", 1.5, "dr test", AT, "trying a higher ceiling")]
        )


@given(
    kg=st.floats(min_value=30, max_value=300, allow_nan=False),
    protocol=st.sampled_from(["iv-racemic", "im-racemic"]),
)
def test_property_soft_never_above_hard_and_hard_within_its_caps(kg, protocol):
    c = dosing.dose_ceilings(protocol, weight_kg=kg)
    hard_kg = {"iv-racemic": 1.0, "im-racemic": 1.5}[protocol]
    assert c.soft_mg <= c.hard_mg
    assert c.hard_mg <= 150.0 + 1e-9
    assert c.hard_mg <= hard_kg * kg + 1e-3
    assert c.soft_mg <= 100.0 + 1e-9
    # the computed dose at any titration level stays within the soft ceiling (to the 0.1 mg rounding)
    computed = dosing.compute_dose(protocol, weight_kg=kg, level=50)
    assert computed.dose_mg <= c.soft_mg + 0.05 + 1e-9


# --- ideal and adjusted weight with height (Devine) ---------------------------------------------------------


def test_ideal_basis_male_180_cm_100_kg():
    # IBW = 50 + 0.9055 × (180 − 152.4) = 74.99 kg; 0.5 mg/kg × 74.99 = 37.5 mg
    r = dosing.compute_dose("iv-racemic", weight_kg=100, height_cm=180, sex="male", rules=_basis("ideal"))
    assert r.basis_weight.kg == pytest.approx(74.9918, abs=1e-3)
    assert r.dose_mg == 37.5


def test_adjusted_basis_male_180_cm_100_kg():
    # ABW = 74.99 + 0.4 × (100 − 74.99) = 85.00 kg; 0.5 mg/kg × 85.00 = 42.5 mg
    r = dosing.compute_dose("iv-racemic", weight_kg=100, height_cm=180, sex="male", rules=_basis("adjusted"))
    assert r.basis_weight.kg == pytest.approx(84.9951, abs=1e-3)
    assert r.dose_mg == 42.5


def test_ideal_basis_uses_actual_weight_when_lower():
    # female 165 cm: IBW = 45.5 + 0.9055 × 12.6 = 56.91 kg; actual 50 kg is lower → 25 mg
    r = dosing.compute_dose("iv-racemic", weight_kg=50, height_cm=165, sex="female", rules=_basis("ideal"))
    assert r.basis_weight.kg == 50
    assert r.dose_mg == 25.0


def test_ideal_basis_ceilings_use_the_ideal_weight():
    # hard = 1.0 mg/kg × 74.99 kg (ideal, not the actual 100 kg)
    c = dosing.dose_ceilings("iv-racemic", weight_kg=100, height_cm=180, sex="male", rules=_basis("ideal"))
    assert c.hard_mg == pytest.approx(74.9918, abs=1e-3)
    assert c.soft_mg == pytest.approx(56.2439, abs=1e-3)  # 0.75 × 74.99


def test_ideal_basis_needs_height_and_a_binary_sex():
    with pytest.raises(dosing.DoseError, match="height_cm, sex: required"):
        dosing.compute_dose("iv-racemic", weight_kg=80, sex="female", rules=_basis("ideal"))
    with pytest.raises(dosing.DoseError, match="sex: 'unknown' is not one of"):
        dosing.compute_dose("iv-racemic", weight_kg=80, height_cm=170, sex="unknown", rules=_basis("ideal"))


@pytest.mark.parametrize(("cm", "ok"), [(119.9, False), (120.0, True), (230.0, True), (230.1, False)])
def test_height_range(cm, ok):
    call = lambda: dosing.compute_dose(  # noqa: E731
        "iv-racemic", weight_kg=80, height_cm=cm, sex="male", rules=_basis("ideal")
    )
    if ok:
        call()
    else:
        with pytest.raises(dosing.DoseError, match=r"height_cm: .* allowed range \[120, 230\] cm"):
            call()


@pytest.mark.parametrize(("days", "ok"), [(0, True), (365, True), (366, False), (-1, False)])
def test_height_recency(days, ok):
    day = dt.date(2026, 3, 1)
    call = lambda: dosing.compute_dose(  # noqa: E731
        "iv-racemic",
        weight_kg=80,
        weight_measured_on=day,
        session_date=day,
        height_cm=170,
        height_measured_on=day - dt.timedelta(days=days),
        sex="male",
        rules=_basis("adjusted"),
    )
    if ok:
        assert call().basis_weight.basis == "adjusted"
    else:
        with pytest.raises(dosing.DoseError, match=r"height_measured_on: .* allowed range \[0, 365\] days"):
            call()


def test_every_dosing_param_states_its_safer_direction_where_it_is_a_dose_limit():
    for key in (
        "iv-racemic.hard_ceiling_mg_per_kg",
        "iv-racemic.hard_max_dose_mg",
        "im-racemic.hard_ceiling_mg_per_kg",
        "im-racemic.hard_max_dose_mg",
        "esketamine.hard_max_mg",
        "sublingual-kap.hard_max_mg",
        "iv-racemic.ceiling_mg_per_kg",
        "iv-racemic.max_dose_mg",
        "height.max_age_days",
        "weight.max_age_days",
    ):
        assert RULES.param(key).safer == "lower", key
    assert RULES.param("esketamine.device_spacing_min").safer == "higher"
    assert RULES.param("iv-racemic.infusion_min").safer == "higher"
