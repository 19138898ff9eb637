"""Bad input never answers 500 and saves nothing: every courses form, view and API query parameter."""

from __future__ import annotations

import pytest

from kairos.courses import services
from kairos.courses.models import Appointment, Chair, Closure, Course

pytestmark = pytest.mark.django_db

BAD_DATES = ["", "abc", "2025-13-40", "0001-01-01", "9999-12-31", "2025-02-30", "nan", "-1"]


def _counts():
    return (
        Course.objects.count(),
        Appointment.objects.count(),
        Chair.objects.count(),
        Closure.objects.count(),
    )


@pytest.mark.parametrize("start", BAD_DATES)
@pytest.mark.parametrize("action", ["preview", "book"])
def test_plan_bad_start_date(org, patient, chairs, client_for, start, action):
    before = _counts()
    r = client_for(org.prescriber).post(
        f"/courses/patient/{patient.pk}/plan/",
        {"protocol_id": "esketamine-trd", "start_date": start, "action": action},
    )
    assert 400 <= r.status_code < 500, r.status_code
    assert b"start_date" in r.content
    assert _counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("protocol_id", "no-such"),
        ("protocol_id", ""),
        ("therapist", "abc"),
        ("therapist", "999999999999999999999"),
    ],
)
def test_plan_bad_fields(org, patient, chairs, client_for, next_monday, field, value):
    before = _counts()
    data = {
        "protocol_id": "esketamine-trd",
        "start_date": next_monday.isoformat(),
        "action": "book",
        field: value,
    }
    r = client_for(org.prescriber).post(f"/courses/patient/{patient.pk}/plan/", data)
    assert 400 <= r.status_code < 500, r.status_code
    assert field.encode() in r.content
    assert _counts() == before


@pytest.mark.parametrize("raw", BAD_DATES[1:])
def test_plan_bad_session_move(org, patient, chairs, client_for, next_monday, raw):
    before = _counts()
    data = {
        "protocol_id": "esketamine-trd",
        "start_date": next_monday.isoformat(),
        "action": "book",
        "session_2": raw,
    }
    r = client_for(org.prescriber).post(f"/courses/patient/{patient.pk}/plan/", data)
    assert 400 <= r.status_code < 500, r.status_code
    assert _counts() == before


@pytest.fixture
def course(org, patient, chairs, next_monday):
    return services.create_course(
        org.prescriber, patient, protocol_id="esketamine-trd", start_date=next_monday
    )


@pytest.mark.parametrize("raw", BAD_DATES)
def test_move_bad_date(org, course, client_for, raw):
    appt = course.appointments.order_by("starts_at").first()
    before = (appt.starts_at, _counts())
    r = client_for(org.prescriber).post(
        f"/courses/appointments/{appt.pk}/move/", {"date": raw, "reason": "x"}
    )
    assert 400 <= r.status_code < 500, r.status_code
    assert b"date" in r.content
    appt.refresh_from_db()
    assert (appt.starts_at, _counts()) == before


def test_cancel_without_reason(org, course, client_for):
    appt = course.appointments.order_by("starts_at").first()
    r = client_for(org.prescriber).post(f"/courses/appointments/{appt.pk}/cancel/", {})
    assert r.status_code == 400 and b"reason" in r.content
    appt.refresh_from_db()
    assert appt.status == "booked"


def test_cancel_with_an_over_long_reason_is_refused_not_truncated(org, course, client_for):
    """Issue #10: the one reason rule refuses a reason over 500 characters (it used to be cut silently)."""
    appt = course.appointments.order_by("starts_at").first()
    r = client_for(org.prescriber).post(f"/courses/appointments/{appt.pk}/cancel/", {"reason": "x" * 501})
    assert r.status_code == 400 and b"at most 500" in r.content
    appt.refresh_from_db()
    assert appt.status == "booked"
    r = client_for(org.prescriber).post(f"/courses/appointments/{appt.pk}/cancel/", {"reason": "y" * 500})
    appt.refresh_from_db()
    assert appt.status == "cancelled"


