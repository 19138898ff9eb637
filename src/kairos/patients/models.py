"""Patients belong to one clinic. They have no staff account (secure links come with measurement)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

# Plausibility bounds for entry (not clinical thresholds): refuse typing errors such as 0 kg or 7000 kg.
WEIGHT_MIN_KG = Decimal("20.0")
WEIGHT_MAX_KG = Decimal("350.0")
# Height entry is range-checked with the dosing rule set's height.min_cm / height.max_cm (kairos.clinical), the
# bounds the ideal/adjusted weight formulas accept (patients.services.record_height).

mrn_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,31}$", "MRN: 1–32 letters, digits or hyphens")


class Sex(models.TextChoices):
    """Administrative sex (FHIR AdministrativeGender)."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=32, validators=[mrn_validator])
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_unique_mrn_per_clinic")
        ]
        indexes = [models.Index(fields=["clinic", "family_name", "given_name"], name="patient_name")]
        ordering = ["family_name", "given_name", "id"]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def audit_snapshot(self) -> dict[str, object]:
        return {
            "mrn": self.mrn,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "sex": self.sex,
            "email": self.email,
            "phone": self.phone,
        }


class WeightMeasurement(models.Model):
    """Body weight (LOINC 29463-7), kept as history: a session doses on the weight measured that day."""

    LOINC = "29463-7"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="weights")
    measured_at = models.DateTimeField(default=timezone.now)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(WEIGHT_MIN_KG), MaxValueValidator(WEIGHT_MAX_KG)],
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-measured_at", "-id"]
        indexes = [models.Index(fields=["patient", "-measured_at"], name="weight_patient_time")]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg at {self.measured_at:%Y-%m-%d}"


class HeightMeasurement(models.Model):
    """Body height (LOINC 8302-2), kept as history: the ideal/adjusted dosing weight uses a recent height."""

    LOINC = "8302-2"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="heights")
    measured_at = models.DateTimeField(default=timezone.now)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-measured_at", "-id"]
        indexes = [models.Index(fields=["patient", "-measured_at"], name="height_patient_time")]

    def __str__(self) -> str:
        return f"{self.height_cm} cm at {self.measured_at:%Y-%m-%d}"
