"""Instrument-level numbers a clinic may change: response/remission cut-offs, proration, screen cut-offs.

Severity bands are part of each published instrument and live in its definition
(:mod:`kairos.clinical.instruments.catalog`); response/remission cut-offs live in
:mod:`kairos.clinical.rules.outcomes` (rule set "outcomes"). Only the other numbers clinics legitimately
vary are here. Keys are ``<instrument id>.<name>``. "§" refers to ``shared/reference/clinical.md``.
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

RULES: RuleSet = RuleSet.of(
    "instruments",
    "Instrument cut-offs (response, remission, proration, screens)",
    [
        # --- PHQ-9 -------------------------------------------------------------------------------
        Param(
            "phq9.prorate_max_missing",
            2,
            "items",
            "clinical.md §4.3: 'common pro-rating rule (if <=2 missing, multiply mean by 9)' marked ⚠",
            Status.UNCONFIRMED,
            "PHQ-9 total is prorated (mean of answered items x 9, rounded half up) when at most this many "
            "non-safety items are missing; 0 disables proration. Item 9 is never prorated.",
            0,
            4,
        ),
        # --- PHQ-2 / GAD-2 (cut-offs not given in the reference) -----------------------------------
        Param(
            "phq2.positive_screen_min_total",
            3,
            "points",
            "not in clinical.md (§7.2 gives codes only); Kroenke 2003 cut-off >=3 from general knowledge ⚠",
            Status.UNCONFIRMED,
            "PHQ-2 total at or above this is a positive screen (follow with PHQ-9).",
            1,
            6,
        ),
        Param(
            "gad2.positive_screen_min_total",
            3,
            "points",
            "not in clinical.md; GAD-2 cut-off >=3 (Kroenke 2007) from general knowledge ⚠",
            Status.UNCONFIRMED,
            "GAD-2 total at or above this is a positive screen (follow with GAD-7).",
            1,
            6,
        ),
        # --- PCL-5 ---------------------------------------------------------------------------------
        Param(
            "pcl5.provisional_ptsd_min_total",
            33,
            "points",
            "clinical.md §4.1: provisional PTSD cut-off 31-33 (NCPTSD via awell-score README); upper end chosen",
            Status.PARTIAL,
            "Total at or above this value: provisional PTSD.",
            31,
            33,
        ),
        Param(
            "pcl5.item_endorsed_min",
            2,
            "item score",
            "clinical.md §4.1: items rated >=2 count as endorsed",
            Status.CONFIRMED,
            "An item at or above this counts as endorsed for the DSM-5 cluster rule.",
            1,
            4,
        ),
        Param(
            "pcl5.reliable_change_min",
            5,
            "points",
            "clinical.md §4.1: 5-10 points = reliable change (⚠ VA guidance)",
            Status.UNCONFIRMED,
            "Smallest change counted as reliable.",
            1,
            20,
        ),
        Param(
            "pcl5.meaningful_change_min",
            10,
            "points",
            "clinical.md §4.1: 10-20 points = clinically meaningful (⚠ VA guidance)",
            Status.UNCONFIRMED,
            "Smallest change counted as clinically meaningful.",
            1,
            40,
        ),
        # --- AUDIT-C (sex-specific screen cut-offs) ---------------------------------------------------
        Param(
            "audit_c.positive_screen_min_total_men",
            4,
            "points",
            "not in clinical.md (§5.4 names AUDIT-C only); Bush K et al., Arch Intern Med 1998;158(16):1789-95 "
            "(men: >=4, sensitivity 86 %, specificity 72 %), as given in the AUDIT-C scoring key "
            "(primarycare.ementalhealth.ca) ⚠",
            Status.UNCONFIRMED,
            "AUDIT-C total at or above this is a positive screen for a patient recorded as male.",
            1,
            12,
            safer="lower",
        ),
        Param(
            "audit_c.positive_screen_min_total_women",
            3,
            "points",
            "not in clinical.md (§5.4 names AUDIT-C only); Bradley KA et al., Arch Intern Med 2003;163(7):821-9 "
            "(women: >=3, sensitivity 80 %, specificity 87 %), as given in the AUDIT-C scoring key "
            "(primarycare.ementalhealth.ca) ⚠",
            Status.UNCONFIRMED,
            "AUDIT-C total at or above this is a positive screen for a patient recorded as female. A patient "
            "whose sex is other, unknown or not given is screened at the lower of the two cut-offs (flagged).",
            1,
            12,
            safer="lower",
        ),
    ],
)
