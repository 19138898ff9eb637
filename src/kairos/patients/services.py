"""Writes to the patient registry: atomic, audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import changes, record
from kairos.clinical.rules.dosing import RULES as DOSING_RULES
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.core.time import check_not_future
from kairos.patients.models import (
    WEIGHT_MAX_KG,
    WEIGHT_MIN_KG,
    HeightMeasurement,
    Patient,
    WeightMeasurement,
)

EDITABLE = ("mrn", "given_name", "family_name", "date_of_birth", "sex", "email", "phone")


def _validate(patient: Patient) -> None:
    for field in EDITABLE:
        value = getattr(patient, field)
        if isinstance(value, str) and "\x00" in value:
            # Forms refuse NUL already; the API does not, and PostgreSQL rejects it in text (a 500).
            raise ValidationError({field: f"{field} must not contain NUL (\\x00) characters"})
    today = timezone.localdate()
    if patient.date_of_birth and patient.date_of_birth > today:
        raise ValidationError({"date_of_birth": "date_of_birth cannot be in the future"})
    if patient.date_of_birth and patient.age_on(today) > 120:
        raise ValidationError({"date_of_birth": "date_of_birth gives an age above 120 years"})
    patient.full_clean(exclude=["clinic"])


@transaction.atomic
def create_patient(actor: Actor, clinic_id: int, data: dict[str, Any]) -> Patient:
    policies.require(actor, Act.PATIENT_CREATE, clinic_id)
    patient = Patient(clinic_id=clinic_id, **{k: data[k] for k in EDITABLE if k in data})
    _validate(patient)
    try:
        with transaction.atomic():
            patient.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"mrn": f"MRN {patient.mrn} is already used in this clinic"}) from None
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=patient,
        new=patient.audit_snapshot(),
        summary="patient registered",
    )
    return patient


@transaction.atomic
def update_patient(actor: Actor, patient: Patient, data: dict[str, Any]) -> Patient:
    policies.require(actor, Act.PATIENT_EDIT, patient.clinic_id)
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    before = locked.audit_snapshot()
    for key in EDITABLE:
        if key in data:
            setattr(locked, key, data[key])
    _validate(locked)
    old, new = changes(before, locked.audit_snapshot())
    if not new:
        return locked
    locked.updated_at = timezone.now()
    try:
        with transaction.atomic():
            locked.save(update_fields=[*[k for k in EDITABLE if k in new], "updated_at"])
    except IntegrityError:
        raise ValidationError({"mrn": f"MRN {locked.mrn} is already used in this clinic"}) from None
    record(
        Action.UPDATE,
        actor=actor,
        patient=locked,
        obj=locked,
        old=old,
        new=new,
        summary="patient details changed",
    )
    return locked


@transaction.atomic
def record_weight(
    actor: Actor, patient: Patient, weight_kg: Decimal | float | str, measured_at: dt.datetime | None = None
) -> WeightMeasurement:
    policies.require(actor, Act.WEIGHT_RECORD, patient.clinic_id)
    try:
        kg = Decimal(str(weight_kg)).quantize(Decimal("0.1"))
    except ArithmeticError:
        raise ValidationError(
            {"weight_kg": f"weight_kg must be a number between {WEIGHT_MIN_KG} and {WEIGHT_MAX_KG} kg"}
        ) from None
    if not kg.is_finite() or not WEIGHT_MIN_KG <= kg <= WEIGHT_MAX_KG:
        raise ValidationError(
            {
                "weight_kg": f"weight_kg must be between {WEIGHT_MIN_KG} and {WEIGHT_MAX_KG} kg (got {weight_kg})"
            }
        )
    when = measured_at or timezone.now()
    check_not_future(when, "measured_at")
    weight = WeightMeasurement.objects.create(
        patient=patient, weight_kg=kg, measured_at=when, recorded_by=actor
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=weight,
        new={"weight_kg": kg, "measured_at": when},
        summary="weight recorded",
    )
    return weight


def height_bounds() -> tuple[Decimal, Decimal]:
    """The accepted height range (cm): the dosing rule set's height.min_cm / height.max_cm."""
    return (
        Decimal(str(DOSING_RULES.num("height.min_cm"))),
        Decimal(str(DOSING_RULES.num("height.max_cm"))),
    )


@transaction.atomic
def record_height(
    actor: Actor, patient: Patient, height_cm: Decimal | float | str, measured_at: dt.datetime | None = None
) -> HeightMeasurement:
    """Record a body height (cm), range-checked with the dosing rules' height bounds (issue #12 §4)."""
    policies.require(actor, Act.WEIGHT_RECORD, patient.clinic_id)
    lo, hi = height_bounds()
    try:
        cm = Decimal(str(height_cm).strip()).quantize(Decimal("0.1"))
    except ArithmeticError:
        raise ValidationError(
            {"height_cm": f"height_cm: expected a number, got {height_cm!r}; allowed range [{lo}, {hi}] cm"}
        ) from None
    if not cm.is_finite() or not lo <= cm <= hi:
        raise ValidationError(
            {"height_cm": f"height_cm: {height_cm} is outside the allowed range [{lo}, {hi}] cm"}
        )
    when = measured_at or timezone.now()
    check_not_future(when, "measured_at")
    height = HeightMeasurement.objects.create(
        patient=patient, height_cm=cm, measured_at=when, recorded_by=actor
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=height,
        new={"height_cm": cm, "measured_at": when},
        summary="height recorded",
    )
    return height
