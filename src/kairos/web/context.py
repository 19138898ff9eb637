from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kairos.core import policies
from kairos.core.policies import Act
from kairos.web.hooks import badge_counts


def kairos(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    nav: dict[str, bool] = {}
    badge: dict[str, Any] = {"total": 0, "parts": {}}
    if user is not None and user.is_authenticated:
        nav = {
            "patients": policies.any_clinic(user, Act.PATIENT_LIST),
            "audit": policies.any_clinic(user, Act.AUDIT_VIEW),
            "admin": policies.any_clinic(user, Act.BREAK_GLASS_REVIEW),
            "research": policies.any_clinic(user, Act.RESEARCH_VIEW),
            "board": policies.any_clinic(user, Act.BOARD_VIEW),
            "sessions": policies.any_clinic(user, Act.SESSION_VIEW),
            "alerts": policies.any_clinic(user, Act.ALERT_VIEW),
            "rules": policies.any_clinic(user, Act.RULES_VIEW),
            "outcomes": policies.any_clinic(user, Act.OUTCOMES_VIEW)
            or policies.any_clinic(user, Act.RESEARCH_VIEW),
        }
        parts = badge_counts(user)
        badge = {"total": sum(parts.values()), "parts": parts}
    return {"kairos_mode": settings.MODE, "nav": nav, "badge": badge}
