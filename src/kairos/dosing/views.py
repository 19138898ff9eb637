"""Dosing-day pages. Views parse input, call services/selectors and render; no clinical rules here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kairos.audit.models import Action
from kairos.audit.reads import clinic_counts, record_list_read
from kairos.audit.services import record
from kairos.clinical import dosing as dosing_rules
from kairos.clinical.instruments import get as get_instrument
from kairos.clinical.safety.vitals import CrisisSymptom
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.policies import Act
from kairos.dosing import adapters, charts, domain, pdf, records, selectors, services
from kairos.dosing.models import (
    SERIOUSNESS,
    Decision,
    DosingSession,
    Escalation,
    EventOutcome,
    EventType,
    Nausea,
    PregnancyStatus,
    RemsForm,
    RiskCheck,
    Severity,
)
from kairos.rulesets import catalogue
from kairos.rulesets.selectors import effective_rules

MAX_ID = 2**63 - 1  # largest primary key the databases store; larger ids are refused, not looked up
LIST_RANGE_DAYS = 3660  # the day list looks ten years either way; keeps date arithmetic inside date.min/max


def _when(request: HttpRequest, session: DosingSession, name: str) -> dt.datetime | None:
    """A ``datetime-local`` field read in the clinic's time zone (blank = now)."""
    raw = (request.POST.get(name) or "").strip()
    if not raw:
        return None
    try:
        naive = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: f"{name}: expected a date and time like 2025-01-31T14:05"}) from None
    return naive.replace(tzinfo=session.clinic.tz) if naive.tzinfo is None else naive


def _bool(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) in ("on", "true", "1", "yes")


def _vitals(request: HttpRequest) -> dict[str, str]:
    return {k: request.POST.get(k, "") for k in ("sbp", "dbp", "heart_rate", "spo2", "resp_rate")}


MAX_VERSION = 2**31 - 1  # the record's version counter (a PositiveIntegerField)


