"""Opening a patient chart writes exactly one audited READ for the chart; the measurements section, loaded
by htmx, writes at most one of its own; the trajectory charts included in the chart add none (they are
part of the chart's read)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kairos.audit.models import Action, AuditEvent
from kairos.measures.tests.outcomes_factory import make_course, make_patient

pytestmark = pytest.mark.django_db


def _reads(patient):
    return list(AuditEvent.objects.filter(patient=patient, action=Action.READ).order_by("id"))


@pytest.mark.parametrize("persona", ["prescriber", "nurse", "auditor"])
def test_chart_then_measures_fragment_reads(org, client_for, persona):
    p = make_patient(org, "T-300")
    make_course(org, p, scores=[(-2, 32), (1, 20), (7, 15)])  # scores and sessions: trajectories drawn
    c = client_for(getattr(org, persona))

    html = c.get(f"/patients/{p.pk}/").content.decode()
    assert 'id="chart-trajectories"' in html and "MADRS scores over time" in html  # the include rendered
    fragment = reverse("measures:patient", args=[p.pk])
    assert f'hx-get="{fragment}"' in html  # the measurements section is fetched separately
    (chart,) = _reads(p)  # exactly one: the trajectory include wrote none of its own
    assert chart.object_type == "patients.patient" and chart.summary == "chart opened"

    r = c.get(fragment, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-testid="scores"' in r.content.decode()
    first, second = _reads(p)  # the fragment: one more, for the scores it shows
    assert first.pk == chart.pk
    assert second.object_type == "measures.score" and second.summary.startswith("measurements viewed")
