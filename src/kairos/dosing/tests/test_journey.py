"""Service-level end-to-end sessions: esketamine and IV, from check-in to signed note and REMS form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kairos.audit.models import AuditEvent
from kairos.core.append_only import AppendOnlyError
from kairos.dosing import records, selectors, services
from kairos.dosing.models import DischargeNote, Reading

from .conftest import GOOD_VITALS, checked_in

pytestmark = pytest.mark.django_db

M = dt.timedelta(minutes=1)


def test_esketamine_session_end_to_end(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0)
    assert s.status == "prechecks_done", s.hold_reasons
    order = services.order_dose(org.prescriber, s)
    assert float(order.dose_mg) == 56.0 and order.devices == 2  # §1.2 day-1 56 mg = 2 × 28 mg devices
    admin = services.start_dosing(
        org.nurse, s, product_code="spravato-56", lot_number="LOT123", at=t0 + 10 * M
    )
    assert admin.ndc == "50458-028-02"
    with pytest.raises(ValidationError, match="wait at least 5 min"):
        services.record_device(org.nurse, s, at=t0 + 13 * M)
    services.record_device(org.nurse, s, at=t0 + 15 * M)
    s.refresh_from_db()
    assert s.status == "monitoring"
    first = t0 + 10 * M
    r40 = services.add_reading(
        org.nurse, s, taken_at=first + 40 * M, vitals={"sbp": 168, "dbp": 92, "heart_rate": 80, "spo2": 97}
    )
    assert r40.phase == "post" and r40.outcome == "caution"  # +44 systolic ≥ 40 (§1.5 S6)
    assert "bp_significant_rise" in [f["code"] for f in r40.findings]
    services.add_reading(
        org.nurse,
        s,
        taken_at=first + 45 * M,
        moaas=4,
        cadss6={"1": 1, "2": 1, "6": 0, "7": 0, "15": 0, "22": 0},
    )
    # too early: the REMS minimum is 2 h from the first device
    with pytest.raises(ValidationError, match="min_observation"):
        services.discharge(
            org.nurse, s, escort_present=True, dissociation_resolved=True, summary="ok", at=first + 100 * M
        )
    services.add_reading(
        org.nurse,
        s,
        taken_at=first + 118 * M,
        vitals={"sbp": 128, "dbp": 80, "heart_rate": 70, "spo2": 98, "resp_rate": 14},
        moaas=5,
    )
    note = services.discharge(
        org.nurse,
        s,
        escort_present=True,
        dissociation_resolved=True,
        summary="Tolerated well.",
        ready_to_leave_minutes=90,
        at=first + 125 * M,
    )
    s.refresh_from_db()
    assert s.status == "discharged"
    with pytest.raises(ValidationError, match="responsible clinician"):
        services.sign_note(org.nurse, note)
    services.sign_note(org.prescriber, note)
    form = selectors.build_rems_form(s)
    assert form.complete, (form.missing, form.problems)
    f = form.fields
    assert f["session.dose"] == "56 mg" and f["session.lot_number"] == "LOT123"
    assert (f["bp.pre_sbp"], f["bp.post40_sbp"], f["bp.completion_sbp"]) == (124, 168, 128)
    assert (
        f["duration.total_minutes"] == 125
        and f["adverse.sedation"] == "Y"
        and f["adverse.dissociation"] == "Y"
    )
    assert f["concomitant.benzodiazepines"] == "N" and f["patient.first_treatment"] == "Y"
    signed = services.sign_rems_form(org.nurse, s)
    assert signed.due_date == first.astimezone(org.north.tz).date() + dt.timedelta(days=7)
    services.submit_rems_form(org.nurse, s, confirmation="REMS-998877", method="fax")
    record = records.session_record(s)
    assert record["rems_form"]["state"] == "submitted"
    assert record["discharge"][0]["signature"]["by"] == "prescriber"
    assert record["readings"][0]["values"]["sbp"]["loinc"] == "8480-6"
    assert AuditEvent.objects.filter(patient=patient, action="sign").count() == 2


def test_iv_session_end_to_end(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic", weight_kg="80.0")
    assert s.status == "prechecks_done", s.hold_reasons
    order = services.order_dose(org.prescriber, s)
    # 0.5 mg/kg × 80 kg = 40 mg in 100 mL (0.4 mg/mL) over 40 min = 150 mL/h (§2.2; rules.dosing)
    assert (float(order.dose_mg), float(order.concentration_mg_ml), float(order.rate_ml_h)) == (
        40.0,
        0.4,
        150.0,
    )
    with pytest.raises(ValidationError, match="second clinician"):
        services.start_dosing(org.nurse, s, product_code="ketamine-10", lot_number="K1", at=t0 + 5 * M)
    with pytest.raises(ValidationError, match="different clinician"):
        services.verify_dose(org.prescriber, s)
    services.verify_dose(org.nurse, s)
    start = t0 + 5 * M
    services.start_dosing(org.nurse, s, product_code="ketamine-10", lot_number="K1", at=start)
    with pytest.raises(ValidationError, match="after the start"):
        services.stop_infusion(org.nurse, s, at=start - M)
    for m in (10, 20, 30, 40):
        services.add_reading(
            org.nurse, s, taken_at=start + m * M, vitals={"sbp": 130, "dbp": 82, "heart_rate": 76, "spo2": 97}
        )
    services.stop_infusion(org.nurse, s, at=start + 40 * M)
    services.add_reading(org.nurse, s, taken_at=start + 95 * M, vitals=GOOD_VITALS, moaas=5)
    note = services.discharge(
        org.nurse,
        s,
        escort_present=True,
        dissociation_resolved=True,
        summary="Infusion complete.",
        at=start + 100 * M,
    )
    services.sign_note(org.prescriber, note)
    rec = records.session_record(s)
    assert rec["order"]["verified_by"] == "nurse" and rec["administration"]["rate_ml_h"] == "150.0"
    assert rec["rems_form"] is None  # IV ketamine is outside the Spravato REMS


def test_amendment_is_a_new_version_never_an_edit(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="im-racemic")
    services.order_dose(org.prescriber, s)
    services.verify_dose(org.nurse, s)
    services.start_dosing(org.nurse, s, product_code="ketamine-50", lot_number="IM1", at=t0 + 5 * M)
    services.add_reading(org.nurse, s, taken_at=t0 + 70 * M, vitals=GOOD_VITALS, moaas=5)
    note = services.discharge(
        org.nurse, s, escort_present=True, dissociation_resolved=True, summary="First text", at=t0 + 75 * M
    )
    services.sign_note(org.prescriber, note)
    note.refresh_from_db()
    note.summary = "silently changed"
    with pytest.raises(AppendOnlyError):
        note.save()
    with pytest.raises(ValidationError, match="at least 15"):
        services.amend_note(org.prescriber, note, reason="typo", summary="Second text")
    v2 = services.amend_note(
        org.prescriber, note, reason="corrected the escort's name", summary="Second text"
    )
    assert (v2.version, v2.previous_version_id, v2.author_id) == (2, note.pk, org.prescriber.pk)
    assert DischargeNote.objects.get(pk=note.pk).summary == "First text"
    with pytest.raises(ValidationError, match="latest"):
        services.amend_note(org.prescriber, note, reason="another correction here", summary="Third")
    assert AuditEvent.objects.filter(action="amend", patient=patient).count() == 1


def test_readings_are_append_only(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    r = Reading.objects.filter(session=s).first()
    r.sbp = 200
    with pytest.raises(AppendOnlyError):
        r.save()
    with pytest.raises(AppendOnlyError):
        r.delete()


@pytest.mark.parametrize(
    ("vitals", "field"),
    [
        ({"sbp": 400, "dbp": 80}, "sbp"),
        ({"sbp": 120, "dbp": 130}, "dbp"),
        ({"spo2": 130}, "spo2"),
        ({"heart_rate": "abc"}, "heart_rate"),
    ],
)
def test_implausible_input_refused_naming_field(org, patient, site, t0, vitals, field):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    n = Reading.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.add_reading(org.nurse, s, taken_at=t0 + M, vitals=vitals)
    assert field in exc.value.message_dict
    assert field in exc.value.message_dict[field][0]
    assert Reading.objects.count() == n


def test_future_reading_refused(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    with pytest.raises(ValidationError, match="future"):
        services.add_reading(
            org.nurse, s, taken_at=timezone.now() + dt.timedelta(hours=1), vitals=GOOD_VITALS
        )


def test_spo2_alarm_and_crisis_escalate(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="im-racemic")
    services.order_dose(org.prescriber, s)
    services.verify_dose(org.nurse, s)
    services.start_dosing(org.nurse, s, product_code="ketamine-50", lot_number="IM1", at=t0 + 5 * M)
    services.add_reading(org.nurse, s, taken_at=t0 + 10 * M, vitals={"spo2": 90})
    r = services.add_reading(org.nurse, s, taken_at=t0 + 11 * M, vitals={"spo2": 89})
    assert r.outcome == "escalate"  # < 93 % on 2 consecutive checks (§1.5 S13)
    r = services.add_reading(org.nurse, s, taken_at=t0 + 12 * M, symptoms=["chest_pain"])
    assert r.outcome == "escalate"


def test_optimistic_lock_refuses_stale_version(org, patient, site, t0):
    s = services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=t0)
    with pytest.raises(ValidationError, match="changed by someone else"):
        services.cancel_session(org.nurse, s, reason="patient called to cancel today", version=s.version + 1)
    services.cancel_session(org.nurse, s, reason="patient called to cancel today", version=s.version)


def test_over_long_cancel_reason_is_refused_not_truncated(org, patient, t0):
    """Issue #10: the one reason rule; the cancel reason column holds 300 characters and used to be cut."""
    s = services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=t0)
    with pytest.raises(ValidationError, match="at most 300"):
        services.cancel_session(org.nurse, s, reason="r" * 301, version=s.version)
    s.refresh_from_db()
    assert s.status != "cancelled"
    services.cancel_session(org.nurse, s, reason="r" * 300, version=s.version)
    s.refresh_from_db()
    assert s.status == "cancelled" and s.cancel_reason == "r" * 300
