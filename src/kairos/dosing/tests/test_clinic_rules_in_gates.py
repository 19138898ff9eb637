"""A clinic's signed override of a safety threshold is what the dosing gates judge with (issue #12 §7).

The override is signed through :mod:`kairos.rulesets` (bounded by the param's range, audited); the check-in
gate, the flowsheet flags and discharge readiness read the clinic's effective rule set, not the code default.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.dosing import services
from kairos.rulesets import services as rule_services

from .conftest import GOOD_VITALS, checked_in

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)
REASON = "Our anaesthetist asks for a higher single-reading floor."


def _codes(session) -> set[str]:
    return {r["code"] for r in session.hold_reasons}


def test_default_floor_90_lets_a_single_91_pass_the_floor(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "spo2": 91})
    assert "spo2_below_floor" not in _codes(s)


def test_a_clinic_floor_of_92_holds_a_single_91(org, patient, enrolled, site, t0):
    rule_services.set_override(org.prescriber, patient.clinic_id, "safety", "spo2.hold_below", 92, REASON)
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "spo2": 91})
    assert s.status == "held"
    (finding,) = [r for r in s.hold_reasons if r["code"] == "spo2_below_floor"]
    assert "below 92%" in finding["message"]


def test_the_override_is_per_clinic(org, patient, enrolled, site, t0):
    rule_services.set_override(org.south_prescriber, org.south.pk, "safety", "spo2.hold_below", 92, REASON)
    s = checked_in(org, patient, t0, vitals={**GOOD_VITALS, "spo2": 91})
    assert "spo2_below_floor" not in _codes(s)


def test_in_session_the_clinic_floor_escalates(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0)
    services.order_dose(org.prescriber, s)
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="LOT1", at=t0 + 10 * M)
    r = services.add_reading(org.nurse, s, taken_at=t0 + 15 * M, vitals={**GOOD_VITALS, "spo2": 91})
    assert "spo2_below_floor" not in {f["code"] for f in r.findings}
    rule_services.set_override(org.prescriber, patient.clinic_id, "safety", "spo2.hold_below", 92, REASON)
    s.refresh_from_db()
    r = services.add_reading(org.nurse, s, taken_at=t0 + 16 * M, vitals={**GOOD_VITALS, "spo2": 91})
    assert r.outcome == "escalate"
    assert "spo2_below_floor" in {f["code"] for f in r.findings}


def test_the_session_page_shows_the_clinic_rule_in_force(org, patient, enrolled, site, t0, client_for):
    s = checked_in(org, patient, t0)
    page = client_for(org.nurse).get(f"/sessions/{s.pk}/").content.decode()
    assert 'data-testid="rules-in-force"' not in page
    rule_services.set_override(org.prescriber, patient.clinic_id, "safety", "spo2.hold_below", 92, REASON)
    page = client_for(org.nurse).get(f"/sessions/{s.pk}/").content.decode()
    assert 'data-testid="rules-in-force"' in page
    assert "<strong>92 %</strong>" in page and "default 90 %" in page and REASON in page
