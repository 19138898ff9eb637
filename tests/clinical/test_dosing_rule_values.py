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
