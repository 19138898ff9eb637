"""The periodic tick (``manage.py measures_tick``): expiry, missed windows, reminders, alert re-notification."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kairos.measures.models import (
    OPEN_DUE_STATES,
    DueKind,
    DueState,
    MeasureAlert,
    MeasurementDue,
    QuestionnaireLink,
)
from kairos.measures.services.clinic_config import clinic_settings

log = logging.getLogger(__name__)


# --- the periodic tick ------------------------------------------------------------------------------


@dataclass
class TickResult:
    expired: int = 0
    missed: int = 0
    reminders: int = 0
    notified: int = 0

    def __str__(self) -> str:
        return f"expired {self.expired}, missed {self.missed}, reminders {self.reminders}, alerts notified {self.notified}"


def tick(now: dt.datetime | None = None, *, base_url: str = "") -> TickResult:
    """Housekeeping run by ``manage.py measures_tick`` (cron or the worker): expire sent items whose link
    expired unused, mark questionnaires whose window closed as missed, send reminders before links expire,
    and (re)send any alert notification that has not gone out (idempotent)."""
    from kairos.measures.tasks import deliver_alert_notification, send_link_reminder

    now = now or timezone.now()
    out = TickResult()
    with transaction.atomic():
        expired_links = QuestionnaireLink.objects.filter(expires_at__lte=now, used_at__isnull=True)
        out.expired = MeasurementDue.objects.filter(links__in=expired_links, state=DueState.SENT).update(
            state=DueState.EXPIRED
        )
        out.missed = (
            MeasurementDue.objects.filter(state__in=[*OPEN_DUE_STATES, DueState.EXPIRED], window_end__lt=now)
            .exclude(kind=DueKind.SAFETY)
            .update(state=DueState.MISSED)
        )
    for link in (
        QuestionnaireLink.objects.filter(
            used_at__isnull=True, revoked_at__isnull=True, reminder_sent_at__isnull=True, expires_at__gt=now
        )
        .exclude(sent_to="")
        .select_related("clinic")
    ):
        before = dt.timedelta(hours=clinic_settings(link.clinic_id).reminder_before_hours)
        if link.expires_at - before <= now and send_link_reminder.call(link.pk, base_url):
            out.reminders += 1
    for pk in MeasureAlert.objects.filter(notified_at__isnull=True).values_list("pk", flat=True):
        try:
            if deliver_alert_notification(pk):
                out.notified += 1
        except Exception:
            log.exception("alert %s notification failed; will retry on the next tick", pk)
    return out
