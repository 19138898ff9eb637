"""The measurement plan generator (pure): recall spacing, kinds, safety schedule, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kairos.clinical.instruments import get
from kairos.clinical.measurement_plan import (
    CHECKS,
    RULES,
    DoseSession,
    PlanError,
    PlanRequest,
    generate_plan,
    min_gap_violations,
)

pytestmark = pytest.mark.db_independent
UTC = dt.UTC
T0 = dt.datetime(2025, 1, 6, 9, tzinfo=UTC)


def _sessions(offsets, maintenance_from=None):
    return [
        DoseSession(
            i + 1,
            T0 + dt.timedelta(days=d),
            "maintenance" if maintenance_from is not None and i >= maintenance_from else "induction",
        )
        for i, d in enumerate(offsets)
    ]


def _of(plan, inst, kind=None):
    return [d for d in plan if d.instrument_id == inst and (kind is None or d.kind == kind)]


def test_twice_weekly_induction_phq9_every_14_days_and_madrs_weekly():
    # ELEKT-D-like: 2x/week for 3 weeks (§3)
    plan = generate_plan(PlanRequest(_sessions([0, 3, 7, 10, 14, 17]), ["depression"]))
    phq = sorted(d.due_at for d in _of(plan, "phq9"))
    assert phq[0] == T0  # baseline at the first dose
    assert all(b - a >= dt.timedelta(days=14) for a, b in zip(phq, phq[1:], strict=False))
    madrs = sorted(d.due_at for d in _of(plan, "madrs"))
    assert all(b - a >= dt.timedelta(days=7) for a, b in zip(madrs, madrs[1:], strict=False))
    assert _of(plan, "phq9", "baseline") and _of(plan, "madrs", "baseline")
    assert len(_of(plan, "phq9", "end_of_induction")) == 1
    assert min_gap_violations(plan) == []


def test_baseline_window_is_before_first_dose_and_24h_rapid_uses_modified_recall():
    plan = generate_plan(PlanRequest(_sessions([0, 3, 7]), ["depression"]))
    base = _of(plan, "phq9", "baseline")[0]
    assert base.window_end == T0 and base.window_start == T0 - dt.timedelta(
        days=RULES.num("baseline.window_days")
    )
    rapid = _of(plan, "phq9_24h", "rapid_24h")
    assert len(rapid) == 1 and rapid[0].due_at == T0 + dt.timedelta(hours=24)
    assert get("phq9_24h").recall.modified


def test_instruments_by_indication():
    plan = generate_plan(PlanRequest(_sessions([0]), ["anxiety", "ptsd"], safety_checks=[]))
    assert {d.instrument_id for d in plan} == {"gad7", "pcl5"}
    assert not _of(plan, "phq9_24h")  # rapid response only for depression


def test_monthly_in_maintenance_and_safety_schedule():
    sessions = _sessions([0, 3, 7, 10, 14, 17, 21, 24, 38, 52, 66], maintenance_from=8)
    plan = generate_plan(PlanRequest(sessions, ["depression"], horizon_end=T0 + dt.timedelta(days=200)))
    monthly = sorted(d.due_at for d in _of(plan, "phq9", "monthly"))
    assert len(monthly) >= 5
    assert all(
        b - a == dt.timedelta(days=RULES.num("monthly.interval_days"))
        for a, b in zip(monthly, monthly[1:], strict=False)
    )
    # bladder screen at baseline and every maintenance visit (§5.1), with the urinalysis prompt
    bladder = _of(plan, "bladder_sx", "safety")
    assert len(bladder) == 1 + 3 and all("rinalysis" in d.reason for d in bladder)
    liver = sorted(d.due_at for d in _of(plan, "liver_tests"))
    assert liver == [T0, T0 + dt.timedelta(days=90), T0 + dt.timedelta(days=180)]
    assert len(_of(plan, "urine_drug_screen")) == 1  # baseline only by default
    assert {c.id if c.instrument is None else c.instrument for c in CHECKS} <= {d.instrument_id for d in plan}


def test_clinic_override_changes_interval():
    from kairos.clinical.config import Override

    rules = RULES.with_overrides(
        [Override("safety.liver_tests.interval_days", 30, "admin", T0, "IV program policy")]
    )
    plan = generate_plan(
        PlanRequest(_sessions([0]), ["depression"], horizon_end=T0 + dt.timedelta(days=95)), rules
    )
    assert len(_of(plan, "liver_tests")) == 4


def test_allow_overlap_flags_instead_of_dropping():
    plan = generate_plan(
        PlanRequest(_sessions([0, 3, 7, 10]), ["depression"], allow_overlap=frozenset({"phq9"}))
    )
    pre = _of(plan, "phq9", "pre_dose")
    assert pre and all(d.overlap_flagged for d in pre)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (PlanRequest([], ["depression"]), "sessions"),
        (PlanRequest(_sessions([0]), []), "indications"),
        (PlanRequest(_sessions([0]), ["psychosis"]), "indications"),
        (
            PlanRequest([DoseSession(1, dt.datetime(2025, 1, 1), "induction")], ["depression"]),
            "sessions[1].at",
        ),
        (PlanRequest(_sessions([0]), ["depression"], horizon_end=T0 - dt.timedelta(days=1)), "horizon_end"),
        (PlanRequest(_sessions([0]), ["depression"], safety_checks=["x-ray"]), "safety_checks"),
    ],
)
def test_bad_input_names_the_field(request_, field):
    with pytest.raises(PlanError, match=field.replace("[", r"\[").replace("]", r"\]")):
        generate_plan(request_)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=20), min_size=0, max_size=14),
    n_induction=st.integers(min_value=1, max_value=15),
    indications=st.sets(st.sampled_from(["depression", "anxiety", "ptsd"]), min_size=1),
    horizon=st.integers(min_value=0, max_value=400),
    overlap=st.sets(st.sampled_from(["phq9", "gad7", "madrs"]), max_size=2),
)
def test_property_no_same_instrument_inside_recall_unless_flagged(
    gaps, n_induction, indications, horizon, overlap
):
    offsets = [0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    sessions = _sessions(offsets, maintenance_from=n_induction)
    plan = generate_plan(
        PlanRequest(
            sessions,
            sorted(indications),
            horizon_end=sessions[-1].at + dt.timedelta(days=horizon),
            allow_overlap=frozenset(overlap),
        )
    )
    by: dict[str, list] = {}
    for d in plan:
        by.setdefault(d.instrument_id, []).append(d)
    for inst, dues in by.items():
        try:
            hours = get(inst).recall.hours
        except KeyError:
            continue  # lab/clinic checks have no recall
        if hours is None:
            continue
        dues.sort(key=lambda d: d.due_at)
        for a, b in zip(dues, dues[1:], strict=False):
            assert b.due_at - a.due_at >= dt.timedelta(hours=hours) or b.overlap_flagged, (inst, a, b)
            if b.overlap_flagged:
                assert inst in overlap
    for d in plan:
        assert d.window_start <= d.window_end
        assert d.due_at >= T0 - dt.timedelta(days=1)
    # every indication's instruments get a baseline before the first dose
    for d in plan:
        if d.kind == "baseline":
            assert d.window_end <= sessions[0].at
