"""Form values reach the services as strings: bad ones are refused naming the field, good ones are parsed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kairos.dosing import services
from kairos.dosing.models import Administration

from .conftest import checked_in

pytestmark = pytest.mark.django_db

M = dt.timedelta(minutes=1)


def _verified_iv(org, patient, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic", weight_kg="80.0")
    services.order_dose(org.prescriber, s)
    services.verify_dose(org.nurse, s)
    return s


@pytest.mark.parametrize("raw", ["abc", "nan", "inf", "0", "1000"])
def test_iv_rate_from_the_form_refused_naming_field(org, patient, site, t0, raw):
    s = _verified_iv(org, patient, t0)
    with pytest.raises(ValidationError) as exc:
        services.start_dosing(
            org.nurse, s, product_code="ketamine-10", lot_number="K1", at=t0 + 5 * M, rate_ml_h=raw
        )
    assert "rate_ml_h" in exc.value.message_dict
    assert "[1, 999] mL/h" in exc.value.message_dict["rate_ml_h"][0]
    assert not Administration.objects.filter(session=s).exists()


@pytest.mark.parametrize(("raw", "stored"), [("120", "120.0"), ("", "150.0"), (None, "150.0")])
def test_iv_rate_from_the_form_parsed_or_defaults_to_the_order(org, patient, site, t0, raw, stored):
    s = _verified_iv(org, patient, t0)
    admin = services.start_dosing(
        org.nurse, s, product_code="ketamine-10", lot_number="K1", at=t0 + 5 * M, rate_ml_h=raw
    )
    # blank = the ordered rate: 40 mg in 100 mL over 40 min = 150 mL/h (see test_journey)
    assert str(admin.rate_ml_h) == stored


def test_cadss_reading_with_vitals_keeps_both_the_score_and_the_flowsheet_outcome(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="im-racemic")
    services.order_dose(org.prescriber, s)
    services.verify_dose(org.nurse, s)
    services.start_dosing(org.nurse, s, product_code="ketamine-50", lot_number="IM1", at=t0 + 5 * M)
    services.add_reading(org.nurse, s, taken_at=t0 + 10 * M, vitals={"spo2": 90})
    r = services.add_reading(
        org.nurse,
        s,
        taken_at=t0 + 11 * M,
        vitals={"spo2": 89},
        cadss6={"1": 1, "2": 2, "6": 0, "7": 0, "15": 0, "22": 0},
    )
    assert r.cadss6_total == 3
    assert r.outcome == "escalate"  # < 93 % on 2 consecutive checks (§1.5 S13), not the CADSS score
