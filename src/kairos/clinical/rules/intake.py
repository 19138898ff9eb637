"""Intake rule set: the derived treatment-resistance flag and intake-only data-entry bounds.

``§`` references point at ``shared/reference/clinical.md``. The vital-sign entry bounds of intake reuse the
``plausible.*`` params of the safety rule set; only the respiratory-rate bound differs there (see below).
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

_PARAMS = [
    Param(
        "trd.min_failed_trials",
        2,
        "trials",
        "§1.1 (Spravato indication; FDA definition) via §7.4",
        Status.CONFIRMED,
        "Treatment-resistant depression is flagged at this many adequate antidepressant trials without "
        "response in the current episode (partial response counts as failed).",
        2,
        4,
    ),
    Param(
        "plausible.resp_rate",
        (4, 60),
        "/min",
        "engineering plausibility bound (⚠); narrower than safety plausible.resp_rate (2, 80), kept as it was",
        Status.UNCONFIRMED,
        "Respiratory-rate values outside this range are refused at intake as data-entry errors.",
    ),
]

RULES: RuleSet = RuleSet.of("intake", "Intake: treatment resistance and intake data-entry bounds", _PARAMS)
