from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kairos.accounts.selectors import get_clinic
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act
from kairos.intake import selectors, services
from kairos.intake.forms import (
    ConsentAcceptForm,
    ConsentDocumentForm,
    DiagnosisForm,
    EligibilitySignForm,
    HistoryForm,
    MedicineForm,
    RemsForm,
    TrialForm,
    VitalsForm,
)
from kairos.intake.models import ConsentDocument
from kairos.patients import selectors as patient_selectors


def _overview_context(request: HttpRequest, patient: Any, errors: list[str] | None = None) -> dict[str, Any]:
    summary = selectors.intake_summary(patient)
    h = summary.history
    history_initial = h.snapshot() if h else {"pregnancy_possible": patient.sex != "male"}
    if h is not None:
        history_initial["pregnant"] = "" if h.pregnant is None else "yes" if h.pregnant else "no"
    return {
        "patient": patient,
        "s": summary,
        "med_flags": selectors.medicine_flags(summary.medicines),
        "can_edit": policies.can(request.user, Act.INTAKE_EDIT, patient.clinic_id),
        "dx_form": DiagnosisForm(),
        "trial_form": TrialForm(initial={"current_episode": True}),
        "med_form": MedicineForm(),
        "history_form": HistoryForm(initial=history_initial),
        "vitals_form": VitalsForm(),
        "errors": errors or [],
    }


@login_required
def overview(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = patient_selectors.get_patient(request.user, patient_id, Act.INTAKE_VIEW)
    record(Action.READ, actor=request.user, patient=patient, obj=patient, summary="intake opened")
    return render(request, "intake/overview.html", _overview_context(request, patient))


def _post(
    request: HttpRequest,
    patient_id: int,
    form_cls: type[Form],
    write: Callable[[Any, Any, dict[str, Any]], Any],
    ok: str,
) -> HttpResponse:
    patient = patient_selectors.get_patient(request.user, patient_id, Act.INTAKE_EDIT)
    form = form_cls(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            write(request.user, patient, form.cleaned_data)
        except ValidationError as exc:
            errors = [
                m if m.startswith(f"{k}:") else f"{k}: {m}"
                for k, msgs in exc.message_dict.items()
                for m in msgs
            ]
    else:
        errors = [f"{k}: {m}" for k, msgs in form.errors.items() for m in msgs]
    if errors:
        return render(
            request, "intake/overview.html", _overview_context(request, patient, errors), status=400
        )
    messages.success(request, ok)
    return redirect("intake:overview", patient_id=patient.pk)


@login_required
@require_POST
def diagnosis_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _post(
        request,
        patient_id,
        DiagnosisForm,
        lambda u, p, d: services.add_diagnosis(u, p, d["key"]),
        "Diagnosis recorded.",
    )


@login_required
@require_POST
def trial_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _post(
        request, patient_id, TrialForm, lambda u, p, d: services.add_trial(u, p, **d), "Trial recorded."
    )


@login_required
@require_POST
def medicine_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _post(
        request,
        patient_id,
        MedicineForm,
        lambda u, p, d: services.add_medicine(u, p, **d),
        "Medicine recorded.",
    )


@login_required
@require_POST
def history_save(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _post(request, patient_id, HistoryForm, services.save_history, "History saved.")


@login_required
@require_POST
def vitals_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _post(
        request, patient_id, VitalsForm, lambda u, p, d: services.record_vitals(u, p, d), "Vitals recorded."
    )


# --- eligibility ------------------------------------------------------------------------------------------


def _eligibility_context(
    request: HttpRequest, patient: Any, form: EligibilitySignForm | None = None
) -> dict[str, Any]:
    from kairos.intake.models import EligibilityDecision

    return {
        "patient": patient,
        "result": selectors.eligibility_result(patient),
        "decisions": list(
            EligibilityDecision.objects.filter(patient=patient)
            .select_related("signed_by")
            .order_by("-version")
        ),
        "can_sign": policies.can(request.user, Act.ELIGIBILITY_SIGN, patient.clinic_id),
        "form": form or EligibilitySignForm(),
    }


@login_required
def eligibility(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.method == "POST":
        patient = patient_selectors.get_patient(request.user, patient_id, Act.ELIGIBILITY_SIGN)
        form = EligibilitySignForm(request.POST)
        if form.is_valid():
            try:
                services.sign_eligibility(actor_of(request), patient, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc, name_fields=True)
            else:
                messages.success(request, "Eligibility decision signed.")
                return redirect("intake:eligibility", patient_id=patient.pk)
        return render(
            request, "intake/eligibility.html", _eligibility_context(request, patient, form), status=400
        )
    patient = patient_selectors.get_patient(request.user, patient_id, Act.INTAKE_VIEW)
    record(Action.READ, actor=request.user, patient=patient, obj=patient, summary="eligibility screen opened")
    return render(request, "intake/eligibility.html", _eligibility_context(request, patient))


# --- consent and REMS -------------------------------------------------------------------------------------


def _consent_context(
    request: HttpRequest, patient: Any, form: Form | None = None, rems_form: Form | None = None
) -> dict[str, Any]:
    summary = selectors.intake_summary(patient)
    doc = summary.consent_document
    return {
        "patient": patient,
        "s": summary,
        "form": form or ConsentAcceptForm(initial={"document": doc.pk if doc else None}),
        "rems_form": rems_form or RemsForm(),
        "can_record": policies.can(request.user, Act.CONSENT_RECORD, patient.clinic_id),
    }


@login_required
def consent(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.method == "POST":
        patient = patient_selectors.get_patient(request.user, patient_id, Act.CONSENT_RECORD)
        form = ConsentAcceptForm(request.POST)
        if form.is_valid():
            doc = ConsentDocument.objects.filter(
                pk=form.cleaned_data["document"], clinic_id=patient.clinic_id
            ).first()
            if doc is None:
                form.add_error("document", "document: not a consent document of this clinic")
            else:
                try:
                    services.accept_consent(
                        actor_of(request), patient, doc, typed_name=form.cleaned_data["typed_name"]
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc, name_fields=True)
                else:
                    messages.success(request, "Consent recorded.")
                    return redirect("intake:consent", patient_id=patient.pk)
        return render(request, "intake/consent.html", _consent_context(request, patient, form), status=400)
    patient = patient_selectors.get_patient(request.user, patient_id, Act.INTAKE_VIEW)
    record(Action.READ, actor=request.user, patient=patient, obj=patient, summary="consent opened")
    return render(request, "intake/consent.html", _consent_context(request, patient))


@login_required
@require_POST
def rems_enrol(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = patient_selectors.get_patient(request.user, patient_id, Act.CONSENT_RECORD)
    form = RemsForm(request.POST)
    if form.is_valid():
        try:
            services.enrol_rems(actor_of(request), patient, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
        else:
            messages.success(request, "REMS enrolment recorded.")
            return redirect("intake:consent", patient_id=patient.pk)
    return render(
        request, "intake/consent.html", _consent_context(request, patient, rems_form=form), status=400
    )


@login_required
def consent_documents(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.CONSENT_MANAGE)
    form = ConsentDocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.publish_consent_document(actor_of(request), clinic, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, name_fields=True)
        else:
            messages.success(request, "New consent version published; patients will be asked again.")
            return redirect("intake:consent_documents", clinic_id=clinic.pk)
    docs = ConsentDocument.objects.filter(clinic=clinic).order_by("-version")
    return render(
        request,
        "intake/consent_documents.html",
        {"clinic": clinic, "docs": docs, "form": form},
        status=400 if form.errors else 200,
    )
