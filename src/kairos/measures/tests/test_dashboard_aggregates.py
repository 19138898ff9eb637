"""The dashboard's safety figures from per-(course, patient) sums (SQL ``COUNT FILTER`` / ``GROUP BY``) equal
those of the per-session algorithm they replace; the Kaplan–Meier table and curve are drawn from the
curve's step points; the per-session findings are read only on demand; binary row transfer returns what
the ORM returns."""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from kairos.clinical.stats import kaplan_meier
from kairos.measures import dashboard as dash
from kairos.measures import dashboard_charts, outcome_store
from kairos.measures import dashboard_views as views
from kairos.measures.tests.outcomes_factory import T0, make_course, make_patient
from kairos.measures.tests.test_dashboard_materialised import assert_same

D0 = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)


def _reference_safety(courses: list[dash.CourseInput], flags: list[dash.SessionFlags]) -> dict[str, object]:
    """The per-session algorithm the grouped sums replace (one pass over every session), written out
    independently: per-patient "at least once" (BP only for BP-assessable sessions within the first
    BP_PATIENT_DAYS of the course), per-session counts and totals."""
    first = {c.course_id: min(c.doses) if c.doses else None for c in courses}
    any_: dict[str, dict[int, bool]] = defaultdict(dict)
    for f in flags:
        fd = first.get(f.course_id)
        in_window = fd is None or f.started_at - fd <= dt.timedelta(days=dash.BP_PATIENT_DAYS)
        for k in ("sedation", "loss_of_consciousness", "dissociation"):
            any_[k][f.patient_id] = any_[k].get(f.patient_id, False) or getattr(f, k)
        if f.bp_assessable and in_window:
            any_["bp_rise"][f.patient_id] = any_["bp_rise"].get(f.patient_id, False) or f.bp_rise
    out: dict[str, object] = {k: (sum(v.values()), len(v)) for k, v in any_.items()}
    out["sessions"] = len(flags)
    out["bp_sessions"] = (
        sum(1 for f in flags if f.bp_assessable and f.bp_rise),
        sum(1 for f in flags if f.bp_assessable),
    )
    out["ae"] = sum(f.adverse_events for f in flags)
    out["rd"] = sum(1 for f in flags if f.respiratory_depression)
    per_course: dict[int, tuple[int, int]] = {}
    for f in flags:
        r, a = per_course.get(f.course_id, (0, 0))
        per_course[f.course_id] = (r + f.bp_rise, a + f.adverse_events)
    out["per_course"] = per_course
    return out


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[list[dash.CourseInput], list[dash.SessionFlags]]:
    n_courses = draw(st.integers(1, 6))
    courses: list[dash.CourseInput] = []
    flags: list[dash.SessionFlags] = []
    sid = 0
    for cid in range(1, n_courses + 1):
        pid = draw(st.integers(1, 3))
        days = sorted(draw(st.lists(st.integers(0, 60), max_size=6)))
        doses = tuple(D0 + dt.timedelta(days=d, minutes=7 * cid) for d in days)
        courses.append(
            dash.CourseInput(
                cid, pid, 1, "iv-racemic", "trd", D0.date(), dt.date(1980, 1, 1), "female", doses
            )
        )
        for at in doses:
            sid += 1
            assessable = draw(st.booleans())
            # a session recorded under another patient (sessions of one course split across groups)
            spid = pid if draw(st.integers(0, 9)) else pid + 10
            flags.append(
                dash.SessionFlags(
                    sid,
                    cid,
                    spid,
                    at,
                    assessable,
                    assessable and draw(st.booleans()),
                    draw(st.booleans()),
                    draw(st.booleans()),
                    draw(st.booleans()),
                    draw(st.booleans()),
                    draw(st.integers(0, 3)),
                )
            )
    return courses, flags


@settings(max_examples=60, deadline=None)
@given(cohorts(), st.randoms(use_true_random=False))
def test_grouped_sums_give_the_per_session_figures(cohort, rnd):
    courses, flags = cohort
    ref = _reference_safety(courses, flags)
    # sums built in arbitrary order and in two parts (SQL rows + recomputed stale sessions) merge alike
    shuffled = list(flags)
    rnd.shuffle(shuffled)
    cut = rnd.randint(0, len(shuffled))
    groups = dash.group_sessions(shuffled[:cut])
    dash.group_sessions(shuffled[cut:], into=groups)
    d = dash.summarise_groups(courses, groups.values(), instrument="madrs")
    rows = {m.key: m for m in d.safety}
    for key in ("bp_rise", "sedation", "loss_of_consciousness", "dissociation"):
        k, n = ref.get(key, (0, 0))  # type: ignore[misc]
        r = rows[key].rate
        assert ((r.k, r.n) if r else (0, 0)) == (k, n)
    assert d.sessions == ref["sessions"]
    bp_k, bp_n = ref["bp_sessions"]  # type: ignore[misc]
    if bp_n:
        assert f"; {bp_k} of {bp_n} sessions with BP charted" in rows["bp_rise"].detail
    ae = rows["adverse_events_per_100"].rate
    rd = rows["respiratory_depression"].rate
    assert (ae.k if ae else 0, rd.k if rd else 0) == (ref["ae"], ref["rd"])
    per_course = {k: (v.bp_rise_sessions, v.adverse_events) for k, v in d.course_safety.items()}
    assert per_course == ref["per_course"]
    # and the per-session entry point gives the same dashboard
    full = dash.summarise(courses, flags, instrument="madrs")
    assert (full.safety, full.sessions, dict(full.course_safety)) == (
        d.safety,
        d.sessions,
        dict(d.course_safety),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 400, allow_nan=False).map(lambda v: round(v, 2)), st.booleans()),
        min_size=1,
        max_size=80,
    )
)
def test_km_table_keeps_the_step_points(obs):
    km = kaplan_meier([t for t, _ in obs], [e for _, e in obs])
    steps = dashboard_charts.km_steps(km)
    event_times = [r.time for r in km.table if r.events]
    assert [s.time for s in steps if s.events] == event_times
    assert len(steps) <= len(event_times) + 1
    assert sum(s.events for s in steps) == km.events
    assert sum(s.censored for s in steps) == km.n - km.events
    for s in steps:
        assert s.survival == km.survival_at(s.time)
    for s in steps:
        if s.events:  # at risk: every observation at or after the step
            assert s.at_risk == sum(1 for t, _ in obs if t >= s.time)
    g = dashboard_charts.km_geometry(km)
    corners = [float(seg.split("V")[1]) for seg in g.path.split("H")[1:] if "V" in seg]
    assert len(corners) == len(event_times)  # one corner per step, none for censoring-only times
    assert corners == sorted(corners)
    assert len(g.censor_marks) == len(set(g.censor_marks))


