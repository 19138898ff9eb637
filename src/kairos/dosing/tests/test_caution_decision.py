"""Issue #12 §2: a pre-dose caution is a decision recorded by a prescriber (proceed / delay / cancel, with a
reason) before the dose can be ordered; append-only, audited, shown on the page, the note and the REMS form.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from kairos.audit.models import AuditEvent
from kairos.core.append_only import AppendOnlyError
from kairos.dosing import services
from kairos.dosing.models import CautionDecision, DischargeNote
from kairos.dosing.tests.conftest import checked_in

pytestmark = pytest.mark.django_db

REASON = "pregnancy test declined today; risks discussed and documented"


def _caution(org, patient, t0, **kw):
    """IV session checked in with one caution: pregnancy status not established (female patient)."""
    return checked_in(org, patient, t0, protocol="iv-racemic", pregnancy_status="unknown", **kw)


def test_a_caution_stays_checked_in_awaiting_a_decision(org, patient, site, t0):
    s = _caution(org, patient, t0)
    assert s.status == "checked_in"
    assert s.precheck.gate_outcome == "caution"
    assert s.prechecks_done_at is None


def test_order_without_a_decision_is_refused_naming_the_caution(org, patient, site, t0):
    s = _caution(org, patient, t0)
    with pytest.raises(ValidationError, match="undecided pre-dose caution: pregnancy_unknown"):
        services.order_dose(org.prescriber, s)


def test_direct_post_to_the_order_endpoint_without_a_decision_is_400_naming_the_caution(
    org, patient, site, t0
):
    s = _caution(org, patient, t0)
    c = Client()
    c.force_login(org.prescriber)
    r = c.post(reverse("dosing:action", args=[s.pk, "order"]), {"level": "0"})
    assert r.status_code == 400
    assert "pregnancy_unknown" in r.content.decode()
    assert not hasattr(type(s).objects.get(pk=s.pk), "order")


def test_a_nurse_cannot_decide(org, patient, site, t0):
    s = _caution(org, patient, t0)
    with pytest.raises(PermissionDenied):
        services.decide_cautions(org.nurse, s, decision="proceed", reason=REASON)
    c = Client()
    c.force_login(org.nurse)
    r = c.post(reverse("dosing:action", args=[s.pk, "decide"]), {"decision": "proceed", "reason": REASON})
    assert r.status_code == 403
    assert CautionDecision.objects.count() == 0


def test_proceed_needs_a_reason_then_the_dose_can_be_ordered(org, patient, site, t0):
    s = _caution(org, patient, t0)
    with pytest.raises(ValidationError, match="reason"):
        services.decide_cautions(org.prescriber, s, decision="proceed", reason="ok")
    with pytest.raises(ValidationError, match="decision: 'maybe' is not one of proceed, delay, cancel"):
        services.decide_cautions(org.prescriber, s, decision="maybe", reason=REASON)
    d = services.decide_cautions(org.prescriber, s, decision="proceed", reason=REASON)
    assert d.codes == ["pregnancy_unknown"] and d.decided_by == org.prescriber and d.reason == REASON
    s.refresh_from_db()
    assert s.status == "prechecks_done"
    order = services.order_dose(org.prescriber, s)
    assert float(order.dose_mg) == 40.0  # 0.5 mg/kg × 80 kg
    ev = AuditEvent.objects.filter(summary="pre-dose caution decision: proceed").get()
    assert ev.actor == org.prescriber and ev.reason == REASON and ev.new["codes"] == ["pregnancy_unknown"]
    assert ev.patient_id == patient.pk


def test_delay_keeps_the_session_checked_in_without_an_order(org, patient, site, t0):
    s = _caution(org, patient, t0)
    services.decide_cautions(
        org.prescriber, s, decision="delay", reason="waiting for the pregnancy test result"
    )
    s.refresh_from_db()
    assert s.status == "checked_in"
    with pytest.raises(ValidationError, match="undecided pre-dose caution: pregnancy_unknown"):
        services.order_dose(org.prescriber, s)
    # later: decided again (proceed), now the order goes through
    services.decide_cautions(
        org.prescriber, s, decision="proceed", reason="pregnancy test negative, on paper"
    )
    s.refresh_from_db()
    assert s.status == "prechecks_done"
    assert [d.decision for d in s.caution_decisions.all()] == ["delay", "proceed"]


def test_cancel_cancels_the_session_with_the_reason(org, patient, site, t0):
    s = _caution(org, patient, t0)
    reason = "patient prefers to reschedule after the test"
    services.decide_cautions(org.prescriber, s, decision="cancel", reason=reason)
    s.refresh_from_db()
    assert s.status == "cancelled" and s.cancel_reason == reason


def test_a_recheck_needs_a_new_decision(org, patient, site, t0):
    s = _caution(org, patient, t0)
    services.decide_cautions(
        org.prescriber, s, decision="delay", reason="repeat the vital signs in ten minutes"
    )
    s = services.recheck(org.nurse, s, vitals={"sbp": 120, "dbp": 76, "heart_rate": 70, "spo2": 98})
    assert s.status == "checked_in" and s.precheck.gate_run == 2
    with pytest.raises(ValidationError, match="pregnancy_unknown"):
        services.order_dose(org.prescriber, s)


def test_no_caution_no_decision_needed(org, patient, site, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    assert s.status == "prechecks_done"
    with pytest.raises(ValidationError, match="status"):
        services.decide_cautions(org.prescriber, s, decision="proceed", reason=REASON)


def test_decisions_are_append_only(org, patient, site, t0):
    s = _caution(org, patient, t0)
    d = services.decide_cautions(org.prescriber, s, decision="proceed", reason=REASON)
    d.reason = "changed afterwards, which must not be possible"
    with pytest.raises(AppendOnlyError):
        d.save()
    with pytest.raises(AppendOnlyError):
        d.delete()


def test_a_hold_override_records_the_decision_on_the_cautions_too(org, patient, site, t0):
    # no weight today: a HOLD for IV; pregnancy unknown: a CAUTION
    s = _caution(org, patient, t0, weight_kg=None)
    assert s.status == "held"
    reason = "weighed yesterday at the intake visit; proceeding"
    s = services.override_hold(org.prescriber, s, reason=reason)
    assert s.status == "prechecks_done"
    d = s.caution_decisions.get()
    assert (d.decision, d.codes, d.via_override, d.reason) == ("proceed", ["pregnancy_unknown"], True, reason)


def test_decision_shown_on_the_session_page_and_copied_into_the_note(org, patient, site, t0):
    s = _caution(org, patient, t0)
    services.decide_cautions(org.prescriber, s, decision="proceed", reason=REASON)
    c = Client()
    c.force_login(org.nurse)
    page = c.get(reverse("dosing:detail", args=[s.pk])).content.decode()
    assert 'data-testid="caution-decisions"' in page and REASON in page
    flowsheet = c.get(reverse("dosing:flowsheet", args=[s.pk])).content.decode()
    assert 'data-testid="flowsheet-decisions"' in flowsheet and "pregnancy_unknown" in flowsheet
    note = DischargeNote.objects.create(
        session=s, discharged_at=t0 + dt.timedelta(hours=2), summary="uneventful", author=org.nurse
    )
    assert note.predose_decisions[0]["codes"] == ["pregnancy_unknown"]
    assert note.predose_decisions[0]["reason"] == REASON
    assert note.predose_decisions[0]["by"] == org.prescriber.get_username()


def test_esketamine_caution_decision_on_the_rems_form(org, patient, site, t0, enrolled):
    s = checked_in(org, patient, t0, vitals={"sbp": 150, "dbp": 95, "heart_rate": 80, "spo2": 98})
    assert s.status == "checked_in"
    with pytest.raises(ValidationError, match="bp_above_label_guide"):
        services.order_dose(org.prescriber, s)
    services.decide_cautions(
        org.prescriber, s, decision="proceed", reason="known hypertension, stable at 150/95 for months"
    )
    c = Client()
    c.force_login(org.prescriber)
    page = c.get(reverse("dosing:rems_form", args=[s.pk])).content.decode()
    assert 'data-testid="rems-decisions"' in page and "bp_above_label_guide" in page


def test_signed_rems_form_and_note_carry_the_decision(org, patient, site, t0, enrolled):
    from kairos.dosing.tests.conftest import GOOD_VITALS

    m = dt.timedelta(minutes=1)
    s = checked_in(org, patient, t0, vitals={"sbp": 150, "dbp": 95, "heart_rate": 80, "spo2": 98})
    reason = "known hypertension, stable at 150/95 for months"
    services.decide_cautions(org.prescriber, s, decision="proceed", reason=reason)
    services.order_dose(org.prescriber, s)
    first = t0 + 10 * m
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="LOT123", at=first)
    services.record_device(org.nurse, s, at=first + 5 * m)
    services.add_reading(
        org.nurse, s, taken_at=first + 40 * m, vitals={"sbp": 130, "dbp": 82, "heart_rate": 76, "spo2": 97}
    )
    services.add_reading(
        org.nurse,
        s,
        taken_at=first + 45 * m,
        moaas=5,
        cadss6={"1": 0, "2": 0, "6": 0, "7": 0, "15": 0, "22": 0},
    )
    services.add_reading(org.nurse, s, taken_at=first + 118 * m, vitals=GOOD_VITALS, moaas=5)
    note = services.discharge(
        org.nurse,
        s,
        escort_present=True,
        dissociation_resolved=True,
        summary="Tolerated well.",
        ready_to_leave_minutes=90,
        at=first + 125 * m,
    )
    signed = services.sign_note(org.prescriber, note)
    assert signed.predose_decisions[0]["codes"] == ["bp_above_label_guide"]
    form = services.sign_rems_form(org.nurse, s)
    assert form.fields["predose_decisions"][0]["decision"] == "proceed"
    assert form.fields["predose_decisions"][0]["reason"] == reason
