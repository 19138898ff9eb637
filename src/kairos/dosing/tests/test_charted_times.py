"""Retrospective charting of check-in and discharge: an optional clinic-local time on both forms, never more
than 5 min in the future, never before the session's previous step; the audit keeps the charted time and
the time it was entered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kairos.audit.models import AuditEvent
from kairos.dosing import services
from kairos.dosing.models import DischargeNote, DosingSession

from .conftest import checked_in

pytestmark = pytest.mark.django_db

M = dt.timedelta(minutes=1)


def _local(org, when: dt.datetime) -> str:
    """What a datetime-local input sends: clinic-local wall time to the minute."""
    return when.astimezone(org.north.tz).strftime("%Y-%m-%dT%H:%M")


def _minute(when: dt.datetime) -> dt.datetime:
    return when.replace(second=0, microsecond=0)


def _checkin_form(org, s, **extra):
    data = {
        "version": s.version,
        "prescriber_on_site": org.prescriber.pk,
        "pulse_oximeter_on_site": "on",
        "ride_home_confirmed": "on",
        "no_driving_acknowledged": "on",
        "weight_kg": "80.0",
        "pregnancy_status": "negative_test",
        "sbp": "124",
        "dbp": "78",
        "heart_rate": "72",
        "spo2": "98",
        "resp_rate": "14",
    }
    data.update(extra)
    return data


def _expected(org, patient, when):
    return services.create_session(
        org.nurse, patient, protocol_id="iv-racemic", scheduled_for=when, responsible=org.prescriber
    )


def test_forms_offer_an_optional_time(org, patient, site, t0, client_for):
    s = _expected(org, patient, t0)
    page = client_for(org.nurse).get(f"/sessions/{s.pk}/").content.decode()
    form = page.split('data-testid="checkin-form"', 1)[1].split("</form>", 1)[0]
    assert 'type="datetime-local" name="at"' in form and "Check-in time" in form
    assert "required" not in form.split('name="at"', 1)[1].split(">", 1)[0]


def test_check_in_charted_retrospectively_from_the_form(org, patient, site, t0, client_for):
    s = _expected(org, patient, t0)
    charted = _minute(t0 + 20 * M)
    r = client_for(org.nurse).post(
        f"/sessions/{s.pk}/check_in/", _checkin_form(org, s, at=_local(org, charted))
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    s.refresh_from_db()
    assert s.checked_in_at == charted and s.precheck.recorded_at == charted
    assert s.readings.get().taken_at == charted  # the pre-dose vitals carry the charted time
    ev = AuditEvent.objects.get(patient=patient, summary="checked in; pre-checks recorded")
    assert dt.datetime.fromisoformat(ev.new["checked_in_at"]) == charted
    entered = dt.datetime.fromisoformat(ev.new["entered_at"])
    assert entered > charted and abs(entered - timezone.now()) < dt.timedelta(minutes=1)


def test_check_in_blank_time_is_now(org, patient, site, t0, client_for):
    s = _expected(org, patient, t0)
    before = timezone.now()
    r = client_for(org.nurse).post(f"/sessions/{s.pk}/check_in/", _checkin_form(org, s, at=""))
    assert r.status_code == 302
    s.refresh_from_db()
    assert before <= s.checked_in_at <= timezone.now()


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (dt.timedelta(minutes=10), "in the future"),  # beyond the 5 min of clock drift
        (-dt.timedelta(days=1), "before the start of the scheduled day"),
    ],
)
def test_check_in_time_refused_naming_the_field(org, patient, site, t0, client_for, offset, message):
    s = _expected(org, patient, timezone.now())
    when = timezone.now() + offset
    r = client_for(org.nurse).post(f"/sessions/{s.pk}/check_in/", _checkin_form(org, s, at=_local(org, when)))
    assert r.status_code == 400
    body = r.content.decode()
    assert "at: " in body and message in body
    s.refresh_from_db()
    assert s.status == "expected" and s.checked_in_at is None  # nothing saved


def test_check_in_within_the_clock_slack_is_accepted(org, patient, site):
    s = _expected(org, patient, timezone.now())
    s = checked_in_existing(org, s, at=timezone.now() + 4 * M)
    assert s.checked_in_at is not None


def checked_in_existing(org, s, **kw):
    return services.check_in(
        org.nurse,
        s,
        prescriber_on_site=org.prescriber,
        pulse_oximeter_on_site=True,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        vitals={"sbp": 124, "dbp": 78, "heart_rate": 72, "spo2": 98},
        weight_kg="80.0",
        **kw,
    )


def _monitoring(org, patient, t0):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    services.order_dose(org.prescriber, s)
    services.verify_dose(org.nurse, s)
    services.start_dosing(org.nurse, s, product_code="ketamine-10", lot_number="K1", at=t0 + 5 * M)
    services.stop_infusion(org.nurse, s, at=t0 + 45 * M)
    services.add_reading(
        org.nurse,
        s,
        taken_at=t0 + 95 * M,
        vitals={"sbp": 124, "dbp": 78, "heart_rate": 72, "spo2": 98, "resp_rate": 14},
        moaas=5,
    )
    s.refresh_from_db()
    return s


def test_discharge_charted_retrospectively_from_the_form(org, patient, site, t0, client_for):
    s = _monitoring(org, patient, t0)
    charted = _minute(t0 + 100 * M)
    r = client_for(org.nurse).post(
        f"/sessions/{s.pk}/discharge/",
        {
            "version": s.version,
            "escort_present": "on",
            "dissociation_resolved": "on",
            "summary": "Infusion complete.",
            "at": _local(org, charted),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    s.refresh_from_db()
    note = DischargeNote.objects.get(session=s)
    assert s.status == "discharged" and s.discharged_at == charted and note.discharged_at == charted
    ev = AuditEvent.objects.get(patient=patient, summary="discharged")
    assert dt.datetime.fromisoformat(ev.new["discharged_at"]) == charted
    assert dt.datetime.fromisoformat(ev.new["entered_at"]) > charted + 60 * M


def test_discharge_before_the_end_of_dosing_is_refused_naming_the_field(org, patient, site, t0, client_for):
    s = _monitoring(org, patient, t0)
    r = client_for(org.nurse).post(
        f"/sessions/{s.pk}/discharge/",
        {
            "version": s.version,
            "escort_present": "on",
            "dissociation_resolved": "on",
            "summary": "Infusion complete.",
            "at": _local(org, t0 + 30 * M),
        },
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert "at: discharge time" in body and "before the end of dosing" in body
    assert DosingSession.objects.get(pk=s.pk).status == "monitoring"
    assert not DischargeNote.objects.filter(session=s).exists()
    with pytest.raises(ValidationError) as exc:  # the service says the same to the API
        services.discharge(
            org.nurse, s, escort_present=True, dissociation_resolved=True, summary="x", at=t0 + 200 * M
        )
    assert "at" in exc.value.message_dict and "in the future" in exc.value.message_dict["at"][0]
