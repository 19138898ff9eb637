"""Session-safety measures reported on the outcomes dashboard: the BP-rise window and the sedation definitions.

The BP-rise magnitudes themselves are ``safety`` params (``bp.rise_sbp``, ``bp.rise_dbp``): the dashboard
counts a rise with the same cut-offs the session monitoring uses. "§" refers to
``shared/reference/clinical.md``; ``S<n>`` to its source key.
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

RULES: RuleSet = RuleSet.of(
    "safety_reporting",
    "Session-safety measures on the outcomes dashboard (BP-rise window, sedation)",
    [
        Param(
            "bp_rise.window_min",
            90,
            "min",
            "§1.5 S6 (≥40 mmHg SBP and/or ≥25 mmHg DBP rise 'in first 1.5 h')",
            Status.CONFIRMED,
            "A BP reading within this long of the start of dosing counts towards a session's BP rise "
            "(kairos.clinical.definitions.bp_rise_within_window).",
            15,
            240,
            safer="higher",
        ),
        Param(
            "bp_rise.patient_days",
            28,
            "days",
            "§1.5 S6 ('at least once in first 4 weeks', the label's per-patient denominator)",
            Status.CONFIRMED,
            "A patient counts as having a BP rise if one occurs in this many days from the course's first "
            "dosing session.",
            1,
            365,
            safer="higher",
        ),
        Param(
            "sedation.moaas_max",
            3,
            "MOAA/S",
            "§4.8 MOAA/S levels (3 = responds only after name called loudly); cut-off ⚠ clinic definition "
            "(§1.5 S4 §5.1 counts trial-reported sedation)",
            Status.UNCONFIRMED,
            "A MOAA/S reading at or below this after dosing counts as significant sedation "
            "(kairos.clinical.definitions.significant_sedation).",
            0,
            4,
            safer="higher",
        ),
        Param(
            "loss_of_consciousness.moaas_max",
            0,
            "MOAA/S",
            "§1.5 and §4.8 (S4 §5.1: MOAA/S 0, no response after painful trapezius squeeze, is the label's "
            "loss of consciousness)",
            Status.CONFIRMED,
            "A MOAA/S reading at or below this after dosing counts as loss of consciousness "
            "(kairos.clinical.definitions.loss_of_consciousness); fixed by the label's definition.",
            0,
            0,
            safer="higher",
        ),
    ],
)
