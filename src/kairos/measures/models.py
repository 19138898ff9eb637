"""Measurement-based care: plans of due questionnaires, responses, scores, alerts, tasks and secure links.

Responses and scores are immutable once stored (the answers exactly as given; the scorer version with
the score). Alerts and their clinical tasks are written in the same transaction as the response, so a
failing notifier can never lose one; the e-mail notification is a separate, idempotent background job
(``MeasureAlert.notified_at``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kairos.core.append_only import AppendOnlyModel

# --- clinic settings ---------------------------------------------------------------------------------

DEFAULT_CRISIS_TEXT = (
    "If you are in danger or thinking about ending your life, get help now: "
    "in the US call or text 988 (Suicide & Crisis Lifeline) or call 911; "
    "in the UK call 999 in an emergency, or 111 (NHS, option 2 for mental health), "
    "or Samaritans on 116 123. You can also go to the nearest emergency department."
)


class ClinicCrisisResources(models.Model):
    """Crisis resources shown to a patient who answers a safety item positively. The default text is a
    placeholder until someone at the clinic reviews it (``reviewed_at``)."""

    clinic = models.OneToOneField(
        "accounts.Clinic", on_delete=models.CASCADE, related_name="crisis_resources"
    )
    text = models.TextField(default=DEFAULT_CRISIS_TEXT)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "clinic crisis resources"

    def __str__(self) -> str:
        return f"crisis resources of {self.clinic}"

    @property
    def needs_review(self) -> bool:
        return self.reviewed_at is None


class ClinicMeasureSettings(models.Model):
    """Per-clinic measurement configuration: declared instrument licences, overrides of the schedule rule
    set (:data:`kairos.clinical.rules.measurement.RULES` keys -> values) and link lifetimes."""

    clinic = models.OneToOneField(
        "accounts.Clinic", on_delete=models.CASCADE, related_name="measure_settings"
    )
    licences = models.JSONField(default=list, blank=True)  # e.g. ["madrs"] (Instrument.licence_key)
    schedule_overrides = models.JSONField(default=dict, blank=True)
    link_valid_hours = models.PositiveIntegerField(default=72)
    reminder_before_hours = models.PositiveIntegerField(default=24)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"measurement settings of {self.clinic}"


# --- plans and due items -----------------------------------------------------------------------------


class MeasurementPlan(models.Model):
    """The measurement schedule of one course, generated from its protocol and the clinic's settings by
    :func:`kairos.clinical.measurement_plan.generate_plan`. Regenerating supersedes (``active=False``) the old one."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="measurement_plans")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measurement_plans"
    )
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="measurement_plans")
    protocol_id = models.CharField(max_length=40)
    indications = models.JSONField(default=list)  # e.g. ["depression", "anxiety"]
    config = models.JSONField(default=dict)  # the effective rule values used (for the record)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course"], condition=Q(active=True), name="mplan_one_active_per_course"
            )
        ]

    def __str__(self) -> str:
        return f"measurement plan for course {self.course_id}"


class DueState(models.TextChoices):
    DUE = "due", "Due"
    SENT = "sent", "Sent"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    MISSED = "missed", "Missed"


OPEN_DUE_STATES = (DueState.DUE, DueState.SENT)