def test_stop_with_an_over_long_reason_is_refused_not_truncated(org, course, client_for):
    r = client_for(org.prescriber).post(
        f"/courses/{course.pk}/status/", {"status": "stopped", "reason": "z" * 301}
    )
    assert r.status_code == 400 and b"at most 300" in r.content
    course.refresh_from_db()
    assert course.status != "stopped"


@pytest.mark.parametrize("value", ["", "nonsense", "x" * 50])
def test_status_bad_value(org, course, client_for, value):
    r = client_for(org.prescriber).post(f"/courses/{course.pk}/status/", {"status": value})
    assert r.status_code == 400 and b"status" in r.content
    course.refresh_from_db()
    assert course.status == "planned" or course.status == "active"


@pytest.mark.parametrize(
    "path",
    [
        "/courses/{c}/",
        "/courses/{c}/status/",
        "/courses/appointments/{a}/move/",
        "/courses/appointments/{a}/cancel/",
    ],
)
def test_other_clinic_ids_are_404(org, course, client_for, path):
    appt = course.appointments.first()
    url = path.format(c=course.pk, a=appt.pk)
    for user in (org.far_prescriber, org.south_prescriber):
        r = client_for(user).post(url, {"date": "2030-01-01", "reason": "x", "status": "cancelled"})
        assert r.status_code == 404, (user, r.status_code)
    for big in ("99999999999999999999",):
        r = client_for(org.prescriber).get(path.format(c=big, a=big))
        assert r.status_code in (404, 405)


@pytest.mark.parametrize(
    "query",
    ["day=abc", "day=9999-12-31", "day=0001-01-01", "clinic=abc", "clinic=99999999999999999999", "clinic="],
)
@pytest.mark.parametrize("url", ["/board/", "/board/partial/"])
def test_board_bad_query(org, chairs, client_for, url, query):
    r = client_for(org.frontdesk).get(f"{url}?{query}")
    assert r.status_code < 500, r.status_code
    if "abc" in query or "9999" in query or "0001" in query:
        assert 400 <= r.status_code < 500


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("open_weekdays", "9"),
        ("open_weekdays", "x"),
        ("opens_at", "25:00"),
        ("closes_at", "nan"),
        ("opens_at", ""),
    ],
)
def test_clinic_settings_bad(org, chairs, client_for, field, value):
    data = {"open_weekdays": ["0", "1"], "opens_at": "08:00", "closes_at": "18:00", field: value}
    r = client_for(org.admin).post(f"/clinics/{org.north.pk}/settings/", data)
    assert r.status_code == 400 and field.encode() in r.content


def test_clinic_settings_closing_before_opening(org, chairs, client_for):
    r = client_for(org.admin).post(
        f"/clinics/{org.north.pk}/settings/",
        {"open_weekdays": ["0"], "opens_at": "18:00", "closes_at": "08:00"},
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("url", "data"),
    [("chairs", {"name": ""}), ("chairs", {"name": "x" * 61})]
    + [("closures", {"date": d}) for d in BAD_DATES],
)
def test_chair_and_closure_bad(org, chairs, client_for, url, data):
    before = _counts()
    r = client_for(org.admin).post(f"/clinics/{org.north.pk}/{url}/", data)
    assert 400 <= r.status_code < 500, r.status_code
    assert _counts() == before


def test_clinic_settings_other_clinic_404(org, client_for):
    for cid in (org.far.pk, org.south.pk, 99999999999999999999):
        assert client_for(org.admin).get(f"/clinics/{cid}/settings/").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=99999999999999999999",
        "offset=-1",
        "offset=abc",
        "patient=abc",
        "patient=99999999999999999999",
        "status=nope",
        "offset=99999999999999999999",
    ],
)
def test_api_bad_query(org, course, api_client_for, query):
    r = api_client_for(org.prescriber).get(f"/api/v1/courses?{query}")
    assert 400 <= r.status_code < 500, (r.status_code, r.content[:200])


def test_api_other_clinic_course_404(org, course, api_client_for):
    assert api_client_for(org.far_prescriber).get(f"/api/v1/courses/{course.pk}").status_code == 404
    assert api_client_for(org.far_prescriber).get(f"/api/v1/courses?patient={course.patient_id}").json() == {
        "count": 0,
        "results": [],
    }
