"""Clinic overrides of thresholds: bounds, versions, revert, audit, append-only, permissions (issue #12 §7).

Expected values are written from the rule set's source text (``kairos.clinical.rules.safety``:
``spo2.alarm_below`` default 93 %, allowed 85–98; ``spo2.alarm_consecutive`` default 2, allowed 1–5;
``alerts.phq9_item9.urgency`` one of urgent/routine), not recomputed with the app's helpers.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kairos.audit.models import AuditEvent
from kairos.clinical.config import ConfigError
from kairos.clinical.safety.predose import Vitals, predose_gate
from kairos.core.append_only import AppendOnlyError
from kairos.rulesets import catalogue, services
from kairos.rulesets.catalogue import UnknownRule
from kairos.rulesets.models import RuleOverride
from kairos.rulesets.selectors import effective_param, effective_params, effective_rules, history

pytestmark = pytest.mark.django_db

KEY = "spo2.alarm_below"
WHY = "Clinic protocol review 2026-11: pulse oximeters read 1% low"  # 57 characters


def _set(org, value, *, user=None, key=KEY, ruleset="safety", reason=WHY, **kw):
    return services.set_override(user or org.prescriber, org.north.pk, ruleset, key, value, reason, **kw)


def _value_error(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.message_dict["value"])


# --- bounds ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [85, 98, 90])
def test_values_inside_the_allowed_range_are_accepted(org, value):
    row = _set(org, value)
    assert row.value == value
    assert effective_rules(org.north.pk, "safety")[KEY] == value


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (84, "84 is below the allowed range [85, 98] %"),
        (99, "99 is above the allowed range [85, 98] %"),
        (84.9, "84.9 is not a whole number"),
        (math.nan, "nan is not a finite number"),
        (math.inf, "inf is not a finite number"),
        (-math.inf, "-inf is not a finite number"),
        (True, "True is not a number"),
        ("90", "'90' is not a number"),
    ],
)
def test_values_outside_the_allowed_range_are_refused_naming_param_and_range(org, value, detail):
    with pytest.raises(ValidationError) as exc:
        _set(org, value)
    assert _value_error(exc) == f"safety.spo2.alarm_below: {detail}; allowed: 85 to 98 %"
    assert not RuleOverride.objects.exists()


@pytest.mark.parametrize(("text", "expected"), [("90", 90.0), (" 88.0 ", 88.0), ("1e2", 100.0)])
def test_parse_value_reads_numbers(text, expected):
    assert catalogue.parse_value("safety", catalogue.param("safety", KEY), text) == expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [("", "a value is required"), ("abc", "'abc' is not a number"), ("9O", "'9O' is not a number")],
)
def test_parse_value_refuses_non_numbers_naming_the_range(text, detail):
    with pytest.raises(ConfigError) as exc:
        catalogue.parse_value("safety", catalogue.param("safety", KEY), text)
    assert str(exc.value) == f"safety.spo2.alarm_below: {detail}; allowed: 85 to 98 %"


def test_choice_param_accepts_a_listed_choice_and_refuses_others(org):
    row = _set(org, "routine", ruleset="alerts", key="phq9_item9.urgency")
    assert effective_rules(org.north.pk, "alerts")["phq9_item9.urgency"] == "routine"
    assert row.version == 1
    with pytest.raises(ValidationError) as exc:
        _set(org, "later", ruleset="alerts", key="phq9_item9.urgency")
    assert "not one of 'urgent', 'routine'" in _value_error(exc)
    assert "allowed: one of urgent, routine" in _value_error(exc)


def test_a_list_param_has_no_allowed_range_and_is_not_overridable_here(org):
    with pytest.raises(ValidationError) as exc:
        _set(org, ["iv"], key="bp.hold_routes")
    assert "a clinic cannot override this param in the app" in _value_error(exc)


def test_unknown_rule_set_or_key_is_refused(org):
    with pytest.raises(UnknownRule):
        _set(org, 90, key="spo2.no_such_key")
    with pytest.raises(UnknownRule):
        _set(org, 90, ruleset="no_such_rules")


# --- reason ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reason", "ok"), [("x" * 14, False), ("x" * 15, True), ("x" * 2000, True), ("x" * 2001, False)]
)
def test_reason_is_15_to_2000_characters(org, reason, ok):
    if ok:
        assert _set(org, 90, reason=reason).reason == reason
        return
    with pytest.raises(ValidationError) as exc:
        _set(org, 90, reason=reason)
    assert exc.value.message_dict["reason"] == [
        f"reason: at least 15 characters, at most 2000 (got {len(reason)})"
    ]


# --- versions, revert, audit, append-only ----------------------------------------------------------------
def test_versions_chain_and_revert_restores_the_default(org):
    first = _set(org, 90, expected_version=0)
    second = _set(org, 88, expected_version=1)
    assert (first.version, second.version, second.previous_id) == (1, 2, first.pk)
    assert effective_param(org.north.pk, "safety", KEY).value == 88
    reverted = services.revert_override(org.prescriber, org.north.pk, "safety", KEY, WHY, expected_version=2)
    assert (reverted.version, reverted.value, reverted.previous_id) == (3, None, second.pk)
    eff = effective_param(org.north.pk, "safety", KEY)
    assert (eff.value, eff.overridden, eff.latest.version) == (93, False, 3)
    assert effective_rules(org.north.pk, "safety")[KEY] == 93
    assert [h.version for h in history(org.north.pk, "safety", KEY)] == [3, 2, 1]


def test_a_stale_form_is_refused_not_silently_replacing_a_newer_version(org):
    _set(org, 90)
    with pytest.raises(services.StaleVersion):
        _set(org, 88, expected_version=0)
    assert RuleOverride.objects.count() == 1


def test_reverting_what_is_already_the_default_is_refused(org):
    with pytest.raises(ValidationError) as exc:
        services.revert_override(org.prescriber, org.north.pk, "safety", KEY, WHY)
    assert _value_error(exc) == "safety.spo2.alarm_below already has its default value"


def test_each_signing_is_audited_with_old_and_new_values(org):
    row = _set(org, 90)
    event = AuditEvent.objects.get(object_type="rulesets.ruleoverride", object_id=str(row.pk))
    assert event.action == "sign"
    assert event.clinic_id == org.north.pk
    assert event.actor_id == org.prescriber.pk
    assert event.reason == WHY
    assert event.old == {"value": 93, "overridden": False, "version": 0}
    assert event.new == {"value": 90, "effective": 90, "version": 1, "default": 93}
    assert event.summary == "rule override safety.spo2.alarm_below v1: set to 90 %"


def test_rows_are_append_only(org):
    row = _set(org, 90)
    row.value = 85
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert RuleOverride.objects.get(pk=row.pk).value == 90


def test_signer_is_recorded_by_name(org):
    org.prescriber.first_name, org.prescriber.last_name = "Ada", "Okafor"
    org.prescriber.save()
    row = _set(org, 90)
    assert row.signed_by_name == "Ada Okafor (prescriber)"
    eff = effective_param(org.north.pk, "safety", KEY)
    assert eff.provenance().endswith(
        f"; clinic override by Ada Okafor (prescriber) on {row.signed_at.date().isoformat()}"
    )


# --- who may sign ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["nurse", "therapist", "frontdesk", "admin", "auditor", "researcher"])
def test_only_a_prescriber_of_the_clinic_signs(org, persona):
    with pytest.raises(PermissionDenied):
        _set(org, 90, user=getattr(org, persona))
    assert not RuleOverride.objects.exists()


@pytest.mark.parametrize("persona", ["south_prescriber", "far_prescriber", "nobody"])
def test_another_clinics_prescriber_gets_not_found(org, persona):
    with pytest.raises(Http404):
        _set(org, 90, user=getattr(org, persona))


def test_overrides_are_per_clinic(org):
    services.set_override(org.south_prescriber, org.south.pk, "safety", KEY, 88, WHY)
    assert effective_rules(org.south.pk, "safety")[KEY] == 88
    assert effective_rules(org.north.pk, "safety")[KEY] == 93


# --- effective rules ------------------------------------------------------------------------------------
def _two_low_spo2_readings(rules):
    t = dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)
    readings = [
        Vitals(at=t, sbp=120, dbp=80, heart_rate=70, spo2=91, resp_rate=14),
        Vitals(at=t + dt.timedelta(minutes=5), sbp=120, dbp=80, heart_rate=70, spo2=91, resp_rate=14),
    ]
    return predose_gate(
        route="esketamine",
        readings=readings,
        planned_dose_at=t + dt.timedelta(minutes=10),
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        last_food_at=t - dt.timedelta(hours=3),
        last_liquid_at=t - dt.timedelta(hours=1),
        rules=rules,
    )


def test_an_override_changes_the_effective_rules_and_the_pure_gate(org):
    before = _two_low_spo2_readings(effective_rules(org.north.pk, "safety"))
    assert "spo2_alarm" in [f.code for f in before.findings]  # 91 % twice is below the default 93 %
    _set(org, 90)
    rules = effective_rules(org.north.pk, "safety")
    assert rules[KEY] == 90
    assert rules.param(KEY).overridden_by is not None
    assert rules.param(KEY).overridden_by.by == "prescriber"
    after = _two_low_spo2_readings(rules)
    assert not [f.code for f in after.findings if f.code.startswith("spo2")]  # 91 % is not below 90 %


def test_without_overrides_the_code_rule_set_itself_is_returned(org):
    from kairos.clinical.rules.safety import RULES

    assert effective_rules(org.north.pk, "safety") is RULES


def test_a_stored_override_the_code_no_longer_accepts_is_ignored_and_flagged(org):
    # as if the allowed range had narrowed after signing: 50 % is outside today's 85–98 %
    RuleOverride.objects.create(
        clinic=org.north,
        ruleset="safety",
        key=KEY,
        version=1,
        value=50,
        reason=WHY,
        signed_by=org.prescriber,
        signed_by_name="prescriber",
    )
    assert effective_rules(org.north.pk, "safety")[KEY] == 93
    eff = effective_param(org.north.pk, "safety", KEY)
    assert (eff.value, eff.overridden) == (93, False)
    assert (
        eff.problem
        == "override v1 ignored: safety.spo2.alarm_below: 50 is below the allowed range [85, 98] %; allowed: 85 to 98 %"
    )
    row = next(p for p in effective_params(org.north.pk, "safety") if p.key == KEY)
    assert row.problem == eff.problem


def test_cache_answers_the_second_read_without_a_query(org, django_assert_num_queries):
    _set(org, 90)
    cache: dict = {}
    with django_assert_num_queries(1):
        effective_rules(org.north.pk, "safety", cache=cache)
    with django_assert_num_queries(0):
        assert effective_rules(org.north.pk, "safety", cache=cache)[KEY] == 90
