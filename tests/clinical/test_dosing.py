"""Dosing: table-driven from clinical.md §1.1, §1.2, §2.2, §2.4, §7.3 and properties."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.config import Override
from kairos.clinical.dosing import (
    MAX_TITRATION_LEVEL,
    DoseError,
    base_to_hcl_mg,
    basis_weight,
    check_device_spacing,
    check_iv_concentration,
    check_level,
    compute_dose,
    device_plan,
    hcl_to_base_mg,
    ideal_body_weight,
    iv_admixture,
)
from kairos.clinical.rules.dosing import RULES

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rules(**kv):
    return RULES.with_overrides([Override(k, v, "dr-test", NOW, "test") for k, v in kv.items()])


def test_device_salt_matches_label():
    # §1.1: one 28 mg esketamine device is supplied as 32.3 mg esketamine HCl
    assert round(base_to_hcl_mg(28), 1) == 32.3
    assert hcl_to_base_mg(base_to_hcl_mg(50)) == pytest.approx(50)
    with pytest.raises(DoseError, match="mg_hcl"):
        hcl_to_base_mg(-1)


@pytest.mark.parametrize(("weight", "dose"), [(70, 35.0), (80, 40.0), (63.3, 31.7), (100, 50.0)])
def test_iv_half_mg_per_kg(weight, dose):  # §2.2: 0.5 mg/kg
    r = compute_dose("iv-racemic", weight_kg=weight)
    assert r.dose_mg == dose
    assert r.mg_per_kg == 0.5
    assert r.route == "IV"
    assert r.admixture.infusion_min == 40  # over 40 min
    assert r.to_dict()["admixture"]["delivered_mg"] == pytest.approx(dose)


@pytest.mark.parametrize(
    ("level", "mgkg", "capped"),
    [(0, 0.5, False), (1, 0.6, False), (2, 0.7, False), (3, 0.75, True), (9, 0.75, True)],
)
def test_titration_and_ceiling(level, mgkg, capped):
    r = compute_dose("iv-racemic", weight_kg=60, level=level)
    assert r.mg_per_kg == pytest.approx(mgkg)
    assert r.capped is capped


def test_absolute_cap():
    r = compute_dose("iv-racemic", weight_kg=250, level=2)  # 0.7*250 = 175 > 100
    assert r.dose_mg == 100
    assert r.capped
    assert any("capped at the maximum" in x for x in r.reasons)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({}, "weight_kg"),
        ({"weight_kg": 10}, "weight_kg"),
        ({"weight_kg": 400}, "weight_kg"),
        ({"weight_kg": float("nan")}, "weight_kg"),
        ({"weight_kg": 70, "level": -1}, "level"),
        ({"weight_kg": 70, "level": True}, "level"),
        ({"weight_kg": 70, "level": 51}, "level"),
        ({"weight_kg": 70, "level": 2.0}, "level"),
        ({"weight_kg": 70, "requested_mg": float("inf")}, "requested_mg"),
        ({"weight_kg": 70, "previous_doses_mg": [0]}, r"previous_doses_mg\[0\]"),
    ],
)
def test_bad_input_names_field(kw, field):
    with pytest.raises(DoseError, match=f"^{field}"):
        compute_dose("iv-racemic", **kw)


@pytest.mark.parametrize("level", [0, 1, MAX_TITRATION_LEVEL])
def test_check_level_accepts_its_whole_range(level):
    assert check_level(level) == level


@pytest.mark.parametrize("level", [-1, MAX_TITRATION_LEVEL + 1, True, 1.0, "1", None])
def test_check_level_refuses_and_names_the_range(level):
    with pytest.raises(DoseError, match=rf"^level: .* \[0, {MAX_TITRATION_LEVEL}\]"):
        check_level(level)


def test_weight_must_be_measured_at_session():
    day = dt.date(2026, 3, 2)
    r = compute_dose("iv-racemic", weight_kg=70, weight_measured_on=day, session_date=day)
    assert "measured 2026-03-02" in r.reasons[0]
    with pytest.raises(DoseError, match=r"weight_measured_on.*\[0, 0\] days"):
        compute_dose(
            "iv-racemic", weight_kg=70, weight_measured_on=day - dt.timedelta(days=3), session_date=day
        )
    ok = compute_dose(
        "iv-racemic",
        weight_kg=70,
        weight_measured_on=day - dt.timedelta(days=3),
        session_date=day,
        rules=rules(**{"weight.max_age_days": 7}),
    )
    assert ok.dose_mg == 35


def test_weight_bases():
    # Devine: male 180 cm -> 50 + 0.9055*(180-152.4) = 74.99 kg
    assert ideal_body_weight(180, "male") == pytest.approx(74.9918, abs=1e-3)
    assert ideal_body_weight(152.4, "female") == pytest.approx(45.5)
    ideal = rules(**{"weight.basis": "ideal"})
    r = compute_dose("iv-racemic", weight_kg=120, height_cm=180, sex="male", rules=ideal)
    assert r.dose_mg == pytest.approx(37.5)
    assert r.basis_weight.basis == "ideal"
    adj = rules(**{"weight.basis": "adjusted"})
    r = compute_dose("iv-racemic", weight_kg=120, height_cm=180, sex="male", rules=adj)
    assert r.basis_weight.kg == pytest.approx(74.9918 + 0.4 * (120 - 74.9918), abs=1e-3)
    light = compute_dose("iv-racemic", weight_kg=60, height_cm=180, sex="male", rules=ideal)
    assert light.basis_weight.kg == 60  # lesser of actual
    heavy = basis_weight(
        60,
        height_cm=180,
        sex="male",
        rules=rules(**{"weight.basis": "ideal", "weight.lesser_of_actual": False}),
    )
    assert heavy.kg == pytest.approx(74.9918, abs=1e-3)
    with pytest.raises(DoseError, match="height_cm, sex"):
        compute_dose("iv-racemic", weight_kg=70, rules=ideal)
    with pytest.raises(DoseError, match="^sex"):
        ideal_body_weight(170, "x")
    with pytest.raises(DoseError, match="^height_cm"):
        ideal_body_weight(20, "male")


def test_undiluted_100_mg_ml_is_a_hard_stop():
    r = rules(**{"iv.vial_mg_ml": 100, "iv.total_volume_ml": 10})
    with pytest.raises(DoseError, match="undiluted 100 mg/mL"):
        check_iv_concentration(100, 100, 1.0, 1.0, r)
    with pytest.raises(DoseError, match="final_mg_ml"):
        check_iv_concentration(60, 50, 1.0, 2.0)
    # 100 mg/mL vial into 10 mL: 50 mg -> 5 mg/mL, allowed
    assert compute_dose("iv-racemic", weight_kg=100, rules=r).admixture.final_mg_ml == 5
    with pytest.raises(DoseError, match="iv.total_volume_ml"):
        compute_dose(
            "iv-racemic",
            weight_kg=250,
            rules=rules(**{"iv.total_volume_ml": 10, "iv.vial_mg_ml": 10, "iv-racemic.max_dose_mg": 150}),
        )


def test_hcl_labelled_vial():
    r = compute_dose("iv-racemic", weight_kg=70, rules=rules(**{"iv.vial_strength_is_base": False}))
    assert r.admixture.drug_volume_ml == pytest.approx(35 / (10 * 237.73 / 274.19), abs=1e-3)


@given(st.floats(30, 300), st.floats(30, 300), st.integers(0, 4))
def test_dose_monotone_in_weight_up_to_cap(w1, w2, level):
    lo, hi = sorted((w1, w2))
    a = compute_dose("iv-racemic", weight_kg=lo, level=level).dose_mg
    b = compute_dose("iv-racemic", weight_kg=hi, level=level).dose_mg
    assert a <= b <= 100


@given(
    st.floats(1, 200),
    st.sampled_from([2, 15, 40, 60, 100]),
    st.sampled_from([10, 50, 100]),
    st.sampled_from([50.0, 100.0, 250.0]),
    st.sampled_from([0.1, 1.0]),
)
def test_admixture_rate_times_time_equals_dose(dose, minutes, vial, volume, res):
    r = rules(**{"iv.vial_mg_ml": vial, "iv.total_volume_ml": volume, "iv.pump_resolution_ml_h": res})
    try:
        a = iv_admixture(dose, minutes, r)
    except DoseError:
        assert dose / vial > volume or dose / volume > 50
        return
    assert a.final_mg_ml * a.rate_ml_h * a.run_min / 60 == pytest.approx(dose, rel=1e-9)
    assert a.rate_ml_h / res == pytest.approx(round(a.rate_ml_h / res), abs=1e-6)  # on the pump grid
    assert abs(a.run_min - minutes) <= minutes * (res / 2) / a.rate_ml_h + 1e-9
    assert a.drug_volume_ml + a.diluent_volume_ml == pytest.approx(volume, abs=1e-3)


@pytest.mark.parametrize(
    ("dose", "devices", "offsets"), [(28, 1, (0,)), (56, 2, (0, 5)), (84, 3, (0, 5, 10))]
)
def test_device_count_and_spacing(dose, devices, offsets):  # §1.1
    p = device_plan(dose)
    assert p.devices == devices
    assert p.offsets_min == offsets
    t = p.times(NOW)
    assert check_device_spacing(t) == []
    with pytest.raises(DoseError, match="timezone"):
        p.times(dt.datetime(2026, 1, 1))


def test_device_spacing_violation_and_bad_count():
    assert "wait at least 5" in check_device_spacing([NOW, NOW + dt.timedelta(minutes=3)])[0]
    with pytest.raises(DoseError, match="timezone"):
        check_device_spacing([dt.datetime(2026, 1, 1)])
    with pytest.raises(DoseError, match="dose_mg"):
        device_plan(30)


@pytest.mark.parametrize(
    ("pid", "req", "prev", "ok"),
    [
        ("esketamine-trd", None, [], 56),
        ("esketamine-trd", 56, [], 56),
        ("esketamine-trd", 84, [], None),
        ("esketamine-trd", 84, [56], 84),
        ("esketamine-trd", None, [56, 84], 84),
        ("esketamine-trd", 28, [], None),
        ("esketamine-trd", 70, [56], None),
        ("esketamine-mdsi", None, [], 84),
        ("esketamine-mdsi", 56, [84], 56),
    ],
)
def test_esketamine_label_rules(pid, req, prev, ok):  # §1.2
    if ok is None:
        with pytest.raises(DoseError, match="requested_mg"):
            compute_dose(pid, requested_mg=req, previous_doses_mg=prev)
    else:
        r = compute_dose(pid, requested_mg=req, previous_doses_mg=prev)
        assert r.dose_mg == ok
        assert r.devices.devices == ok // 28


def test_geriatric_28mg_is_a_jurisdiction_option():
    on = rules(**{"esketamine.geriatric_28mg_start": True})
    assert compute_dose("esketamine-trd", requested_mg=28, age_years=70, rules=on).dose_mg == 28
    with pytest.raises(DoseError, match="requested_mg"):
        compute_dose("esketamine-trd", requested_mg=28, age_years=60, rules=on)
    with pytest.raises(DoseError, match="steps of at most 28"):
        compute_dose("esketamine-trd", requested_mg=84, previous_doses_mg=[28], age_years=70, rules=on)
    assert (
        compute_dose(
            "esketamine-trd", requested_mg=56, previous_doses_mg=[28], age_years=70, rules=on
        ).dose_mg
        == 56
    )


def test_im_and_sublingual():
    im = compute_dose("im-racemic", weight_kg=80)
    assert im.dose_mg == 40
    assert im.injection_volume_ml == 0.8
    sl = compute_dose("sublingual-kap")
    assert sl.dose_mg == pytest.approx(100 * 237.73 / 274.19, abs=0.01)
    assert sl.units == 1
    base = compute_dose(
        "sublingual-kap", requested_mg=150, rules=rules(**{"sublingual-kap.dose_salt": "base"})
    )
    assert base.dose_mg == 150
    assert any("not a whole number" in x for x in base.reasons)
    with pytest.raises(DoseError, match="requested_mg"):
        compute_dose("sublingual-kap", requested_mg=500)


def test_fixed_dose_to_dict_has_no_admixture():
    import datetime as _dt

    from kairos.clinical.dosing import compute_dose as _compute

    d = _compute("esketamine-trd", session_date=_dt.date(2026, 1, 5)).to_dict()
    assert d["admixture"] is None and d["devices"] is not None
