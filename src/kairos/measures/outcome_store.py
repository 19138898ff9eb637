"""Materialised read model of the clinic outcomes dashboard: per-course outcome summaries
(:class:`~kairos.measures.models.CourseOutcomeSummary`, one row per course and dashboard series) and
per-session safety findings (:class:`~kairos.measures.models.SessionSafety`).

Written at write time, in the caller's transaction:

* :func:`score_stored` — from :mod:`kairos.measures.services.recording` after every stored score (link submission,
  clinician entry, FHIR import): re-classifies the response's course when it is linked to one.
* :func:`session_changed` — registered with :mod:`kairos.dosing.hooks` (``MeasuresConfig.ready``), called
  by the dosing services after a flowsheet reading, an adverse event, check-in or the start of dosing:
  recomputes the session's findings and, the dose times being an input of the classification, its course's
  summaries. ``dosing`` never imports ``measures``.
* :func:`rebuild` — the backfill (``manage.py measures_rebuild_outcomes``); loaders that bypass the
  services (``benchmarks/bulk_load.py``, the synthetic demo) call it after loading.

The classification is :func:`kairos.clinical.outcomes.classify_course` over the course's *linked* scores
and its dose times, exactly as the dashboard would compute it; responses not linked to a course are
attributed at read time (their owner depends on the filters), so the dashboard recomputes those patients
from scratch, as it does any course whose row is missing or stale (:func:`is_current`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
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
from django.utils import timezone

from kairos.clinical.outcomes import (
    Assessment,
    CourseOutcome,
    ScorePoint,
    TimeToEvent,
    classify_course,
)
from kairos.courses.models import Course
from kairos.dosing.models import AdverseEvent, DosingSession, EventType, Reading
from kairos.measures import dashboard as dash
from kairos.measures.models import CourseOutcomeSummary, Score, SessionSafety

#: bump when the classification rules or the stored fields change: older rows are then recomputed on read
VERSION = 1
ALL_INSTRUMENTS: tuple[str, ...] = tuple(i for ids in dash.SERIES.values() for i in ids)
_SERIES_OF: dict[str, str] = {i: s for s, ids in dash.SERIES.items() for i in ids}
BATCH = 1000  # courses per backfill transaction

SUMMARY_FIELDS = (
    "version",
    "protocol_id",
    "points",
    "first_dose",
    "baseline_at",
    "baseline_total",
    "baseline_stale",
    "latest_at",
    "latest_total",
    "latest_reduction_pct",
    "best_reduction_pct",
    "current",
    "response_at",
    "remission_at",
    "rapid_response",
    "relapse_at",
    "ttr_days",
    "ttr_event",
    "ttrel_days",
    "ttrel_event",
    "remission_rule",
)
SAFETY_FIELDS = (
    "started_at",
    "bp_assessable",
    "bp_rise",
    "sedation",
    "loss_of_consciousness",
    "dissociation",
    "respiratory_depression",
    "adverse_events",
)
_FLAG_COLUMNS = (
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


# --- fast row transfer ---------------------------------------------------------------------------------


def fetch_rows(qs: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset, without Django's per-row converters.

    On PostgreSQL the rows come in psycopg's *binary* format through a server-side-binding cursor: the
    dashboard reads tens of thousands of timestamps and the text format's timestamptz parsing (Django
    registers a Python loader for it) was the largest cost of reading them; the binary loaders are C and
    give the same values (aware datetimes in the connection's time zone, UTC under ``USE_TZ``). The
    cursor is wrapped like any Django cursor, so query logging, ``execute_wrapper`` hooks and error
    translation still apply. Other databases: ``list(qs)``."""
    if connection.vendor != "postgresql":
        return list(qs)
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
    from psycopg import pq

    sql, params = qs.query.sql_with_params()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = ServerBindingCursor(connection.connection)
    raw.format = pq.Format.BINARY
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


# --- per-session safety findings ----------------------------------------------------------------------


def annotate_session_flags(sessions: QuerySet[DosingSession]) -> QuerySet[DosingSession]:
    """``sessions`` with the flowsheet and event aggregates behind their safety findings (SQL subqueries)."""
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
        sessions.filter(dosing_started_at__isnull=False)
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


