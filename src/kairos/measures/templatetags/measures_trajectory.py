"""``{% measures_trajectories patient %}``: per-instrument trajectory charts of the patient chart.

Three queries whatever the number of scores (see :func:`kairos.measures.trajectory.chart_rows`). The chart
view has already checked ``chart.view`` and audited the chart read once; the scores shown are part of it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from kairos.measures import trajectory

register = template.Library()


@register.inclusion_tag("measures/_trajectory_body.html")
def measures_trajectories(patient: Any) -> dict[str, Any]:
    scores, sessions, courses, weight = trajectory.chart_rows(patient)
    charts = trajectory.build_trajectories(scores, sessions, courses, now=timezone.now(), weight_kg=weight)
    return {"patient": patient, "charts": charts}
