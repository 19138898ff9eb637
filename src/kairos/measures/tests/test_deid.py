"""De-identified outcomes CSV: no HIPAA Safe Harbor identifier, consistent keyed date shift, ages > 89
aggregated, CSV-injection-safe cells."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.measures import dashboard_deid
from kairos.measures.tests.outcomes_factory import T0, make_course, make_patient

URL = "/measures/dashboard/deidentified.csv"
RANGE = {"date_from": "2025-01-01", "date_to": "2025-12-31", "instrument": "madrs"}


def _rows(client):
    r = client.get(URL, RANGE)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    return r.content.decode(), list(csv.DictReader(io.StringIO(r.content.decode())))


@pytest.mark.django_db
def test_csv_has_no_identifiers_and_shifts_dates_per_patient(org, client_for):
    old = make_patient(org, "OLD-1", dob=dt.date(1930, 1, 1))  # 95 at the course start
    young = make_patient(org, "YNG-1", dob=dt.date(1990, 7, 1))
    make_course(org, old, scores=[(-2, 30), (18, 9)])
    make_course(org, old, scores=[(58, 28), (80, 12)], start=T0 + dt.timedelta(days=60))
    make_course(org, young, scores=[(-2, 30), (18, 20)])
    text, rows = _rows(client_for(org.researcher))
    for p in (old, young):
        for ident in (p.mrn, p.given_name, p.family_name, p.email, p.phone, p.date_of_birth.isoformat()):
            assert ident not in text
    assert {r["age_at_start"] for r in rows} >= {"90+", "34"}
    by_subject: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_subject.setdefault(r["subject"], []).append(r)
    assert len(by_subject) == 2
    olds = next(v for v in by_subject.values() if len(v) == 2)
    # one offset per patient: the 60-day gap between the two courses is kept exactly
    starts = sorted(dt.date.fromisoformat(r["start_date_shifted"]) for r in olds)
    assert (starts[1] - starts[0]).days == 60
    from kairos.measures.dashboard_views import deid_key

    key = deid_key()
    shift = dashboard_deid.date_shift_days(old.pk, key)
    assert starts[0] == T0.date() + dt.timedelta(days=shift)
    assert {r["subject"] for r in olds} == {dashboard_deid.pseudonym(old.pk, key)}
    assert all(r["subject"].startswith("S-") and len(r["subject"]) == 14 for r in rows)


@pytest.mark.django_db
def test_cells_are_csv_injection_safe_and_rare_indications_suppressed(org, client_for):
    for i in range(dashboard_deid.MIN_CELL):
        make_course(org, make_patient(org, f"X-{i}"), scores=[(-2, 30), (18, 9)], indication="=HYPERLINK(1)")
    make_course(
        org, make_patient(org, "X-RARE"), scores=[(-2, 30), (18, 9)], indication="Rare syndrome of Dr Who"
    )
    text, rows = _rows(client_for(org.prescriber))
    assert "'=hyperlink(1)" in text and "\n=" not in text and ",=" not in text
    assert "Rare syndrome" not in text and "Dr Who" not in text.lower()
    assert sum(r["indication"] == "other" for r in rows) == 1


@given(st.integers(min_value=1, max_value=10**9))
def test_date_shift_is_keyed_bounded_and_stable(pid):
    a = dashboard_deid.date_shift_days(pid, b"key-one")
    assert -dashboard_deid.DATE_SHIFT_MAX_DAYS <= a <= dashboard_deid.DATE_SHIFT_MAX_DAYS
    assert a == dashboard_deid.date_shift_days(pid, b"key-one")
    assert dashboard_deid.pseudonym(pid, b"key-one") == dashboard_deid.pseudonym(pid, b"key-one")


def test_shift_depends_on_the_key_and_spreads_across_patients():
    shifts = {dashboard_deid.date_shift_days(i, b"k") for i in range(1, 400)}
    assert len(shifts) > 150  # not a constant offset
    assert [dashboard_deid.date_shift_days(i, b"k") for i in range(1, 50)] != [
        dashboard_deid.date_shift_days(i, b"other") for i in range(1, 50)
    ]


@pytest.mark.parametrize(
    ("dob", "on", "expected"),
    [
        (dt.date(1935, 6, 1), dt.date(2025, 5, 31), "89"),
        (dt.date(1935, 6, 1), dt.date(2025, 6, 1), "90+"),
        (dt.date(1920, 1, 1), dt.date(2025, 1, 1), "90+"),
        (dt.date(2000, 2, 29), dt.date(2025, 2, 28), "24"),
    ],
)
def test_ages_over_89_are_aggregated(dob, on, expected):
    assert dashboard_deid.age_text(dob, on) == expected