def compute_flags(sessions: QuerySet[DosingSession]) -> list[dash.SessionFlags]:
    """Safety findings of the dosed sessions among ``sessions``, computed from scratch."""
    out: list[dash.SessionFlags] = []
    for row in annotate_session_flags(sessions).values_list(*_FLAG_COLUMNS).iterator(chunk_size=20_000):
        values = dict(zip(_FLAG_COLUMNS, row, strict=True))
        out.append(
            dash.session_flags(
                session_id=values.pop("pk"),
                started_at=values.pop("dosing_started_at"),
                **values,
            )
        )
    return out


def refresh_sessions(sessions: QuerySet[DosingSession]) -> int:
    """Recompute and store the findings of ``sessions`` (rows of undosed sessions are removed)."""
    flags = compute_flags(sessions)
    now = timezone.now()
    done = [f.session_id for f in flags]
    SessionSafety.objects.filter(session__in=sessions.values("pk")).exclude(session_id__in=done).delete()
    SessionSafety.objects.bulk_create(
        [
            SessionSafety(
                session_id=f.session_id,
                updated_at=now,
                **{k: getattr(f, k) for k in SAFETY_FIELDS},
            )
            for f in flags
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=[*SAFETY_FIELDS, "updated_at"],
    )
    return len(flags)


# --- per-course outcome summaries ---------------------------------------------------------------------


def summary_values(o: CourseOutcome) -> dict[str, Any]:
    """The stored fields of one classification (``version`` and ``points`` added by the caller)."""
    latest = o.assessments[-1] if o.assessments else None
    return {
        "protocol_id": o.protocol_id or "",
        "first_dose": o.first_dose,
        "baseline_at": o.baseline.at if o.baseline else None,
        "baseline_total": o.baseline.total if o.baseline else None,
        "baseline_stale": o.baseline_stale,
        "latest_at": latest.at if latest else None,
        "latest_total": latest.total if latest else None,
        "latest_reduction_pct": o.latest_reduction_pct,
        "best_reduction_pct": o.best_reduction_pct,
        "current": o.current,
        "response_at": o.response_at,
        "remission_at": o.remission_at,
        "rapid_response": o.rapid_response,
        "relapse_at": o.relapse_at,
        "ttr_days": o.time_to_response.days if o.time_to_response else None,
        "ttr_event": bool(o.time_to_response and o.time_to_response.event),
        "ttrel_days": o.time_to_relapse.days if o.time_to_relapse else None,
        "ttrel_event": bool(o.time_to_relapse and o.time_to_relapse.event),
        "remission_rule": o.remission_rule,
    }


def outcome_from_values(series: str, v: dict[str, Any]) -> CourseOutcome:
    """A stored summary as a :class:`CourseOutcome`: every field the dashboard reads, with the latest
    assessment only (not the whole series) and no reasons."""
    latest = (
        (Assessment(v["latest_at"], v["latest_total"], v["latest_reduction_pct"], v["current"]),)
        if v["latest_at"] is not None
        else ()
    )
    current = v["current"]
    return CourseOutcome(
        instrument=series,
        protocol_id=v["protocol_id"] or None,
        first_dose=v["first_dose"],
        baseline=ScorePoint(v["baseline_at"], v["baseline_total"]) if v["baseline_at"] is not None else None,
        baseline_stale=v["baseline_stale"],
        assessments=latest,
        latest_reduction_pct=v["latest_reduction_pct"],
        best_reduction_pct=v["best_reduction_pct"],
        current=current,
        responded=v["response_at"] is not None,
        response_at=v["response_at"],
        partial_response=current == "partial",
        remitted=v["remission_at"] is not None,
        remission_at=v["remission_at"],
        in_remission=current == "remission",
        rapid_response=v["rapid_response"],
        relapsed=v["relapse_at"] is not None,
        relapse_at=v["relapse_at"],
        time_to_response=TimeToEvent(v["ttr_days"], v["ttr_event"]) if v["ttr_days"] is not None else None,
        time_to_relapse=(
            TimeToEvent(v["ttrel_days"], v["ttrel_event"]) if v["ttrel_days"] is not None else None
        ),
        remission_rule=v["remission_rule"],
        reasons=(),
    )


def is_current(v: dict[str, Any], *, protocol_id: str, first_dose: dt.datetime | None) -> bool:
    """Whether a stored summary still matches the course (rule version, protocol, first dose)."""
    return bool(
        v["version"] == VERSION and v["protocol_id"] == (protocol_id or "") and v["first_dose"] == first_dose
    )


def refresh_courses(course_ids: Iterable[int]) -> int:
    """Re-classify ``course_ids`` on every dashboard series and store the summaries (caller's transaction;
    the course rows are locked so concurrent writers of the same course serialise)."""
    ids = sorted(set(course_ids))
    if not ids:
        return 0
    courses = list(
        Course.objects.select_for_update().filter(pk__in=ids).values_list("pk", "patient_id", "protocol_id")
    )
    doses: dict[int, list[dt.datetime]] = defaultdict(list)
    for cid, at in (
        DosingSession.objects.filter(course_id__in=ids, dosing_started_at__isnull=False)
        .order_by()
        .values_list("course_id", "dosing_started_at")
    ):
        if at is not None:
            doses[cid].append(at)
    patient_of = {pk: pid for pk, pid, _ in courses}
    points: dict[tuple[int, str], list[tuple[dt.datetime, float]]] = defaultdict(list)
    for cid, pid, inst, at, total in (
        Score.objects.filter(
            response__course_id__in=ids, response__instrument_id__in=ALL_INSTRUMENTS, total__isnull=False
        )
        .order_by()
        .values_list(
            "response__course_id",
            "response__patient_id",
            "response__instrument_id",
            "response__submitted_at",
            "total",
        )
        .iterator(chunk_size=20_000)
    ):
        if patient_of.get(cid) == pid:
            points[(cid, _SERIES_OF[inst])].append((at, float(total or 0)))
    now = timezone.now()
    rows: list[CourseOutcomeSummary] = []
    for pk, _pid, protocol in courses:
        d = tuple(sorted(doses.get(pk, ())))
        for series in dash.SERIES:
            pts = tuple(sorted(points.get((pk, series), ())))
            o = classify_course(pts, d, instrument=series, protocol_id=protocol or None)
            rows.append(
                CourseOutcomeSummary(
                    course_id=pk,
                    series=series,
                    version=VERSION,
                    points=len(pts),
                    updated_at=now,
                    **summary_values(o),
                )
            )
    CourseOutcomeSummary.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["course", "series"],
        update_fields=[*SUMMARY_FIELDS, "updated_at"],
    )
    return len(courses)


