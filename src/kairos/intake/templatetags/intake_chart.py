"""``{% intake_chart_section patient user %}``: the intake block of the patient chart (fixed query count)."""

from __future__ import annotations

from typing import Any

from django import template

from kairos.core.actor import Viewer
from kairos.intake import selectors

register = template.Library()


@register.inclusion_tag("intake/_chart_section_body.html")
def intake_chart_section(patient: Any, user: Viewer) -> dict[str, Any]:
    return {"patient": patient, "s": selectors.intake_summary(patient, limit=10)}
