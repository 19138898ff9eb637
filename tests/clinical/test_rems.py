"""Spravato REMS hard stops, Patient Monitoring Form and its 7-calendar-day clock (clinical.md §1.3–1.4)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.safety.eligibility import DrugClass, interacting_classes
from kairos.clinical.safety.rems import (
    FormHcp,
    FormPatient,
    FormSession,
    FormSetting,
    FormState,
    build_monitoring_form,
    form_deadline,
    form_due_date,
    form_state,
    rems_hard_stops,
)
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import Vitals

NY = ZoneInfo("America/New_York")
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=NY)


def stops(**kw):
    args = dict(
        route="esketamine",
        dose_at=T0,
        site_certified=True,
        prescriber_on_site=True,
        pulse_oximeter_on_site=True,
        patient_enrolled_at=T0 - dt.timedelta(days=3),
    )
    args.update(kw)
    return rems_hard_stops(**args)


def test_all_conditions_met():
    assert stops().outcome is Outcome.OK


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"site_certified": False}, "rems_site_not_certified"),
        ({"prescriber_on_site": False}, "rems_no_prescriber"),
        ({"pulse_oximeter_on_site": False}, "rems_no_pulse_oximeter"),
        ({"patient_enrolled_at": None}, "rems_patient_not_enrolled"),
        ({"patient_enrolled_at": T0 + dt.timedelta(minutes=1)}, "rems_enrolled_after_dose"),
        ({"home_use": True}, "rems_home_use"),
    ],
)
def test_hard_stops(change, code):
    result = stops(**change)
    assert result.outcome is Outcome.HARD_STOP
    assert result.codes == [code]
    assert "REMS" in result.findings[0].source


def test_inpatient_needs_certification_not_enrolment_and_other_routes_exempt():
    assert (
        stops(setting="inpatient", patient_enrolled_at=None, prescriber_on_site=False).outcome is Outcome.OK
    )
    assert stops(setting="inpatient", site_certified=False).codes == ["rems_site_not_certified"]
    assert stops(route="iv", site_certified=False).outcome is Outcome.OK


# --- Patient Monitoring Form --------------------------------------------------------------------------------

PATIENT = FormPatient("Ana", None, "Diaz", dt.date(1980, 5, 17), "F")
HCP = FormHcp("Sam", "Lee", "555-0100", "sam@example.org")
SETTING = FormSetting("Kairos Clinic", "1 Main St", None, "Albany", "NY", "12207")


def session(**kw):
    args = dict(
        first_device_at=T0,
        monitoring_end_at=T0 + dt.timedelta(minutes=125),
        dose_mg=56,
        lot_number="LOT123",
        first_treatment=False,
        enrolled=True,
        concomitant_classes=interacting_classes(["lorazepam"]),
        ready_to_leave_minutes=90,
        vitals_acceptable_before=True,
        vitals_acceptable_at_completion=True,
        bp_pre=Vitals(at=T0, sbp=128, dbp=80),
        bp_post40=Vitals(at=T0 + dt.timedelta(minutes=40), sbp=150, dbp=92),
        bp_completion=Vitals(at=T0 + dt.timedelta(minutes=120), sbp=132, dbp=84),
        sedation=True,
        dissociation=False,
    )
    args.update(kw)
    return FormSession(**args)


def form(**kw):
    return build_monitoring_form(
        patient=PATIENT, hcp=HCP, setting=SETTING, session=session(**kw), clinic_tz=NY
    )


def test_complete_form_fields():
    f = form()
    assert f.complete
    s = f.sections()
    assert s["patient"]["date_of_birth"] == "05/17/1980"
    assert s["concomitant"] == {
        "benzodiazepines": "Y",
        "sedative_hypnotics": "N",
        "psychostimulants": "N",
        "maois": "N",
        "opioids": "N",
    }
    assert s["session"] == {"treatment_date": "2026-03-02", "dose": "56 mg", "lot_number": "LOT123"}
    assert s["duration"]["total_minutes"] == 125
    assert (s["bp"]["post40_sbp"], s["bp"]["post40_dbp"]) == (150, 92)
    assert s["adverse"]["sedation"] == "Y"
    assert f.to_dict()["due_date"] == "2026-03-09"


def test_missing_fields_listed():
    f = form(lot_number=None, bp_post40=None, concomitant_classes=None, sedation=None)
    assert not f.complete
    assert set(f.missing) == {
        "session.lot_number",
        "bp.post40_sbp",
        "bp.post40_dbp",
        "concomitant.benzodiazepines",
        "concomitant.sedative_hypnotics",
        "concomitant.psychostimulants",
        "concomitant.maois",
        "adverse.sedation",
    }
    empty = build_monitoring_form(
        patient=FormPatient(),
        hcp=FormHcp(),
        setting=FormSetting(),
        session=FormSession(),
        clinic_tz="America/New_York",
    )
    assert "patient.first_name" in empty.missing
    assert empty.due_date is None


def test_form_problems_and_other_dose():
    f = form(
        monitoring_end_at=T0 + dt.timedelta(minutes=110), first_treatment=True, enrolled=False, dose_mg=28
    )
    assert [p.code for p in f.problems] == ["pmf_monitoring_under_minimum", "pmf_not_enrolled"]
    assert f.sections()["session"]["dose"] == "Other"
    with pytest.raises(ValueError, match="ready_to_leave_minutes"):
        form(ready_to_leave_minutes=-5)
    with pytest.raises(ValueError, match="first_device_at"):
        form(first_device_at=dt.datetime(2026, 3, 2, 14))
    with pytest.raises(ValueError, match="monitoring_end_at"):
        form(monitoring_end_at=dt.datetime(2026, 3, 2, 16))


def test_unknown_required_field_in_rules_refused():
    from kairos.clinical.config import Override
    from kairos.clinical.rules.rems import RULES

    rules = RULES.with_overrides([Override("pmf.required_fields", ("patient.shoe_size",), "a", T0, "test")])
    with pytest.raises(ValueError, match="shoe_size"):
        build_monitoring_form(
            patient=PATIENT, hcp=HCP, setting=SETTING, session=session(), clinic_tz=NY, rules=rules
        )


def test_treatment_date_is_clinic_local():
    late = dt.datetime(2026, 3, 3, 2, 30, tzinfo=dt.UTC)  # 21:30 on 2 Mar in New York
    f = form(first_device_at=late, monitoring_end_at=late + dt.timedelta(hours=2))
    assert f.sections()["session"]["treatment_date"] == "2026-03-02"
    assert f.due_date == dt.date(2026, 3, 9)


# --- 7 calendar days across DST ---------------------------------------------------------------------------

# Sessions whose 7 days span a DST change (US: 8 Mar 2026 spring forward, 1 Nov 2026 fall back; EU 29 Mar).
DUE = [
    ("America/New_York", dt.datetime(2026, 3, 2, 23, 30), dt.date(2026, 3, 9)),
    ("America/New_York", dt.datetime(2026, 10, 27, 0, 15), dt.date(2026, 11, 3)),
    ("Europe/London", dt.datetime(2026, 3, 25, 9, 0), dt.date(2026, 4, 1)),
    ("Australia/Sydney", dt.datetime(2026, 4, 1, 23, 59), dt.date(2026, 4, 8)),
]


@pytest.mark.parametrize(("tz", "local", "due"), DUE)
def test_due_date_table(tz, local, due):
    session_at = local.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)
    assert form_due_date(session_at, tz) == due
    deadline = form_deadline(session_at, tz).astimezone(ZoneInfo(tz))
    assert (deadline.date(), deadline.hour, deadline.minute) == (due + dt.timedelta(days=1), 0, 0)


def test_form_state():
    assert form_state(T0, T0 + dt.timedelta(days=7, hours=9), NY) is FormState.DUE  # 23:00 on the due date
    assert form_state(T0, T0 + dt.timedelta(days=7, hours=10), NY) is FormState.OVERDUE  # 00:00 next day
    assert (
        form_state(T0, T0 + dt.timedelta(days=30), NY, submitted_at=T0 + dt.timedelta(days=1))
        is FormState.SUBMITTED
    )
    with pytest.raises(ValueError, match="session_at"):
        form_due_date(dt.datetime(2026, 3, 2), NY)


ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "UTC",
]


@given(
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(dt.UTC)
    ),
    st.sampled_from(ZONES),
)
def test_due_date_always_seven_local_calendar_days(session_at, tz):
    zone = ZoneInfo(tz)
    due = form_due_date(session_at, tz)
    assert due - session_at.astimezone(zone).date() == dt.timedelta(days=7)
    deadline = form_deadline(session_at, tz)
    assert deadline.astimezone(zone).date() == due + dt.timedelta(days=1)
    before = deadline - dt.timedelta(seconds=1)
    assert before.astimezone(zone).date() == due
    assert form_state(session_at, before, tz) is FormState.DUE
    assert form_state(session_at, deadline, tz) is FormState.OVERDUE


def test_concomitant_helper():
    from kairos.clinical.safety.rems import concomitant_flags

    assert concomitant_flags([DrugClass.MAOI]) == frozenset({DrugClass.MAOI})


def test_form_names_the_definitions_behind_sedation_and_dissociation():
    """The form's Y/N sedation and dissociation carry the REMS definitions' labels (issue #12 §5)."""
    f = form()
    assert f.definitions == {
        "adverse.sedation": "Sedation (REMS form: MOAA/S < 5)",
        "adverse.dissociation": "Dissociation (REMS form: CADSS-6 > 0)",
    }
    assert f.to_dict()["definitions"] == f.definitions
