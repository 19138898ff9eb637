"""Template helpers for the admin menu link and the error pages."""

from __future__ import annotations

import re
from typing import Any

from django import template

register = template.Library()

# an internal key such as "clinic.admin", "typed_name:" or "esketamine-trd.min_interval_days"
_INTERNAL = re.compile(r"\b[a-z0-9_-]+\.[a-z0-9_]+\b|\b[a-z]+_[a-z_]+:")


@register.filter
def may_administer(user: Any) -> bool:
    """The user manages some clinic setting (the home page's "Clinic administration" link)."""
    from kairos.accounts.staff_views import may_see_admin_menu

    return bool(getattr(user, "is_authenticated", False)) and may_see_admin_menu(user)


@register.filter
def plain_reason(exception: Any) -> str:
    """A refusal's message when it is in plain words; empty when it carries an internal key (the page
    then shows only its general explanation)."""
    text = str(exception or "").strip()
    if not text or _INTERNAL.search(text) or len(text) > 300:
        return ""
    return text[:1].upper() + text[1:]
