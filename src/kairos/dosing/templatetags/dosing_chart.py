"""``{% dosing_chart_section patient user %}``: the dosing sessions of the patient chart (one query,
bounded; the chart's single audited read covers it)."""

from __future__ import annotations

from typing import Any

from django import template

from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act
from kairos.dosing.models import DosingSession
from kairos.patients.models import Patient

register = template.Library()

CHART_SESSIONS = 8  # most recent sessions shown; the full list is on the sessions page


@register.inclusion_tag("dosing/_chart_section_body.html")
def dosing_chart_section(patient: Patient, user: Viewer) -> dict[str, Any]:
    allowed = policies.can(user, Act.SESSION_VIEW, patient.clinic_id)
    sessions = (
        list(
            DosingSession.objects.filter(patient=patient)
            .select_related("responsible_clinician")
            .order_by("-scheduled_for")[:CHART_SESSIONS]
        )
        if allowed
        else []
    )
    return {"patient": patient, "sessions": sessions, "allowed": allowed}
