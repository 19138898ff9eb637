"""``{% load rulesets %}{% effective_param clinic "safety" "spo2.alarm_below" %}`` on a decision page shows
the clinic's effective value and where it comes from: ``93 % (source; clinic override by X on D)``.

``clinic`` is a clinic or its id. Each (clinic, rule set, key) is read once per request (cached on it).
An unknown rule set or key renders a visible ``⚠ unknown rule`` marker (and logs an error) rather than
failing the whole decision page.
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kairos.rulesets import catalogue, selectors

register = template.Library()
log = logging.getLogger(__name__)


def lookup(clinic: Any, ruleset: str, key: str, request: Any = None) -> selectors.EffectiveParam:
    """The clinic's effective param (``clinic`` a clinic or its id), cached on ``request`` when given."""
    clinic_id = int(getattr(clinic, "pk", clinic))
    if request is None:
        return selectors.effective_param(clinic_id, ruleset, key)
    cache: dict[tuple[int, str, str], selectors.EffectiveParam] | None = getattr(
        request, "_kairos_params", None
    )
    if cache is None:
        cache = {}
        setattr(request, "_kairos_params", cache)  # noqa: B010 (a per-request cache, not a model field)
    if (clinic_id, ruleset, key) not in cache:
        cache[(clinic_id, ruleset, key)] = selectors.effective_param(clinic_id, ruleset, key)
    return cache[(clinic_id, ruleset, key)]


@register.simple_tag(takes_context=True)
def effective_param(context: template.Context, clinic: Any, ruleset: str, key: str) -> SafeString:
    """``value unit (source; clinic override by X on D)`` in a ``<span class="effective-param">``."""
    try:
        p = lookup(clinic, ruleset, key, context.get("request"))
    except catalogue.UnknownRule as exc:
        log.error("effective_param: %s", exc)
        return format_html(
            '<span class="effective-param badge badge-bad">⚠ unknown rule {}.{}</span>', ruleset, key
        )
    return format_html(
        '<span class="effective-param" data-rule="{}.{}"{}>{}</span>',
        ruleset,
        key,
        format_html(' data-overridden="v{}"', p.override.version) if p.override else "",
        p.describe(),
    )
