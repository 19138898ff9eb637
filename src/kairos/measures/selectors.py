"""Permission-scoped, audited reads of measurement data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.reads import clinic_counts, record_list_read
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act
from kairos.measures.models import MeasureAlert, MeasurementDue, QuestionnaireResponse
from kairos.patients.selectors import get_patient


def scores_patient(user: Viewer, patient_id: Any) -> Any:
    """The patient, if ``user`` may view its scores (404 outside the user's clinics, 403 without the
    permission). Not audited (see :func:`read_scores`)."""
    return get_patient(user, patient_id, Act.MEASURE_VIEW)


def responses_of(patient: Any) -> QuerySet[QuestionnaireResponse]:
    return (
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("score", "entered_by")
        .order_by("-submitted_at", "-id")
    )


def read_scores(
    user: Viewer, patient_id: Any, *, purpose: str = "scores", limit: int = 500
) -> tuple[Any, list[QuestionnaireResponse]]:
    """The patient and its scored responses, newest first: an audited PHI read (exactly once)."""
    patient = scores_patient(user, patient_id)
    rows = list(responses_of(patient)[:limit])
    record(
        Action.READ,
        actor=user,
        patient=patient,
        object_type="measures.score",
        summary=f"{purpose} viewed ({len(rows)})",
    )
    return patient, rows


def dues_of(patient: Any) -> QuerySet[MeasurementDue]:
    return MeasurementDue.objects.filter(patient=patient).order_by("due_at", "id")


def board_alerts(
    user: Viewer, *, include_acknowledged: bool = False, limit: int = 200, throttle: bool = False
) -> list[MeasureAlert]:
    """Alerts of the clinics where the user may view the board; open ones first. Audited once per clinic;
    ``throttle`` (the 10-second poll): once per user and clinic per ``KAIROS_AUDIT_READ_THROTTLE_MINUTES``."""
    clinic_ids = policies.clinic_ids_for(user, Act.ALERT_VIEW)
    if not clinic_ids:
        raise PermissionDenied("your role may not view the alert board")
    qs = MeasureAlert.objects.filter(clinic_id__in=clinic_ids).select_related(
        "patient", "clinic", "acknowledged_by", "response"
    )
    if not include_acknowledged:
        qs = qs.filter(acknowledged_at__isnull=True)
    alerts = list(qs.order_by("acknowledged_at", "-created_at", "-id")[:limit])
    record_list_read(
        user,
        clinic_counts(a.clinic_id for a in alerts),
        object_type="measures.alert_board",
        summary="alert board",
        throttle=throttle,
    )
    return alerts


def overdue(dues: list[MeasurementDue]) -> list[MeasurementDue]:
    now = timezone.now()
    return [d for d in dues if d.is_overdue(now)]
