"""Clinic overrides of the cited clinical thresholds (issue #12 §7).

A clinic changes a :class:`~kairos.clinical.config.Param` of a rule set through a signed, versioned,
append-only :class:`~kairos.rulesets.models.RuleOverride`; :func:`kairos.rulesets.selectors.effective_rules`
gives the pure rule set with the clinic's latest overrides applied, for the gates and decision pages.
"""