class DueKind(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    PRE_DOSE = "pre_dose", "Before dosing"
    RAPID_24H = "rapid_24h", "24-hour rapid response"
    END_OF_INDUCTION = "end_of_induction", "End of induction"
    MONTHLY = "monthly", "Monthly (maintenance)"
    SAFETY = "safety", "Long-term safety"


class MeasurementDue(models.Model):
    """One measurement or safety check due in a window. ``instrument_id`` is a
    :mod:`kairos.clinical.instruments` id, or a safety check id of :data:`kairos.clinical.measurement_plan.CHECKS`
    (liver tests, urine drug screen, PDMP check …)."""

    plan = models.ForeignKey(
        MeasurementPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="dues"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="measurement_dues")
    course = models.ForeignKey(
        "courses.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="measurement_dues"
    )
    instrument_id = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=DueKind.choices)
    due_at = models.DateTimeField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    state = models.CharField(max_length=10, choices=DueState.choices, default=DueState.DUE, db_index=True)
    overlap_flagged = models.BooleanField(default=False)  # deliberately inside the recall period
    reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=300, blank=True)
    session_number = models.PositiveIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    response = models.ForeignKey(
        "QuestionnaireResponse", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_note = models.CharField(max_length=300, blank=True)  # safety checks: result / by whom
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["patient", "state", "due_at"], name="mdue_patient_state"),
            models.Index(fields=["state", "window_end"], name="mdue_state_window"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")), name="mdue_window_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.kind} due {self.due_at:%Y-%m-%d}"

    def is_overdue(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.state in OPEN_DUE_STATES and now > self.window_end


# --- secure links ------------------------------------------------------------------------------------


class QuestionnaireLink(models.Model):
    """A single-use link for a patient to complete a bundle of self-report instruments. The URL carries a
    signed token (django.core.signing) whose payload is this row's random ``nonce``; the row decides
    whether it is still usable (``used_at``, ``expires_at``, ``revoked_at``)."""

    clinic = models.ForeignKey(
        "accounts.Clinic", on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    nonce = models.CharField(max_length=64, unique=True)
    instruments = models.JSONField()  # ordered list of instrument ids
    dues = models.ManyToManyField(MeasurementDue, blank=True, related_name="links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"link {self.pk} for patient {self.patient_id}"

    def usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


# --- responses and scores ----------------------------------------------------------------------------


class ResponseSource(models.TextChoices):
    LINK = "link", "Patient link"
    CLINICIAN = "clinician", "Clinician entry"
    FHIR = "fhir", "FHIR import"


class QuestionnaireResponse(AppendOnlyModel):
    """One administration of one instrument, the answers exactly as given (never altered)."""

    clinic = models.ForeignKey(
        "accounts.Clinic", on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    course = models.ForeignKey(
        "courses.Course",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaire_responses",
    )
    instrument_id = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=20)
    answers = models.JSONField()
    submitted_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=ResponseSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    link = models.ForeignKey(
        QuestionnaireLink, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    due = models.ForeignKey(
        MeasurementDue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fhir_resource = models.JSONField(null=True, blank=True)  # the imported resource, verbatim
    # FHIR import idempotency (kairos.clinical.fhir_import.import_key): the resource's identifier, else a
    # SHA-256 of subject, questionnaire, authored and answers; unique per clinic. ``import_content_hash``
    # tells a plain repeat from a re-used identifier with different content. Blank for other sources.
    import_key = models.CharField(max_length=64, blank=True, default="")
    import_content_hash = models.CharField(max_length=64, blank=True, default="")
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument_id", "-submitted_at"], name="qr_patient_inst_time"),
            # the outcomes dashboard looks up responses not linked to a course (attributed by time)
            models.Index(
                fields=["patient", "instrument_id"],
                condition=Q(course__isnull=True),
                name="qr_unlinked_patient_inst",
            ),
        ]
        constraints = [
            # One stored response per instrument per link: two simultaneous submissions store exactly one.
            models.UniqueConstraint(
                fields=["link", "instrument_id"],
                condition=Q(link__isnull=False),
                name="qr_one_per_link_instrument",
            ),
            # One stored response per imported FHIR resource per clinic: a repeat (or a race of two posts of
            # the same resource) stores exactly one.
            models.UniqueConstraint(
                fields=["clinic", "import_key"],
                condition=~Q(import_key=""),
                name="qr_one_per_clinic_import_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} at {self.submitted_at:%Y-%m-%d %H:%M}"


class Score(AppendOnlyModel):
    """The score computed at submission by :func:`kairos.clinical.instruments.score` (version stored)."""

    response = models.OneToOneField(QuestionnaireResponse, on_delete=models.PROTECT, related_name="score")
    instrument_id = models.CharField(max_length=40)
    total = models.IntegerField(null=True, blank=True)
    raw_total = models.IntegerField()
    severity = models.CharField(max_length=120, blank=True)  # instrument band labels (MOAA/S: 59 characters)
    flags = models.JSONField(default=list)
    scorer_version = models.CharField(max_length=20)
    recall = models.JSONField(default=dict)
    prorated = models.BooleanField(default=False)
    alerts = models.JSONField(default=list)  # kairos.clinical.rules.alerts.Alert.to_dict() list
    detail = models.JSONField(default=dict)  # Score.to_dict() (domains, subscales, missing)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.instrument_id} total {self.total}"

    @property
    def flag_codes(self) -> list[str]:
        return [f.get("code", "") for f in self.flags]


# --- alerts and tasks --------------------------------------------------------------------------------


class MeasureAlert(models.Model):
    """A safety alert from the clinical alert table. Stays on the clinic's board until acknowledged with an
    action. ``notified_at`` makes the e-mail notification idempotent (a re-run after a crash re-sends
    only what was not sent)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="measure_alerts")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="measure_alerts")
    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.PROTECT, related_name="alert_rows")
    code = models.CharField(max_length=60)
    urgency = models.CharField(max_length=10)
    reason = models.CharField(max_length=500)
    source = models.CharField(max_length=300, blank=True)
    item = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_attempts = models.PositiveIntegerField(default=0)
    notify_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["acknowledged_at", "-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "acknowledged_at"], name="malert_clinic_open")]
        constraints = [
            models.UniqueConstraint(fields=["response", "code", "item"], name="malert_one_per_response_code"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | ~Q(action=""), name="malert_ack_needs_action"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.urgency}) for patient {self.patient_id}"

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ClinicalTask(models.Model):
    """Work for named clinicians (an alert's task goes to the patient's prescriber(s))."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="clinical_tasks")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="clinical_tasks")
    alert = models.ForeignKey(
        MeasureAlert, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    urgency = models.CharField(max_length=10, default="routine")
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="clinical_tasks", blank=True)
    status = models.CharField(
        max_length=6, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["status", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


# --- materialised outcome summaries (read model of the clinic outcomes dashboard) --------------------


class CourseOutcomeSummary(models.Model):
    """One course's classification on one dashboard series (:data:`kairos.measures.dashboard.SERIES`),
    from :func:`kairos.clinical.outcomes.classify_course` over the course's *linked* scores and its dose
    times. Derived data: rewritten by :mod:`kairos.measures.outcome_store` in the same transaction as
    every score or dosing write that changes it, and rebuilt by ``manage.py measures_rebuild_outcomes``.
    The dashboard recomputes from scratch any course whose row is missing or stale (version, protocol or
    first dose differs) and any patient with unlinked responses, so the figures never depend on it being
    current."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="outcome_summaries")
    series = models.CharField(max_length=20)  # dashboard instrument key (madrs, phq9, qids_sr16, hamd17)
    version = models.PositiveSmallIntegerField()
    protocol_id = models.CharField(max_length=40, blank=True)  # the protocol the remission rule came from
    points = models.PositiveIntegerField(default=0)  # linked scores used
    first_dose = models.DateTimeField(null=True, blank=True)
    baseline_at = models.DateTimeField(null=True, blank=True)
    baseline_total = models.FloatField(null=True, blank=True)
    baseline_stale = models.BooleanField(default=False)
    latest_at = models.DateTimeField(null=True, blank=True)
    latest_total = models.FloatField(null=True, blank=True)
    latest_reduction_pct = models.FloatField(null=True, blank=True)
    best_reduction_pct = models.FloatField(null=True, blank=True)
    current = models.CharField(max_length=20)
    response_at = models.DateTimeField(null=True, blank=True)
    remission_at = models.DateTimeField(null=True, blank=True)
    rapid_response = models.BooleanField(null=True, blank=True)
    relapse_at = models.DateTimeField(null=True, blank=True)
    ttr_days = models.FloatField(null=True, blank=True)
    ttr_event = models.BooleanField(default=False)
    ttrel_days = models.FloatField(null=True, blank=True)
    ttrel_event = models.BooleanField(default=False)
    remission_rule = models.CharField(max_length=60)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "series"], name="coutcome_one_per_course_series")
        ]

    def __str__(self) -> str:
        return f"{self.series} outcome of course {self.course_id}"


class SessionSafety(models.Model):
    """Safety findings of one dosing session (definitions in :mod:`kairos.measures.dashboard`), computed
    from its flowsheet and adverse events by :mod:`kairos.measures.outcome_store` whenever the dosing
    services change them (hook :mod:`kairos.dosing.hooks`). ``started_at`` is the session's
    ``dosing_started_at`` when computed: a row whose time differs, or a missing row, is recomputed on read."""

    session = models.OneToOneField(
        "dosing.DosingSession", on_delete=models.CASCADE, primary_key=True, related_name="safety"
    )
    started_at = models.DateTimeField()
    bp_assessable = models.BooleanField()
    bp_rise = models.BooleanField()
    sedation = models.BooleanField()
    loss_of_consciousness = models.BooleanField()
    dissociation = models.BooleanField()
    respiratory_depression = models.BooleanField()
    adverse_events = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "session safety findings"

    def __str__(self) -> str:
        return f"safety findings of session {self.session_id}"
