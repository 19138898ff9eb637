"""Hard stops, holds and overrides before dosing; dose-order limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kairos.audit.models import AuditEvent
from kairos.dosing import services

from .conftest import checked_in

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("uncertified", "rems_site_not_certified"),
        ("not_enrolled", "rems_patient_not_enrolled"),
        ("no_prescriber", "rems_no_prescriber"),
        ("no_oximeter", "rems_no_pulse_oximeter"),
    ],
)
def test_rems_hard_stops_hold_and_cannot_be_overridden(org, patient, site, t0, monkeypatch, setup, code):
    from kairos.dosing import selectors

    if setup != "not_enrolled":
        monkeypatch.setattr(selectors, "patient_enrolled_at", lambda p: t0 - dt.timedelta(days=3))
    if setup == "uncertified":
        org.north.rems_certified = False
        org.north.save()
    kw = (
        {"prescriber_on_site": None}
        if setup == "no_prescriber"
        else {"pulse_oximeter_on_site": False}
        if setup == "no_oximeter"
        else {}
    )
    s = checked_in(org, patient, t0, **kw)
    assert s.status == "held"
    assert code in [r["code"] for r in s.hold_reasons]
    with pytest.raises(ValidationError, match="cannot override"):
        services.override_hold(org.prescriber, s, reason="clinically necessary today, discussed")
    s.refresh_from_db()
    assert s.status == "held"


def test_bp_hold_without_and_with_override(org, patient, site, t0):
    # > 200/120 once holds IV/IM dosing (clinic hold rule bp.hold_single_*, §2.2 S18, ⚠ configurable)
    s = checked_in(
        org, patient, t0, protocol="iv-racemic", vitals={"sbp": 205, "dbp": 100, "heart_rate": 80, "spo2": 98}
    )
    assert s.status == "held" and "bp_hold" in [r["code"] for r in s.hold_reasons]
    with pytest.raises(ValidationError, match="cannot start dosing"):
        services.start_dosing(org.nurse, s, product_code="ketamine-10", lot_number="L", at=t0 + M)
    with pytest.raises(PermissionDenied):
        services.override_hold(org.nurse, s, reason="nurse cannot override the gate")
    with pytest.raises(ValidationError, match="at least 15"):
        services.override_hold(org.prescriber, s, reason="ok")
    services.override_hold(
        org.prescriber, s, reason="white-coat hypertension, home readings normal", version=s.version
    )
    s.refresh_from_db()
    assert s.status == "prechecks_done"
    assert s.precheck.override_by == org.prescriber
    ev = AuditEvent.objects.filter(patient=patient, summary__contains="overridden").get()
    assert ev.reason.startswith("white-coat")


def test_recheck_clears_a_hold(org, patient, site, t0):
    s = checked_in(
        org, patient, t0, protocol="iv-racemic", vitals={"sbp": 205, "dbp": 100, "heart_rate": 80, "spo2": 98}
    )
    services.recheck(
        org.nurse, s, vitals={"sbp": 132, "dbp": 84, "heart_rate": 76, "spo2": 98}, at=t0 + 10 * M
    )
    s.refresh_from_db()
    assert s.status == "prechecks_done"


def test_recheck_still_held_updates_the_hold_reasons_and_the_override_records_them(org, patient, site, t0):
    # 175/115 is above the confirm-twice threshold but below the single-reading one (⚠ configurable) and
    # below hypertensive-crisis level (≥180/≥120 holds at once, #12 §1):
    # the first reading holds pending a re-measure (bp_hold_recheck), a second reading >= 5 min later
    # confirms it (bp_hold). The session must carry the confirmed reason, and so must the override audit.
    high = {"sbp": 175, "dbp": 115, "heart_rate": 80, "spo2": 98}
    s = checked_in(org, patient, t0, protocol="iv-racemic", vitals=high)
    assert [r["code"] for r in s.hold_reasons] == ["bp_hold_recheck"]
    version = s.version
    services.recheck(org.nurse, s, vitals=high, at=t0 + 6 * M, version=version)
    s.refresh_from_db()
    assert s.status == "held"
    assert [r["code"] for r in s.hold_reasons] == ["bp_hold"]
    assert s.version == version + 1  # a changed hold is a change of the session (optimistic lock)
    still = AuditEvent.objects.get(patient=patient, summary="re-check: still held")
    assert still.old == {"reasons": ["bp_hold_recheck"]}
    assert still.new == {"gate": "hold", "reasons": ["bp_hold"]}
    with pytest.raises(ValidationError, match="version"):
        services.recheck(org.nurse, s, vitals=high, at=t0 + 7 * M, version=version)  # stale page
    services.override_hold(org.prescriber, s, reason="white-coat hypertension, home readings normal")
    ev = AuditEvent.objects.get(patient=patient, summary="pre-dose hold overridden by prescriber")
    assert ev.new["override"] == ["bp_hold"]


def test_no_ride_home_and_crisis_symptoms(org, patient, site, t0, enrolled):
    s = checked_in(org, patient, t0, ride_home_confirmed=False)
    assert s.status == "held" and "no_ride_home" in [r["code"] for r in s.hold_reasons]
    s2 = checked_in(org, patient, t0 + M, symptoms=["severe_headache"])
    assert "hypertensive_crisis_symptoms" in [r["code"] for r in s2.hold_reasons]
    with pytest.raises(ValidationError, match="cannot override"):
        services.override_hold(org.prescriber, s2, reason="patient insists on treatment today")


def test_weight_not_measured_today_holds_iv(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic", weight_kg=None)
    assert s.status == "held" and "weight_not_today" in [r["code"] for r in s.hold_reasons]


def test_esketamine_84_mg_day_one_needs_override(org, patient, site, t0, enrolled):
    s = checked_in(org, patient, t0)
    with pytest.raises(ValidationError, match="84 mg only after a 56 mg start"):
        services.order_dose(org.prescriber, s, requested_mg=84)
    with pytest.raises(ValidationError, match="override_reason"):
        services.order_dose(org.prescriber, s, dose_mg=84)
    order = services.order_dose(
        org.prescriber, s, dose_mg=84, override_reason="continuing course transferred from another clinic"
    )
    assert order.outside_limits and order.devices == 3
    with pytest.raises(PermissionDenied):
        services.order_dose(org.nurse, s)


def test_esketamine_dose_must_be_whole_devices_even_with_override(org, patient, site, t0, enrolled):
    s = checked_in(org, patient, t0)
    with pytest.raises(ValidationError, match="whole number of 28 mg devices"):
        services.order_dose(org.prescriber, s, dose_mg=60, override_reason="trying an odd dose for testing")


def test_iv_admixture_never_undiluted(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    # the computed dose is a rule: another dose needs an override, and the admixture still must be dilute
    with pytest.raises(ValidationError, match="override_reason"):
        services.order_dose(org.prescriber, s, dose_mg=70)
    with pytest.raises(ValidationError, match="dose_mg"):
        services.order_dose(org.prescriber, s, dose_mg=1200, override_reason="deliberately absurd test dose")
    # issue #12 §4: 120 mg for 80 kg (1.5 mg/kg) was accepted with a reason; now above the hard ceiling
    with pytest.raises(ValidationError, match="hard ceiling 80 mg"):
        services.order_dose(
            org.prescriber, s, dose_mg=120, override_reason="documented higher dose after titration review"
        )
    order = services.order_dose(
        org.prescriber, s, dose_mg=70, override_reason="documented higher dose after titration review"
    )
    # diluted admixture: drug volume below the bag volume, final concentration well under the 100 mg/mL vial
    assert order.drug_volume_ml < order.total_volume_ml
    assert float(order.concentration_mg_ml) == pytest.approx(70 / float(order.total_volume_ml), abs=1e-3)
    assert float(order.concentration_mg_ml) < 100


def test_scoping_other_clinic_is_404(org, south_patient, t0):
    from django.http import Http404

    from kairos.dosing import selectors

    s = services.create_session(
        org.south_prescriber, south_patient, protocol_id="iv-racemic", scheduled_for=t0
    )
    with pytest.raises(Http404):
        selectors.get_session(org.nurse, s.pk)
    with pytest.raises(Http404):
        selectors.get_session(org.far_prescriber, s.pk)
    with pytest.raises(Http404):
        services.check_in(
            org.nurse,
            s,
            prescriber_on_site=None,
            pulse_oximeter_on_site=True,
            ride_home_confirmed=True,
            no_driving_acknowledged=True,
            vitals={},
        )


def test_esketamine_high_bp_is_a_caution_not_a_hold(org, patient, site, t0, enrolled):
    # label 'general guide' >140/90 → consider delaying (§1.5 S4 §5.6); no hold on the esketamine route
    s = checked_in(org, patient, t0, vitals={"sbp": 150, "dbp": 95, "heart_rate": 80, "spo2": 98})
    # issue #12 §2: a caution no longer moves to "pre-checks done"; it awaits the prescriber's decision
    assert s.status == "checked_in"
    assert s.precheck.gate_outcome == "caution"
    assert "bp_above_label_guide" in [f["code"] for f in s.precheck.gate_result["findings"]]
