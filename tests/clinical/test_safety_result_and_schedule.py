"""Severity ranking, finding export, time-zone guard and the monitoring schedule, pinned exactly
(survivors of `make mutate`, issue #17 §3).

Schedule defaults (rules/safety.py, clinical.md §1.5/§2.2, ⚠ where marked there): esketamine readings
before dosing, ~40 min after the first device and at 120 min (before discharge); IV every 10 min during a
40-min infusion and at its end, then every 15 min for 60 min; IM/SC every 15 min for 90 min.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kairos.clinical.safety.monitoring import monitoring_schedule
from kairos.clinical.safety.result import Finding, Outcome, require_aware

pytestmark = pytest.mark.db_independent

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_worst_outcome_follows_clinical_rank_not_spelling():
    # alphabetically "ok" > "hold" > "escalate"; clinically escalate > hard_stop > hold > caution > ok
    assert Outcome.worst([Outcome.OK, Outcome.CAUTION]) is Outcome.CAUTION
    assert Outcome.worst([Outcome.CAUTION, Outcome.HOLD, Outcome.OK]) is Outcome.HOLD
    assert Outcome.worst([Outcome.HOLD, Outcome.HARD_STOP]) is Outcome.HARD_STOP
    assert Outcome.worst([Outcome.ESCALATE, Outcome.OK, Outcome.HARD_STOP]) is Outcome.ESCALATE
    assert Outcome.worst([]) is Outcome.OK


def test_finding_export_is_exact():
    f = Finding("bp_hold", Outcome.HOLD, "Hold dosing.", "clinical.md §2.2")
    assert f.to_dict() == {
        "code": "bp_hold",
        "severity": "hold",
        "message": "Hold dosing.",
        "source": "clinical.md §2.2",
    }


class _NoOffset(dt.tzinfo):
    """A tzinfo that does not know its offset: as unusable as no time zone."""

    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta | None:
        return None

    def dst(self, d: dt.datetime | None) -> dt.timedelta | None:
        return None


def test_require_aware_refuses_naive_and_offsetless_times_by_name():
    assert require_aware(T0, "at") is T0
    with pytest.raises(ValueError, match=r"^at: must be a timezone-aware datetime$"):
        require_aware(dt.datetime(2026, 3, 2, 9, 0), "at")
    with pytest.raises(ValueError, match=r"^at: must be a timezone-aware datetime$"):
        require_aware(dt.datetime(2026, 3, 2, 9, 0, tzinfo=_NoOffset()), "at")


def _sched(route: str, **kw):
    return [
        ((d.at - T0).total_seconds() / 60, d.phase, d.label) for d in monitoring_schedule(route, T0, **kw)
    ]


def test_esketamine_schedule_exact():
    assert _sched("esketamine") == [
        (0, "pre_dose", "before dosing"),
        (40, "post", "~40 min after first device"),
        (120, "post", "before discharge"),
    ]


def test_iv_schedule_exact():
    assert _sched("iv") == [
        (0, "pre_dose", "before dosing"),
        (10, "during", "+10 min (infusion)"),
        (20, "during", "+20 min (infusion)"),
        (30, "during", "+30 min (infusion)"),
        (40, "during", "+40 min (infusion)"),
        (55, "post", "+15 min after infusion"),
        (70, "post", "+30 min after infusion"),
        (85, "post", "+45 min after infusion"),
        (100, "post", "+60 min after infusion"),
    ]


def test_im_schedule_exact():
    assert _sched("im") == [(0, "pre_dose", "before dosing")] + [
        (m, "post", f"+{m} min after dose") for m in (15, 30, 45, 60, 75, 90)
    ]


@pytest.mark.parametrize("minutes", [0.5, 1, 600])
def test_iv_infusion_length_accepted_in_its_range(minutes):
    during = [d for d in monitoring_schedule("iv", T0, infusion_min=minutes) if d.phase == "during"]
    assert during[-1].at == T0 + dt.timedelta(minutes=minutes)  # the end of the infusion is always due


@pytest.mark.parametrize("minutes", [0, -5, 600.5, 601])
def test_iv_infusion_length_outside_its_range_is_refused_by_name(minutes):
    with pytest.raises(ValueError, match=r"^infusion_min: .* is outside \(0, 600\] min$"):
        monitoring_schedule("iv", T0, infusion_min=minutes)
