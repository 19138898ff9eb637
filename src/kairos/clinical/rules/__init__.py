"""Cited, clinic-configurable rule sets. Each module here exposes ``RULES: RuleSet``.

:func:`all_rule_sets` discovers every submodule, so a new rule module is documented and tested without
being registered by hand.
"""

from __future__ import annotations

import importlib
import pkgutil

from kairos.clinical.config import RuleSet


def all_rule_sets() -> list[RuleSet]:
    """Every ``RULES`` rule set in ``kairos.clinical.rules.*``, sorted by name."""
    found: list[RuleSet] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        rules = getattr(module, "RULES", None)
        if not isinstance(rules, RuleSet):
            raise TypeError(f"{__name__}.{info.name} must expose RULES: RuleSet")
        found.append(rules)
    names = [r.name for r in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate rule-set names: {', '.join(duplicates)}")
    return sorted(found, key=lambda r: r.name)
