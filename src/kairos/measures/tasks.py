"""Background jobs of measurement-based care (run by ``manage.py db_worker``; ``manage.py measures_tick``
re-runs anything a killed worker left undone).

Alert notification is idempotent: :func:`deliver_alert_notification` locks the alert row, does nothing
when ``notified_at`` is set, and sets it in the same transaction as the send. A worker killed mid-job
leaves ``notified_at`` empty, so the next tick sends it; the alert row itself was stored with the
response and stays on the board whatever happens here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task


def _absolute(base_url: str, path: str) -> str:
    base = (base_url or str(settings.KAIROS_BASE_URL)).rstrip("/")
    return base + path


def deliver_alert_notification(alert_id: int) -> bool:
    """E-mail the patient's prescriber(s) about one alert, once. True if sent now; a failed send raises
    after recording the attempt (``notified_at`` stays empty, so the next tick retries)."""
    from kairos.measures.models import MeasureAlert
    from kairos.measures.services.alert_review import prescribers_for

    try:
        with transaction.atomic():
            alert = (
                MeasureAlert.objects.select_for_update()
                .select_related("patient__clinic")
                .filter(pk=alert_id)
                .first()
            )
            if alert is None or alert.notified_at is not None:
                return False
            recipients = sorted({u.email for u in prescribers_for(alert.patient) if u.email})
            if recipients:
                # No PHI in e-mail: a record number and a pointer to the board only.
                send_mail(
                    subject=f"[Kairos] {alert.urgency.upper()} safety alert at {alert.patient.clinic.name}",
                    message=(
                        f"A questionnaire answer for patient record #{alert.patient_id} raised a {alert.urgency} "
                        f"safety alert ({alert.code}).\nOpen the alert board in Kairos: "
                        f"{_absolute('', reverse('measures:alerts'))}\n"
                    ),
                    from_email=None,
                    recipient_list=recipients,
                )
            alert.notified_at = timezone.now()
            alert.notify_attempts += 1
            alert.notify_error = ""
            alert.save(update_fields=["notified_at", "notify_attempts", "notify_error"])
            return True
    except Exception as exc:
        MeasureAlert.objects.filter(pk=alert_id, notified_at__isnull=True).update(
            notify_attempts=models.F("notify_attempts") + 1, notify_error=f"{type(exc).__name__}: {exc}"[:300]
        )
        raise


@task()
def notify_alert(alert_id: int) -> bool:
    return deliver_alert_notification(alert_id)


def _send_link(link_id: int, base_url: str, *, reminder: bool) -> bool:
    from kairos.measures.models import QuestionnaireLink
    from kairos.measures.services.links import token_for

    with transaction.atomic():
        link = (
            QuestionnaireLink.objects.select_for_update(of=("self",))
            .select_related("clinic")
            .filter(pk=link_id)
            .first()
        )
        if link is None or not link.sent_to or not link.usable():
            return False
        if reminder and link.reminder_sent_at is not None:
            return False
        url = _absolute(base_url, reverse("measures:patient_form", args=[token_for(link)]))
        expires = timezone.localtime(link.expires_at, link.clinic.tz)
        intro = (
            "A reminder: your questionnaire is still waiting."
            if reminder
            else "Your care team has asked you to fill in a short questionnaire."
        )
        send_mail(
            subject=f"{'Reminder: ' if reminder else ''}questionnaire from {link.clinic.name}",
            message=(
                f"Hello,\n\n{intro}\nIt takes a few minutes. Open this private link (it works once, until "
                f"{expires:%d %b %Y %H:%M}):\n\n{url}\n\nIf you are in crisis, do not wait for this form: "
                f"contact emergency services.\n\n{link.clinic.name}"
            ),
            from_email=None,
            recipient_list=[link.sent_to],
        )
        now = timezone.now()
        if reminder:
            link.reminder_sent_at = now
            link.save(update_fields=["reminder_sent_at"])
        else:
            link.sent_at = now
            link.save(update_fields=["sent_at"])
        return True


@task()
def send_link_email(link_id: int, base_url: str = "") -> bool:
    return _send_link(link_id, base_url, reminder=False)


@task()
def send_link_reminder(link_id: int, base_url: str = "") -> bool:
    return _send_link(link_id, base_url, reminder=True)


def run_tick(**kwargs: Any) -> str:
    from kairos.measures.services.housekeeping import tick

    return str(tick(**kwargs))


@task()
def measures_tick() -> str:
    """The periodic tick as a task (a scheduler may enqueue it; cron may run the command instead)."""
    return run_tick()
