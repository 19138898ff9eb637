"""Background jobs of the access app (run by ``manage.py db_worker``)."""

from __future__ import annotations

from django.core.mail import send_mail
from django_tasks import task

from kairos.core.policies import Act, roles_for


@task()
def notify_break_glass(grant_id: int) -> int:
    """Email every clinic admin of the patient's clinic. Idempotent enough: a re-run re-sends."""
    from kairos.access.models import BreakGlassGrant
    from kairos.accounts.models import Membership

    grant = BreakGlassGrant.objects.select_related("patient__clinic", "user").get(pk=grant_id)
    admins = Membership.objects.filter(
        clinic=grant.patient.clinic, role__in=roles_for(Act.BREAK_GLASS_REVIEW)
    ).select_related("user")
    recipients = sorted({m.user.email for m in admins if m.user.email})
    if recipients:
        send_mail(
            subject=f"[Kairos] Break-glass access at {grant.patient.clinic.name}",
            message=(
                f"{grant.user.get_username()} used break-glass access to patient record #{grant.patient_id} "
                f"at {grant.created_at:%Y-%m-%d %H:%M} UTC.\nReason: {grant.reason}\n"
                "Review it under Break-glass in Kairos."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return len(recipients)
