from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kairos.audit.models import AuditEvent
from kairos.clinical.protocols import get_protocol
from kairos.clinical.schedule import generate_schedule
from kairos.courses import calendar, services
from kairos.courses.models import Appointment, AppointmentKind, AppointmentStatus, Course

pytestmark = pytest.mark.django_db


def test_create_course_books_every_planned_session_in_a_chair(org, patient, chairs, next_monday):
    course = services.create_course(
        org.prescriber, patient, protocol_id="esketamine-trd", start_date=next_monday
    )
    expected = generate_schedule("esketamine-trd", next_monday)  # same default Mon–Fri calendar
    dosing = list(course.appointments.filter(kind=AppointmentKind.DOSING).order_by("number"))
    assert [a.starts_at.astimezone(org.north.tz).date() for a in dosing] == [
        s.date for s in expected.sessions
    ]
    protocol = get_protocol("esketamine-trd")
    for a in dosing:
        assert a.chair_id in {c.pk for c in chairs}
        assert (a.ends_at - a.starts_at) >= dt.timedelta(minutes=protocol.administration_min)
        assert a.starts_at.astimezone(org.north.tz).time() >= dt.time(8)
    assert AuditEvent.objects.filter(
        object_type="courses.course", object_id=str(course.pk), action="create"
    ).exists()


def test_two_patients_same_day_take_different_chairs_or_times(org, patient, chairs, next_monday):
    from kairos.patients.models import Patient

    other = Patient.objects.create(
        clinic=org.north, mrn="T-0002", given_name="A", family_name="B", date_of_birth=dt.date(1990, 1, 1)
    )
    services.create_course(org.prescriber, patient, protocol_id="iv-racemic", start_date=next_monday)
    services.create_course(org.prescriber, other, protocol_id="iv-racemic", start_date=next_monday)
    booked = list(Appointment.objects.filter(status=AppointmentStatus.BOOKED))
    for a in booked:
        for b in booked:
            if a.pk < b.pk and a.chair_id == b.chair_id:
                assert a.ends_at <= b.starts_at or b.ends_at <= a.starts_at


def test_double_booking_a_chair_is_refused_naming_the_field(org, patient, chairs, next_monday):
    from kairos.patients.models import Patient

    start = dt.datetime.combine(next_monday, dt.time(9), tzinfo=org.north.tz)
    services.book_appointment(
        org.frontdesk, patient, kind="dosing", starts_at=start, minutes=120, chair=chairs[0]
    )
    other = Patient.objects.create(
        clinic=org.north, mrn="T-0003", given_name="C", family_name="D", date_of_birth=dt.date(1990, 1, 1)
    )
    with pytest.raises(ValidationError) as exc:
        services.book_appointment(
            org.nurse,
            other,
            kind="dosing",
            starts_at=start + dt.timedelta(minutes=30),
            minutes=60,
            chair=chairs[0],
        )
    assert "chair" in exc.value.message_dict
    # the patient cannot be in two places either
    with pytest.raises(ValidationError) as exc:
        services.book_appointment(
            org.nurse,
            patient,
            kind="dosing",
            starts_at=start + dt.timedelta(minutes=60),
            minutes=60,
            chair=chairs[1],
        )
    assert "patient" in exc.value.message_dict
    # back-to-back is fine
    services.book_appointment(
        org.nurse,
        other,
        kind="dosing",
        starts_at=start + dt.timedelta(minutes=120),
        minutes=60,
        chair=chairs[0],
    )


