"""Schedules: table-driven dates, Hypothesis properties, integration rule, missed sessions, recommendations."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.config import Override
from kairos.clinical.outcomes import classify_course
from kairos.clinical.protocols import PROTOCOL_IDS, get_protocol
from kairos.clinical.rules.schedule import RULES
from kairos.clinical.schedule import (
    ClinicCalendar,
    ScheduleError,
    generate_schedule,
    handle_missed_session,
    integration_window,
    recommend_maintenance,
)

MON = dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rules(**kv):
    return RULES.with_overrides([Override(k, v, "dr", NOW, "t") for k, v in kv.items()])


def test_esketamine_trd_label_dates():
    plan = generate_schedule("esketamine-trd", MON)
    assert plan.phase_counts() == {"induction": 8, "maintenance": 4, "continuation": 4}
    offsets = [(s.date - MON).days for s in plan.sessions]
    assert offsets == [0, 3, 7, 10, 14, 17, 21, 24, 28, 35, 42, 49, 56, 70, 84, 98]
    assert plan.sessions[0].dose_mg == 56
    assert plan.sessions[0].devices == 2
    assert plan.sessions[1].dose_options_mg == (56, 84)
    assert plan.to_dict()["sessions"][0]["date"] == "2026-03-02"


def test_iv_three_per_week_override():
    plan = generate_schedule(
        "iv-racemic", MON, weight_kg=70, rules=rules(**{"iv-racemic.induction.per_period": 3})
    )
    assert [s.date.weekday() for s in plan.sessions] == [0, 2, 4, 0, 2, 4]  # Mon-Wed-Fri (Shiroma)
    assert plan.sessions[0].admixture["rate_ml_h"] == 150


def test_iv_without_weight_and_bad_weight():
    plan = generate_schedule("iv-racemic", MON)
    assert plan.sessions[0].dose_mg is None
    with pytest.raises(ScheduleError, match="weight_kg"):
        generate_schedule("iv-racemic", MON, weight_kg=5)
    with pytest.raises(ScheduleError, match="start"):
        generate_schedule("iv-racemic", dt.datetime(2026, 3, 2, tzinfo=dt.UTC))


@pytest.mark.parametrize("protocol", ["iv-racemic", "esketamine-trd", "sublingual-kap"])
def test_start_too_late_for_the_calendar_is_a_schedule_error(protocol):
    # the plan would pass date.max: a ScheduleError naming start, not an OverflowError
    with pytest.raises(ScheduleError, match=r"start: 9999-12-2\d is too late"):
        generate_schedule(protocol, dt.date(9999, 12, 25), weight_kg=70)


def test_kap_preparation_and_integration():
    plan = generate_schedule("im-racemic", MON, weight_kg=80)
    assert len(plan.preparation) == 3
    assert plan.sessions[0].date > plan.preparation[-1].date
    assert len(plan.integration) == 6
    for w, s in zip(plan.integration, plan.sessions, strict=True):
        assert w.after_session == s.number
        assert (w.earliest - s.date).days == 1
        assert (w.latest - s.date).days == 3
        assert w.booked is not None
        assert w.earliest <= w.booked <= w.latest


def test_integration_window_edge_cases():
    cal = ClinicCalendar(frozenset({0}))
    e, lt, booked, reason = integration_window(MON, cal)
    assert booked is None
    assert "closed" in reason
    _, _, b, r = integration_window(
        MON, ClinicCalendar(), dosing_days=[MON + dt.timedelta(days=k) for k in (1, 2, 3)]
    )
    assert b == MON + dt.timedelta(days=1)
    assert "dosing day" in r
    _, _, b, r = integration_window(
        MON, ClinicCalendar(), rules=rules(**{"integration.min_hours": 30, "integration.max_hours": 40})
    )
    assert b is None
    assert "no whole day" in r
    with pytest.raises(ScheduleError, match="integration.max_hours"):
        integration_window(
            MON, ClinicCalendar(), rules=rules(**{"integration.min_hours": 48, "integration.max_hours": 24})
        )
    plan = generate_schedule("sublingual-kap", MON, calendar=ClinicCalendar(frozenset({1, 4})))
    assert any("closed" in w for w in plan.warnings) or all(w.booked for w in plan.integration)


def test_calendar_validation():
    with pytest.raises(ScheduleError, match="open_weekdays"):
        ClinicCalendar(frozenset())
    with pytest.raises(ScheduleError, match="open_weekdays"):
        ClinicCalendar(frozenset({7}))
    closed = ClinicCalendar(frozenset({0}), frozenset(MON + dt.timedelta(days=7 * k) for k in range(60)))
    with pytest.raises(ScheduleError, match="calendar: no open day"):
        closed.next_open(MON)


def test_closure_overrun_warning():
    closures = frozenset(MON + dt.timedelta(days=k) for k in range(3, 14))
    plan = generate_schedule("esketamine-mdsi", MON, calendar=ClinicCalendar(closures=closures))
    assert len(plan.sessions) == 8
    assert any("past its nominal" in w for w in plan.warnings)


weekdays = st.frozensets(st.integers(0, 6), min_size=1)
closures = st.frozensets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 9, 30)), max_size=25)


@given(st.sampled_from(PROTOCOL_IDS), st.dates(dt.date(2026, 1, 1), dt.date(2026, 6, 30)), weekdays, closures)
def test_schedule_properties(pid, start, days, closed):
    cal = ClinicCalendar(days, closed)
    plan = generate_schedule(pid, start, calendar=cal, weight_kg=70)
    p = get_protocol(pid)
    expected = {ph.name: ph.sessions for ph in p.dosing_phases if ph.sessions}
    assert plan.phase_counts() == expected
    dates = [s.date for s in plan.sessions]
    assert all(cal.is_open(x) for x in dates)
    assert all(cal.is_open(t.date) for t in plan.preparation)
    assert all(b >= start for b in dates)
    assert all((b - a).days >= p.min_interval_days for a, b in zip(dates, dates[1:], strict=False))
    for ph in p.dosing_phases:  # at most per_period sessions in any period_days window of a phase
        pd = [s.date for s in plan.sessions if s.phase == ph.name]
        for i in range(ph.per_period, len(pd)):
            assert (pd[i] - pd[i - ph.per_period]).days >= ph.period_days
    if plan.preparation:
        assert plan.preparation[-1].date < dates[0]
    for w in plan.integration:
        assert w.booked is None or (cal.is_open(w.booked) and w.earliest <= w.booked <= w.latest)


def test_missed_esketamine_follows_label():
    plan = generate_schedule("esketamine-trd", MON)
    r = handle_missed_session(plan, 10, symptoms_worsened=False)
    assert r.plan.sessions[9].status == "missed"
    assert r.recommendations[0].kind == "continue"
    assert [s.date for s in r.plan.sessions] == [s.date for s in plan.sessions]
    worse = handle_missed_session(plan, 10, symptoms_worsened=True)
    assert worse.recommendations[0].kind == "revert_schedule"
    assert "twice weekly" in worse.recommendations[0].reason
    assert "review" in handle_missed_session(plan, 2, symptoms_worsened=True).recommendations[0].reason
    assert handle_missed_session(plan, 2).recommendations[0].kind == "assess"
    with pytest.raises(ScheduleError, match=r"number: 99 is outside the allowed range \[1, 16\]"):
        handle_missed_session(plan, 99)


def test_missed_other_routes_clinic_rule():
    plan = generate_schedule("sublingual-kap", MON)
    r = handle_missed_session(plan, 2)
    new = [s.date for s in r.plan.sessions]
    assert new[1] > plan.sessions[1].date
    assert r.plan.sessions[1].status == "rescheduled"
    assert all((b - a).days >= 2 for a, b in zip(new, new[1:], strict=False))
    assert len(r.plan.integration) == 6
    assert r.to_dict()["plan"]["protocol_id"] == "sublingual-kap"
    skip = handle_missed_session(plan, 2, rules=rules(**{"missed.other_routes": "skip"}))
    assert skip.plan.sessions[1].status == "missed"
    assert len(skip.plan.integration) == 5


def _outcome(scores, protocol="iv-racemic"):
    t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    pts = [(t0 + dt.timedelta(days=k), v) for k, v in scores]
    return classify_course(pts, [t0], instrument="madrs", protocol_id=protocol)


@pytest.mark.parametrize(
    ("pid", "scores", "done", "interval", "kind", "suggested"),
    [
        ("iv-racemic", [(-1, 30), (14, 12)], 6, 7, "space_out", 14),  # responder -> space out
        ("iv-racemic", [(-1, 30), (14, 12)], 6, 28, "continue", 28),  # already at the longest
        ("iv-racemic", [(-1, 30), (14, 25)], 6, None, "review", None),  # non-response after series
        ("iv-racemic", [(-1, 30), (14, 18)], 6, None, "review", None),  # partial
        ("iv-racemic", [(-1, 30), (7, 25)], 3, None, "continue", None),  # series ongoing
        ("iv-racemic", [(-1, 30), (7, 12), (20, 20), (27, 22)], 6, None, "booster", None),  # relapse
        ("esketamine-trd", [(-1, 30), (28, 10)], 8, 7, "space_out", 14),
        ("esketamine-mdsi", [(-1, 30), (28, 10)], 8, None, "end_course", None),
        ("iv-racemic", [(1, 30)], 6, None, "assess", None),
    ],
)
def test_maintenance_recommendations(pid, scores, done, interval, kind, suggested):
    recs = recommend_maintenance(
        pid, _outcome(scores, pid), sessions_completed=done, current_interval_days=interval, today=MON
    )
    assert recs[0].kind == kind
    assert recs[0].suggested_interval_days == suggested
    assert recs[0].reason
    assert recs[0].source


def test_relapse_on_esketamine_suggests_reverting_and_bad_count():
    recs = recommend_maintenance(
        "esketamine-trd",
        _outcome([(-1, 30), (7, 12), (20, 20), (27, 22)], "esketamine-trd"),
        sessions_completed=12,
        today=MON,
    )
    assert [r.kind for r in recs] == ["booster", "revert_schedule"]
    assert recs[0].by == MON + dt.timedelta(days=7)
    with pytest.raises(ScheduleError, match="sessions_completed"):
        recommend_maintenance("iv-racemic", _outcome([(-1, 30)]), sessions_completed=-1)
