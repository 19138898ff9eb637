from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kairos.accounts.selectors import get_clinic
from kairos.audit.reads import record_read
from kairos.clinical.schedule import Plan
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act
from kairos.courses import calendar, planning, selectors, services
from kairos.courses.forms import (
    CancelForm,
    ChairForm,
    ClinicSettingsForm,
    ClosureForm,
    MoveForm,
    PlanForm,
    StatusForm,
)
from kairos.courses.models import Chair, Closure, CourseStatus
from kairos.courses.status import set_course_status
from kairos.patients import selectors as patient_selectors

# --- planning ---------------------------------------------------------------------------------------------


def _parse_moves(request: HttpRequest, plan: Plan) -> tuple[dict[int, dt.date], dict[str, str]]:
    moves: dict[int, dt.date] = {}
    bad: dict[str, str] = {}
    for s in plan.sessions:
        raw = request.POST.get(f"session_{s.number}", "").strip()
        if not raw:
            continue
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            bad[f"session_{s.number}"] = f"session_{s.number}: {raw!r} is not a date (YYYY-MM-DD)"
            continue
        if day != s.date:
            moves[s.number] = day
    return moves, bad


@login_required
def plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = patient_selectors.get_patient(request.user, patient_id, Act.COURSE_PLAN)
    record_read(request.user, patient=patient, obj=patient, summary="course planning opened")
    therapists = [(u.pk, u.get_full_name() or u.username) for u in services.therapists_of(patient.clinic)]
    form = PlanForm(request.POST or None, therapists=therapists)
    ctx: dict[str, Any] = {"patient": patient, "form": form, "plan": None}
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "courses/plan.html", ctx, status=400)
        data = form.cleaned_data
        try:
            the_plan = planning.preview_plan(
                actor_of(request), patient, data["protocol_id"], data["start_date"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
            return render(request, "courses/plan.html", ctx, status=400)
        moves, bad = _parse_moves(request, the_plan)
        ctx.update(
            plan=the_plan,
            session_rows=[(s, moves.get(s.number, s.date).isoformat()) for s in the_plan.sessions],
            move_errors=list(bad.values()),
        )
        if moves and not bad:
            try:
                planning.apply_moves(
                    the_plan.protocol_id,
                    planning.dated_sessions(the_plan),
                    moves,
                    calendar.clinical_calendar(patient.clinic, around=data["start_date"]),
                )
            except ValidationError as exc:
                bad = {
                    f"moves{i}": m
                    for i, m in enumerate(m for msgs in exc.message_dict.values() for m in msgs)
                }
                ctx["move_errors"] = list(bad.values())
        if request.POST.get("action") == "book" and not bad:
            try:
                course = services.create_course(
                    actor_of(request),
                    patient,
                    protocol_id=data["protocol_id"],
                    start_date=data["start_date"],
                    indication=data["indication"],
                    moves=moves,
                    therapist_id=data["therapist"],
                )
            except ValidationError as exc:
                ctx["move_errors"] = [f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs]
                status = 400
            else:
                messages.success(request, "Course planned and booked.")
                return redirect("courses:detail", course_id=course.pk)
        elif bad:
            status = 400
    return render(request, "courses/plan.html", ctx, status=status)


# --- course detail ----------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, course: Any, errors: list[str] | None = None) -> dict[str, Any]:
    appts = list(course.appointments.all())
    tz = course.clinic.tz
    # Minimum necessary: without CLINICAL_DETAIL (front desk, clinic admin) the page shows schedule facts
    # only: no protocol, indication, phase nor planned dose.
    clinical = policies.can(request.user, Act.CLINICAL_DETAIL, course.clinic_id)
    return {
        "course": course,
        "patient": course.patient,
        "appointments": appts,
        "clinical": clinical,
        "can_book": policies.can(request.user, Act.SCHEDULE_BOOK, course.clinic_id),
        "can_plan": policies.can(request.user, Act.COURSE_PLAN, course.clinic_id),
        "can_chart": policies.can(request.user, Act.CHART_VIEW, course.clinic_id),
        "status_form": StatusForm(initial={"status": course.status}),
        "today": timezone.localdate(timezone=tz),
        "errors": errors or [],
    }


@login_required
def detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = selectors.read_course(request.user, course_id)
    return render(request, "courses/detail.html", _detail_context(request, course))


def _error_messages(form: Form) -> list[tuple[str, list[str]]]:
    """``form.errors`` as text. ErrorList yields ``str`` at run time; the stubs widen the items to
    ``ValidationError | str | _StrPromise``, so ``str()`` here is for the type checker only."""
    return [(k, [str(e) for e in errs]) for k, errs in form.errors.items()]


def _refused(request: HttpRequest, course_id: int | None, form: Form) -> HttpResponse:
    errors = [e if e.startswith(f"{k}:") else f"{k}: {e}" for k, errs in _error_messages(form) for e in errs]
    if course_id is None:
        return HttpResponse("; ".join(errors), status=400, content_type="text/plain")
    course = selectors.read_course(request.user, course_id)
    return render(request, "courses/detail.html", _detail_context(request, course, errors), status=400)


@login_required
@require_POST
def course_status(request: HttpRequest, course_id: int) -> HttpResponse:
    course = selectors.get_course(request.user, course_id, Act.COURSE_PLAN)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            set_course_status(
                actor_of(request), course, form.cleaned_data["status"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
    if form.errors:
        return HttpResponse(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in _error_messages(form)),
            status=400,
            content_type="text/plain",
        )
    messages.success(request, f"Course is now {CourseStatus(form.cleaned_data['status']).label.lower()}.")
    return redirect("courses:detail", course_id=course.pk)


@login_required
@require_POST
def appointment_move(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appt = selectors.get_appointment(request.user, appointment_id, Act.SCHEDULE_BOOK)
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.move_appointment(
                actor_of(request), appt, form.cleaned_data["date"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
    if form.errors:
        return _refused(request, appt.course_id, form)
    messages.success(request, "Appointment moved.")
    return (
        redirect("courses:detail", course_id=appt.course_id) if appt.course_id else redirect("courses:board")
    )


@login_required
@require_POST
def appointment_cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appt = selectors.get_appointment(request.user, appointment_id, Act.SCHEDULE_BOOK)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_appointment(actor_of(request), appt, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
    if form.errors:
        return _refused(request, appt.course_id, form)
    messages.success(request, "Appointment cancelled.")
    return (
        redirect("courses:detail", course_id=appt.course_id) if appt.course_id else redirect("courses:board")
    )


# --- board ------------------------------------------------------------------------------------------------


BOARD_RANGE_DAYS = 3660  # ten years either way: history and planning, and date arithmetic stays in range


def _board_context(request: HttpRequest, *, throttle: bool = False) -> dict[str, Any]:
    clinics = selectors.board_clinics(request.user)
    raw = request.GET.get("clinic")
    clinic = clinics[0]
    if raw:
        match = [c for c in clinics if str(c.pk) == raw]
        if not match:
            raise Http404("not found")
        clinic = match[0]
    today = timezone.localdate(timezone=clinic.tz)
    day = today
    if request.GET.get("day"):
        try:
            day = dt.date.fromisoformat(request.GET["day"])
        except ValueError:
            raise ValidationError({"day": "day must be a date YYYY-MM-DD"}) from None
        if abs((day - today).days) > BOARD_RANGE_DAYS:
            raise ValidationError({"day": f"day must be within {BOARD_RANGE_DAYS} days of today"})
    rows = selectors.board(request.user, clinic, day, throttle=throttle)
    return {
        "clinics": clinics,
        "clinic": clinic,
        "day": day,
        "is_today": day == today,
        "rows": rows,
        "prev_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "now": timezone.now(),
        "show_links": policies.can(request.user, Act.CHART_VIEW, clinic.pk),
    }


@login_required
def board(request: HttpRequest) -> HttpResponse:
    try:
        ctx = _board_context(request)
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages), status=400, content_type="text/plain")
    return render(request, "courses/board.html", ctx)


@login_required
def board_partial(request: HttpRequest) -> HttpResponse:
    """The board's 10-second poll: audited once per user, clinic and day per throttle window."""
    try:
        ctx = _board_context(request, throttle=True)
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages), status=400, content_type="text/plain")
    return render(request, "courses/_board.html", ctx)


# --- clinic settings --------------------------------------------------------------------------------------


@login_required
def clinic_settings(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.CLINIC_SETTINGS)
    cal = calendar.calendar_row(clinic)
    initial = {
        "rems_certified": clinic.rems_certified,
        "rems_certification_id": clinic.rems_certification_id,
        "open_weekdays": cal.open_weekdays,
        "opens_at": cal.opens_at,
        "closes_at": cal.closes_at,
    }
    form = ClinicSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            calendar.update_clinic_settings(actor_of(request), clinic, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("courses:clinic_settings", clinic_id=clinic.pk)
    ctx = {
        "clinic": clinic,
        "form": form,
        "chairs": Chair.objects.filter(clinic=clinic),
        "closures": Closure.objects.filter(clinic=clinic, date__gte=timezone.localdate(timezone=clinic.tz)),
        "chair_form": ChairForm(),
        "closure_form": ClosureForm(),
        "can_measure_settings": policies.can(request.user, Act.MEASURE_SETTINGS, clinic.pk),
    }
    return render(request, "courses/clinic_settings.html", ctx, status=400 if form.errors else 200)


def _simple_post(
    request: HttpRequest, clinic_id: int, form_cls: type[Form], fn: Any, ok: str
) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.CLINIC_SETTINGS)
    form = form_cls(request.POST)
    if form.is_valid():
        try:
            fn(request.user, clinic, *form.cleaned_data.values())
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
    if form.errors:
        msg = "; ".join(f"{e}" if ":" in e else f"{k}: {e}" for k, errs in form.errors.items() for e in errs)
        return HttpResponse(msg, status=400, content_type="text/plain")
    messages.success(request, ok)
    return redirect("courses:clinic_settings", clinic_id=clinic.pk)


@login_required
@require_POST
def chair_add(request: HttpRequest, clinic_id: int) -> HttpResponse:
    return _simple_post(request, clinic_id, ChairForm, calendar.add_chair, "Chair added.")


@login_required
@require_POST
def closure_add(request: HttpRequest, clinic_id: int) -> HttpResponse:
    return _simple_post(request, clinic_id, ClosureForm, calendar.add_closure, "Closure added.")
