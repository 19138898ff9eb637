"""Demo courses for clinic north (idempotent): chairs, calendar, and courses at several stages with
appointments around today. Listed in ``kairos.cli.demo_loader.EXTRA_LOADERS``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kairos.clinical.schedule import ClinicCalendar as CoreCalendar
from kairos.clinical.schedule import generate_schedule
from kairos.courses.models import Appointment, AppointmentStatus, Chair, ClinicCalendar, Course, CourseStatus

# (mrn, protocol, status, days since start, chair index, start hour)
DEMO_COURSES = [
    ("N-1001", "esketamine-trd", CourseStatus.ACTIVE, 7, 0, 9),
    ("N-1002", "iv-racemic", CourseStatus.ACTIVE, 7, 1, 9),
    ("N-1003", "esketamine-trd", CourseStatus.MAINTENANCE, 35, 2, 13),
    ("N-1004", "esketamine-trd", CourseStatus.PLANNED, -7, 0, 14),
]
OPEN_DAYS = [0, 1, 2, 3, 4, 5]


def load_courses_demo(ctx: dict[str, Any]) -> str:
    clinic = ctx["clinics"]["north"]
    prescriber = ctx["users"]["demo-prescriber"]
    ClinicCalendar.objects.get_or_create(
        clinic=clinic, defaults={"open_weekdays": OPEN_DAYS, "opens_at": dt.time(8), "closes_at": dt.time(18)}
    )
    chairs = [Chair.objects.get_or_create(clinic=clinic, name=f"Chair {i}")[0] for i in (1, 2, 3)]
    tz = clinic.tz
    today = timezone.localdate(timezone=tz)
    cal = CoreCalendar(frozenset(OPEN_DAYS))
    made = 0
    for mrn, protocol_id, status, days_ago, chair_idx, hour in DEMO_COURSES:
        patient = ctx["patients"].get(mrn)
        if (
            patient is None
            or Course.objects.filter(patient=patient, protocol_id=protocol_id, status=status).exists()
        ):
            continue
        start = today - dt.timedelta(days=days_ago)
        plan = generate_schedule(protocol_id, start, calendar=cal)
        course = Course.objects.create(
            clinic=clinic,
            patient=patient,
            protocol_id=protocol_id,
            indication="treatment-resistant depression",
            status=status,
            start_date=start,
            plan=plan.to_dict(),
            created_by=prescriber,
        )
        for s in plan.sessions:
            begins = dt.datetime.combine(s.date, dt.time(hour), tzinfo=tz)
            past = s.date < today
            Appointment.objects.create(
                course=course,
                patient=patient,
                clinic=clinic,
                kind="dosing",
                number=s.number,
                phase=s.phase,
                starts_at=begins,
                ends_at=begins + dt.timedelta(minutes=s.duration_min),
                chair=chairs[chair_idx],
                planned_dose_mg=Decimal(str(s.dose_mg)) if s.dose_mg is not None else None,
                planned_drug=s.drug,
                planned_route=s.route,
                status=AppointmentStatus.COMPLETED if past else AppointmentStatus.BOOKED,
                created_by=prescriber,
            )
        made += 1
    return f"Courses: {Course.objects.filter(clinic=clinic).count()} in north ({made} new), {len(chairs)} chairs."
