"""Issue #12 §4 through the dosing services: an override stays inside the protocol's hard ceiling; above the
soft ceiling it needs a distinct second prescriber's co-signature before administration; the ideal and
adjusted weight bases work end to end with a height recorded at check-in or recently.

Patient: the root fixture (female). IV at 80 kg: computed 0.5 mg/kg = 40 mg; soft 0.75 mg/kg = 60 mg;
hard 1.0 mg/kg = 80 mg (clinical.md §2.2).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from kairos.accounts.models import Membership
from kairos.audit.models import AuditEvent
from kairos.dosing import services
from kairos.dosing.tests.conftest import checked_in
from kairos.patients.services import record_height
from kairos.rulesets.services import set_override

pytestmark = pytest.mark.django_db

WHY = "documented titration review with the patient and team"


@pytest.fixture
def second_prescriber(org):
    u = get_user_model().objects.create_user("second_rx", "second_rx@test.invalid", "pw-for-tests-1")
    Membership.objects.create(user=u, clinic=org.north, role="prescriber")
    return u


def _iv(org, patient, t0, **kw):
    return checked_in(org, patient, t0, protocol="iv-racemic", **kw)


def _start(org, s):
    return services.start_dosing(org.nurse, s, product_code="ketamine-10", lot_number="LOT-1")


@pytest.mark.parametrize("dose", [80.1, 120.0])
def test_override_above_the_hard_ceiling_is_refused_naming_it(org, patient, site, t0, dose):
    s = _iv(org, patient, t0)
    with pytest.raises(ValidationError) as exc:
        services.order_dose(org.prescriber, s, dose_mg=dose, override_reason=WHY)
    msg = str(exc.value)
    assert "hard ceiling 80 mg" in msg and "iv-racemic.hard_ceiling_mg_per_kg" in msg


def test_esketamine_override_above_84_mg_is_refused(org, patient, site, t0, enrolled):
    s = checked_in(org, patient, t0)
    with pytest.raises(ValidationError, match="hard ceiling 84 mg"):
        services.order_dose(org.prescriber, s, dose_mg=112, override_reason=WHY)


def test_override_at_the_soft_ceiling_needs_no_cosignature(org, patient, site, t0):
    s = _iv(org, patient, t0)
    order = services.order_dose(org.prescriber, s, dose_mg=60, override_reason=WHY)
    assert order.outside_limits and not order.cosign_required
    assert order.calculation["ceilings"]["soft_mg"] == 60.0
    assert order.calculation["ceilings"]["hard_mg"] == 80.0


def test_over_the_soft_ceiling_without_cosign_administration_is_refused(org, patient, site, t0):
    s = _iv(org, patient, t0)
    order = services.order_dose(org.prescriber, s, dose_mg=60.1, override_reason=WHY)
    assert order.cosign_required and order.cosigned_at is None
    services.verify_dose(org.nurse, s)
    with pytest.raises(ValidationError, match="second prescriber's co-signature is required"):
        _start(org, s)


def test_cosign_by_the_same_prescriber_is_refused_and_a_nurse_cannot(org, patient, site, t0):
    s = _iv(org, patient, t0)
    services.order_dose(org.prescriber, s, dose_mg=80, override_reason=WHY)
    with pytest.raises(ValidationError, match="second prescriber, not the one who ordered"):
        services.cosign_dose(org.prescriber, s)
    with pytest.raises(PermissionDenied):
        services.cosign_dose(org.nurse, s)
    services.verify_dose(org.nurse, s)
    with pytest.raises(ValidationError, match="co-signature"):
        _start(org, s)


def test_cosign_by_a_second_prescriber_allows_administration(org, patient, site, t0, second_prescriber):
    s = _iv(org, patient, t0)
    services.order_dose(org.prescriber, s, dose_mg=80, override_reason=WHY)
    order = services.cosign_dose(second_prescriber, s)
    assert order.cosigned_by == second_prescriber and order.cosigned_at is not None
    ev = AuditEvent.objects.filter(summary__startswith="dose override above the soft ceiling co-signed").get()
    assert ev.actor == second_prescriber and ev.patient_id == patient.pk
    with pytest.raises(ValidationError, match="already co-signed"):
        services.cosign_dose(second_prescriber, s)
    services.verify_dose(org.nurse, s)
    admin = _start(org, s)
    assert admin.pk is not None


def test_cosign_of_a_dose_within_the_soft_ceiling_is_refused(org, patient, site, t0, second_prescriber):
    s = _iv(org, patient, t0)
    services.order_dose(org.prescriber, s)
    with pytest.raises(ValidationError, match="no co-signature is needed"):
        services.cosign_dose(second_prescriber, s)


# --- ideal / adjusted weight basis, end to end ---------------------------------------------------------------


@pytest.fixture
def basis(org):
    """The clinic's weight basis set through a signed clinic override (kairos.rulesets), as a clinic would."""

    def use(value: str):
        set_override(
            org.prescriber, org.north.pk, "dosing", "weight.basis", value, "clinic doses on this weight basis"
        )

    return use


def test_ideal_basis_with_height_at_check_in(org, patient, site, t0, basis):
    basis("ideal")
    # female 165 cm: IBW = 45.5 + 0.9055 × (165 − 152.4) = 56.91 kg; 0.5 mg/kg → 28.5 mg (actual 80 kg)
    s = _iv(org, patient, t0, height_cm="165")
    assert float(s.precheck.height.height_cm) == 165.0
    order = services.order_dose(org.prescriber, s)
    assert float(order.dose_mg) == 28.5
    assert float(order.computed_mg) == 28.5
    assert order.calculation["clinic_overrides"][0]["key"] == "weight.basis"
    assert order.calculation["clinic_overrides"][0]["value"] == "ideal"


def test_adjusted_basis_with_a_recent_height_on_record(org, patient, site, t0, basis):
    basis("adjusted")
    record_height(org.nurse, patient, "165", measured_at=t0 - dt.timedelta(days=200))
    # ABW = 56.91 + 0.4 × (80 − 56.91) = 66.15 kg; 0.5 mg/kg → 33.1 mg
    s = _iv(org, patient, t0)
    assert s.precheck.height is not None
    order = services.order_dose(org.prescriber, s)
    assert float(order.dose_mg) == 33.1


def test_ideal_basis_without_height_is_refused(org, patient, site, t0, basis):
    basis("ideal")
    s = _iv(org, patient, t0)
    with pytest.raises(ValidationError, match="height_cm, sex: required"):
        services.order_dose(org.prescriber, s)
    # nor can an override bypass it: the ceilings need the same dosing weight
    with pytest.raises(ValidationError, match="height_cm, sex: required"):
        services.order_dose(org.prescriber, s, dose_mg=30, override_reason=WHY)


def test_a_height_older_than_the_allowed_age_is_not_used(org, patient, site, t0, basis):
    basis("ideal")
    record_height(org.nurse, patient, "165", measured_at=t0 - dt.timedelta(days=400))
    s = _iv(org, patient, t0)
    assert s.precheck.height is None
    with pytest.raises(ValidationError, match="height_cm, sex: required"):
        services.order_dose(org.prescriber, s)


@pytest.mark.parametrize("cm", ["119.9", "230.1", "abc"])
def test_check_in_height_out_of_range_names_the_field_and_range(org, patient, site, t0, cm):
    with pytest.raises(ValidationError, match=r"height_cm: .*\[120\.0, 230\.0\] cm"):
        _iv(org, patient, t0, height_cm=cm)
