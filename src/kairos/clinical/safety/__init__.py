"""Session safety rules: eligibility, pre-dose gate, in-session monitoring, discharge and Spravato REMS.

Every rule returns a :class:`~kairos.clinical.safety.result.RuleResult` whose findings say, in words a
clinician can read, what was found, how severe it is and which source backs it. Numbers come from
:mod:`kairos.clinical.rules.safety` and :mod:`kairos.clinical.rules.rems`.
"""
