"""The measures part of the navigation badge (issue #11 §5): open urgent alerts of the user's clinics
and the user's open tasks (a task raised for an already-counted open urgent alert is not counted twice).
Two COUNT queries, no audit row: counts carry no PHI."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kairos.core import policies
from kairos.core.policies import Act
from kairos.measures.models import ClinicalTask, MeasureAlert, TaskStatus


def open_urgent_alerts(user: Any) -> int:
    clinic_ids = policies.clinic_ids_for(user, Act.ALERT_VIEW)
    if not clinic_ids:
        return 0
    return MeasureAlert.objects.filter(
        clinic_id__in=clinic_ids, acknowledged_at__isnull=True, urgency="urgent"
    ).count()


def open_tasks(user: Any) -> int:
    clinic_ids = policies.clinic_ids_for(user, Act.ALERT_VIEW)
    qs = ClinicalTask.objects.filter(assignees=user, status=TaskStatus.OPEN)
    if clinic_ids:
        # Already counted as an open urgent alert of a clinic whose alerts the user sees.
        qs = qs.exclude(
            Q(alert__acknowledged_at__isnull=True)
            & Q(alert__urgency="urgent")
            & Q(alert__clinic_id__in=clinic_ids)
        )
    return qs.count()


def home_panel(request: Any) -> str:
    """The home page's panel of the user's open alerts (urgent first, oldest first) and open tasks, with the
    Alerts page's acknowledge-with-action form (issue #11 §5). Empty for users who may not view alerts."""
    from django.template.loader import render_to_string

    from kairos.measures.selectors import board_alerts

    user = request.user
    if not policies.clinic_ids_for(user, Act.ALERT_VIEW):
        return ""
    alerts = sorted(
        board_alerts(user, limit=50),
        key=lambda a: (a.urgency != "urgent", a.created_at),
    )
    tasks = list(
        ClinicalTask.objects.filter(assignees=user, status=TaskStatus.OPEN)
        .select_related("patient")
        .order_by("created_at")[:50]
    )
    tasks.sort(key=lambda t: (t.urgency != "urgent", t.created_at))
    ack_clinics = set(policies.clinic_ids_for(user, Act.ALERT_ACK))
    return render_to_string(
        "measures/_home_panel.html",
        {"alerts": alerts, "tasks": tasks, "ack_clinics": ack_clinics},
        request=request,
    )