@pytest.mark.django_db
def test_km_table_is_capped_on_the_page(org, client_for):
    # many responders censored at distinct times, few relapses: the table lists the relapse times only
    rng = random.Random(11)
    for i in range(14):
        p = make_patient(org, f"K-{i:03d}")
        if i < 3:
            make_course(org, p, scores=[(-2, 30), (7, 12), (17 + i, 20), (24 + i, 20)])
        else:
            c = 7 + rng.randint(2, 60) + rng.random()
            make_course(org, p, scores=[(-2, 30), (7, 12), (c, 12)])
    f = views.Filters(clinic_ids=[org.north.pk], date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    km = views.build(f).time_to_relapse
    assert km is not None and len(km.table) > 10
    html = (
        client_for(org.prescriber).get("/measures/dashboard/", {"date_from": "2025-01-01"}).content.decode()
    )
    body = html.split("Kaplan–Meier table</summary>")[1].split("</table>")[0]
    assert body.count("<tr>") - 1 == len(dashboard_charts.km_steps(km)) <= km.events + 1


@pytest.mark.django_db
def test_sessions_of_one_course_under_two_patients(org):
    from kairos.dosing.models import DosingSession

    rng = random.Random(5)
    for i in range(4):
        p = make_patient(org, f"G-{i}")
        make_course(
            org,
            p,
            scores=[(-2, 30), (9, 10 + 4 * i)],
            readings={
                s: [
                    {"minutes": -10, "sbp": 120, "dbp": 80},
                    {"minutes": 30, "sbp": rng.randint(120, 180), "dbp": 85},
                ]
                for s in range(6)
            },
            events={2: ["sedation"]} if i % 2 else {},
        )
    other = make_patient(org, "G-other")
    moved = DosingSession.objects.filter(patient__mrn="G-1").order_by("dosing_started_at")[1]
    DosingSession.objects.filter(pk=moved.pk).update(patient=other)
    f = views.Filters(clinic_ids=[org.north.pk], date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    fast, ref = views.build(f), views.build_from_scratch(f)
    assert_same(fast, ref)
    assert any(g.patient_id == other.pk for g in views.load_aggregated(f)[1])


@pytest.mark.django_db
def test_per_session_findings_are_read_only_on_demand(org):
    for i in range(3):
        make_course(org, make_patient(org, f"L-{i}"), scores=[(-2, 30), (9, 12)])
    f = views.Filters(clinic_ids=[org.north.pk], date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    with CaptureQueriesContext(connection) as built:
        d = views.build(f)
    with CaptureQueriesContext(connection) as detail:
        by_course = d.flags_by_course
    assert len(built) <= 5 and len(detail) >= 1
    assert sum(len(v) for v in by_course.values()) == d.sessions == 18
    with CaptureQueriesContext(connection) as again:
        assert d.flags_by_course is by_course  # loaded once
    assert len(again) == 0


def test_gc_pause_restores_the_collector():
    assert gc.isenabled()
    with views.gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with views.gc_paused():
            pass
        assert not gc.isenabled()  # left off when it was off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), views.gc_paused():
        raise RuntimeError
    assert gc.isenabled()


@pytest.mark.django_db
def test_binary_row_transfer_returns_what_the_orm_returns(org):
    from kairos.measures.models import CourseOutcomeSummary

    make_course(org, make_patient(org, "F-1"), scores=[(-2, 30), (7, 12), (30, 20), (36, 21)])
    qs = CourseOutcomeSummary.objects.order_by("series").values_list(
        "course_id",
        "series",
        "first_dose",
        "baseline_at",
        "baseline_total",
        "rapid_response",
        "ttr_days",
        "points",
    )
    rows = outcome_store.fetch_rows(qs)
    assert rows == list(qs)
    assert rows[0][2] == T0 and rows[0][2].utcoffset() == dt.timedelta(0)
