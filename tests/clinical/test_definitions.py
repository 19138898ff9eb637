"""Named clinical definitions (issue #12 §5): each term defined once, pinned at its boundary.

Expected values are written from the sources (REMS form: sedation = MOAA/S below 5, i.e. not fully awake,
clinical.md §1.4/§4.8; dashboard: significant sedation MOAA/S ≤ 3, loss of consciousness MOAA/S 0 (label
§5.1); BP rise ≥40 systolic and/or ≥25 diastolic mmHg (label §5.6, ISI S6) within 1.5 h), not recomputed
from the params.
"""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical import definitions as d
from kairos.clinical.config import Override
from kairos.clinical.rules.rems import RULES as REMS
from kairos.clinical.rules.safety_reporting import RULES as REPORTING
from kairos.clinical.safety.vitals import Vitals, is_significant_rise

AT = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


# --- sedation: REMS (MOAA/S < 5) vs significant (MOAA/S ≤ 3) --------------------------------------------------


@pytest.mark.parametrize(("moaas", "expected"), [(5, False), (4, True), (3, True), (0, True)])
def test_rems_sedation_is_any_moaas_below_5(moaas, expected):
    assert d.rems_sedation([5, moaas, None], sedation_event=False) is expected


@pytest.mark.parametrize(("moaas", "expected"), [(5, False), (4, False), (3, True), (2, True), (0, True)])
def test_significant_sedation_is_moaas_at_most_3(moaas, expected):
    assert d.significant_sedation([moaas], sedation_event=False) is expected


def test_moaas_4_is_rems_sedation_but_not_significant_sedation():
    """The case the two definitions disagree on: one term each, never the same word."""
    assert d.rems_sedation([4], sedation_event=False) is True
    assert d.significant_sedation([4], sedation_event=False) is False


def test_sedation_event_counts_without_readings():
    assert d.rems_sedation([], sedation_event=True) is True
    assert d.significant_sedation([None], sedation_event=True) is True
    assert d.rems_sedation([None], sedation_event=False) is False
    assert d.significant_sedation([], sedation_event=False) is False


@pytest.mark.parametrize(("moaas", "expected"), [(1, False), (0, True)])
def test_loss_of_consciousness_is_moaas_0(moaas, expected):
    assert d.loss_of_consciousness([5, moaas]) is expected
    assert d.loss_of_consciousness([None]) is False


def test_a_clinic_override_reaches_the_definition():
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    stricter = REPORTING.with_overrides([Override("sedation.moaas_max", 4, "Dr A", at, "count lethargy")])
    assert d.significant_sedation([4], sedation_event=False, rules=stricter) is True
    rems = REMS.with_overrides([Override("pmf.sedation_moaas_below", 4, "Dr A", at, "form guidance")])
    assert d.rems_sedation([4], sedation_event=False, rules=rems) is False
    assert d.rems_sedation([3], sedation_event=False, rules=rems) is True


# --- dissociation: REMS (any CADSS-6 > 0) vs above pre-dose -----------------------------------------------------


@pytest.mark.parametrize(("cadss", "expected"), [(0, False), (1, True), (24, True)])
def test_rems_dissociation_is_any_cadss_above_0(cadss, expected):
    assert d.rems_dissociation([None, cadss], dissociation_event=False) is expected


@pytest.mark.parametrize(("post", "expected"), [(3, False), (4, True), (2, False)])
def test_dissociation_above_predose_compares_with_the_predose_total(post, expected):
    assert d.dissociation_above_predose(3, [post], dissociation_event=False) is expected


def test_dissociation_terms_disagree_when_predose_was_already_positive():
    """Pre-dose 3, post-dose 3: the REMS form reports dissociation (CADSS > 0), the dashboard does not."""
    assert d.rems_dissociation([3], dissociation_event=False) is True
    assert d.dissociation_above_predose(3, [3], dissociation_event=False) is False


def test_dissociation_above_predose_without_predose_uses_0_and_counts_events():
    assert d.dissociation_above_predose(None, [1], dissociation_event=False) is True
    assert d.dissociation_above_predose(None, [0], dissociation_event=False) is False
    assert d.dissociation_above_predose(5, [], dissociation_event=True) is True
    assert d.rems_dissociation([], dissociation_event=True) is True


# --- BP rise ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sbp", "dbp", "expected"),
    [
        (159, 104, False),  # +39 / +24
        (160, 80, True),  # +40 systolic
        (120, 105, True),  # +25 diastolic
        (160, 105, True),
    ],
)
def test_significant_bp_rise_boundaries(sbp, dbp, expected):
    assert d.significant_bp_rise(120, 80, [sbp], [dbp]) is expected


def test_bp_rise_needs_a_predose_value():
    assert d.significant_bp_rise(None, None, [220], [130]) is False
    assert d.significant_bp_rise(120, None, [140], [130]) is False  # diastolic rise needs pre-dose DBP
    assert d.significant_bp_rise(120, None, [160], [None]) is True


@pytest.mark.parametrize(("minutes", "expected"), [(0, True), (90, True), (91, False), (-1, False)])
def test_bp_rise_within_window_is_the_first_90_minutes(minutes, expected):
    assert d.bp_rise_within_window(120, 80, [(minutes, 160, 80)]) is expected


