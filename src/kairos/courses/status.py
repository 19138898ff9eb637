"""Course status: the allowed transitions, and stopping or completing a course (future bookings cancelled)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.reasons import require_reason
from kairos.courses.models import (
    AppointmentStatus,
    Course,
    CourseStatus,
)

_TRANSITIONS = {
    CourseStatus.PLANNED: {CourseStatus.ACTIVE, CourseStatus.STOPPED},
    CourseStatus.ACTIVE: {CourseStatus.MAINTENANCE, CourseStatus.COMPLETED, CourseStatus.STOPPED},
    CourseStatus.MAINTENANCE: {CourseStatus.COMPLETED, CourseStatus.STOPPED},
    CourseStatus.COMPLETED: set(),
    CourseStatus.STOPPED: set(),
}


@transaction.atomic
def set_course_status(actor: Actor, course: Course, status: str, *, reason: str = "") -> Course:
    policies.require(actor, Act.COURSE_PLAN, course.clinic_id)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    allowed = _TRANSITIONS[CourseStatus(locked.status)]
    if status not in allowed:
        raise ValidationError(
            {"status": f"status: {locked.status} can change to {', '.join(sorted(allowed)) or 'nothing'}"}
        )
    max_reason = Course._meta.get_field("status_reason").max_length or 300
    if status == CourseStatus.STOPPED or (reason or "").strip():
        reason = require_reason(reason, max_length=max_reason, hint="a stopped course needs a reason")
    old = locked.status
    locked.status, locked.status_reason, locked.updated_at = status, reason, timezone.now()
    locked.save(update_fields=["status", "status_reason", "updated_at"])
    if status in (CourseStatus.STOPPED, CourseStatus.COMPLETED):
        locked.appointments.filter(status=AppointmentStatus.BOOKED, starts_at__gt=timezone.now()).update(
            status=AppointmentStatus.CANCELLED, updated_at=timezone.now()
        )
    record(
        Action.UPDATE,
        actor=actor,
        patient=locked.patient,
        obj=locked,
        old={"status": old},
        new={"status": status},
        summary="course status changed",
        reason=reason,
    )
    return locked
