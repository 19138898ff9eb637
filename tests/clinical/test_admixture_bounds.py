"""IV admixture input bounds and concentration boundaries, with exact messages (issue #17 §3).

Concentration limits (rules/dosing.py): the final IV concentration may be at most 50 mg/mL (§2.2, dilute
100 mg/mL with an equal volume, ◐ Ketalar label); a 100 mg/mL vial is never given undiluted (§2.2, §7.3).
"""

from __future__ import annotations

import pytest

from kairos.clinical.dosing import DoseError, check_iv_concentration, iv_admixture

pytestmark = pytest.mark.db_independent


@pytest.mark.parametrize(
    ("dose", "minutes", "message"),
    [
        (0, 40, "dose_mg: 0 is outside the allowed range [1e-06, inf] mg"),
        (-5, 40, "dose_mg: -5 is outside the allowed range [1e-06, inf] mg"),
        (40, 0.5, "infusion_min: 0.5 is outside the allowed range [1, inf] min"),
        (float("nan"), 40, "dose_mg: expected a finite number, got nan"),
    ],
)
def test_admixture_inputs_refused_by_name_and_range(dose, minutes, message):
    with pytest.raises(DoseError) as exc:
        iv_admixture(dose, minutes)
    assert str(exc.value) == message


@pytest.mark.parametrize("minutes", [1.0, 1.5, 40])
def test_admixture_accepts_infusions_from_one_minute(minutes):
    a = iv_admixture(40, minutes)
    assert a.infusion_min == minutes
    assert a.delivered_mg == pytest.approx(40)


def test_final_concentration_at_the_limit_is_accepted_and_above_it_refused():
    check_iv_concentration(50.0, 100, 50.0, 100.0)  # exactly 50 mg/mL, diluted: allowed
    with pytest.raises(DoseError) as exc:
        check_iv_concentration(50.01, 100, 50.01, 100.0)
    assert str(exc.value) == "final_mg_ml: 50.01 mg/mL is outside the allowed range (0, 50] mg/mL for IV use"
    check_iv_concentration(49.999, 100, 49.999, 100.0)


def test_undiluted_100_mg_ml_vial_is_refused_only_when_undiluted():
    with pytest.raises(DoseError) as exc:
        check_iv_concentration(100.0, 100, 100.0, 100.0)  # the whole volume is drug
    assert str(exc.value) == (
        "iv.vial_mg_ml: undiluted 100 mg/mL ketamine must never be given IV; dilute it "
        "(final concentration allowed range (0, 50] mg/mL)"
    )
    # half a millilitre of diluent in 100 mL: not "undiluted" (the concentration rule then applies)
    with pytest.raises(DoseError, match=r"^final_mg_ml: "):
        check_iv_concentration(99.5, 100, 99.5, 100.0)
    check_iv_concentration(10.0, 100, 10.0, 100.0)  # 10 mL of 100 mg/mL in 100 mL: 10 mg/mL


def test_drug_volume_up_to_the_bag_volume_is_accepted():
    # from the 10 mg/mL vial into the 100 mL bag: 1000 mg is exactly 100 mL (no diluent), 1000.1 mg is more
    full = iv_admixture(1000, 40)
    assert (full.drug_volume_ml, full.diluent_volume_ml) == (100.0, 0.0)
    with pytest.raises(DoseError):
        iv_admixture(1000.1, 40)
