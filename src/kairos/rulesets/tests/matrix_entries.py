"""Permission-matrix entries for the clinic rule pages (issue #12 §7), collected by
kairos.access.tests.matrix. The rules hold no patient data (``phi=False``); signing is audited anyway."""

from __future__ import annotations

from typing import Any

from kairos.access.tests.matrix import FOREIGN, Entry, World

RULE_READERS = frozenset({"prescriber", "nurse", "therapist", "auditor"})  # CLINICAL_READERS
PRESCRIBERS = frozenset({"prescriber"})
KEY = "spo2.alarm_below"
WHY = "matrix: clinic protocol sets a lower alarm"


def _clinic(w: World) -> dict[str, Any]:
    return {"clinic_id": w.org.north.pk}


def _ruleset(w: World) -> dict[str, Any]:
    return {"clinic_id": w.org.north.pk, "ruleset": "safety"}


def _param(w: World) -> dict[str, Any]:
    return {"clinic_id": w.org.north.pk, "ruleset": "safety", "key": KEY}


def _overridden(w: World) -> dict[str, Any]:
    """The param with a signed override in north, so that a revert is a valid request."""
    from kairos.rulesets.services import set_override

    w.once("override", lambda: set_override(w.org.prescriber, w.org.north.pk, "safety", KEY, 90, WHY))
    return _param(w)


ENTRIES: list[Entry] = [
    # one clinic: redirects to it (foreign prescribers to their own clinic)
    Entry("rulesets:index", phi=False, allowed=RULE_READERS | set(FOREIGN), scope="collection"),
    Entry("rulesets:clinic", phi=False, allowed=RULE_READERS, kwargs=_clinic),
    Entry("rulesets:ruleset", phi=False, allowed=RULE_READERS, kwargs=_ruleset),
    Entry("rulesets:param", phi=False, allowed=RULE_READERS, kwargs=_param),
    Entry(
        "rulesets:param",
        phi=False,
        method="POST",
        allowed=PRESCRIBERS,
        kwargs=_param,
        data=lambda w: {"value": "90", "reason": WHY, "expected_version": "0"},
    ),
    Entry(
        "rulesets:revert",
        phi=False,
        method="POST",
        allowed=PRESCRIBERS,
        kwargs=_overridden,
        data=lambda w: {"reason": WHY, "expected_version": "1"},
    ),
]
