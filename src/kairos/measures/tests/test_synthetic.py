"""Synthetic demo measurements: seeded, model-driven, consistent item answers, idempotent loader."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest

from kairos.clinical.instruments import score
from kairos.measures import synthetic

TZ = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2025, 9, 1)


def test_plans_and_scores_are_seeded_and_in_range():
    a = synthetic.plan_patient(3, random.Random("s:3"), TODAY, TZ)
    b = synthetic.plan_patient(3, random.Random("s:3"), TODAY, TZ)
    assert a == b
    ma, mb = synthetic.simulate(a), synthetic.simulate(b)
    assert ma == mb and ma
    for m in ma:
        cap = 60 if m.instrument_id == "madrs" else 27
        assert 0 <= m.total <= cap
        assert m.at.date() <= TODAY
    assert all(s.date() <= TODAY for s in a.sessions)
    assert [s for s in a.sessions] == sorted(a.sessions)


def test_trajectories_come_from_the_response_model_not_a_constant():
    plans = [synthetic.plan_patient(i, random.Random(f"s:{i}"), TODAY, TZ) for i in range(12)]
    series = [synthetic.simulate(p) for p in plans]
    baselines = [next(m.total for m in s if m.instrument_id == "madrs") for s in series]
    assert len(set(baselines)) > 3  # between-patient variability
    improved = 0
    for s in series:
        madrs = [m.total for m in s if m.instrument_id == "madrs"]
        if len(madrs) > 2 and min(madrs[1:]) <= 0.5 * madrs[0]:
            improved += 1
    assert 2 <= improved <= 11  # responders and non-responders both present


@pytest.mark.parametrize("instrument", ["madrs", "phq9", "phq9_24h"])
@pytest.mark.parametrize("total", [0, 7, 19, 24])  # ≤ the non-safety maximum
def test_item_answers_add_up_to_the_total(instrument, total):
    answers = synthetic.answers_for(instrument, total, random.Random(total))
    assert score(instrument, answers).total == total
    safety = {"madrs": "10", "phq9": "9", "phq9_24h": "9"}[instrument]
    assert answers[safety] == 0


@pytest.mark.django_db
def test_demo_loader_is_idempotent(org):
    from kairos.courses.models import Course
    from kairos.measures.models import QuestionnaireResponse

    ctx = {
        "clinics": {"north": org.north},
        "users": {"demo-prescriber": org.prescriber, "demo-nurse": org.nurse},
    }
    first = synthetic.load_measures_demo(ctx)
    courses, responses = Course.objects.count(), QuestionnaireResponse.objects.count()
    assert courses == synthetic.N_NORTH and responses > 5 * synthetic.N_NORTH
    assert "synthetic courses" in first
    assert "already loaded" in synthetic.load_measures_demo(ctx)
    assert (Course.objects.count(), QuestionnaireResponse.objects.count()) == (courses, responses)
