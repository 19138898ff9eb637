"""Intake: diagnoses, antidepressant trials, current medicines, relevant history, coded baseline vitals,
the signed eligibility decision, consent documents/acceptances and Spravato REMS patient enrolment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kairos.clinical.safety.eligibility import DrugClass
from kairos.core.append_only import AppendOnlyModel

USER = settings.AUTH_USER_MODEL


class Diagnosis(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="diagnoses")
    key = models.CharField(max_length=40, blank=True)  # kairos.intake.domain.DIAGNOSES key, if from the table
    code_system = models.CharField(max_length=60)
    code = models.CharField(max_length=20)
    display = models.CharField(max_length=200)
    icd10 = models.CharField(max_length=20, blank=True)
    active = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.display} ({self.code})"


class TrialOutcome(models.TextChoices):
    RESPONSE = "response", "Response"
    PARTIAL = "partial_response", "Partial response"
    NO_RESPONSE = "no_response", "No response"
    INTOLERANCE = "intolerance", "Stopped: intolerance"
    ONGOING = "ongoing", "Ongoing"


class AntidepressantTrial(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="antidepressant_trials"
    )
    drug = models.CharField(max_length=100)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    weeks = models.PositiveSmallIntegerField()
    adequate = models.BooleanField()
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)
    current_episode = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose_mg} mg × {self.weeks} wk"


class CurrentMedicine(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="current_medicines"
    )
    name = models.CharField(max_length=120)
    drug_class = models.CharField(
        max_length=30, blank=True, choices=[(c.value, c.value.replace("_", " ")) for c in DrugClass]
    )
    active = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class RelevantHistory(models.Model):
    """One row per patient, updated in place (audited with old/new); facts for the eligibility screen."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="relevant_history"
    )
    hypertension = models.BooleanField(default=False)
    uncontrolled_hypertension = models.BooleanField(default=False)
    aneurysmal_vascular_disease = models.BooleanField(default=False)
    arteriovenous_malformation = models.BooleanField(default=False)
    intracerebral_haemorrhage = models.BooleanField(default=False)
    psychosis = models.BooleanField(default=False)
    substance_use_disorder = models.BooleanField(default=False)
    pregnant = models.BooleanField(null=True, blank=True)  # None = not recorded
    pregnancy_possible = models.BooleanField(default=True)
    breastfeeding = models.BooleanField(default=False)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"history of patient {self.patient_id}"

    FLAGS = (
        "hypertension",
        "uncontrolled_hypertension",
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_haemorrhage",
        "psychosis",
        "substance_use_disorder",
        "pregnant",
        "pregnancy_possible",
        "breastfeeding",
    )

    def snapshot(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.FLAGS}


class CodedObservation(models.Model):
    """A typed coded observation (baseline vitals): code system + code, value, UCUM unit, time, author."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="observations")
    code_system = models.CharField(max_length=60)
    code = models.CharField(max_length=20)
    display = models.CharField(max_length=100)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    unit = models.CharField(max_length=20)
    effective_at = models.DateTimeField()
    context = models.CharField(max_length=20, default="baseline")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_at", "-id"]
        indexes = [models.Index(fields=["patient", "code", "-effective_at"], name="obs_patient_code_time")]

    def __str__(self) -> str:
        return f"{self.display} {self.value} {self.unit}"


class EligibilityDecisionKind(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    CAUTIONS = "eligible_with_cautions", "Eligible with cautions"


class EligibilityDecision(AppendOnlyModel):
    """A prescriber's signed eligibility decision. Never edited: an amendment is a new version."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="eligibility_decisions"
    )
    version = models.PositiveIntegerField(default=1)
    decision = models.CharField(max_length=30, choices=EligibilityDecisionKind.choices)
    note = models.TextField(blank=True)
    rule_outcome = models.CharField(max_length=20)  # kairos.clinical.safety.result.Outcome at signing
    findings = models.JSONField(default=list)  # Finding.to_dict() list shown at signing
    signed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    previous_version = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    amendment_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-version", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="eligibility_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} v{self.version}"


class ConsentDocument(AppendOnlyModel):
    """A published consent text. Never edited: a change is a new version."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="consent_documents")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["clinic", "-version"]
        constraints = [models.UniqueConstraint(fields=["clinic", "version"], name="consent_unique_version")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ConsentAcceptance(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_acceptances"
    )
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="acceptances")
    typed_name = models.CharField(max_length=200)
    accepted_at = models.DateTimeField(default=timezone.now)
    witness = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "document"], name="consent_once_per_version")
        ]

    def __str__(self) -> str:
        return f"consent v{self.document_id} by {self.typed_name}"


class RemsEnrolment(models.Model):
    """Spravato REMS patient enrolment (clinical.md §1.3): enrolment date and the REMS confirmation id."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="rems_enrolments")
    enrolled_on = models.DateField()
    confirmation_id = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-enrolled_on", "-id"]

    def __str__(self) -> str:
        return f"REMS {self.confirmation_id}"
