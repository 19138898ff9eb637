"""Dosing and intake thresholds moved into kairos.clinical keep their values (issue #10: moved, not changed)."""

import pytest

from kairos.clinical import dosing
from kairos.clinical.config import Status
from kairos.clinical.rules.dosing import RULES as DOSING
from kairos.clinical.rules.intake import RULES as INTAKE
from kairos.clinical.rules.rems import RULES as REMS
from kairos.clinical.rules.safety import RULES as SAFETY

pytestmark = pytest.mark.db_independent


def test_dose_input_bound_is_defined_once_and_refuses_above_it():
    assert dosing.DOSE_INPUT_MAX_MG == 1000.0
    with pytest.raises(dosing.DoseError, match=r"\[1e-06, 1000\] mg"):
        dosing.compute_dose("esketamine-trd", requested_mg=1000.5)


def test_session_thresholds_keep_their_values():
    assert SAFETY["monitor.slot_window_min"] == 5
    assert REMS["pmf.post40_window_min"] == (30, 60)
    assert REMS["pmf.sedation_moaas_below"] == 5
    for rules, key in (
        (SAFETY, "monitor.slot_window_min"),
        (REMS, "pmf.post40_window_min"),
        (REMS, "pmf.sedation_moaas_below"),
    ):
        assert rules.param(key).status is Status.UNCONFIRMED
    # reused by dosing/adapters.py for the typical curves
    assert DOSING["esketamine.device_mg"] == 28 and SAFETY["monitor.iv_infusion_min"] == 40


def test_intake_thresholds_keep_their_values():
    from kairos.intake import domain

    assert INTAKE["trd.min_failed_trials"] == domain.TRD_MIN_FAILED_TRIALS == 2
    bounds = {v.key: (int(v.low), int(v.high)) for v in domain.VITALS}
    assert bounds == {
        "systolic": (50, 300),
        "diastolic": (20, 200),
        "heart_rate": (20, 250),
        "spo2": (50, 100),
        "resp_rate": (4, 60),
    }


def test_override_ceiling_defaults_sources_and_bounds():
    """Issue #12 §4: the hard ceilings of a dose override, as cited (clinical.md §1.2, §2.2, §2.4)."""
    expected = {
        # key: (value, status, minimum, maximum)
        "iv-racemic.hard_ceiling_mg_per_kg": (1.0, Status.PARTIAL, 0.1, 1.0),  # Fava 2018 highest dose
        "iv-racemic.hard_max_dose_mg": (150.0, Status.UNCONFIRMED, 10, 200),
        "im-racemic.hard_ceiling_mg_per_kg": (1.5, Status.UNCONFIRMED, 0.25, 1.5),  # KAP IM 0.75–1.5 ⚠
        "im-racemic.hard_max_dose_mg": (150.0, Status.UNCONFIRMED, 10, 200),
        "esketamine.hard_max_mg": (84, Status.CONFIRMED, 28, 84),  # label: 56 or 84 mg
        "sublingual-kap.hard_max_mg": (300.0, Status.UNCONFIRMED, 10, 300),  # KAP 100–300+ mg ⚠
        "height.max_age_days": (365, Status.UNCONFIRMED, 0, 3650),
    }
    for key, (value, status, lo, hi) in expected.items():
        p = DOSING.param(key)
        assert (p.value, p.status, p.minimum, p.maximum, p.safer) == (value, status, lo, hi, "lower"), key


def test_every_dosing_param_sets_safer_explicitly():
    for p in DOSING:
        assert p.safer in (None, "lower", "higher"), p.key
    safety_limits = [
        p.key for p in DOSING if p.key.endswith(("max_dose_mg", "ceiling_mg_per_kg", "hard_max_mg"))
    ]
    assert len(safety_limits) == 10
    assert all(DOSING.param(k).safer == "lower" for k in safety_limits)
