"""Clinic outcomes dashboard: figures against independent implementations (statsmodels, lifelines, exact
Poisson table values), safety findings from flowsheet rows, permissions, audit and query count."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kairos.measures import dashboard as dash
from kairos.measures import dashboard_charts
from kairos.measures import dashboard_views as views
from kairos.measures.tests.outcomes_factory import make_course, make_patient

pytestmark = pytest.mark.django_db

URL = "/measures/dashboard/"
RANGE = {"date_from": "2025-01-01", "date_to": "2025-12-31", "instrument": "madrs"}

# baseline 30 two days before dose 1; one assessment on day 18 (MADRS; remission ≤10 for iv-racemic)
END_SCORES = (8, 9, 10, 12, 14, 15, 16, 20, 25, 28)  # responders: ≤15 → 6; remitters: ≤10 → 3


def _cohort(org, totals=END_SCORES):
    for i, total in enumerate(totals):
        p = make_patient(org, f"W-{i:03d}")
        make_course(org, p, scores=[(-2, 30), (18, total)])


def _filters(org, **kw):
    base = dict(clinic_ids=[org.north.pk], date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    base.update(kw)
    return views.Filters(**base)


def test_response_and_remission_match_statsmodels_wilson(org, client_for):
    from statsmodels.stats.proportion import proportion_confint

    _cohort(org)
    d = views.build(_filters(org))
    rows = {m.key: m for m in d.efficacy}
    for key, k in (("response", 6), ("remission", 3)):
        lo, hi = proportion_confint(k, 10, alpha=0.05, method="wilson")
        r = rows[key].rate
        assert (r.k, r.n) == (k, 10)
        assert r.estimate == pytest.approx(k * 10)
        assert r.lower == pytest.approx(lo * 100, abs=1e-9)
        assert r.upper == pytest.approx(hi * 100, abs=1e-9)
    html = client_for(org.prescriber).get(URL, RANGE).content.decode()
    lo, hi = proportion_confint(6, 10, alpha=0.05, method="wilson")
    assert f"60.0% ({lo * 100:.1f}–{hi * 100:.1f})" in html
    assert "6 of 10 evaluable courses" in html
    # the published comparison sits beside it, with its source
    assert "Murrough 2013 Biol Psych" in html and "70.8%" in html and "clinical.md §3" in html


# responders: response (MADRS 12 from baseline 30) on day 7; relapse = two assessments ≥5 days apart
# below a 50 % reduction (MADRS 20); censored responders keep responding until their last assessment.
RELAPSE_AFTER = (10, 14, 21)
CENSORED_AT = (12, 30, 40)


def _relapse_cohort(org):
    for i, t in enumerate(RELAPSE_AFTER):
        p = make_patient(org, f"R-{i:03d}")
        make_course(org, p, scores=[(-2, 30), (7, 12), (7 + t, 20), (7 + t + 7, 20)])
    for i, c in enumerate(CENSORED_AT):
        p = make_patient(org, f"C-{i:03d}")
        make_course(org, p, scores=[(-2, 30), (7, 12), (7 + c / 2, 11), (7 + c, 12)])


def test_time_to_relapse_matches_lifelines(org, client_for):
    from lifelines import KaplanMeierFitter

    _relapse_cohort(org)
    d = views.build(_filters(org))
    km = d.time_to_relapse
    assert km is not None
    durations = list(RELAPSE_AFTER) + list(CENSORED_AT)
    observed = [1] * len(RELAPSE_AFTER) + [0] * len(CENSORED_AT)
    kmf = KaplanMeierFitter().fit(durations, observed, alpha=0.05)
    for row in km.table:
        assert row.survival == pytest.approx(
            float(kmf.survival_function_at_times(row.time).iloc[0]), abs=1e-9
        )
        ci = kmf.confidence_interval_survival_function_
        if row.events and 0 < row.survival < 1:
            lo = float(ci.loc[row.time].iloc[0])
            hi = float(ci.loc[row.time].iloc[1])
            assert row.lower == pytest.approx(lo, abs=1e-6)
            assert row.upper == pytest.approx(hi, abs=1e-6)
    assert km.median == pytest.approx(float(kmf.median_survival_time_))
    assert (km.n, km.events) == (6, 3)
    html = client_for(org.auditor).get(URL, RANGE).content.decode()
    assert f"Median {km.median:.0f} days" in html
    assert 'role="img" aria-labelledby="km-title km-desc"' in html
    assert "Kaplan–Meier table" in html


def test_safety_findings_from_the_flowsheet(org):
    p = make_patient(org, "B-001")
    make_course(
        org,
        p,
        scores=[(-2, 30), (18, 14)],
        readings={
            0: [
                {"minutes": -10, "sbp": 120, "dbp": 80},
                {"minutes": -9, "kind": "cadss6", "cadss6_total": 0},
                {"minutes": 40, "sbp": 162, "dbp": 85},  # +42 systolic within 90 min
                {"minutes": 42, "kind": "cadss6", "cadss6_total": 5},
            ],
            1: [
                {"minutes": -10, "sbp": 120, "dbp": 80},
                {"minutes": 40, "sbp": 125, "dbp": 82},
                {"minutes": 41, "kind": "moaas", "moaas": 3},
                {"minutes": 120, "sbp": 170, "dbp": 80},  # outside the 90-min window
            ],
            2: [
                {"minutes": -10, "sbp": 120, "dbp": 80},
                {"minutes": 60, "sbp": 130, "dbp": 106},  # +26 diastolic
                {"minutes": 61, "kind": "moaas", "moaas": 0},
            ],
        },
        events={0: ["nausea_vomiting"], 4: ["respiratory_depression"]},
    )
    courses, flags = views.load(_filters(org))
    by_n = sorted(flags, key=lambda f: f.started_at)
    assert [f.bp_rise for f in by_n] == [True, False, True, False, False, False]
    assert [f.bp_assessable for f in by_n] == [True, True, True, False, False, False]
    assert [f.sedation for f in by_n] == [False, True, True, False, False, False]
    assert [f.loss_of_consciousness for f in by_n] == [False, False, True, False, False, False]
    assert [f.dissociation for f in by_n] == [True, False, False, False, False, False]
    assert [f.respiratory_depression for f in by_n] == [False, False, False, False, True, False]
    assert [f.adverse_events for f in by_n] == [1, 0, 0, 0, 1, 0]
    d = dash.summarise(courses, flags, instrument="madrs")
    rows = {m.key: m for m in d.safety}
    assert rows["bp_rise"].rate.k == 1 and rows["bp_rise"].rate.n == 1  # one patient, at least once
    assert "2 of 3 sessions with BP charted" in rows["bp_rise"].detail
    ae = rows["adverse_events_per_100"].rate
    assert (ae.k, ae.n) == (2, 6)
    assert ae.estimate == pytest.approx(200 / 6)


@pytest.mark.parametrize(
    ("events", "lo", "hi"),
    # exact (Garwood) Poisson 95 % limits for the count, from standard tables
    [(0, 0.0, 3.689), (2, 0.2422, 7.2247), (10, 4.7954, 18.3904)],
)
def test_adverse_event_rate_uses_exact_poisson_limits(events, lo, hi):
    r = dash.poisson_rate_per_100(events, 100)
    assert r.lower == pytest.approx(lo, abs=1e-3)
    assert r.upper == pytest.approx(hi, abs=1e-3)


def test_unlinked_responses_are_attributed_to_the_course_by_time(org):
    p = make_patient(org, "U-001")
    make_course(org, p, scores=[(-2, 30), (18, 9)], linked=False)
    d = views.build(_filters(org))
    assert d.efficacy[0].rate.k == 1 and d.efficacy[0].rate.n == 1


def test_filters_protocol_and_date_range(org, client_for):
    _cohort(org, totals=(8, 25))
    p = make_patient(org, "E-001")
    make_course(org, p, protocol_id="esketamine-trd", scores=[(-2, 30), (18, 12)])
    c = client_for(org.prescriber)
    html = c.get(URL, {**RANGE, "protocol": "esketamine-trd"}).content.decode()
    assert "1 of 1 evaluable courses" in html
    assert "TRANSFORM-2" in html
    html = c.get(URL, {**RANGE, "date_from": "2025-06-01"}).content.decode()
    assert "no evaluable courses" in html
    bad = c.get(URL, {**RANGE, "date_from": "2026-01-01"})
    assert bad.status_code == 400
    assert "date_from" in bad.content.decode()
    assert c.get(URL, {**RANGE, "instrument": "bogus"}).status_code == 400


def test_permissions_and_no_identifiers_for_researchers(org, client_for, client):
    _cohort(org, totals=(8, 25))
    assert client.get(URL).status_code == 302
    for persona in ("nurse", "therapist", "frontdesk", "nobody"):
        assert client_for(getattr(org, persona)).get(URL, RANGE).status_code == 403
    for persona in ("prescriber", "admin", "auditor", "researcher"):
        r = client_for(getattr(org, persona)).get(URL, RANGE)
        assert r.status_code == 200, persona
    html = client_for(org.researcher).get(URL, RANGE).content.decode()
    assert "De-identified research view" in html
    assert "W-000" not in html and "GivenW" not in html and "FamilyW" not in html
    assert 'name="clinician"' not in html  # staff names are not offered to researchers
    assert 'name="clinician"' in client_for(org.prescriber).get(URL, RANGE).content.decode()
    # another organisation's prescriber sees none of north's courses
    far = client_for(org.far_prescriber).get(URL, RANGE).content.decode()
    assert "2 of 2" not in far and "no evaluable courses" in far


def test_views_are_audited(org, client_for):
    from kairos.audit.models import AuditEvent

    _cohort(org, totals=(8,))
    client_for(org.researcher).get(URL, RANGE)
    client_for(org.researcher).get(URL + "deidentified.csv", RANGE)
    ev = list(AuditEvent.objects.filter(actor=org.researcher).values_list("action", "object_type"))
    assert ("read", "measures.outcomes_dashboard") in ev
    assert ("export", "measures.outcomes_deidentified") in ev


def test_dashboard_is_constant_query(org, client_for):
    c = client_for(org.prescriber)
    _cohort(org, totals=(8, 25))
    c.get(URL, RANGE)
    with CaptureQueriesContext(connection) as small:
        c.get(URL, RANGE)
    _cohort_more = [
        make_course(org, make_patient(org, f"M-{i:03d}"), scores=[(-2, 30), (7, 12), (18, 9)])
        for i in range(8)
    ]
    with CaptureQueriesContext(connection) as big:
        r = c.get(URL, RANGE)
    assert "10 of 10" in r.content.decode() or "evaluable" in r.content.decode()
    assert len(big) == len(small), [q["sql"][:120] for q in big.captured_queries]


def test_km_geometry_is_a_monotone_step_curve():
    from kairos.clinical.stats import kaplan_meier

    km = kaplan_meier([3, 5, 5, 8, 12, 20], [1, 1, 0, 1, 0, 1])
    g = dashboard_charts.km_geometry(km)
    ys = [float(seg.split("V")[1]) for seg in g.path.split("H")[1:] if "V" in seg]
    assert ys == sorted(ys)  # survival never rises (SVG y grows downwards)
    assert g.median_x is not None and math.isfinite(g.median_x)
    assert "style" not in g.path
