"""The dosing day: session, pre-checks, dose order, administration, append-only flowsheet, events,
versioned discharge note, REMS Patient Monitoring Form and the integration-session note.

Guards: flowsheet readings and emergency actions are append-only; a signed discharge note, a signed REMS
form and a signed integration note are never edited in place (amendments are new rows).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from kairos.core.append_only import AppendOnlyError, AppendOnlyModel
from kairos.dosing.domain import Status


class Row(models.Model):
    """Abstract base giving every dosing row a readable name."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class Drug(models.TextChoices):
    ESKETAMINE = "esketamine", "Esketamine (Spravato)"
    KETAMINE = "ketamine", "Racemic ketamine"


class DoseRoute(models.TextChoices):
    INTRANASAL = "intranasal", "Intranasal"
    IV = "iv", "Intravenous infusion"
    IM = "im", "Intramuscular"


class SessionStatus(models.TextChoices):
    EXPECTED = Status.EXPECTED.value, "Expected"
    CHECKED_IN = Status.CHECKED_IN.value, "Checked in"
    PRECHECKS_DONE = Status.PRECHECKS_DONE.value, "Pre-checks done"
    DOSING = Status.DOSING.value, "Dosing"
    MONITORING = Status.MONITORING.value, "Monitoring"
    READY = Status.READY.value, "Ready for discharge"
    DISCHARGED = Status.DISCHARGED.value, "Discharged"
    HELD = Status.HELD.value, "Held"
    CANCELLED = Status.CANCELLED.value, "Cancelled"


