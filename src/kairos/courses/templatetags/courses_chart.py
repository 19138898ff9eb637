"""``{% courses_chart_section patient user %}``: the courses block of the patient chart (two queries)."""

from __future__ import annotations

from typing import Any

from django import template

from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act
from kairos.courses import selectors

register = template.Library()


@register.inclusion_tag("courses/_chart_section_body.html")
def courses_chart_section(patient: Any, user: Viewer) -> dict[str, Any]:
    data = selectors.chart_courses(patient)
    return {
        "patient": patient,
        "courses": data.courses,
        "upcoming": data.upcoming,
        "can_plan": policies.can(user, Act.COURSE_PLAN, patient.clinic_id),
    }
