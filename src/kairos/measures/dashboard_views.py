"""Clinic outcomes dashboard at ``/measures/dashboard/`` and its de-identified CSV download.

Who: roles with ``outcomes.view`` (prescriber, clinic admin, auditor) or ``research.view`` (researcher), in
the clinics where they hold it. The page shows aggregates only and the CSV is always de-identified
(:func:`kairos.measures.dashboard.deidentified_rows`), so a researcher sees no names, MRNs or exact dates.
The clinician filter (staff names) is offered to ``outcomes.view`` roles only.

Queries: a constant number whatever the cohort size — courses, one instrument's scores, dosing sessions
with their safety findings computed in the database (subqueries over the flowsheet and events), plus the
filter choices. Pure aggregation happens in :mod:`kairos.measures.dashboard`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kairos.access import policies
from kairos.access.policies import Act
from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.audit.views import safe_cell
from kairos.clinical.protocols import PROTOCOL_IDS
from kairos.clinical.rules.outcomes import RULES as OUTCOME_RULES
from kairos.courses.models import Course
from kairos.dosing.models import AdverseEvent, DosingSession, EventType, Reading
from kairos.measures import dashboard as dash
from kairos.measures import published
from kairos.measures.models import Score

MAX_RANGE_DAYS = 3660
SERIES = {"phq9": ("phq9", "phq9_24h")}  # instruments pooled into one series (same scale)


def scope(user: Any) -> tuple[list[int], bool]:
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
    readings = Reading.objects.filter(session=OuterRef("pk"))
    pre = readings.filter(phase="pre_dose").order_by("-taken_at", "-id")
    window_end = ExpressionWrapper(
        OuterRef("dosing_started_at") + dt.timedelta(minutes=dash.BP_WINDOW_MIN), output_field=DateTimeField()
    )
    after = readings.filter(phase__in=("during", "post"), taken_at__gte=OuterRef("dosing_started_at"))
    win = after.filter(taken_at__lte=window_end)

    def agg(qs: QuerySet[Reading], fn: Any, field: str) -> Subquery:
        return Subquery(qs.values("session").annotate(v=fn(field)).values("v")[:1])

    events = AdverseEvent.objects.filter(session=OuterRef("pk"))
    return (
        DosingSession.objects.filter(course__in=courses, dosing_started_at__isnull=False)
        .annotate(
            pre_sbp=Subquery(pre.filter(sbp__isnull=False, dbp__isnull=False).values("sbp")[:1]),
            pre_dbp=Subquery(pre.filter(sbp__isnull=False, dbp__isnull=False).values("dbp")[:1]),
            win_sbp=agg(win, Max, "sbp"),
            win_dbp=agg(win, Max, "dbp"),
            min_moaas=agg(after, Min, "moaas"),
            pre_cadss=Subquery(pre.filter(cadss6_total__isnull=False).values("cadss6_total")[:1]),
            max_cadss=agg(after, Max, "cadss6_total"),
            ae_sedation=Exists(events.filter(event_type=EventType.SEDATION)),
            ae_dissociation=Exists(events.filter(event_type=EventType.DISSOCIATION)),
            ae_resp=Exists(events.filter(event_type=EventType.RESPIRATORY_DEPRESSION)),
            ae_count=Coalesce(Subquery(events.values("session").annotate(n=Count("id")).values("n")[:1]), 0),
        )
        .order_by()
    )


def load(f: Filters) -> tuple[list[dash.CourseInput], list[dash.SessionFlags]]:
    """Courses (with dose times and the instrument's scores) and session safety flags: three queries."""
    courses_qs = course_queryset(f)
    rows = list(
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
    instruments = SERIES.get(f.instrument, (f.instrument,))
    selected = {r[0] for r in rows}
    # unlinked responses (entered without a due item) belong to the patient's latest selected course that
    # had started, less the baseline window, by the time of the response
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
    doses: dict[int, list[dt.datetime]] = defaultdict(list)
    flags: list[dash.SessionFlags] = []
    for (
        sid,
        cid,
        pid,
        at,
        pre_sbp,
        pre_dbp,
        w_sbp,
        w_dbp,
        min_moaas,
        pre_cadss,
        max_cadss,
        ae_sed,
        ae_diss,
        ae_resp,
        ae_n,
    ) in (
        session_flags_queryset(courses_qs)
        .values_list(  # type: ignore[misc]
            "pk",
            "course_id",
            "patient_id",
            "dosing_started_at",
            "pre_sbp",
            "pre_dbp",
            "win_sbp",
            "win_dbp",
            "min_moaas",
            "pre_cadss",
            "max_cadss",
            "ae_sedation",
            "ae_dissociation",
            "ae_resp",
            "ae_count",
        )
        .iterator(chunk_size=20_000)
    ):
        doses[cid].append(at)
        bp_ok = pre_sbp is not None and (w_sbp is not None or w_dbp is not None)
        rise = bp_ok and (
            (w_sbp is not None and w_sbp - pre_sbp >= dash.BP_SBP_RISE)
            or (w_dbp is not None and pre_dbp is not None and w_dbp - pre_dbp >= dash.BP_DBP_RISE)
        )
        flags.append(
            dash.SessionFlags(
                session_id=sid,
                course_id=cid,
                patient_id=pid,
                started_at=at,
                bp_assessable=bp_ok,
                bp_rise=bool(rise),
                sedation=bool(ae_sed) or (min_moaas is not None and min_moaas <= dash.SEDATION_MOAAS_MAX),
                loss_of_consciousness=min_moaas == 0,
                dissociation=bool(ae_diss) or (max_cadss is not None and max_cadss > (pre_cadss or 0)),
                respiratory_depression=bool(ae_resp),
                adverse_events=int(ae_n or 0),
            )
        )
    courses = [
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
    return courses, flags


def build(f: Filters) -> dash.Dashboard:
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
            actor=request.user,
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
        "efficacy": [(r, dash.comparison_bar(r)) for r in d.efficacy],
        "safety": [(r, dash.comparison_bar(r)) for r in d.safety],
        "kpi": {m.key: m for m in (*d.efficacy, *d.safety)},
        "km_geo": dash.km_geometry(km) if km is not None and km.table else None,
        "km_rows": km.table if km is not None else (),
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
    rows = dash.deidentified_rows(d, deid_key())
    for cid in f.clinic_ids:
        record(
            Action.EXPORT,
            actor=request.user,
            clinic=cid,
            object_type="measures.outcomes_deidentified",
            summary=f"de-identified outcomes CSV exported ({len(rows) - 1} courses)",
            new=f.describe(),
        )
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kairos-outcomes-deidentified.csv"'
    return response
