from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, P, QueryEx, Router, Schema, Status

from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.pagination import Page, page_of
from kairos.core.policies import Act
from kairos.patients import selectors, services
from kairos.patients.models import Patient, Sex

router = Router(tags=["patients"])


class PatientOut(Schema):
    id: int
    clinic_id: int
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    email: str
    phone: str


class PatientIn(Schema):
    clinic_id: int | None = Field(
        None, description="Required when you may register patients in several clinics"
    )
    mrn: str = Field(..., min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]{0,31}$")
    given_name: str = Field(..., min_length=1, max_length=100)
    family_name: str = Field(..., min_length=1, max_length=100)
    date_of_birth: dt.date
    sex: Sex = Sex.UNKNOWN
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)


class PatientPage(Page[PatientOut]):
    """The one list shape of /api/v1 (:mod:`kairos.core.pagination`)."""


@router.get("", response=PatientPage, summary="List patients of your clinics")
def list_patients(
    request: HttpRequest,
    q: QueryEx[str, P(max_length=100)] = "",
    limit: QueryEx[int, P(ge=1, le=200)] = 50,
) -> dict[str, object]:
    if not policies.any_clinic(request.user, Act.PATIENT_LIST):
        raise PermissionDenied("your role has no access to the patient registry")
    patients = selectors.search_patients(request.user, q, limit=limit)
    return page_of(patients)


@router.post("", response={201: PatientOut}, summary="Register a patient")
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    clinic_ids = policies.clinic_ids_for(request.user, Act.PATIENT_CREATE)
    if not clinic_ids:
        raise PermissionDenied("your role may not register patients")
    clinic_id = payload.clinic_id
    if clinic_id is None:
        if len(clinic_ids) != 1:
            raise ValidationError(
                {"clinic_id": "clinic_id is required: you may register patients in several clinics (or none)"}
            )
        clinic_id = clinic_ids[0]
    data = payload.dict(exclude={"clinic_id"})
    return Status(201, services.create_patient(actor_of(request), clinic_id, data))


@router.get("/{patient_id}", response=PatientOut, summary="One patient (an audited read)")
def get_patient(request: HttpRequest, patient_id: int) -> Patient:
    return selectors.read_patient(request.user, patient_id, purpose="API record")