# --- write-path entry points --------------------------------------------------------------------------


def score_stored(course_id: int | None, instrument_id: str) -> None:
    """After a score is stored (same transaction): re-classify its course when it is linked to one."""
    if course_id is not None and instrument_id in _SERIES_OF:
        refresh_courses([course_id])


def session_changed(session_id: int) -> None:
    """Dosing hook (same transaction): the session's findings and its course's summaries."""
    sessions = DosingSession.objects.filter(pk=session_id)
    refresh_sessions(sessions)
    course_id = sessions.values_list("course_id", flat=True).first()
    if course_id is not None:
        refresh_courses([course_id])


def rebuild(course_ids: Sequence[int] | None = None, *, batch: int = BATCH) -> dict[str, int]:
    """Backfill: recompute the summaries and session findings of ``course_ids`` (default: every course),
    one transaction per ``batch`` courses; sessions without a course are included when rebuilding all."""
    ids = (
        list(course_ids)
        if course_ids is not None
        else list(Course.objects.order_by("pk").values_list("pk", flat=True))
    )
    n_courses = n_sessions = 0
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        with transaction.atomic():
            n_courses += refresh_courses(chunk)
            n_sessions += refresh_sessions(DosingSession.objects.filter(course_id__in=chunk))
    if course_ids is None:
        with transaction.atomic():
            n_sessions += refresh_sessions(DosingSession.objects.filter(course__isnull=True))
    return {"courses": n_courses, "sessions": n_sessions}
