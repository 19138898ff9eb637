"""Discharge on a recent, safe reading through the dosing services (issue #12 §3).

Reproduced: vitals taken at +41 min do not satisfy a discharge at +200 min; 185/108 is not "ready". The
service refuses naming the unmet criterion; only rows charted by the discharge time count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kairos.dosing import services
from kairos.dosing.models import DischargeNote

from .conftest import GOOD_VITALS, checked_in

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)
S = dt.timedelta(seconds=1)


@pytest.fixture
def early():
    """A start 4 h ago, so a discharge at +200 min from the first device is in the past."""
    return timezone.now() - dt.timedelta(hours=4)


def _dosed(org, patient, t0):
    s = checked_in(org, patient, t0)
    assert s.status == "prechecks_done", s.hold_reasons
    services.order_dose(org.prescriber, s)
    first = t0 + 10 * M
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="LOT1", at=first)
    services.record_device(org.nurse, s, at=first + 5 * M)
    return s, first


def _discharge(org, s, at):
    return services.discharge(
        org.nurse, s, escort_present=True, dissociation_resolved=True, summary="Tolerated well.", at=at
    )


def _refusal(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " | ".join(exc.value.message_dict["readiness"])


def test_reproduced_vitals_at_41_min_refused_for_a_discharge_at_200_min(org, patient, enrolled, site, early):
    s, first = _dosed(org, patient, early)
    services.add_reading(org.nurse, s, taken_at=first + 41 * M, vitals=GOOD_VITALS, moaas=5)
    with pytest.raises(ValidationError) as exc:
        _discharge(org, s, first + 200 * M)
    text = _refusal(exc)
    assert "vitals_stale" in text
    assert "159 min before discharge" in text
    assert "within 15 min" in text
    assert not DischargeNote.objects.filter(session=s).exists()


def test_reproduced_185_108_refused_naming_the_limit(org, patient, enrolled, site, t0):
    s, first = _dosed(org, patient, t0)
    services.add_reading(
        org.nurse, s, taken_at=first + 118 * M, vitals={**GOOD_VITALS, "sbp": 185, "dbp": 108}, moaas=5
    )
    with pytest.raises(ValidationError) as exc:
        _discharge(org, s, first + 125 * M)
    text = _refusal(exc)
    assert "bp_above_discharge_limit" in text
    assert "185/108 mmHg is above the discharge limit 160/100 mmHg" in text


@pytest.mark.parametrize(("age", "ok"), [(15 * M, True), (15 * M + S, False), (16 * M, False)])
def test_window_boundary_through_the_service(org, patient, enrolled, site, t0, age, ok):
    s, first = _dosed(org, patient, t0)
    services.add_reading(org.nurse, s, taken_at=first + 110 * M, vitals=GOOD_VITALS, moaas=5)
    when = first + 110 * M + age
    if ok:
        note = _discharge(org, s, when)
        assert note.readiness["ready"] is True
        s.refresh_from_db()
        assert s.status == "discharged"
    else:
        with pytest.raises(ValidationError, match="vitals_stale"):
            _discharge(org, s, when)


def test_a_row_charted_after_the_discharge_time_does_not_count(org, patient, enrolled, site, early):
    s, first = _dosed(org, patient, early)
    services.add_reading(org.nurse, s, taken_at=first + 41 * M, vitals=GOOD_VITALS, moaas=5)
    services.add_reading(org.nurse, s, taken_at=first + 205 * M, vitals=GOOD_VITALS, moaas=5)
    with pytest.raises(ValidationError, match="vitals_stale"):
        _discharge(org, s, first + 200 * M)  # retrospective: the +205 row was not there at +200
    assert _discharge(org, s, first + 210 * M).readiness["ready"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"heart_rate": 45}, "hr_low"),
        ({"heart_rate": 118}, "hr_high"),
        ({"resp_rate": 9}, "rr_low"),
        ({"spo2": 92}, "spo2_low"),
        ({"resp_rate": None}, "rr_missing"),
    ],
)
def test_each_absolute_limit_refused_by_name(org, patient, enrolled, site, t0, change, code):
    s, first = _dosed(org, patient, t0)
    vitals = {k: v for k, v in {**GOOD_VITALS, **change}.items() if v is not None}
    services.add_reading(org.nurse, s, taken_at=first + 118 * M, vitals=vitals, moaas=5)
    with pytest.raises(ValidationError, match=code):
        _discharge(org, s, first + 125 * M)


def test_stale_moaas_refused_by_name(org, patient, enrolled, site, t0):
    s, first = _dosed(org, patient, t0)
    services.add_reading(org.nurse, s, taken_at=first + 100 * M, moaas=5)
    services.add_reading(org.nurse, s, taken_at=first + 120 * M, vitals=GOOD_VITALS)
    with pytest.raises(ValidationError) as exc:
        _discharge(org, s, first + 125 * M)
    assert "moaas_stale" in _refusal(exc)
    assert "vitals_stale" not in _refusal(exc)


def test_mark_ready_refuses_a_stale_reading(org, patient, enrolled, site, t0):
    s, first = _dosed(org, patient, t0)
    services.add_reading(org.nurse, s, taken_at=first + 120 * M, vitals=GOOD_VITALS, moaas=5)  # ~50 min ago
    with pytest.raises(ValidationError, match="vitals_stale"):
        services.mark_ready(org.nurse, s, escort_present=True, dissociation_resolved=True)
