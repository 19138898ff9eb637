from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from kairos.accounts.models import Clinic
from kairos.audit.reads import record_read
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act
from kairos.patients import selectors, services
from kairos.patients.forms import HeightForm, NewPatientForm, PatientForm, WeightForm


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    if not policies.any_clinic(request.user, Act.PATIENT_LIST):
        raise PermissionDenied("your role has no access to the patient registry")
    query = request.GET.get("q", "")[:100]
    patients = selectors.search_patients(request.user, query)
    template = "patients/_rows.html" if request.htmx else "patients/list.html"  # type: ignore[attr-defined]
    can_create = policies.any_clinic(request.user, Act.PATIENT_CREATE)
    context = {
        "patients": patients,
        "q": query,
        "can_create": can_create,
        # a name links to the chart where the role opens charts, else to the demographics form
        "chart_clinics": policies.clinic_ids_for(request.user, Act.CHART_VIEW),
        "edit_clinics": policies.clinic_ids_for(request.user, Act.PATIENT_EDIT),
    }
    return render(request, template, context)


@login_required
def patient_new(request: HttpRequest) -> HttpResponse:
    clinic_ids = policies.clinic_ids_for(request.user, Act.PATIENT_CREATE)
    if not clinic_ids:
        raise PermissionDenied("your role may not register patients")
    choices = list(Clinic.objects.filter(pk__in=clinic_ids).values_list("pk", "name"))
    form = NewPatientForm(request.POST or None, clinics=choices)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        clinic_id = data.pop("clinic")
        try:
            patient = services.create_patient(actor_of(request), clinic_id, data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{patient.display_name} registered.")
            if policies.can(request.user, Act.CHART_VIEW, patient.clinic_id):
                return redirect("patients:chart", patient_id=patient.pk)
            # front desk and clinic admin open no chart (no clinical detail): the registry, on the new row
            return redirect(f"{reverse('patients:list')}?{urlencode({'q': patient.mrn})}")
    return render(
        request,
        "patients/form.html",
        {"form": form, "title": "Register a patient"},
        status=400 if form.errors else 200,
    )


@login_required
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.get_patient(request.user, patient_id, Act.PATIENT_EDIT)
    if request.method == "GET":  # a POST writes (audited by update_patient)
        record_read(request.user, patient=patient, obj=patient, summary="demographics edit form opened")
    form = (
        PatientForm(request.POST or None, instance=patient)
        if request.method == "POST"
        else PatientForm(instance=patient)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(actor_of(request), patient, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Details saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    return render(
        request,
        "patients/form.html",
        {"form": form, "title": f"Edit {patient.display_name}", "patient": patient},
        status=400 if form.errors else 200,
    )


@login_required
def chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.read_patient(request.user, patient_id)
    weights = list(patient.weights.all()[:10])
    context = {
        "patient": patient,
        "weights": weights,
        "weight_form": WeightForm(),
        "heights": list(patient.heights.all()[:5]),
        "height_form": HeightForm(),
        "can_weigh": policies.can(request.user, Act.WEIGHT_RECORD, patient.clinic_id),
        "can_edit": policies.can(request.user, Act.PATIENT_EDIT, patient.clinic_id),
        "break_glass": getattr(patient, "break_glass", None),
    }
    return render(request, "patients/chart.html", context)


@login_required
@require_POST
def weight_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.get_patient(request.user, patient_id, Act.WEIGHT_RECORD)
    form = WeightForm(request.POST)
    if form.is_valid():
        try:
            services.record_weight(actor_of(request), patient, form.cleaned_data["weight_kg"])
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return render(
            request, "patients/_weight_form.html", {"patient": patient, "weight_form": form}, status=400
        )
    messages.success(request, "Weight recorded.")
    return redirect("patients:chart", patient_id=patient.pk)


@login_required
@require_POST
def height_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a body height (the ideal/adjusted dosing weight needs a recent one; issue #12 §4)."""
    patient = selectors.get_patient(request.user, patient_id, Act.WEIGHT_RECORD)
    form = HeightForm(request.POST)
    if form.is_valid():
        try:
            services.record_height(actor_of(request), patient, form.cleaned_data["height_cm"])
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        return render(
            request, "patients/_height_form.html", {"patient": patient, "height_form": form}, status=400
        )
    messages.success(request, "Height recorded.")
    return redirect("patients:chart", patient_id=patient.pk)
