"""Safety alerts: who gets an alert's task, and acknowledging an alert (which closes its tasks)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.accounts.models import Membership
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.reasons import require_reason
from kairos.core.roles import Role
from kairos.courses.models import OPEN_COURSE_STATUSES, Course
from kairos.dosing.models import DosingSession
from kairos.measures.models import (
    ClinicalTask,
    MeasureAlert,
    TaskStatus,
)

# --- who gets an alert's task -----------------------------------------------------------------------


def prescribers_for(patient: Any) -> list[Actor]:
    """The patient's prescriber(s): creators of the patient's open courses who are prescribers at the
    clinic, and responsible clinicians of their dosing sessions who are prescribers; when none is known,
    every prescriber of the clinic (so an alert is never unassigned)."""
    clinic_prescribers = set(
        Membership.objects.filter(clinic_id=patient.clinic_id, role=Role.PRESCRIBER).values_list(
            "user_id", flat=True
        )
    )
    ids: set[int] = set(
        Course.objects.filter(patient=patient, status__in=OPEN_COURSE_STATUSES).values_list(
            "created_by_id", flat=True
        )
    )
    ids |= set(
        DosingSession.objects.filter(patient=patient).values_list("responsible_clinician_id", flat=True)
    )
    chosen = ids & clinic_prescribers or clinic_prescribers
    return list(get_user_model().objects.filter(pk__in=chosen, is_active=True).order_by("pk"))


ACTION_MAX_LENGTH = 2000  # the acknowledgement's free text (a software bound, not a clinical number)

# --- alerts -----------------------------------------------------------------------------------------


@transaction.atomic
def acknowledge_alert(actor: Actor, alert_id: int, action: str) -> MeasureAlert:
    alert = MeasureAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        from django.http import Http404

        raise Http404("not found")
    policies.require(actor, Act.ALERT_ACK, alert.clinic_id)
    text = require_reason(
        action, field="action", max_length=ACTION_MAX_LENGTH, hint="describe the action taken"
    )
    if alert.acknowledged_at is not None:
        raise ValidationError({"action": "this alert was already acknowledged"})
    now = timezone.now()
    alert.acknowledged_at, alert.acknowledged_by, alert.action = now, actor, text
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "action"])
    ClinicalTask.objects.filter(alert=alert, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, done_at=now, done_by=actor
    )
    record(
        Action.UPDATE,
        actor=actor,
        patient=alert.patient_id,
        clinic=alert.clinic_id,
        obj=alert,
        new={"acknowledged_at": now, "action": text},
        summary=f"safety alert {alert.code} acknowledged",
    )
    return alert
