"""Trajectory charts on the patient chart: accessible SVG under the strict CSP, thresholds from the clinical
rule sets, population band (model) label, status badges, maintenance suggestion, one audited read and a
constant number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kairos.measures import trajectory as tr
from kairos.measures.tests.outcomes_factory import T0, make_course, make_patient

pytestmark = pytest.mark.django_db


def _section(html: str) -> str:
    start = html.index('id="chart-trajectories"')
    return html[start : html.index("</section>", start)]


def test_chart_shows_an_accessible_trajectory(org, client_for):
    p = make_patient(org, "T-100")
    make_course(org, p, scores=[(-2, 32), (1, 20), (7, 15), (14, 12), (18, 9)])
    html = client_for(org.prescriber).get(f"/patients/{p.pk}/").content.decode()
    sec = _section(html)
    assert 'role="img" aria-labelledby="traj-madrs-title traj-madrs-desc"' in sec
    assert '<title id="traj-madrs-title">MADRS scores over time</title>' in sec
    assert "5 MADRS scores" in sec and "baseline 32" in sec
    assert "style=" not in sec and "<script" not in sec and " on" + "click" not in sec
    assert "population band (model), clinician-only" in sec
    assert "remission (madrs &lt;= 10)" in sec  # iv-racemic: default MADRS ≤10
    assert "response (≥50 % below baseline 32)" in sec
    assert "Responder" in sec and "Remitter" in sec
    assert "Suggestion — Space out sessions" in sec or "Suggestion — Continue" in sec
    assert "<table" in sec and "−72 %" in sec  # 32 → 9
    assert len(re.findall(r"<path d=\"M[\d.]+,[\d.]+ l-5,-9 h10 z\"", sec)) == 6  # six dosing sessions


def test_relapse_and_non_response_badges():
    t0 = T0
    doses = [t0 + dt.timedelta(days=d) for d in (0, 3, 7, 10, 14, 17)]
    sessions = [tr.SessionRow(d, 1, "ketamine", "iv", 35.0, 40.0) for d in doses]
    course = [tr.CourseRow(1, "iv-racemic", t0.date())]
    relapse = [
        tr.ScoreRow("madrs", v, t0 + dt.timedelta(days=d)) for d, v in [(-2, 30), (7, 12), (25, 22), (32, 24)]
    ]
    (t,) = tr.build_trajectories(relapse, sessions, course, now=t0 + dt.timedelta(days=33), band=False)
    assert "Relapse" in [b.text for b in t.badges]
    assert t.recommendations[0].kind == "booster"
    flat = [tr.ScoreRow("madrs", v, t0 + dt.timedelta(days=d)) for d, v in [(-2, 30), (7, 26), (18, 25)]]
    (t,) = tr.build_trajectories(flat, sessions, course, now=t0 + dt.timedelta(days=19), band=False)
    assert "Non-responder after acute series" in [b.text for b in t.badges]
    assert t.recommendations[0].kind == "review"


def test_phq9_24h_joins_the_phq9_series_and_session_scales_are_not_charted():
    t0 = T0
    rows = [
        tr.ScoreRow("phq9", 20, t0 - dt.timedelta(days=2)),
        tr.ScoreRow("phq9_24h", 9, t0 + dt.timedelta(hours=24)),
        tr.ScoreRow("cadss6", 5, t0 + dt.timedelta(minutes=40)),
    ]
    sessions = [tr.SessionRow(t0, 1, "ketamine", "iv", 35.0, 40.0)]
    charts = tr.build_trajectories(
        rows, sessions, [tr.CourseRow(1, "iv-racemic", t0.date())], now=t0 + dt.timedelta(days=2), band=False
    )
    assert [c.instrument for c in charts] == ["phq9"]
    assert charts[0].outcome is not None and charts[0].outcome.rapid_response is True


def test_chart_read_is_audited_once_and_constant_query(org, client_for):
    from kairos.audit.models import AuditEvent

    p = make_patient(org, "T-200")
    make_course(org, p, scores=[(-2, 32), (7, 15)])
    c = client_for(org.nurse)
    c.get(f"/patients/{p.pk}/")  # warm caches (content types, population band)
    before = AuditEvent.objects.filter(patient=p, action="read").count()
    with CaptureQueriesContext(connection) as small:
        assert c.get(f"/patients/{p.pk}/").status_code == 200
    assert AuditEvent.objects.filter(patient=p, action="read").count() == before + 1
    make_course(
        org,
        p,
        scores=[(40 + d, 20 - d // 3) for d in range(0, 30, 2)],
        instrument="phq9",
        start=T0 + dt.timedelta(days=60),
    )
    with CaptureQueriesContext(connection) as big:
        assert c.get(f"/patients/{p.pk}/").status_code == 200
    assert len(big) == len(small), [q["sql"][:100] for q in big.captured_queries]
