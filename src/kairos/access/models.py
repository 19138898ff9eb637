"""Break-glass grants: time-limited access to one patient, with a reason, always audited."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class BreakGlassGrant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="breakglass_active")]

    def __str__(self) -> str:
        return f"{self.user} → {self.patient_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.expires_at > timezone.now()
