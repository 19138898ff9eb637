"""Pages and API: scoping (404), role permissions (403), audited reads, implausible input via htmx."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kairos.audit.models import AuditEvent
from kairos.dosing import services

from .conftest import GOOD_VITALS, checked_in

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@pytest.fixture
def done_session(org, patient, enrolled, site, t0):
    s = checked_in(org, patient, t0)
    services.order_dose(org.prescriber, s)
    first = t0 + 10 * M
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="LOT9", at=first)
    services.record_device(org.nurse, s, at=first + 5 * M)
    services.add_reading(
        org.nurse, s, taken_at=first + 40 * M, vitals={"sbp": 140, "dbp": 85, "heart_rate": 75, "spo2": 97}
    )
    services.add_reading(org.nurse, s, taken_at=first + 120 * M, vitals=GOOD_VITALS, moaas=5)
    note = services.discharge(
        org.nurse,
        s,
        escort_present=True,
        dissociation_resolved=True,
        summary="Well.",
        ready_to_leave_minutes=80,
        at=first + 125 * M,
    )
    services.sign_note(org.prescriber, note)
    return s


def test_detail_page_renders_without_inline_script_or_style(done_session, org, client_for):
    r = client_for(org.nurse).get(f"/sessions/{done_session.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and "Flowsheet" in html
    assert "style=" not in html and "<script>" not in html and " onclick" not in html
    assert "accesskey=" in html


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse", 200),
        ("prescriber", 200),
        ("auditor", 200),
        ("therapist", 200),
        ("frontdesk", 403),
        ("researcher", 403),
        ("admin", 403),
        ("south_prescriber", 404),
        ("far_prescriber", 404),
    ],
)
def test_detail_page_scoping(done_session, org, client_for, who, status):
    assert client_for(getattr(org, who)).get(f"/sessions/{done_session.pk}/").status_code == status


def test_rems_pages(done_session, org, client_for):
    c = client_for(org.nurse)
    r = c.get(f"/sessions/{done_session.pk}/rems/")
    assert r.status_code == 200 and b"LOT9" in r.content
    assert c.post(f"/sessions/{done_session.pk}/rems/", {"op": "sign"}).status_code == 302
    assert (
        c.post(
            f"/sessions/{done_session.pk}/rems/",
            {"op": "submit", "confirmation": "C-1234", "method": "online"},
        ).status_code
        == 302
    )
    r = c.get("/sessions/rems/")
    assert b"submitted" in r.content and b"C-1234" in r.content


def test_rems_form_cannot_be_signed_with_missing_field(org, patient, enrolled, t0, client_for):
    s = checked_in(org, patient, t0)  # no RemsSiteProfile: setting address and HCP phone missing
    services.order_dose(org.prescriber, s)
    first = t0 + 10 * M
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="L", at=first)
    services.record_device(org.nurse, s, at=first + 5 * M)
    services.add_reading(org.nurse, s, taken_at=first + 120 * M, vitals=GOOD_VITALS, moaas=5)
    services.discharge(
        org.nurse, s, escort_present=True, dissociation_resolved=True, summary="ok", at=first + 125 * M
    )
    r = client_for(org.nurse).post(f"/sessions/{s.pk}/rems/", {"op": "sign"})
    assert r.status_code == 400 and b"setting.address1" in r.content


def test_htmx_reading_refused_names_field(org, patient, site, t0, client_for):
    s = checked_in(org, patient, t0, protocol="iv-racemic")
    r = client_for(org.nurse).post(
        f"/sessions/{s.pk}/readings/", {"sbp": "400", "dbp": "80"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 400
    assert b"sbp" in r.content and b"plausible range" in r.content
    r = client_for(org.nurse).post(
        f"/sessions/{s.pk}/readings/", {"sbp": "150", "dbp": "90", "spo2": "97"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and b'id="flowsheet"' in r.content and b"150/90" in r.content


def test_api_list_detail_rems(done_session, org, api_client_for):
    c = api_client_for(org.nurse)
    r = c.get("/api/v1/sessions", {"drug": "esketamine", "status": "discharged"})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert c.get("/api/v1/sessions", {"drug": "ketamine"}).json()["count"] == 0
    before = AuditEvent.objects.filter(action="read", object_id=str(done_session.pk)).count()
    d = c.get(f"/api/v1/sessions/{done_session.pk}").json()
    assert AuditEvent.objects.filter(action="read", object_id=str(done_session.pk)).count() == before + 1
    assert d["order"]["dose_mg"] == "56.00" and d["administration"]["ndc"] == "50458-028-02"
    assert d["discharge"][0]["signature"]["by"] == "prescriber" and len(d["readings"]) >= 3
    f = c.get(f"/api/v1/sessions/{done_session.pk}/rems-form").json()
    assert f["complete"] and f["sections"]["session"]["lot_number"] == "LOT9"
    assert f["sections"]["duration"]["ready_to_leave_minutes"] == 80


@pytest.mark.parametrize(
    ("who", "status"),
    [("south_prescriber", 404), ("far_prescriber", 404), ("frontdesk", 403), ("researcher", 403)],
)
def test_api_scoping(done_session, org, api_client_for, who, status):
    assert api_client_for(getattr(org, who)).get(f"/api/v1/sessions/{done_session.pk}").status_code == status


def test_api_list_excludes_other_clinics(done_session, org, api_client_for):
    assert api_client_for(org.south_prescriber).get("/api/v1/sessions").json()["count"] == 0
    assert api_client_for(org.researcher).get("/api/v1/sessions").status_code == 403


def test_board_states(done_session, org, patient, t0):
    from kairos.dosing.selectors import board_states

    day = t0.astimezone(org.north.tz).date()
    assert board_states(org.north, day)[patient.pk] == "discharged"


def test_api_date_filter_applies_before_limit(org, patient, api_client_for):
    """Regression (issue #10): the date filter ran after the limit, so a day with more than ``limit`` newer
    sessions came back empty or partial. Three sessions on the day asked for, four newer ones, limit=2."""
    tz = org.north.tz
    day = timezone.localdate() - dt.timedelta(days=10)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=tz)
    on_day = [
        services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=noon + h * HOUR)
        for h in (-11, 0, 11)
    ]
    for d in range(1, 5):
        services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=noon + d * DAY)
    services.create_session(org.nurse, patient, protocol_id="iv-racemic", scheduled_for=noon - DAY)
    c = api_client_for(org.nurse)
    r = c.get("/api/v1/sessions", {"date": day.isoformat(), "limit": 10})
    assert r.status_code == 200
    assert sorted(s["id"] for s in r.json()["results"]) == sorted(s.pk for s in on_day)
    r = c.get("/api/v1/sessions", {"date": day.isoformat(), "limit": 2}).json()
    assert r["count"] == 2 and {s["id"] for s in r["results"]} == {on_day[2].pk, on_day[1].pk}
    for far in ("0001-01-01", "9999-12-31"):
        r = c.get("/api/v1/sessions", {"date": far})
        assert r.status_code == 200 and r.json()["count"] == 0
