"""The measures rule sets moved into kairos.clinical keep their values (issue #10: moved, not changed)."""

import pytest

from kairos.clinical.config import Status
from kairos.clinical.rules.measurement import RULES as MEASUREMENT
from kairos.clinical.rules.safety import RULES as SAFETY
from kairos.clinical.rules.safety_reporting import RULES as REPORTING

pytestmark = pytest.mark.db_independent


def test_dashboard_safety_cut_offs_keep_their_values():
    assert REPORTING["bp_rise.window_min"] == 90
    assert REPORTING["bp_rise.patient_days"] == 28
    assert REPORTING["sedation.moaas_max"] == 3
    assert REPORTING.param("sedation.moaas_max").status is Status.UNCONFIRMED
    assert (SAFETY["bp.rise_sbp"], SAFETY["bp.rise_dbp"]) == (40, 25)


def test_measurement_plan_rule_set_keeps_its_name_and_values():
    assert MEASUREMENT.name == "measures"
    assert MEASUREMENT["indication.depression"] == ("phq9", "madrs")
    assert MEASUREMENT["baseline.window_days"] == 14
    assert MEASUREMENT["monthly.interval_days"] == 30
    assert MEASUREMENT["safety.urine_drug_screen.interval_days"] == 0
    assert len(list(MEASUREMENT)) == 21
