"""The materialised read model (:mod:`kairos.measures.outcome_store`) gives the dashboard exactly the
figures of a from-scratch recomputation (:func:`kairos.measures.dashboard_views.build_from_scratch`) on
random cohorts — linked and unlinked responses, several courses per patient, flowsheets and events — and
stays correct when rows are missing or stale; the service write paths keep it current."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import call_command

from kairos.measures import dashboard as dash
from kairos.measures import dashboard_deid, outcome_store
from kairos.measures import dashboard_views as views
from kairos.measures.models import CourseOutcomeSummary, SessionSafety
from kairos.measures.tests.outcomes_factory import T0, make_course, make_patient

pytestmark = pytest.mark.django_db


def _filters(org, **kw):
    base = dict(clinic_ids=[org.north.pk], date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    base.update(kw)
    return views.Filters(**base)


def _projection(o):
    """Every field of a classification the dashboard reads (the stored summary keeps the latest
    assessment only and no reasons)."""
    last = o.assessments[-1] if o.assessments else None
    return (
        o.instrument,
        o.protocol_id,
        o.first_dose,
        o.baseline,
        o.baseline_stale,
        bool(o.assessments),
        last,
        o.latest_reduction_pct,
        o.best_reduction_pct,
        o.current,
        o.responded,
        o.response_at,
        o.partial_response,
        o.remitted,
        o.remission_at,
        o.in_remission,
        o.rapid_response,
        o.relapsed,
        o.relapse_at,
        o.time_to_response,
        o.time_to_relapse,
        o.remission_rule,
    )


def assert_same(fast: dash.Dashboard, ref: dash.Dashboard) -> None:
    assert fast.efficacy == ref.efficacy
    assert fast.safety == ref.safety
    assert fast.cohort == ref.cohort
    assert fast.sessions_to_response == ref.sessions_to_response
    assert (fast.courses, fast.evaluable, fast.sessions, fast.patients) == (
        ref.courses,
        ref.evaluable,
        ref.sessions,
        ref.patients,
    )
    # the materialised path does not fetch score rows: inputs agree but for their points
    assert [replace(c, points=()) for c, _ in fast.outcomes] == [
        replace(c, points=()) for c, _ in ref.outcomes
    ]
    assert [_projection(o) for _, o in fast.outcomes] == [_projection(o) for _, o in ref.outcomes]
    assert {k: sorted(v, key=lambda f: f.session_id) for k, v in fast.flags_by_course.items()} == {
        k: sorted(v, key=lambda f: f.session_id) for k, v in ref.flags_by_course.items()
    }
    assert dashboard_deid.deidentified_rows(fast, b"test-key") == dashboard_deid.deidentified_rows(
        ref, b"test-key"
    )


def _random_readings(rng: random.Random) -> list[dict[str, Any]]:
    """Up to three flowsheet rows of one session (the random draws in the order the rows are listed)."""
    rows: list[dict[str, Any]] = [
        {"minutes": -10, "sbp": rng.randint(100, 150), "dbp": rng.randint(60, 95)},
        {
            "minutes": rng.randint(10, 120),
            "sbp": rng.randint(110, 200),
            "dbp": rng.randint(60, 130),
        },
        {"minutes": 30, "kind": "moaas", "moaas": rng.randint(0, 5)},
    ]
    return rows[: rng.randint(0, 3)]


def _random_cohort(org, rng: random.Random, n_patients: int) -> None:
    for i in range(n_patients):
        p = make_patient(org, f"R-{i:03d}")
        for k in range(rng.choice((1, 1, 2))):
            start = T0 + dt.timedelta(days=rng.randint(0, 200) + 60 * k)
            doses = sorted(rng.sample(range(0, 21), rng.randint(0, 6)))
            base = rng.randint(0, 45)
            scores: list[tuple[float, int]] = [(-rng.choice((1, 2, 20)), base)] if rng.random() < 0.9 else []
            for day in sorted(rng.sample(range(0, 120), rng.randint(0, 8))):
                scores.append((day + rng.random(), max(0, base - rng.randint(-5, 40))))
            readings: dict[int, Sequence[dict[str, Any]]] = {
                s: _random_readings(rng) for s in range(len(doses))
            }
            events: dict[int, Sequence[str]] = {
                s: [rng.choice(("sedation", "dissociation", "nausea"))]
                for s in range(len(doses))
                if rng.random() < 0.2
            }
            make_course(
                org,
                p,
                dose_days=doses,
                scores=scores,
                instrument=rng.choice(("madrs", "madrs", "phq9")),
                protocol_id=rng.choice(("iv-racemic", "esketamine-trd")),
                start=start,
                linked=rng.random() < 0.8,
                readings=readings,
                events=events,
            )


@pytest.mark.parametrize("seed", [3, 1729, 20250303])
def test_materialised_equals_from_scratch_on_random_cohorts(org, seed):
    rng = random.Random(seed)
    _random_cohort(org, rng, n_patients=6)
    for instrument in ("madrs", "phq9"):
        for f in (
            _filters(org, instrument=instrument),
            _filters(org, instrument=instrument, protocol="iv-racemic"),
            _filters(org, instrument=instrument, date_from=dt.date(2025, 6, 1)),
        ):
            assert_same(views.build(f), views.build_from_scratch(f))
    courses, _flags, stored = views.load_materialised(_filters(org))
    assert stored, "the stored summaries are used"
    assert len(stored) < len(courses) or not any(c.points for c in courses)


def test_missing_and_stale_rows_are_recomputed_on_read(org):
    from kairos.courses.models import Course

    for i, end in enumerate((8, 12, 25)):
        p = make_patient(org, f"S-{i}")
        make_course(
            org,
            p,
            scores=[(-2, 30), (1, end), (18, end)],
            readings={0: [{"minutes": -10, "sbp": 120, "dbp": 80}, {"minutes": 40, "sbp": 170, "dbp": 85}]},
        )
    f = _filters(org)
    ref = views.build_from_scratch(f)
    assert ref.efficacy[0].rate is not None and ref.efficacy[0].rate.k == 2
    assert CourseOutcomeSummary.objects.count() == 3 * len(dash.SERIES)
    assert SessionSafety.objects.count() == 18
    # a summary row gone, another computed under other rules, a protocol changed behind its back,
    # a session's findings gone and another's computed for another dosing time
    rows = list(CourseOutcomeSummary.objects.filter(series="madrs").order_by("course_id"))
    rows[0].delete()
    CourseOutcomeSummary.objects.filter(pk=rows[1].pk).update(
        version=outcome_store.VERSION + 1, remission_at=None
    )
    Course.objects.filter(pk=rows[2].course_id).update(protocol_id="esketamine-trd")
    safety = list(SessionSafety.objects.order_by("session_id"))
    safety[0].delete()
    SessionSafety.objects.filter(pk=safety[1].pk).update(started_at=T0 - dt.timedelta(days=9), bp_rise=True)
    assert_same(views.build(f), views.build_from_scratch(f))
    call_command("measures_rebuild_outcomes", verbosity=0)
    assert CourseOutcomeSummary.objects.filter(version=outcome_store.VERSION).count() == 3 * len(dash.SERIES)
    assert SessionSafety.objects.count() == 18
    assert_same(views.build(f), views.build_from_scratch(f))


def test_clinician_entry_updates_the_course_summary_in_the_same_transaction(org):
    from kairos.measures.models import DueKind, MeasurementDue
    from kairos.measures.services import recording

    p = make_patient(org, "W-1")
    course = make_course(org, p, scores=[(-2, 20)], instrument="phq9")
    before = CourseOutcomeSummary.objects.get(course=course, series="phq9")
    assert before.latest_at is None and before.points == 1 and before.response_at is None
    at = T0 + dt.timedelta(days=8)
    MeasurementDue.objects.create(
        patient=p,
        course=course,
        instrument_id="phq9",
        kind=DueKind.END_OF_INDUCTION,
        due_at=at,
        window_start=at - dt.timedelta(days=2),
        window_end=at + dt.timedelta(days=2),
    )
    answers = {str(i): 1 for i in range(1, 10)}  # PHQ-9 total 9: a 55 % reduction from 20
    recording.enter_clinician_response(org.prescriber, p, "phq9", answers, administered_at=at)
    after = CourseOutcomeSummary.objects.get(course=course, series="phq9")
    assert (after.points, after.latest_total, after.response_at) == (2, 9.0, at)
    f = _filters(org, instrument="phq9")
    d = views.build(f)
    assert_same(d, views.build_from_scratch(f))
    assert d.efficacy[0].rate is not None and (d.efficacy[0].rate.k, d.efficacy[0].rate.n) == (1, 1)
