"""Every field of a computed dose, for each route, written out from the sources (issue #17 §3).

`make mutate` showed the salt conversion, the identity fields, the effective mg/kg, the IM volume, the
sublingual units and the clinician-facing reasons could all be broken without a failing test. Salt
conversions use the molecular weights in rules/dosing.py (pharmacology.md: ketamine base 237.73 g/mol,
hydrochloride 274.19 g/mol): HCl mg = base mg × 274.19 / 237.73.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.clinical.config import Override
from kairos.clinical.dosing import compute_dose
from kairos.clinical.rules.dosing import RULES

pytestmark = pytest.mark.db_independent

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_iv_result_every_field():
    r = compute_dose("iv-racemic", weight_kg=80)
    assert (r.protocol_id, r.drug, r.route) == ("iv-racemic", "ketamine", "IV")
    assert r.dose_mg == 40.0  # 0.5 mg/kg × 80 kg (§2.2)
    assert r.dose_mg_hcl == 46.13  # 40 × 274.19 / 237.73 = 46.1347
    assert r.mg_per_kg == 0.5 and r.effective_mg_per_kg == 0.5
    assert r.capped is False and r.devices is None and r.units is None and r.injection_volume_ml is None
    assert r.reasons == (
        "weight 80 kg (taken as measured at the session)",
        "0.5 mg/kg × 80.0 kg = 40 mg ketamine (free base)",
        "admixture 4 mL of 10 mg/mL + 96 mL diluent = 100 mL at 0.4 mg/mL; 150 mL/h over 40.0 min",
    )


def test_im_result_every_field():
    r = compute_dose("im-racemic", weight_kg=80)
    assert (r.protocol_id, r.drug, r.route) == ("im-racemic", "ketamine", "IM")
    assert r.dose_mg == 40.0 and r.dose_mg_hcl == 46.13
    assert r.injection_volume_ml == 0.8  # 40 mg of the 50 mg/mL vial
    assert r.admixture is None
    assert r.reasons[-1] == "0.8 mL of 50 mg/mL by IM injection"


def test_im_volume_is_rounded_to_hundredths_of_a_ml():
    r = compute_dose("im-racemic", weight_kg=63.3)  # 0.5 × 63.3 = 31.65 → 31.7 mg (0.1 mg steps)
    assert r.dose_mg == 31.7
    assert r.injection_volume_ml == 0.63  # 31.7 / 50 = 0.634
    assert r.effective_mg_per_kg == pytest.approx(31.7 / 63.3)


def test_esketamine_result_every_field():
    r = compute_dose("esketamine-trd")
    assert (r.protocol_id, r.drug, r.route) == ("esketamine-trd", "esketamine", "intranasal")
    assert r.dose_mg == 56.0  # §1.2 day-1 dose
    assert r.dose_mg_hcl == 64.59  # 56 × 274.19 / 237.73 = 64.588
    assert r.devices is not None and (r.devices.devices, r.devices.offsets_min) == (2, (0.0, 5.0))
    assert r.mg_per_kg is None and r.basis_weight is None
    assert r.reasons == ("day-1 dose 56 mg (start dose 56 mg, §1.2)", "2 × 28 mg devices, 5 min apart")


@pytest.mark.parametrize(
    ("written", "base", "units", "whole"),
    [(100, 86.7, 1.0, True), (150, 130.05, 1.5, False), (200, 173.41, 2.0, True)],
)
def test_sublingual_result_every_field(written, base, units, whole):
    r = compute_dose("sublingual-kap", requested_mg=written)  # written as ketamine HCl (the default salt)
    assert (r.protocol_id, r.drug, r.route) == ("sublingual-kap", "ketamine", "sublingual")
    assert r.dose_mg == base  # written × 237.73 / 274.19
    assert r.dose_mg_hcl == float(written)
    assert r.units == units  # of the 100 mg unit
    assert r.reasons[0] == f"{written} mg ketamine HCL = {base:.1f} mg free base"
    assert ("dose is not a whole number of units: check the product" in r.reasons) is (not whole)


def test_sublingual_dose_written_as_base():
    rules = RULES.with_overrides([Override("sublingual-kap.dose_salt", "base", "dr-test", NOW, "test")])
    r = compute_dose("sublingual-kap", requested_mg=100, rules=rules)
    assert r.dose_mg == 100.0 and r.dose_mg_hcl == 115.34  # 100 × 274.19 / 237.73 = 115.338
    assert r.reasons[0] == "100 mg ketamine base = 100.0 mg free base"


def test_titration_landing_exactly_on_the_ceiling_is_not_capped():
    step = RULES.with_overrides(
        [Override("iv-racemic.titration_step_mg_per_kg", 0.125, "dr-test", NOW, "test")]
    )
    r = compute_dose("iv-racemic", weight_kg=80, level=2, rules=step)  # 0.5 + 2 × 0.125 = 0.75 = ceiling
    assert r.mg_per_kg == 0.75 and r.dose_mg == 60.0
    assert r.capped is False
    assert not any("capped" in x for x in r.reasons)
    over = compute_dose("iv-racemic", weight_kg=80, level=3, rules=step)  # 0.875 → ceiling 0.75
    assert over.capped is True and over.dose_mg == 60.0
    assert "titration level 3 capped at the ceiling 0.75 mg/kg" in over.reasons


def test_dose_exactly_at_the_absolute_cap_is_not_capped():
    r = compute_dose("iv-racemic", weight_kg=200)  # 0.5 × 200 = 100 mg = the 100 mg cap
    assert r.dose_mg == 100.0 and r.capped is False
    above = compute_dose("iv-racemic", weight_kg=201)  # 100.5 mg → 100
    assert above.dose_mg == 100.0 and above.capped is True
    assert "100.5 mg capped at the maximum single dose 100 mg" in above.reasons
