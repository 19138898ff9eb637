from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kairos.access import services
from kairos.access.models import BreakGlassGrant
from kairos.accounts.models import Clinic
from kairos.audit.reads import clinic_counts, record_list_read
from kairos.core import policies, reasons
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act


class BreakGlassForm(forms.Form):
    # Offered as a choice of the organisation's clinics, but validated as a number only: a clinic id outside
    # the choices gets the service's one refusal (the same status and body as an unknown MRN), not a
    # different "not one of the available choices" error.
    clinic = forms.IntegerField(widget=forms.Select, min_value=1, max_value=2**63 - 1)
    mrn = forms.CharField(max_length=32, label="MRN")
    reason = forms.CharField(
        widget=forms.Textarea, min_length=reasons.SIGNED_MIN_LENGTH, max_length=reasons.SIGNED_MAX_LENGTH
    )


@login_required
def break_glass(request: HttpRequest) -> HttpResponse:
    roles = policies.memberships(request.user)
    if not any(r in policies.BREAK_GLASS_ROLES for r in roles.values()):
        raise PermissionDenied("only prescribers and nurses may use break-glass access")
    orgs = Clinic.objects.filter(pk__in=roles).values("organisation_id")
    choices = list(Clinic.objects.filter(organisation_id__in=orgs).values_list("pk", "name"))
    form = BreakGlassForm(request.POST or None)
    widget = form.fields["clinic"].widget
    assert isinstance(widget, forms.Select)
    widget.choices = choices
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.request_break_glass(
                actor_of(request),
                form.cleaned_data["clinic"],
                form.cleaned_data["mrn"],
                form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.warning(
                request, "Break-glass access granted. It is audited and reported to the clinic admin."
            )
            return redirect("patients:chart", patient_id=grant.patient_id)
    return render(request, "access/break_glass.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def review(request: HttpRequest) -> HttpResponse:
    clinic_ids = policies.clinic_ids_for(request.user, Act.BREAK_GLASS_REVIEW)
    if not clinic_ids:
        raise PermissionDenied("your role may not review break-glass access")
    grants = list(
        BreakGlassGrant.objects.filter(patient__clinic_id__in=clinic_ids).select_related(
            "user", "patient", "reviewed_by"
        )[:200]
    )
    # the list shows patients' MRNs and the grants' reasons: a PHI read, one row per clinic shown
    record_list_read(
        request.user,
        clinic_counts(g.patient.clinic_id for g in grants),
        object_type="access.breakglass_review",
        summary="break-glass review list",
    )
    return render(request, "access/review.html", {"grants": grants})


@login_required
@require_POST
def mark_reviewed(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = BreakGlassGrant.objects.filter(pk=grant_id).select_related("patient").first()
    if grant is None:
        raise Http404("not found")
    policies.require(request.user, Act.BREAK_GLASS_REVIEW, grant.patient.clinic_id)
    services.mark_reviewed(actor_of(request), grant_id)
    return redirect("access:breakglass_review")
