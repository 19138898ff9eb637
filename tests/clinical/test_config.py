import datetime as dt

import pytest

from kairos.clinical.config import ConfigError, Override, Param, RuleSet, Status

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _rules() -> RuleSet:
    return RuleSet.of(
        "demo",
        "Demo",
        [
            Param("bp_hold_sbp", 180, "mmHg", "clinical.md §1.5", Status.UNCONFIRMED, "hold", 140, 220),
            Param("flag", True, "", "x", Status.CONFIRMED, "a flag"),
        ],
    )


def test_override_within_bounds_records_who_and_why():
    rules = _rules().with_overrides([Override("bp_hold_sbp", 170, "dr-a", NOW, "local SOP")])
    assert rules["bp_hold_sbp"] == 170
    assert rules.param("bp_hold_sbp").overridden_by.by == "dr-a"
    assert _rules()["bp_hold_sbp"] == 180  # the default is untouched


@pytest.mark.parametrize("value", [100, 400, float("nan"), "high", True])
def test_override_outside_range_names_key_and_range(value):
    with pytest.raises(ConfigError, match="bp_hold_sbp"):
        _rules().with_overrides([Override("bp_hold_sbp", value, "dr-a", NOW, "x")])


def test_override_needs_reason_and_aware_time():
    with pytest.raises(ConfigError, match="reason"):
        Override("flag", False, "dr-a", NOW, " ")
    with pytest.raises(ConfigError, match="timezone"):
        Override("flag", False, "dr-a", dt.datetime(2026, 1, 1), "x")  # noqa: DTZ001


def test_unknown_key_and_unconfirmed_listing():
    with pytest.raises(ConfigError, match="unknown key"):
        _rules().param("nope")
    assert [p.key for p in _rules().unconfirmed()] == ["bp_hold_sbp"]
