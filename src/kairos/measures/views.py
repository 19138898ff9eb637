from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kairos.audit.reads import record_read
from kairos.clinical.instruments import Instrument, Rater, all_instruments, get
from kairos.clinical.measurement_plan import CHECKS_BY_ID
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act
from kairos.measures import selectors
from kairos.measures.models import DueState, MeasurementDue, QuestionnaireLink
from kairos.measures.services import alert_review, clinic_config, links, plans, recording
from kairos.patients.selectors import get_patient

# Plain-language headings for patients (the instrument's short name stays in brackets).
PATIENT_TITLES = {
    "phq9": "How your mood has been",
    "phq9_24h": "How your mood has been since yesterday",
    "phq2": "How your mood has been",
    "gad7": "Worry and anxiety",
    "gad2": "Worry and anxiety",
    "qids_sr16": "Your mood and sleep",
    "pcl5": "Stressful experiences",
    "bladder_sx": "Your bladder",
    "audit_c": "Alcohol",
    "icsi": "Your bladder",
    "dast10": "Drug use",
}
# Question stems (the published stem where the instrument has one, §4.3/§4.4).
PATIENT_STEMS = {
    "phq9": "{recall}, how often have you been bothered by any of the following problems?",
    "phq9_24h": "{recall}, how often have you been bothered by any of the following problems?",
    "phq2": "{recall}, how often have you been bothered by any of the following problems?",
    "gad7": "{recall}, how often have you been bothered by the following problems?",
    "gad2": "{recall}, how often have you been bothered by the following problems?",
    "pcl5": "{recall}, how much were you bothered by:",
}
CLINICIAN_ENTRY = ("cssrs_screener", "madrs", "hamd17", "cadss6", "moaas")


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{k}: {m}" if k != "__all__" else m for k, msgs in exc.message_dict.items() for m in msgs]
    return list(exc.messages)


# --- patient pages (no login; the signed token is the credential) ------------------------------------


def _unavailable(request: HttpRequest) -> HttpResponse:
    """The same page, same status, for a used, expired, revoked or tampered link: it reveals nothing."""
    return render(request, "measures/patient_unavailable.html", {}, status=404)