def test_db_constraint_refuses_same_chair_same_start(org, patient, chairs, next_monday):
    from django.db import IntegrityError, transaction

    start = dt.datetime.combine(next_monday, dt.time(9), tzinfo=org.north.tz)
    kw = dict(
        clinic=org.north,
        kind="dosing",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        chair=chairs[0],
    )
    Appointment.objects.create(patient=patient, **kw)
    from kairos.patients.models import Patient

    other = Patient.objects.create(
        clinic=org.north, mrn="T-0004", given_name="E", family_name="F", date_of_birth=dt.date(1990, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(patient=other, **kw)


def test_move_keeps_spacing_rules(org, patient, chairs, next_monday):
    course = services.create_course(
        org.prescriber, patient, protocol_id="esketamine-trd", start_date=next_monday
    )
    s1, s2 = course.appointments.filter(kind="dosing").order_by("number")[:2]
    min_gap = get_protocol("esketamine-trd").min_interval_days
    too_close = s1.starts_at.astimezone(org.north.tz).date() + dt.timedelta(days=min_gap - 1)
    with pytest.raises(ValidationError) as exc:
        services.move_appointment(org.prescriber, s2, too_close)
    assert "min_interval_days" in str(exc.value.message_dict["date"])
    # a front-desk user may not change the treatment plan
    with pytest.raises(PermissionDenied):
        services.move_appointment(org.frontdesk, s2, too_close + dt.timedelta(days=1))
    ok_day = s2.starts_at.astimezone(org.north.tz).date() - dt.timedelta(days=1)  # Thursday -> Wednesday
    assert (ok_day - s1.starts_at.astimezone(org.north.tz).date()).days >= min_gap
    moved = services.move_appointment(org.prescriber, s2, ok_day, reason="patient request")
    assert moved.starts_at.astimezone(org.north.tz).date() == ok_day


def test_move_to_closed_day_is_refused(org, patient, chairs, next_monday):
    course = services.create_course(org.prescriber, patient, protocol_id="iv-racemic", start_date=next_monday)
    first = course.appointments.order_by("starts_at").first()
    saturday = next_monday + dt.timedelta(days=5)
    with pytest.raises(ValidationError) as exc:
        services.move_appointment(org.prescriber, first, saturday)
    assert "not an open clinic day" in str(exc.value)


def test_closures_shift_the_plan(org, patient, chairs, next_monday):
    calendar.add_closure(org.admin, org.north, next_monday, "training")
    course = services.create_course(org.prescriber, patient, protocol_id="iv-racemic", start_date=next_monday)
    first = course.appointments.order_by("starts_at").first()
    assert first.starts_at.astimezone(org.north.tz).date() > next_monday


def test_planning_needs_a_prescriber_and_a_known_protocol(org, patient, chairs, next_monday):
    with pytest.raises(PermissionDenied):
        services.create_course(org.nurse, patient, protocol_id="iv-racemic", start_date=next_monday)
    with pytest.raises(Http404):
        services.create_course(
            org.south_prescriber, patient, protocol_id="iv-racemic", start_date=next_monday
        )
    with pytest.raises(ValidationError) as exc:
        services.create_course(org.prescriber, patient, protocol_id="nope", start_date=next_monday)
    assert "protocol_id" in exc.value.message_dict
    assert Course.objects.count() == 0


def test_no_chair_means_no_booking_and_nothing_saved(org, patient, next_monday):
    with pytest.raises(ValidationError) as exc:
        services.create_course(org.prescriber, patient, protocol_id="iv-racemic", start_date=next_monday)
    assert "chair" in exc.value.message_dict
    assert Course.objects.count() == 0


def test_kap_books_preparation_and_integration_with_a_therapist(org, patient, chairs, next_monday):
    course = services.create_course(org.prescriber, patient, protocol_id="im-racemic", start_date=next_monday)
    integ = list(
        course.appointments.filter(kind="integration", phase="integration").select_related(
            "linked_dose_appointment"
        )
    )
    assert integ
    for a in integ:
        assert a.therapist_id == org.therapist.pk
        dose = a.linked_dose_appointment
        assert dose is not None
        assert dose.kind == "dosing"
        assert a.starts_at - dose.starts_at >= dt.timedelta(hours=24)
        assert a.starts_at - dose.starts_at <= dt.timedelta(hours=72 + 24)
    assert course.appointments.filter(phase="preparation").count() == 3


def test_clinic_settings_audited_and_admin_only(org):
    with pytest.raises(PermissionDenied):
        calendar.update_clinic_settings(
            org.prescriber,
            org.north,
            rems_certified=True,
            rems_certification_id="X",
            open_weekdays=[0],
            opens_at=dt.time(8),
            closes_at=dt.time(17),
        )
    with pytest.raises(ValidationError) as exc:
        calendar.update_clinic_settings(
            org.admin,
            org.north,
            rems_certified=True,
            rems_certification_id="",
            open_weekdays=[0],
            opens_at=dt.time(8),
            closes_at=dt.time(17),
        )
    assert "rems_certification_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        calendar.update_clinic_settings(
            org.admin,
            org.north,
            rems_certified=True,
            rems_certification_id="R-1",
            open_weekdays=[0],
            opens_at=dt.time(17),
            closes_at=dt.time(8),
        )
    assert "closes_at" in exc.value.message_dict
    calendar.update_clinic_settings(
        org.admin,
        org.north,
        rems_certified=True,
        rems_certification_id="R-1",
        open_weekdays=[0, 2],
        opens_at=dt.time(8),
        closes_at=dt.time(17),
    )
    org.north.refresh_from_db()
    assert org.north.rems_certification_id == "R-1"
    ev = AuditEvent.objects.filter(object_type="accounts.clinic", action="update").latest("seq")
    assert ev.new["rems_certification_id"] == "R-1"


def test_demo_loaders_idempotent(db, settings):
    settings.DEMO_LOGINS = True
    from kairos.cli.demo_loader import load_demo

    load_demo()
    n_courses, n_appts = Course.objects.count(), Appointment.objects.count()
    load_demo()
    assert Course.objects.count() == n_courses >= 4
    assert Appointment.objects.count() == n_appts
    statuses = set(Course.objects.values_list("status", flat=True))
    assert {"planned", "active", "maintenance"} <= statuses
