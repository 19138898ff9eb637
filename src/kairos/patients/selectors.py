"""Permission-scoped reads of patients. Every patient-scoped read goes through here (no access → 404)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act
from kairos.patients.hooks import active_grant
from kairos.patients.models import Patient


def visible_patients(user: Viewer, action: str = Act.PATIENT_LIST) -> QuerySet[Patient]:
    """Patients of the clinics where the user's role permits ``action``."""
    return Patient.objects.filter(clinic_id__in=policies.clinic_ids_for(user, action)).select_related(
        "clinic"
    )


def get_patient(user: Viewer, patient_id: Any, action: str = Act.CHART_VIEW) -> Patient:
    """The patient if ``user`` may perform ``action`` on it; 404 if outside the user's reach, 403 if a
    member of the patient's clinic lacks the permission. Does not audit (see :func:`read_patient`)."""
    try:
        pk = int(patient_id)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    patient = Patient.objects.select_related("clinic").filter(pk=pk).first()
    if patient is None:
        raise Http404("not found")
    if policies.can(user, action, patient.clinic_id):
        return patient
    if action == Act.CHART_VIEW and (grant := active_grant(user, patient)) is not None:
        patient.break_glass = grant  # type: ignore[attr-defined]
        return patient
    if policies.is_member(user, patient.clinic_id):
        raise PermissionDenied(f"your role may not {action}")
    raise Http404("not found")


def read_patient(user: Viewer, patient_id: Any, *, purpose: str = "chart") -> Patient:
    """:func:`get_patient` for a PHI read, audited exactly once."""
    patient = get_patient(user, patient_id, Act.CHART_VIEW)
    grant = getattr(patient, "break_glass", None)
    record(
        Action.READ,
        actor=user,
        patient=patient,
        obj=patient,
        summary=f"{purpose} opened" + (" (break-glass)" if grant else ""),
        reason=grant.reason if grant else "",
    )
    return patient


def search_patients(user: Viewer, query: str = "", *, limit: int = 50) -> list[Patient]:
    """Registry search (name or MRN). Listing names is a PHI read: audited once per clinic shown."""
    qs = visible_patients(user)
    query = query.replace("\x00", "").strip()  # PostgreSQL refuses NUL in a text parameter (a 500)
    if query:
        qs = qs.filter(
            Q(mrn__iexact=query) | Q(family_name__icontains=query) | Q(given_name__icontains=query)
        )
    patients = list(qs[:limit])
    for clinic_id in sorted({p.clinic_id for p in patients}):
        record(
            Action.READ,
            actor=user,
            clinic=clinic_id,
            object_type="patients.registry",
            summary=f"registry list ({sum(p.clinic_id == clinic_id for p in patients)} shown)",
            new={"query": query} if query else None,
        )
    return patients
