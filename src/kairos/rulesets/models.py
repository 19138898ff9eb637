"""A clinic's signed, versioned override of one clinical threshold (issue #12 §7).

Rows are append-only (:class:`~kairos.core.append_only.AppendOnlyModel`): a change is a new version of the
same (clinic, rule set, key), pointing at the version it replaces; "revert to the cited default" is a new
version whose ``value`` is null. The effective value is the latest version's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kairos.core import reasons
from kairos.core.append_only import AppendOnlyModel

#: Bounds of an override's reason (a software policy, like every other reason in Kairos).
REASON_MIN = reasons.SIGNED_MIN_LENGTH
REASON_MAX = reasons.SIGNED_MAX_LENGTH


class RuleOverride(AppendOnlyModel):
    """One version of a clinic's value for ``ruleset``.``key`` (``value`` null: back to the default)."""

    append_only_noun = "rule override"

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="rule_overrides")
    ruleset = models.CharField(max_length=40)
    key = models.CharField(max_length=120)
    version = models.PositiveIntegerField()
    #: The validated value as JSON (a list for a tuple param); null reverts to the rule set's default.
    value = models.JSONField(null=True, blank=True)
    #: The default in the code when the override was signed (so a later change of default is visible).
    default_at_signing = models.JSONField(null=True, blank=True)
    reason = models.TextField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: The prescriber's name as shown when they signed (kept if the account is renamed later).
    signed_by_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField(default=timezone.now)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )

    class Meta:
        ordering = ("clinic_id", "ruleset", "key", "version")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "ruleset", "key", "version"], name="rule_override_one_row_per_version"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="rule_override_version_from_1"),
        ]
        indexes = [models.Index(fields=["clinic", "ruleset", "key", "-version"], name="rule_override_latest")]

    @property
    def is_revert(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        shown = "default" if self.value is None else repr(self.value)
        return f"{self.ruleset}.{self.key} v{self.version} = {shown} ({self.signed_by_name})"
