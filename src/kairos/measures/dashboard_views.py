"""Clinic outcomes dashboard at ``/measures/dashboard/`` and its de-identified CSV download.

Who: roles with ``outcomes.view`` (prescriber, clinic admin, auditor) or ``research.view`` (researcher), in
the clinics where they hold it. The page shows aggregates only and the CSV is always de-identified
(:func:`kairos.measures.dashboard.deidentified_rows`), so a researcher sees no names, MRNs or exact dates.
The clinician filter (staff names) is offered to ``outcomes.view`` roles only.

Queries: a constant number whatever the cohort size — courses, dosing sessions with their materialised
safety findings, the chosen series' materialised course summaries and the patients with unlinked
responses (:func:`load_materialised`, read model kept by :mod:`kairos.measures.outcome_store`), plus the
filter choices; anything missing or stale there is computed from scratch (:func:`load`: every score of
the series and safety subqueries over the flowsheet and events). Pure aggregation happens in
:mod:`kairos.measures.dashboard`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.postgres.aggregates import ArrayAgg  # used on PostgreSQL only
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Min, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.audit.views import safe_cell
from kairos.clinical.outcomes import CourseOutcome
from kairos.clinical.protocols import PROTOCOL_IDS
from kairos.clinical.rules.outcomes import RULES as OUTCOME_RULES
from kairos.core import policies
from kairos.core.actor import Viewer, actor_of
from kairos.core.policies import Act
from kairos.courses.models import Course
from kairos.dosing.models import DosingSession
from kairos.measures import dashboard as dash
from kairos.measures import dashboard_charts, dashboard_deid, outcome_store, published
from kairos.measures.models import CourseOutcomeSummary, QuestionnaireResponse, Score

MAX_RANGE_DAYS = 3660
SERIES = dash.SERIES  # instruments pooled into one series (same scale)


def scope(user: Viewer) -> tuple[list[int], bool]:
    """(clinic ids the user may see on the dashboard, identified-role flag); 403 when none."""
    outcomes = policies.clinic_ids_for(user, Act.OUTCOMES_VIEW)
    research = policies.clinic_ids_for(user, Act.RESEARCH_VIEW)
    ids = sorted(set(outcomes) | set(research))
    if not ids:
        raise PermissionDenied("your role may not view clinic outcomes")
    return ids, bool(outcomes)


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(
        required=False,
        label="Courses started from",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    clinic = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Clinic")
    protocol = forms.ChoiceField(required=False, label="Protocol")
    indication = forms.CharField(required=False, max_length=200, label="Indication")
    clinician = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Prescriber")
    instrument = forms.ChoiceField(required=False, label="Outcome instrument")

    def __init__(
        self,
        *args: Any,
        clinics: list[tuple[int, str]],
        clinicians: list[tuple[int, str]] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].choices = [("", "All my clinics"), *clinics]  # type: ignore[attr-defined]
        self.fields["protocol"].choices = [("", "All protocols"), *((p, p) for p in PROTOCOL_IDS)]  # type: ignore[attr-defined]
        self.fields["instrument"].choices = list(dash.INSTRUMENTS.items())  # type: ignore[attr-defined]
        if clinicians is None:
            del self.fields["clinician"]
        else:
            self.fields["clinician"].choices = [("", "All prescribers"), *clinicians]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or (date_to - dt.timedelta(days=365))
        if date_from > date_to:
            self.add_error("date_from", "must be on or before the end date")
        elif (date_to - date_from).days > MAX_RANGE_DAYS:
            self.add_error("date_from", f"the range may span at most {MAX_RANGE_DAYS} days")
        data["date_from"], data["date_to"] = date_from, date_to
        data["instrument"] = data.get("instrument") or "madrs"
        return data


@dataclass(frozen=True)
class Filters:
    clinic_ids: list[int]
    date_from: dt.date
    date_to: dt.date
    protocol: str = ""
    indication: str = ""
    clinician: int | None = None
    instrument: str = "madrs"

    def describe(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "protocol": self.protocol,
            "indication": self.indication,
            "clinician": self.clinician,
            "instrument": self.instrument,
            "clinics": self.clinic_ids,
        }


# --- queries ------------------------------------------------------------------------------------------


def course_queryset(f: Filters) -> QuerySet[Course]:
    qs = Course.objects.filter(
        clinic_id__in=f.clinic_ids, start_date__gte=f.date_from, start_date__lte=f.date_to
    ).exclude(status="planned")
    if f.protocol:
        qs = qs.filter(protocol_id=f.protocol)
    if f.indication:
        qs = qs.filter(indication__iexact=f.indication)
    if f.clinician:
        qs = qs.filter(created_by_id=f.clinician)
    return qs


def session_flags_queryset(courses: QuerySet[Course]) -> QuerySet[DosingSession]:
    """Dosing sessions of ``courses`` with their safety findings as annotations (computed in SQL)."""
    return outcome_store.annotate_session_flags(DosingSession.objects.filter(course__in=courses))


CourseRow = tuple[int, int, int, str, str, dt.date, dt.date, str]


def _course_rows(courses_qs: QuerySet[Course]) -> list[CourseRow]:
    return list(
        courses_qs.values_list(
            "pk",
            "patient_id",
            "clinic_id",
            "protocol_id",
            "indication",
            "start_date",
            "patient__date_of_birth",
            "patient__sex",
        )
    )


def _points(
    courses_qs: QuerySet[Course], rows: list[CourseRow], instrument: str
) -> dict[int, list[tuple[dt.datetime, float]]]:
    """The series' scores of the patients of ``rows`` (the selected courses), per course: linked responses
    to their course when selected; unlinked responses (entered without a due item) to the patient's latest
    selected course that had started, less the baseline window, by the time of the response."""
    instruments = dash.SERIES.get(instrument, (instrument,))
    selected = {r[0] for r in rows}
    by_patient: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for pk, pid, _clinic, _protocol, _indication, start, _dob, _sex in rows:
        by_patient[pid].append((start, pk))
    for v in by_patient.values():
        v.sort()
    lead = dt.timedelta(days=OUTCOME_RULES.num("baseline.max_age_days"))
    points: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for pid, course_id, at, total in (
        Score.objects.filter(
            response__patient__in=courses_qs.values("patient_id"),
            response__instrument_id__in=instruments,
            total__isnull=False,
        )
        .order_by()
        .values_list("response__patient_id", "response__course_id", "response__submitted_at", "total")
        .iterator(chunk_size=20_000)
    ):
        if course_id is None:
            day = at.date()
            owner = [cid for start, cid in by_patient.get(pid, ()) if start - lead <= day]
            if not owner:
                continue
            course_id = owner[-1]
        elif course_id not in selected:
            continue
        points[course_id].append((at, float(total or 0)))
    return points


def _inputs(
    rows: list[CourseRow],
    doses: dict[int, list[dt.datetime]],
    points: dict[int, list[tuple[dt.datetime, float]]],
) -> list[dash.CourseInput]:
    return [
        dash.CourseInput(
            course_id=pk,
            patient_id=pid,
            clinic_id=clinic,
            protocol_id=protocol,
            indication=indication,
            start_date=start,
            date_of_birth=dob,
            sex=sex,
            doses=tuple(sorted(doses.get(pk, ()))),
            points=tuple(sorted(points.get(pk, ()))),
        )
        for pk, pid, clinic, protocol, indication, start, dob, sex in rows
    ]


def load(f: Filters) -> tuple[list[dash.CourseInput], list[dash.SessionFlags]]:
    """From scratch (the reference path): courses with dose times and the instrument's scores, and every
    session's safety findings computed in SQL subqueries: three queries, classification left to
    :func:`kairos.measures.dashboard.summarise`."""
    courses_qs = course_queryset(f)
    rows = _course_rows(courses_qs)
    points = _points(courses_qs, rows, f.instrument)
    flags = outcome_store.compute_flags(DosingSession.objects.filter(course__in=courses_qs))
    doses: dict[int, list[dt.datetime]] = defaultdict(list)
    for fl in flags:
        doses[fl.course_id].append(fl.started_at)
    return _inputs(rows, doses, points), flags


_SAFETY_COLUMNS = tuple(f"safety__{k}" for k in outcome_store.SAFETY_FIELDS)
_SUMMARY_COLUMNS = ("course_id", *outcome_store.SUMMARY_FIELDS)


def _materialised_flags(
    courses_qs: QuerySet[Course],
) -> tuple[dict[int, list[dt.datetime]], list[dash.SessionFlags]]:
    """Dose times by course and the per-session findings of ``courses_qs`` from the read model (one row
    per session; sessions without a current findings row computed from scratch)."""
    doses: dict[int, list[dt.datetime]] = defaultdict(list)
    flags: list[dash.SessionFlags] = []
    stale_sessions: list[int] = []
    sessions = (
        DosingSession.objects.filter(course__in=courses_qs, dosing_started_at__isnull=False)
        .annotate(
            # NULL (no row) or false (computed for another dosing time): recompute
            fresh_=ExpressionWrapper(
                Q(safety__started_at=F("dosing_started_at")), output_field=BooleanField()
            ),
        )
        .order_by()
        .values_list("pk", "course_id", "patient_id", "dosing_started_at", "fresh_", *_SAFETY_COLUMNS[1:])
    )
    for sid, cid, pid, at, fresh, *safety in outcome_store.fetch_rows(sessions):
        doses[cid].append(at)
        if not fresh:
            stale_sessions.append(sid)
            continue
        flags.append(dash.SessionFlags(sid, cid, pid, at, *safety))
    if stale_sessions:
        flags += outcome_store.compute_flags(DosingSession.objects.filter(pk__in=stale_sessions))
    return doses, flags


#: per-(course, patient) sums over sessions whose findings row is current (:func:`_session_groups`)
_FRESH = Q(safety__started_at=F("dosing_started_at"))
_GROUP_COUNTS = {
    "bp_assessable": Q(safety__bp_assessable=True),
    "bp_rise": Q(safety__bp_rise=True),
    "bp_assessable_rise": Q(safety__bp_assessable=True, safety__bp_rise=True),
    "sedation": Q(safety__sedation=True),
    "loss_of_consciousness": Q(safety__loss_of_consciousness=True),
    "dissociation": Q(safety__dissociation=True),
    "respiratory_depression": Q(safety__respiratory_depression=True),
}


def _session_groups(
    courses_qs: QuerySet[Course],
) -> tuple[dict[dash.GroupKey, dash.SessionGroup], dict[int, list[dt.datetime]]]:
    """The session findings of ``courses_qs`` summed per (course, patient) in SQL (``COUNT(*) FILTER``,
    ``GROUP BY``: one row per group instead of one per session) and the dose times by course (an array per
    group on PostgreSQL, one more query elsewhere). Sessions without a current findings row are left out
    of the sums, computed from scratch and added (:func:`kairos.measures.dashboard.group_sessions`)."""
    sessions = DosingSession.objects.filter(course__in=courses_qs, dosing_started_at__isnull=False).order_by()
    at = "dosing_started_at"
    assessable = _GROUP_COUNTS["bp_assessable"]
    annotations: dict[str, Any] = {
        "all_": Count("pk"),
        "sessions": Count("pk", filter=_FRESH),
        **{k: Count("pk", filter=_FRESH & q) for k, q in _GROUP_COUNTS.items()},
        "adverse_events": Sum("safety__adverse_events", filter=_FRESH),
        "first_bp_assessable": Min(at, filter=_FRESH & assessable),
        "first_bp_rise": Min(at, filter=_FRESH & _GROUP_COUNTS["bp_assessable_rise"]),
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        annotations["doses_"] = ArrayAgg(at)  # unordered: sorted per course by _inputs
    names = list(annotations)
    qs = (
        sessions.values("course_id", "patient_id")
        .annotate(**annotations)
        .values_list("course_id", "patient_id", *names)
    )
    groups: dict[dash.GroupKey, dash.SessionGroup] = {}
    doses: dict[int, list[dt.datetime]] = {}
    stale = 0
    for (
        cid,
        pid,
        n_all,
        n,
        bp,
        rise,
        arise,
        sed,
        loc,
        dis,
        rd,
        ae,
        first_bp,
        first_rise,
        *arr,
    ) in outcome_store.fetch_rows(qs):
        stale += n_all - n
        groups[(cid, pid)] = dash.SessionGroup(
            cid, pid, n, bp, rise, arise, sed, loc, dis, rd, ae or 0, first_bp, first_rise
        )
        if arr:
            if cid in doses:  # sessions of the course under more than one patient
                doses[cid] += arr[0]
            else:
                doses[cid] = arr[0]
    if not postgres:
        for cid, t in sessions.values_list("course_id", "dosing_started_at"):
            if t is not None:  # excluded by the filter
                doses.setdefault(cid, []).append(t)
    if stale:
        missing = sessions.filter(Q(safety__isnull=True) | ~_FRESH).values("pk")
        dash.group_sessions(
            outcome_store.compute_flags(DosingSession.objects.filter(pk__in=missing)), into=groups
        )
    return groups, doses


def _stored_outcomes(
    f: Filters,
    courses_qs: QuerySet[Course],
    rows: list[CourseRow],
    doses: dict[int, list[dt.datetime]],
) -> tuple[dict[int, CourseOutcome], dict[int, list[tuple[dt.datetime, float]]]]:
    """The materialised classifications of ``rows`` that are current, and the scores of the others (courses
    without a current summary and patients with unlinked responses), to classify from scratch."""
    stored: dict[int, dict[str, Any]] = {}
    for values in outcome_store.fetch_rows(
        CourseOutcomeSummary.objects.filter(series=f.instrument, course__in=courses_qs)
        .order_by()
        .values_list(*_SUMMARY_COLUMNS)
    ):
        stored[values[0]] = dict(zip(_SUMMARY_COLUMNS, values, strict=True))
    unlinked = set(
        QuestionnaireResponse.objects.filter(
            course__isnull=True,
            instrument_id__in=dash.SERIES.get(f.instrument, (f.instrument,)),
            patient__in=courses_qs.values("patient_id"),
            score__total__isnull=False,
        )
        .order_by()
        .values_list("patient_id", flat=True)
        .distinct()
    )
    outcomes: dict[int, CourseOutcome] = {}
    recompute: set[int] = set(unlinked)
    for pk, pid, _clinic, protocol, *_rest in rows:
        v = stored.get(pk)
        d = doses.get(pk)
        if (
            pid in unlinked
            or v is None
            or not outcome_store.is_current(v, protocol_id=protocol, first_dose=min(d) if d else None)
        ):
            recompute.add(pid)
        else:
            outcomes[pk] = outcome_store.outcome_from_values(f.instrument, v)
    points: dict[int, list[tuple[dt.datetime, float]]] = {}
    if recompute:
        again = [r for r in rows if r[1] in recompute]
        points = _points(courses_qs.filter(patient_id__in=recompute), again, f.instrument)
        for r in again:
            outcomes.pop(r[0], None)
    return outcomes, points


def load_materialised(
    f: Filters,
) -> tuple[list[dash.CourseInput], list[dash.SessionFlags], dict[int, CourseOutcome]]:
    """Courses, session findings and classifications from the materialised read model
    (:mod:`kairos.measures.outcome_store`): four indexed queries, no per-response rows. Sessions without a
    current findings row, courses without a current summary and patients with unlinked responses (whose
    attribution depends on the filters) are computed from scratch as :func:`load` does, so the figures
    are always those of :func:`load`."""
    courses_qs = course_queryset(f)
    rows = _course_rows(courses_qs)
    doses, flags = _materialised_flags(courses_qs)
    outcomes, points = _stored_outcomes(f, courses_qs, rows, doses)
    return _inputs(rows, doses, points), flags, outcomes


def load_aggregated(
    f: Filters,
) -> tuple[list[dash.CourseInput], list[dash.SessionGroup], dict[int, CourseOutcome]]:
    """:func:`load_materialised` with the session findings summed per (course, patient) in the database
    (:func:`_session_groups`) instead of one row per session: four queries on PostgreSQL (five elsewhere,
    the dose times being read separately), plus the from-scratch queries for anything missing or stale."""
    courses_qs = course_queryset(f)
    rows = _course_rows(courses_qs)
    groups, doses = _session_groups(courses_qs)
    outcomes, points = _stored_outcomes(f, courses_qs, rows, doses)
    return _inputs(rows, doses, points), list(groups.values()), outcomes


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while tens of thousands of short-lived, acyclic row objects
    are built (each generational pass would otherwise walk the whole heap, about a third of the build
    time); restored afterwards, and left alone if it was already off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(f: Filters) -> dash.Dashboard:
    """The dashboard from the read model and SQL aggregates (:func:`load_aggregated`); the per-session
    findings (:attr:`~kairos.measures.dashboard.Dashboard.flags_by_course`) are read only if asked for."""
    with gc_paused():
        courses, groups, outcomes = load_aggregated(f)
        return dash.summarise_groups(
            courses,
            groups,
            instrument=f.instrument,
            protocol_family=published.protocol_family(f.protocol),
            outcomes=outcomes,
            flags_source=lambda: _materialised_flags(course_queryset(f))[1],
        )


def build_from_scratch(f: Filters) -> dash.Dashboard:
    """The dashboard without the materialised read model (reference for tests and checks)."""
    courses, flags = load(f)
    return dash.summarise(
        courses, flags, instrument=f.instrument, protocol_family=published.protocol_family(f.protocol)
    )


def deid_key() -> bytes:
    """The de-identification key: derived from SECRET_KEY (never the key itself in any output)."""
    import hashlib

    return hashlib.sha256(b"kairos-deid-v1:" + settings.SECRET_KEY.encode()).digest()


# --- views --------------------------------------------------------------------------------------------


def _form(request: HttpRequest) -> tuple[DashboardFilterForm, list[int], bool]:
    clinic_ids, identified = scope(request.user)
    clinics = list(Clinic.objects.filter(pk__in=clinic_ids).order_by("name").values_list("pk", "name"))
    clinicians: list[tuple[int, str]] | None = None
    if identified:
        User = get_user_model()
        clinicians = [
            (u.pk, u.get_full_name() or u.username)
            for u in User.objects.filter(
                memberships__clinic_id__in=clinic_ids, memberships__role="prescriber"
            )
            .distinct()
            .order_by("last_name", "username")
        ]
    data: Any = request.GET
    if not data:
        today = timezone.localdate()
        data = {
            "date_from": (today - dt.timedelta(days=365)).isoformat(),
            "date_to": today.isoformat(),
            "instrument": "madrs",
        }
    form = DashboardFilterForm(data, clinics=clinics, clinicians=clinicians)
    return form, clinic_ids, identified


def _filters(form: DashboardFilterForm, clinic_ids: list[int]) -> Filters:
    data = form.cleaned_data
    chosen = data.get("clinic")
    ids = [chosen] if chosen in clinic_ids else clinic_ids
    return Filters(
        clinic_ids=ids,
        date_from=data["date_from"],
        date_to=data["date_to"],
        protocol=data.get("protocol") or "",
        indication=(data.get("indication") or "").strip(),
        clinician=data.get("clinician"),
        instrument=data.get("instrument") or "madrs",
    )


def _errors(form: DashboardFilterForm) -> str:
    return "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())


@login_required
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    form, clinic_ids, identified = _form(request)
    if not form.is_valid():
        return render(request, "measures/dashboard.html", {"form": form, "error": _errors(form)}, status=400)
    f = _filters(form, clinic_ids)
    d = build(f)
    for cid in f.clinic_ids:
        record(
            Action.READ,
            actor=actor_of(request),
            clinic=cid,
            object_type="measures.outcomes_dashboard",
            summary=f"outcomes dashboard viewed ({d.courses} courses, aggregates only)",
            new=f.describe(),
        )
    km = d.time_to_relapse
    context = {
        "form": form,
        "d": d,
        "f": f,
        "identified": identified,
        "instrument_name": dash.INSTRUMENTS[f.instrument],
        "km": km,
        "efficacy": [(r, dashboard_charts.comparison_bar(r)) for r in d.efficacy],
        "safety": [(r, dashboard_charts.comparison_bar(r)) for r in d.safety],
        "kpi": {m.key: m for m in (*d.efficacy, *d.safety)},
        "km_geo": dashboard_charts.km_geometry(km) if km is not None and km.table else None,
        "km_rows": dashboard_charts.km_steps(km) if km is not None else (),
        "query": request.GET.urlencode(),
        "bp": {"sbp": dash.BP_SBP_RISE, "dbp": dash.BP_DBP_RISE, "window": dash.BP_WINDOW_MIN},
    }
    return render(request, "measures/dashboard.html", context)


@login_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    form, clinic_ids, _ = _form(request)
    if not form.is_valid():
        return HttpResponse(
            "invalid filter: " + _errors(form), status=400, content_type="text/plain; charset=utf-8"
        )
    f = _filters(form, clinic_ids)
    d = build(f)
    with gc_paused():
        rows = dashboard_deid.deidentified_rows(d, deid_key())
    for cid in f.clinic_ids:
        record(
            Action.EXPORT,
            actor=actor_of(request),
            clinic=cid,
            object_type="measures.outcomes_deidentified",
            summary=f"de-identified outcomes CSV exported ({len(rows) - 1} courses)",
            new=f.describe(),
        )
    buf = io.StringIO()
    with gc_paused():
        csv.writer(buf).writerows([safe_cell(v) for v in row] for row in rows)
        del rows
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kairos-outcomes-deidentified.csv"'
    return response