def _version(request: HttpRequest) -> int | None:
    """The record version the form was rendered from (optimistic locking); blank = not checked."""
    raw = (request.POST.get("version") or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_VERSION:
        raise ValidationError(
            {"version": f"version: expected a whole number from 0 to {MAX_VERSION}; reload the page"}
        )
    return value


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    if not policies.any_clinic(request.user, Act.SESSION_VIEW):
        raise PermissionDenied("your role may not see dosing sessions")
    day_raw = request.GET.get("date", "")
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(day_raw) if day_raw else today
    except ValueError:
        return HttpResponse("date: expected a date like 2025-01-31", status=400, content_type="text/plain")
    if abs((day - today).days) > LIST_RANGE_DAYS:
        return HttpResponse(
            f"date: must be within {LIST_RANGE_DAYS} days of today", status=400, content_type="text/plain"
        )
    qs = selectors.visible_sessions(request.user).filter(
        scheduled_for__gte=dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        scheduled_for__lt=dt.datetime.combine(day + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC),
    )
    sessions = [s for s in qs.order_by("scheduled_for") if selectors.local_date(s, s.scheduled_for) == day]
    record_list_read(
        request.user,
        clinic_counts(s.clinic_id for s in sessions),
        object_type="dosing.sessions",
        summary=f"session list {day.isoformat()}",
    )
    return render(
        request,
        "dosing/list.html",
        {"sessions": sessions, "day": day, "can_chart": policies.any_clinic(request.user, Act.SESSION_CHART)},
    )


def _pending_cautions(session: DosingSession) -> list[dict[str, Any]]:
    """The cautions awaiting a prescriber's decision, shown while the session is checked in."""
    from kairos.dosing.services.common import pending_cautions

    return pending_cautions(session) if session.status == "checked_in" else []


def _rules_in_force(session: DosingSession) -> list[dict[str, Any]]:
    """The clinic's signed overrides that this session's decisions use (safety and dosing rule sets), each with
    its default, source and who signed it, so a clinician sees which numbers differ from the cited defaults."""
    out: list[dict[str, Any]] = []
    for name, rules in (
        ("safety", selectors.safety_rules(session)),
        ("dosing", effective_rules(session.clinic_id, "dosing")),
    ):
        defaults = catalogue.rule_set(name)
        for p in rules:
            if p.overridden_by is not None:
                out.append(
                    {
                        "ruleset": name,
                        "param": p,
                        "default": defaults.param(p.key).value,
                        "override": p.overridden_by,
                    }
                )
    return out


def _context(request: HttpRequest, session: DosingSession, errors: list[str] | None = None) -> dict[str, Any]:
    now = timezone.now()
    user = request.user
    cid = session.clinic_id
    readings = list(session.readings.select_related("recorded_by"))
    curves = adapters.typical_curves(session)
    return {
        "rules_in_force": _rules_in_force(session),
        "s": session,
        "patient": session.patient,
        "readings": readings,
        "precheck": getattr(session, "precheck", None),
        "order": getattr(session, "order", None),
        "admin": getattr(session, "administration", None),
        "notes": list(session.notes.select_related("author", "signed_by").order_by("version")),
        "events": list(session.adverse_events.all()),
        "emergency": list(session.emergency_actions.select_related("recorded_by")),
        "due": selectors.due_readings(session, now),
        "readiness": selectors.readiness(session, now) if session.dosing_started_at else None,
        "chart_svg": charts.flowsheet_svg(session, readings, curves),
        "curves": curves,
        "errors": errors or [],
        "can_chart": policies.can(user, Act.SESSION_CHART, cid),
        "can_order": policies.can(user, Act.DOSE_ORDER, cid),
        "can_verify": policies.can(user, Act.DOSE_VERIFY, cid),
        "can_override": policies.can(user, Act.GATE_OVERRIDE, cid),
        "caution_decisions": list(session.caution_decisions.select_related("decided_by")),
        "pending_cautions": _pending_cautions(session),
        "decision_choices": Decision.choices,
        "can_sign": policies.can(user, Act.SESSION_SIGN, cid) and session.responsible_clinician_id == user.pk,
        "can_integrate": policies.can(user, Act.INTEGRATION_VIEW, cid),
        "products": domain.products_for(session.drug, session.route),
        "prescribers": [
            m.user for m in session.clinic.memberships.select_related("user").filter(role="prescriber")
        ],
        "pregnancy_choices": PregnancyStatus.choices,
        "symptom_choices": [(c.value, c.value.replace("_", " ")) for c in CrisisSymptom],
        "nausea_choices": Nausea.choices,
        "event_types": EventType.choices,
        "severities": Severity.choices,
        "outcomes": EventOutcome.choices,
        "seriousness": SERIOUSNESS,
        "escalations": Escalation.choices,
        "moaas_levels": [(o.value, o.label) for o in reversed(get_instrument("moaas").items[0].options)],
        "cadss_items": [i.id for i in get_instrument("cadss6").items],
        "rems_summary": records.rems_form_summary(session, now),
    }


@login_required
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.read_session(request.user, session_id)
    return render(request, "dosing/detail.html", _context(request, session))


def _do_check_in(request: HttpRequest, s: DosingSession) -> Any:
    from django.contrib.auth import get_user_model

    pid = (request.POST.get("prescriber_on_site") or "").strip()
    prescriber = None
    if pid:
        prescriber = (
            get_user_model().objects.filter(pk=int(pid)).first()
            if pid.isdigit() and int(pid) <= MAX_ID
            else None
        )
        if prescriber is None:
            raise ValidationError({"prescriber_on_site": "prescriber_on_site: not a user of this clinic"})
    return services.check_in(
        actor_of(request),
        s,
        prescriber_on_site=prescriber,
        pulse_oximeter_on_site=_bool(request, "pulse_oximeter_on_site"),
        ride_home_confirmed=_bool(request, "ride_home_confirmed"),
        no_driving_acknowledged=_bool(request, "no_driving_acknowledged"),
        vitals=_vitals(request),
        weight_kg=request.POST.get("weight_kg") or None,
        height_cm=request.POST.get("height_cm") or None,
        last_food_at=_when(request, s, "last_food_at"),
        last_liquid_at=_when(request, s, "last_liquid_at"),
        escort_name=request.POST.get("escort_name", ""),
        medicines_taken_today=request.POST.get("medicines_taken_today", ""),
        pregnancy_status=request.POST.get("pregnancy_status", PregnancyStatus.NOT_APPLICABLE),
        symptoms=request.POST.getlist("symptoms"),
        at=_when(request, s, "at"),
        version=_version(request),
    )


def _do_order(request: HttpRequest, s: DosingSession) -> Any:
    def num(name: str) -> float | None:
        raw = request.POST.get(name, "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise ValidationError({name: f"{name}: expected a number"}) from None

    raw_level = request.POST.get("level", "").strip()
    try:
        level = dosing_rules.check_level(int(raw_level) if raw_level else 0)
    except (ValueError, dosing_rules.DoseError):
        raise ValidationError(
            {
                "level": f"level: expected a whole number from 0 to {dosing_rules.MAX_TITRATION_LEVEL} (titration level)"
            }
        ) from None
    return services.order_dose(
        actor_of(request),
        s,
        requested_mg=num("requested_mg"),
        level=level,
        dose_mg=num("dose_mg"),
        override_reason=request.POST.get("override_reason", ""),
    )


def _do_discharge(request: HttpRequest, s: DosingSession) -> Any:
    return services.discharge(
        actor_of(request),
        s,
        escort_present=_bool(request, "escort_present"),
        dissociation_resolved=_bool(request, "dissociation_resolved"),
        summary=request.POST.get("summary", ""),
        ready_to_leave_minutes=request.POST.get("ready_to_leave_minutes") or None,
        at=_when(request, s, "at"),
        version=_version(request),
    )


def _note(s: DosingSession, request: HttpRequest) -> Any:
    raw = request.POST.get("note", "").strip()
    note = s.notes.filter(pk=int(raw)).first() if raw.isdigit() else None
    if note is None:
        raise ValidationError({"note": "note: not found"})
    return note


ACTIONS: dict[str, Callable[[HttpRequest, DosingSession], Any]] = {
    "check_in": _do_check_in,
    "recheck": lambda r, s: services.recheck(
        actor_of(r), s, vitals=_vitals(r), at=_when(r, s, "at"), version=_version(r)
    ),
    "override": lambda r, s: services.override_hold(
        actor_of(r), s, reason=r.POST.get("reason", ""), version=_version(r)
    ),
    "decide": lambda r, s: services.decide_cautions(
        actor_of(r),
        s,
        decision=r.POST.get("decision", ""),
        reason=r.POST.get("reason", ""),
        version=_version(r),
    ),
    "order": _do_order,
    "cosign": lambda r, s: services.cosign_dose(actor_of(r), s),
    "verify": lambda r, s: services.verify_dose(actor_of(r), s),
    "start": lambda r, s: services.start_dosing(
        actor_of(r),
        s,
        product_code=r.POST.get("product_code", ""),
        lot_number=r.POST.get("lot_number", ""),
        at=_when(r, s, "at"),
        rate_ml_h=r.POST.get("rate_ml_h") or None,
        version=_version(r),
    ),
    "device": lambda r, s: services.record_device(actor_of(r), s, at=_when(r, s, "at"), version=_version(r)),
    "stop": lambda r, s: services.stop_infusion(actor_of(r), s, at=_when(r, s, "at"), version=_version(r)),
    "event": lambda r, s: services.record_adverse_event(
        actor_of(r),
        s,
        event_type=r.POST.get("event_type", ""),
        description=r.POST.get("description", ""),
        onset_at=_when(r, s, "onset_at"),
        severity=r.POST.get("severity", ""),
        serious=_bool(r, "serious"),
        seriousness=r.POST.getlist("seriousness"),
        action_taken=r.POST.get("action_taken", ""),
        outcome=r.POST.get("outcome", "unknown"),
    ),
    "emergency": lambda r, s: services.record_emergency_action(
        actor_of(r),
        s,
        action=r.POST.get("action", ""),
        escalation=r.POST.get("escalation", "none"),
        at=_when(r, s, "at"),
    ),
    "ready": lambda r, s: services.mark_ready(
        actor_of(r),
        s,
        escort_present=_bool(r, "escort_present"),
        dissociation_resolved=_bool(r, "dissociation_resolved"),
        version=_version(r),
    ),
    "discharge": _do_discharge,
    "sign": lambda r, s: services.sign_note(actor_of(r), _note(s, r)),
    "amend": lambda r, s: services.amend_note(
        actor_of(r), _note(s, r), reason=r.POST.get("reason", ""), summary=r.POST.get("summary", "")
    ),
    "cancel": lambda r, s: services.cancel_session(
        actor_of(r), s, reason=r.POST.get("reason", ""), version=_version(r)
    ),
}


@login_required
@require_POST
def session_action(request: HttpRequest, session_id: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("unknown action")
    session = selectors.get_session(request.user, session_id, Act.SESSION_VIEW)
    try:
        handler(request, session)
    except ValidationError as exc:
        session = selectors.get_session(request.user, session_id, Act.SESSION_VIEW)
        return render(request, "dosing/detail.html", _context(request, session, _errors(exc)), status=400)
    messages.success(request, "Saved.")
    return redirect("dosing:detail", session_id=session.pk)


@login_required
@require_POST
def add_reading(request: HttpRequest, session_id: int) -> HttpResponse:
    """htmx: append a flowsheet row and answer the refreshed flowsheet partial (the whole page without htmx)."""
    session = selectors.get_session(request.user, session_id, Act.SESSION_CHART)
    errors: list[str] = []
    status = 200
    try:
        services.add_reading(
            actor_of(request),
            session,
            taken_at=_when(request, session, "taken_at"),
            vitals=_vitals(request),
            moaas=request.POST.get("moaas") or None,
            cadss6={i: request.POST.get(f"cadss_{i}", "") for i in ("1", "2", "6", "7", "15", "22")},
            nausea=request.POST.get("nausea", ""),
            symptoms=request.POST.getlist("symptoms"),
            other_effects=request.POST.get("other_effects", ""),
            intervention=request.POST.get("intervention", ""),
        )
    except ValidationError as exc:
        errors, status = _errors(exc), 400
    session = selectors.get_session(request.user, session_id, Act.SESSION_VIEW)
    ctx = _context(request, session, errors)
    if getattr(request, "htmx", False):
        return render(request, "dosing/_flowsheet.html", ctx, status=status)
    if status == 200:
        return redirect("dosing:detail", session_id=session.pk)
    return render(request, "dosing/detail.html", ctx, status=status)


@login_required
def flowsheet_partial(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.read_session(request.user, session_id, purpose="flowsheet")
    return render(request, "dosing/_flowsheet.html", _context(request, session))


@login_required
def rems_form(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.read_session(request.user, session_id, purpose="REMS monitoring form")
    if not session.is_esketamine:
        raise Http404("not an esketamine session")
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("op") == "sign":
                services.sign_rems_form(actor_of(request), session)
            elif request.POST.get("op") == "submit":
                day = request.POST.get("submitted_on") or None
                services.submit_rems_form(
                    actor_of(request),
                    session,
                    confirmation=request.POST.get("confirmation", ""),
                    method=request.POST.get("method", ""),
                    submitted_on=dt.date.fromisoformat(day) if day else None,
                )
            else:
                raise ValidationError("unknown operation")
        except ValidationError as exc:
            errors = _errors(exc)
        except ValueError:
            errors = ["submitted_on: expected a date like 2025-01-31"]
        else:
            messages.success(request, "REMS form updated.")
            return redirect("dosing:rems_form", session_id=session.pk)
    form = selectors.build_rems_form(session)
    tracking = records.rems_form_summary(session, timezone.now())
    return render(
        request,
        "dosing/rems_form.html",
        {
            "s": session,
            "patient": session.patient,
            "form": form,
            "sections": form.sections(),
            "tracking": tracking,
            "decisions": list(session.caution_decisions.select_related("decided_by")),
            "errors": errors,
            "can_submit": policies.can(request.user, Act.REMS_SUBMIT, session.clinic_id),
        },
        status=400 if errors else 200,
    )


@login_required
def rems_form_pdf(request: HttpRequest, session_id: int) -> HttpResponse:
    """The REMS Patient Monitoring Form as a printable PDF (issue #11 §3): an audited PHI export."""
    session = selectors.get_session(request.user, session_id, Act.SESSION_VIEW)
    if not session.is_esketamine:
        raise Http404("not an esketamine session")
    form = selectors.build_rems_form(session)
    now = timezone.now()
    data = pdf.render_pdf(
        "dosing/pdf/rems_form.html",
        {
            "s": session,
            "patient": session.patient,
            "form": form,
            "sections": pdf.ordered_sections(form.sections()),
            "tracking": records.rems_form_summary(session, now),
            "rems": RemsForm.objects.filter(session=session)
            .select_related("signed_by", "submitted_by")
            .first(),
            "printed_at": timezone.localtime(now, session.clinic.tz),
        },
    )
    record(
        Action.EXPORT,
        actor=request.user,
        patient=session.patient,
        obj=session,
        summary="REMS monitoring form printed to PDF",
    )
    return pdf.pdf_response(data, f"rems-form-session-{session.pk}.pdf")


@login_required
def discharge_pdf(request: HttpRequest, session_id: int) -> HttpResponse:
    """The latest discharge note of a session as a printable PDF (issue #11 §3): an audited PHI export."""
    session = selectors.get_session(request.user, session_id, Act.SESSION_VIEW)
    note = session.notes.select_related("author", "signed_by").order_by("-version").first()
    if note is None:
        raise Http404("no discharge note")
    tz = session.clinic.tz
    data = pdf.render_pdf(
        "dosing/pdf/discharge.html",
        {
            "s": session,
            "patient": session.patient,
            "note": note,
            "discharged_at": timezone.localtime(note.discharged_at, tz),
            "signed_at": timezone.localtime(note.signed_at, tz) if note.signed_at else None,
            "printed_at": timezone.localtime(timezone.now(), tz),
        },
    )
    record(
        Action.EXPORT,
        actor=request.user,
        patient=session.patient,
        obj=note,
        summary="discharge summary printed to PDF",
    )
    return pdf.pdf_response(data, f"discharge-session-{session.pk}.pdf")


@login_required
def rems_list(request: HttpRequest) -> HttpResponse:
    if not policies.any_clinic(request.user, Act.SESSION_VIEW):
        raise PermissionDenied("your role may not see REMS forms")
    rows = selectors.rems_forms(request.user, timezone.now())
    record_list_read(
        request.user,
        clinic_counts(r["session"].clinic_id for r in rows),
        object_type="dosing.remsform",
        summary="REMS form list",
    )
    return render(request, "dosing/rems_list.html", {"rows": rows})


@login_required
def safety_report(request: HttpRequest, session_id: int, event_id: int) -> HttpResponse:
    session = selectors.read_session(request.user, session_id, purpose="adverse-event report")
    event = session.adverse_events.filter(pk=event_id).first()
    if event is None:
        raise Http404("not found")
    return render(
        request,
        "dosing/safety_report.html",
        {"s": session, "patient": session.patient, "report": records.safety_report(session, event)},
    )


@login_required
def integration(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.get_session(request.user, session_id, Act.INTEGRATION_VIEW)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.write_integration_note(
                actor_of(request),
                session,
                experience=request.POST.get("experience", ""),
                risk_check=request.POST.get("risk_check", ""),
                insights=request.POST.get("insights", ""),
                intentions=request.POST.get("intentions", ""),
                homework=request.POST.get("homework", ""),
                risk_notes=request.POST.get("risk_notes", ""),
                held_at=_when(request, session, "held_at"),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, "Integration note signed.")
            return redirect("dosing:integration", session_id=session.pk)
    from kairos.audit.models import Action
    from kairos.audit.services import record

    record(
        Action.READ,
        actor=request.user,
        patient=session.patient,
        obj=session,
        summary="integration notes opened",
    )
    since = timezone.now() - session.dosing_started_at if session.dosing_started_at else None
    return render(
        request,
        "dosing/integration.html",
        {
            "s": session,
            "patient": session.patient,
            "notes": list(session.integration_notes.select_related("author")),
            "errors": errors,
            "since_dose_h": None if since is None else round(since.total_seconds() / 3600, 1),
            "risk_choices": RiskCheck.choices,
            "can_write": policies.can(request.user, Act.INTEGRATION_NOTE, session.clinic_id),
        },
        status=400 if errors else 200,
    )
