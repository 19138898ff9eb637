"""Audit events, hash-chained per clinic.

Each row stores ``prev_hash`` (the previous row's ``hash`` in the same chain) and its own ``hash`` =
HMAC-SHA256 of its canonical form under the audit key named by ``key_id`` (rows written before a key
existed: plain SHA-256, empty ``key_id``; see :mod:`kairos.audit.chain` and :mod:`kairos.audit.keys`). Rows are appended under a row lock on the
chain's :class:`ChainHead`, so concurrent writers never fork a chain. Database triggers (migration
0002) refuse UPDATE and DELETE on both SQLite and PostgreSQL, and (migration 0005) refuse deleting a
chain head or moving it backwards; the model guard below is only the first line of defence. On
PostgreSQL the application role holds no UPDATE/DELETE right on these tables at all (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kairos.core.append_only import AppendOnlyModel

GLOBAL_CHAIN = "global"  # events with no clinic (e.g. a failed login for an unknown username)


class Action(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    SIGN = "sign", "Sign"
    AMEND = "amend", "Amend"
    READ = "read", "Read"
    EXPORT = "export", "Export"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGOUT = "logout", "Logout"
    BREAK_GLASS = "break_glass", "Break-glass access"
    TOKEN = "token", "API token change"
    DELETE = "delete", "Delete"
    DENIED = "denied", "Access denied"  # a refused (403/404) attempt on a patient-scoped object
    TWO_FACTOR = "two_factor", "Two-factor change"  # device enrolled/reset, recovery codes issued


class AuditEvent(AppendOnlyModel):
    """One audited action. Append-only (:class:`~kairos.core.append_only.AppendOnlyModel`; database triggers
    refuse updates and deletes too)."""

    append_only_noun = "audit event"

    chain = models.CharField(max_length=32, db_index=True)
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    clinic = models.ForeignKey(
        "accounts.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # id of the HMAC key that signed this row (kairos.audit.keys.key_id_for); empty on legacy rows.
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_unique_seq_per_chain")]
        indexes = [
            models.Index(fields=["clinic", "-occurred_at"], name="audit_clinic_time"),
            models.Index(fields=["patient", "-occurred_at"], name="audit_patient_time"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"


class ChainHead(models.Model):
    """The tip of one chain; locked (SELECT … FOR UPDATE) while a row is appended."""

    chain = models.CharField(max_length=32, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"