def _item_rows(inst: Instrument, values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    core = [i for i in inst.items if not i.optional]
    for n, item in enumerate(inst.items, start=1):
        name = f"{inst.id}-{item.id}"
        rows.append(
            {
                "name": name,
                "number": n,
                "count": len(core),
                "text": item.text or item.label,
                "optional": item.optional,
                "error": errors.get(name, ""),
                "options": [
                    {
                        "id": f"{name}-{o.value}".replace("-", "_"),
                        "value": o.value,
                        "label": o.label,
                        "checked": str(values.get(name, "")) == str(o.value),
                    }
                    for o in item.options
                ],
            }
        )
    return rows


def _bundle(link: QuestionnaireLink, values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for inst in links.link_instruments(link):
        stem = PATIENT_STEMS.get(inst.id, "{recall}.").format(recall=inst.recall.label)
        out.append(
            {
                "id": inst.id,
                "title": PATIENT_TITLES.get(inst.id, inst.name),
                "name": inst.name,
                "stem": stem,
                "items": _item_rows(inst, values, errors),
            }
        )
    return out


@never_cache
def patient_form(request: HttpRequest, token: str) -> HttpResponse:
    link = links.resolve_link(token)
    if link is None:
        return _unavailable(request)
    crisis = clinic_config.crisis_resources(link.clinic_id)
    ctx: dict[str, Any] = {"clinic_name": link.clinic.name, "crisis": crisis, "expires_at": link.expires_at}
    if request.method == "POST":
        answers, errs = links.validate_link_answers(link, request.POST)
        if errs:
            errors = dict(errs)
            values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            bundle = _bundle(link, values, errors)
            first = {it["name"]: it["options"][0]["id"] for b in bundle for it in b["items"]}
            ctx |= {"bundle": bundle, "error_list": [(first[name], msg) for name, msg in errs]}
            return render(request, "measures/patient_form.html", ctx, status=400)
        try:
            result = links.submit_link(token, answers)
        except links.LinkUnavailable:
            return _unavailable(request)
        return render(
            request, "measures/patient_done.html", ctx | {"safety_positive": result.safety_positive}
        )
    ctx["bundle"] = _bundle(link, {}, {})
    return render(request, "measures/patient_form.html", ctx)


# --- staff: alert board -----------------------------------------------------------------------------


@login_required
def alert_board(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    # the htmx request is the board's 10-second poll: throttled (kairos.audit.reads)
    alerts = selectors.board_alerts(
        request.user, include_acknowledged=show_all, throttle=bool(getattr(request, "htmx", False))
    )
    ack_clinics = set(policies.clinic_ids_for(request.user, Act.ALERT_ACK))
    ctx = {"alerts": alerts, "ack_clinics": ack_clinics, "show_all": show_all}
    template = "measures/_alert_rows.html" if request.htmx else "measures/alerts.html"  # type: ignore[attr-defined]
    return render(request, template, ctx)


@login_required
@require_POST
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    # The home panel (issue #11 §5) posts here too and returns home; nothing else is accepted as a target.
    back = "web:home" if request.POST.get("next") == "home" else "measures:alerts"
    try:
        alert_review.acknowledge_alert(actor_of(request), alert_id, request.POST.get("action", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
        return redirect(back)
    messages.success(request, "Alert acknowledged.")
    return redirect(back)


# --- staff: the patient's measurements --------------------------------------------------------------


@login_required
def patient_measures(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, responses = selectors.read_scores(request.user, patient_id, purpose="measurements")
    dues = list(selectors.dues_of(patient))
    now = timezone.now()
    upcoming = [d for d in dues if d.state in (DueState.DUE, DueState.SENT, DueState.EXPIRED)][:30]
    for d in upcoming:
        d.overdue = d.is_overdue(now)  # type: ignore[attr-defined]
        label = (
            CHECKS_BY_ID[d.instrument_id].label if d.instrument_id in CHECKS_BY_ID else _name(d.instrument_id)
        )
        d.label = label  # type: ignore[attr-defined]
        d.is_check = d.instrument_id in CHECKS_BY_ID and CHECKS_BY_ID[d.instrument_id].instrument is None  # type: ignore[attr-defined]
    for r in responses:
        r.name = _name(r.instrument_id)  # type: ignore[attr-defined]
    alerts = list(patient.measure_alerts.filter(acknowledged_at__isnull=True).order_by("-created_at"))
    ctx = {
        "patient": patient,
        "responses": responses[:50],
        "dues": upcoming,
        "alerts": alerts,
        "can_send": policies.can(request.user, Act.LINK_SEND, patient.clinic_id),
        "can_enter": policies.can(request.user, Act.MEASURE_ENTER, patient.clinic_id),
        "can_plan": policies.can(request.user, Act.MEASURE_PLAN, patient.clinic_id),
        "clinician_instruments": [get(i) for i in CLINICIAN_ENTRY],
    }
    template = "measures/_chart_body.html" if request.htmx else "measures/patient_measures.html"  # type: ignore[attr-defined]
    return render(request, template, ctx)


def _name(instrument_id: str) -> str:
    try:
        return get(instrument_id).name
    except KeyError:
        return instrument_id


def _self_report() -> list[Instrument]:
    return [i for i in all_instruments() if i.rater is Rater.SELF]


@login_required
def send_link(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient(request.user, patient_id, Act.LINK_SEND)
    if request.method == "GET":  # a POST writes the link (audited by create_link)
        record_read(request.user, patient=patient, obj=patient, summary="send questionnaire link opened")
    options = _self_report()
    open_dues = MeasurementDue.objects.filter(
        patient=patient,
        state=DueState.DUE,
        window_end__gte=timezone.now(),
        window_start__lte=timezone.now() + dt.timedelta(days=3),
    )
    suggested = sorted(
        {d.instrument_id for d in open_dues if d.instrument_id in {i.id for i in options}}
    ) or ["phq9"]
    ctx: dict[str, Any] = {
        "patient": patient,
        "options": options,
        "chosen": suggested,
        "email": patient.email,
        "errors": [],
    }
    if request.method == "POST":
        chosen = request.POST.getlist("instruments")
        email = request.POST.get("email", "").strip() if request.POST.get("send_email") else ""
        ctx |= {"chosen": chosen, "email": request.POST.get("email", "")}
        try:
            link, token = links.create_link(
                actor_of(request),
                patient,
                chosen,
                email=email,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as exc:
            ctx["errors"] = _errors(exc)
            return render(request, "measures/send_link.html", ctx, status=400)
        url = request.build_absolute_uri(reverse("measures:patient_form", args=[token]))
        qr = segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")
        return render(
            request,
            "measures/link_created.html",
            {
                "patient": patient,
                "link": link,
                "url": url,
                "qr": qr,
                "names": [_name(i) for i in link.instruments],
            },
        )
    return render(request, "measures/send_link.html", ctx)


@login_required
def enter_instrument(request: HttpRequest, patient_id: int, instrument_id: str) -> HttpResponse:
    patient = get_patient(request.user, patient_id, Act.MEASURE_ENTER)
    if instrument_id not in CLINICIAN_ENTRY:
        raise PermissionDenied(
            f"instrument: {instrument_id!r} is not entered here (one of {', '.join(CLINICIAN_ENTRY)})"
        )
    inst = get(instrument_id)
    if request.method == "GET":  # a POST writes the response (audited by enter_clinician_response)
        record_read(request.user, patient=patient, obj=patient, summary=f"{inst.id} entry form opened")
    opts = clinic_config.clinic_options(patient.clinic_id, self_report=False)
    licensed_ok = not inst.requires_licence_flag or inst.licence_key in opts.licences
    values: dict[str, Any] = {}
    errors: list[str] = []
    if request.method == "POST":
        values = dict(request.POST.items())
        answers: dict[str, int | None] = {}
        for item in inst.items:
            raw = request.POST.get(f"{inst.id}-{item.id}", "")
            if raw == "":
                answers[item.id] = None
                continue
            try:
                answers[item.id] = int(raw)
            except ValueError:
                errors.append(f"item {item.id}: {raw!r} is not a whole number")
        when = None
        if raw_when := request.POST.get("administered_at", "").strip():
            try:
                when = dt.datetime.fromisoformat(raw_when)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=patient.clinic.tz)
            except ValueError:
                errors.append("administered_at: use the date-time picker (YYYY-MM-DDTHH:MM)")
        if not errors:
            try:
                rec = recording.enter_clinician_response(actor_of(request), patient, inst.id, answers, when)
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(
                    request,
                    f"{inst.name} recorded"
                    + (f" — {len(rec.alerts)} safety alert(s) raised." if rec.alerts else "."),
                )
                return redirect("patients:chart", patient_id=patient.pk)
    ctx = {
        "patient": patient,
        "inst": inst,
        "items": _item_rows(inst, values, {}),
        "errors": errors,
        "licensed_ok": licensed_ok,
        "now": timezone.localtime(timezone.now(), patient.clinic.tz).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "measures/enter.html", ctx, status=400 if errors else 200)


@login_required
@require_POST
def check_done(request: HttpRequest, patient_id: int, due_id: int) -> HttpResponse:
    patient = get_patient(request.user, patient_id, Act.MEASURE_PLAN)
    if not MeasurementDue.objects.filter(pk=due_id, patient=patient).exists():
        from django.http import Http404

        raise Http404("not found")
    try:
        plans.complete_safety_check(actor_of(request), due_id, request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, "Safety check recorded.")
    return redirect("measures:patient", patient_id=patient.pk)


# --- clinic settings (clinic admin) ------------------------------------------------------------------


@login_required
def clinic_settings(request: HttpRequest, clinic_id: int) -> HttpResponse:
    """Crisis resources text (with its review status), instrument licences, link lifetime and reminder
    lead of one clinic. 404 outside the user's clinics, 403 for a member who is not its clinic admin."""
    from kairos.accounts.models import Clinic
    from kairos.measures.forms import MeasureSettingsForm

    clinic = Clinic.objects.filter(pk=clinic_id).first()
    if clinic is None:
        raise Http404("not found")
    policies.require(request.user, Act.MEASURE_SETTINGS, clinic.pk)
    current = clinic_config.clinic_settings(clinic.pk)
    crisis = clinic_config.crisis_resources(clinic.pk)
    initial = {
        "crisis_text": crisis.text,
        "licences": list(current.licences),
        "link_valid_hours": current.link_valid_hours,
        "reminder_before_hours": current.reminder_before_hours,
    }
    form = MeasureSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            clinic_config.update_clinic_settings(actor_of(request), clinic.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Measurement settings saved.")
            return redirect("measures:clinic_settings", clinic_id=clinic.pk)
    return render(
        request,
        "measures/clinic_settings.html",
        {"clinic": clinic, "form": form, "crisis": crisis, "measure_settings": current},
        status=400 if form.errors else 200,
    )