class DosingSession(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="dosing_sessions")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="dosing_sessions")
    course = models.ForeignKey(
        "courses.Course", on_delete=models.PROTECT, null=True, blank=True, related_name="dosing_sessions"
    )
    appointment = models.OneToOneField(
        "courses.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="dosing_session"
    )
    protocol_id = models.CharField(max_length=40)
    drug = models.CharField(max_length=12, choices=Drug.choices)
    route = models.CharField(max_length=12, choices=DoseRoute.choices)
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.EXPECTED, db_index=True
    )
    scheduled_for = models.DateTimeField()
    responsible_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prescriber_on_site = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pulse_oximeter_on_site = models.BooleanField(null=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    prechecks_done_at = models.DateTimeField(null=True, blank=True)
    dosing_started_at = models.DateTimeField(null=True, blank=True)
    dosing_ended_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic lock: every transition bumps it
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [
            models.Index(fields=["clinic", "scheduled_for"], name="dosing_clinic_time"),
            models.Index(fields=["patient", "-scheduled_for"], name="dosing_patient_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_drug_display()} {self.scheduled_for:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def is_esketamine(self) -> bool:
        return self.drug == Drug.ESKETAMINE

    @property
    def needs_verification(self) -> bool:
        return self.route in (DoseRoute.IV, DoseRoute.IM)


class PregnancyStatus(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NEGATIVE_TEST = "negative_test", "Negative test today"
    NOT_PREGNANT = "not_pregnant", "Not pregnant (reported)"
    PREGNANT = "pregnant", "Pregnant"
    UNKNOWN = "unknown", "Unknown"


class PreCheck(Row):
    """Check-in answers and the pre-dose gate result (with any prescriber override)."""

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="precheck")
    weight = models.ForeignKey(
        "patients.WeightMeasurement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_food_at = models.DateTimeField(null=True, blank=True)
    last_liquid_at = models.DateTimeField(null=True, blank=True)
    ride_home_confirmed = models.BooleanField(default=False)
    no_driving_acknowledged = models.BooleanField(default=False)
    escort_name = models.CharField(max_length=120, blank=True)
    medicines_taken_today = models.TextField(blank=True)
    pregnancy_status = models.CharField(
        max_length=16, choices=PregnancyStatus.choices, default=PregnancyStatus.NOT_APPLICABLE
    )
    symptoms = models.JSONField(default=list, blank=True)
    rems_result = models.JSONField(default=dict, blank=True)
    gate_result = models.JSONField(default=dict, blank=True)
    gate_outcome = models.CharField(max_length=12, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    override_reason = models.TextField(blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    # Height used for an ideal/adjusted dosing weight (measured at check-in or recently; issue #12 §4).
    height = models.ForeignKey(
        "patients.HeightMeasurement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Which evaluation of the gates is current: each check-in/re-check adds one. A caution decision answers
    # the cautions of one evaluation (a re-check's new cautions need a new decision).
    gate_run = models.PositiveIntegerField(default=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)


class Decision(models.TextChoices):
    PROCEED = "proceed", "Proceed with dosing"
    DELAY = "delay", "Delay (stay checked in, no order)"
    CANCEL = "cancel", "Cancel the session"


class CautionDecision(AppendOnlyModel, Row):
    """A prescriber's recorded decision on the pre-dose cautions of one gate evaluation (issue #12 §2).

    APPEND-ONLY: a later decision is a new row. ``codes`` are the caution codes decided, ``findings`` a
    snapshot of their messages and sources; ``via_override`` marks the decision recorded with a hold override.
    """

    append_only_noun = "caution decision"

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="caution_decisions")
    gate_run = models.PositiveIntegerField()
    codes = models.JSONField(default=list)
    findings = models.JSONField(default=list)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.TextField()
    via_override = models.BooleanField(default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "codes": list(self.codes),
            "reason": self.reason,
            "by": self.decided_by.get_username(),
            "at": self.decided_at.isoformat(),
            "via_override": self.via_override,
        }


class DoseOrder(Row):
    """The prescriber's order: the computed dose and how to prepare it; IV/IM need a second clinician."""

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="order")
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)  # free base
    dose_mg_hcl = models.DecimalField(max_digits=7, decimal_places=2)
    computed_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    concentration_mg_ml = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    total_volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    drug_volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    rate_ml_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    infusion_min = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    injection_volume_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    calculation = models.JSONField(default=dict)  # DoseResult.to_dict() and reasons
    outside_limits = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    # An override above the protocol's soft ceiling needs a second, distinct prescriber's co-signature
    # before administration (issue #12 §4); the ceilings used are in ``calculation["ceilings"]``.
    cosign_required = models.BooleanField(default=False)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ordered_at = models.DateTimeField(default=timezone.now)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)


class Administration(Row):
    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="administration")
    product_code = models.CharField(max_length=20)
    product_name = models.CharField(max_length=120)
    ndc = models.CharField(max_length=20, blank=True)
    strength_base = models.CharField(max_length=40)
    lot_number = models.CharField(max_length=40)
    route = models.CharField(max_length=12, choices=DoseRoute.choices)
    rate_ml_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    device_times = models.JSONField(default=list, blank=True)  # ISO datetimes, esketamine only
    administered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")


class ReadingKind(models.TextChoices):
    VITALS = "vitals", "Vital signs"
    MOAAS = "moaas", "MOAA/S"
    CADSS6 = "cadss6", "CADSS-6"
    EFFECT = "effect", "Nausea / other effects"
    INTERVENTION = "intervention", "Intervention"


class Phase(models.TextChoices):
    PRE_DOSE = "pre_dose", "Pre-dose"
    DURING = "during", "During dosing"
    POST = "post", "Post-dose"


class Nausea(models.TextChoices):
    NONE = "none", "None"
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"


class Reading(AppendOnlyModel, Row):
    """One flowsheet row. APPEND-ONLY: two nurses charting at once each add rows; none is ever rewritten."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="readings")
    kind = models.CharField(max_length=12, choices=ReadingKind.choices)
    phase = models.CharField(max_length=10, choices=Phase.choices)
    taken_at = models.DateTimeField()
    sbp = models.PositiveSmallIntegerField(null=True, blank=True)  # LOINC 8480-6
    dbp = models.PositiveSmallIntegerField(null=True, blank=True)  # LOINC 8462-4
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)  # LOINC 8867-4
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)  # LOINC 59408-5
    resp_rate = models.PositiveSmallIntegerField(null=True, blank=True)  # LOINC 9279-1
    moaas = models.PositiveSmallIntegerField(null=True, blank=True)
    cadss6_items = models.JSONField(null=True, blank=True)
    cadss6_total = models.PositiveSmallIntegerField(null=True, blank=True)
    nausea = models.CharField(max_length=10, choices=Nausea.choices, blank=True)
    symptoms = models.JSONField(default=list, blank=True)  # crisis symptoms (clinical CrisisSymptom values)
    other_effects = models.CharField(max_length=300, blank=True)
    intervention = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=12, blank=True)  # worst finding at entry (ok/caution/hold/escalate)
    findings = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["session", "taken_at"], name="reading_session_time")]

    @property
    def has_bp(self) -> bool:
        return self.sbp is not None and self.dbp is not None


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    LIFE_THREATENING = "life_threatening", "Life-threatening"


class EventOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    RESOLVING = "resolving", "Resolving"
    ONGOING = "ongoing", "Not resolved"
    TRANSFERRED = "transferred", "Transferred to emergency care"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class EventType(models.TextChoices):
    SEDATION = "sedation", "Sedation"
    DISSOCIATION = "dissociation", "Dissociation"
    RESPIRATORY_DEPRESSION = "respiratory_depression", "Respiratory depression"
    HYPERTENSION = "hypertension", "Blood pressure increase"
    NAUSEA_VOMITING = "nausea_vomiting", "Nausea / vomiting"
    ANXIETY = "anxiety", "Anxiety / agitation"
    DIZZINESS = "dizziness", "Dizziness"
    ALLERGIC = "allergic", "Allergic reaction"
    OTHER = "other", "Other"


# FDA Form 3500 seriousness outcomes (21 CFR 312.32 / 314.80 'serious' definition)
SERIOUSNESS = (
    ("death", "Death"),
    ("life_threatening", "Life-threatening"),
    ("hospitalisation", "Hospitalisation (initial or prolonged)"),
    ("disability", "Disability or permanent damage"),
    ("congenital_anomaly", "Congenital anomaly / birth defect"),
    ("intervention_required", "Required intervention to prevent permanent impairment"),
    ("other_serious", "Other serious (important medical event)"),
)
SERIOUSNESS_CODES = frozenset(c for c, _ in SERIOUSNESS)


class AdverseEvent(Row):
    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="adverse_events")
    event_type = models.CharField(max_length=24, choices=EventType.choices)
    description = models.TextField()
    onset_at = models.DateTimeField()
    severity = models.CharField(max_length=16, choices=Severity.choices)
    serious = models.BooleanField(default=False)
    seriousness = models.JSONField(default=list, blank=True)  # SERIOUSNESS codes
    action_taken = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=12, choices=EventOutcome.choices, default=EventOutcome.UNKNOWN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["onset_at", "id"]


class Escalation(models.TextChoices):
    NONE = "none", "No escalation"
    PRESCRIBER = "prescriber", "Prescriber called to bedside"
    RAPID_RESPONSE = "rapid_response", "Rapid response / code team"
    EMS = "ems", "Emergency services (911/999) called"
    TRANSFER = "transfer", "Transferred to emergency department"


class EmergencyAction(AppendOnlyModel, Row):
    """Time-stamped in-session emergency record (append-only)."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="emergency_actions")
    at = models.DateTimeField()
    action = models.CharField(max_length=300)
    escalation = models.CharField(max_length=16, choices=Escalation.choices, default=Escalation.NONE)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class SignedGuardMixin(Row):
    """Refuse to save changes to a row that is signed in the database (amend instead)."""

    class Meta:
        abstract = True

    # The django-stubs plugin resolves lookups against this abstract mixin, which has no fields; every
    # concrete subclass (DischargeNote, IntegrationNote) defines ``signed_at``, hence the two ignores below.
    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            manager = type(self)._default_manager
            stored = manager.filter(pk=self.pk).values_list("signed_at", flat=True).first()  # type: ignore[misc]
            if stored is not None:
                raise AppendOnlyError(f"{self._meta.verbose_name} is signed: write an amendment instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        manager = type(self)._default_manager
        if self.pk is not None and manager.filter(pk=self.pk, signed_at__isnull=False).exists():  # type: ignore[misc]
            raise AppendOnlyError(f"{self._meta.verbose_name} is signed and cannot be deleted")
        return super().delete(*args, **kwargs)


class DischargeNote(SignedGuardMixin):
    """Discharge summary; version 1 is written at discharge, later versions are signed amendments."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="notes")
    version = models.PositiveIntegerField(default=1)
    previous_version = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    discharged_at = models.DateTimeField()
    readiness = models.JSONField(default=dict)
    escort_present = models.BooleanField(default=False)
    dissociation_resolved = models.BooleanField(default=False)
    summary = models.TextField()
    amendment_reason = models.TextField(blank=True)
    # The prescriber's pre-dose caution decisions (issue #12 §2), copied into every version when it is
    # written, so the signed content carries them.
    predose_decisions = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "discharge note"
        ordering = ["session", "version"]
        constraints = [
            models.UniqueConstraint(fields=["session", "version"], name="discharge_note_unique_version")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not self.predose_decisions:
            self.predose_decisions = [
                d.as_dict()
                for d in CautionDecision.objects.filter(session_id=self.session_id).select_related(
                    "decided_by"
                )
            ]
        super().save(*args, **kwargs)


class SubmissionMethod(models.TextChoices):
    ONLINE = "online", "Online (SPRAVATOrems.com)"
    FAX = "fax", "Fax"


class RemsForm(Row):
    """The Spravato REMS Patient Monitoring Form of one esketamine session."""

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="rems_form")
    due_date = models.DateField()  # last on-time calendar day in the clinic's time zone
    fields = models.JSONField(default=dict)  # snapshot at signing
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    submitted_on = models.DateField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmation = models.CharField(max_length=60, blank=True)
    submission_method = models.CharField(max_length=6, choices=SubmissionMethod.choices, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_date", "id"]


class RiskCheck(models.TextChoices):
    NO_CONCERN = "no_concern", "No current safety concern"
    PASSIVE = "passive", "Passive ideation — safety plan reviewed"
    ACTIVE = "active", "Active ideation — prescriber informed"


class IntegrationNote(SignedGuardMixin):
    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="integration_notes")
    appointment = models.ForeignKey(
        "courses.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    held_at = models.DateTimeField()
    experience = models.TextField()
    insights = models.TextField(blank=True)
    intentions = models.TextField(blank=True)
    homework = models.TextField(blank=True)
    risk_check = models.CharField(max_length=12, choices=RiskCheck.choices)
    risk_notes = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "integration note"
        ordering = ["-held_at", "-id"]


class RemsSiteProfile(Row):
    """The healthcare-setting block of the REMS Patient Monitoring Form (address, phone) for one clinic."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE, related_name="rems_profile")
    setting_name = models.CharField(max_length=200, blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=40, blank=True)
    zip = models.CharField(max_length=12, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