@given(
    pre_s=st.integers(80, 200),
    pre_d=st.integers(40, 120),
    ds=st.integers(-30, 80),
    dd=st.integers(-30, 60),
)
def test_monitoring_rise_and_named_definition_agree(pre_s, pre_d, ds, dd):
    """The monitoring/discharge check (safety.vitals) and the named definition never drift apart."""
    post_s, post_d = pre_s + ds, pre_d + dd
    if post_d >= post_s or pre_d >= pre_s or not (40 <= post_s <= 300) or not (20 <= post_d <= 200):
        return
    base = Vitals(AT, sbp=pre_s, dbp=pre_d)
    reading = Vitals(AT + dt.timedelta(minutes=40), sbp=post_s, dbp=post_d)
    expected = ds >= 40 or dd >= 25
    assert d.significant_bp_rise(pre_s, pre_d, [post_s], [post_d]) is expected
    assert is_significant_rise(reading, base) is expected


# --- labels ----------------------------------------------------------------------------------------------------


def test_labels_name_each_definition_distinctly():
    labels = {k: v.label for k, v in d.definitions().items()}
    assert labels["rems_sedation"] == "Sedation (REMS form: MOAA/S < 5)"
    assert labels["significant_sedation"] == "Significant sedation (MOAA/S ≤ 3)"
    assert labels["loss_of_consciousness"] == "Loss of consciousness (MOAA/S 0)"
    assert labels["rems_dissociation"] == "Dissociation (REMS form: CADSS-6 > 0)"
    assert labels["dissociation_above_predose"] == "Dissociation above pre-dose (CADSS-6)"
    assert labels["significant_bp_rise"] == (
        "Significant BP rise (SBP ≥40 and/or DBP ≥25 mmHg above pre-dose)"
    )
    assert labels["bp_rise_within_window"] == (
        "BP rise within 90 min of dosing (SBP ≥40 and/or DBP ≥25 mmHg above pre-dose)"
    )
    assert len(set(labels.values())) == len(labels)


def test_every_definition_names_existing_params_and_function():
    import importlib

    from kairos.clinical.rules import all_rule_sets

    sets = {r.name: r for r in all_rule_sets()}
    for definition in d.definitions().values():
        for ref in definition.params:
            name, key = ref.split(".", 1)
            sets[name].param(key)  # raises if unknown
        module, func = definition.function.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), func))


def test_dashboard_rows_use_the_named_labels():
    from kairos.measures.dashboard import DEFINITIONS, METRIC_DEFINITION

    assert DEFINITIONS[METRIC_DEFINITION["sedation"]].label == "Significant sedation (MOAA/S ≤ 3)"
    assert DEFINITIONS[METRIC_DEFINITION["dissociation"]].label == "Dissociation above pre-dose (CADSS-6)"


def test_dashboard_session_flags_use_the_dashboard_definitions():
    from kairos.measures.dashboard import session_flags

    def flags(**kw):
        args = dict(
            session_id=1,
            course_id=1,
            patient_id=1,
            started_at=AT,
            pre_sbp=120,
            pre_dbp=80,
            win_sbp=159,
            win_dbp=104,
            min_moaas=4,
            pre_cadss=3,
            max_cadss=3,
            ae_sedation=False,
            ae_dissociation=False,
            ae_resp=False,
            ae_count=0,
        )
        args.update(kw)
        return session_flags(**args)

    f = flags()
    assert (f.bp_rise, f.sedation, f.dissociation, f.loss_of_consciousness) == (False, False, False, False)
    assert flags(win_sbp=160).bp_rise is True
    assert flags(win_dbp=105).bp_rise is True
    assert flags(min_moaas=3).sedation is True
    assert flags(min_moaas=0).loss_of_consciousness is True
    assert flags(max_cadss=4).dissociation is True


def test_dashboard_safety_rows_are_labelled_with_the_named_definitions():
    from kairos.measures.dashboard import CourseInput, session_flags, summarise

    course = CourseInput(1, 1, 1, "esketamine-trd", "trd", AT.date(), dt.date(1980, 1, 1), "female")
    flags = session_flags(
        session_id=1,
        course_id=1,
        patient_id=1,
        started_at=AT,
        pre_sbp=120,
        pre_dbp=80,
        win_sbp=125,
        win_dbp=80,
        min_moaas=4,
        pre_cadss=0,
        max_cadss=1,
        ae_sedation=False,
        ae_dissociation=False,
        ae_resp=False,
        ae_count=0,
    )
    rows = {m.key: m for m in summarise([course], [flags], instrument="madrs").safety}
    assert rows["sedation"].label == "Significant sedation (MOAA/S ≤ 3)"
    assert "not the REMS form's: Sedation (REMS form: MOAA/S < 5)" in rows["sedation"].definition
    assert rows["sedation"].value.startswith("0.0")  # MOAA/S 4 is REMS sedation, not significant sedation
    assert rows["dissociation"].label == "Dissociation above pre-dose (CADSS-6)"
    assert rows["dissociation"].value.startswith("100.0")  # CADSS-6 1 above a pre-dose 0
    assert rows["loss_of_consciousness"].label == "Loss of consciousness (MOAA/S 0)"
    assert rows["bp_rise"].label == (
        "BP rise within 90 min of dosing (SBP ≥40 and/or DBP ≥25 mmHg above pre-dose)"
    )


@given(
    moaas=st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=8),
    event=st.booleans(),
)
def test_significant_sedation_is_a_subset_of_rems_sedation(moaas, event):
    """With the shipped cut-offs, every significant sedation (≤ 3) is also REMS sedation (< 5); loss of
    consciousness (0) is both; the two differ exactly on a lowest MOAA/S of 4."""
    rems = d.rems_sedation(moaas, sedation_event=event)
    significant = d.significant_sedation(moaas, sedation_event=event)
    assert not significant or rems
    if d.loss_of_consciousness(moaas):
        assert significant
    lowest = min((m for m in moaas if m is not None), default=None)
    assert (rems and not significant) == (not event and lowest == 4)
