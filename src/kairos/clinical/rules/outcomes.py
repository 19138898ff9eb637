"""Outcome rule set: response, partial response, remission, loss of response and rapid response.

Every number used by :mod:`kairos.clinical.outcomes` lives here with its source. ``§`` references point at
``shared/reference/clinical.md``; ``S<n>`` at its source key. Values the reference marks ⚠ (or does not give)
are ``Status.UNCONFIRMED`` defaults a clinic must review.

Remission keys: ``remission.<instrument>`` is the default cut-off with ``remission.<instrument>.op`` its
comparator (``"<="`` or ``"<"``); ``remission.<instrument>@<protocol>`` overrides it for one protocol (the
MADRS ≤12 definition of the esketamine trials versus ≤10 elsewhere, §3).
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

C, P, U = Status.CONFIRMED, Status.PARTIAL, Status.UNCONFIRMED
_OPS = ("<=", "<")

_PARAMS = [
    Param(
        "response.min_reduction_pct",
        50.0,
        "%",
        "§3 header ('Response = ≥50% reduction'); §4.1",
        C,
        "Response: reduction from baseline at or above this percentage.",
        20,
        90,
    ),
    Param(
        "partial.min_reduction_pct",
        25.0,
        "%",
        "not in reference (⚠ common convention 25–49%)",
        U,
        "Partial response: reduction at or above this and below the response threshold.",
        0,
        50,
    ),
    # --- remission per instrument (default) ---------------------------------------------------------------
    Param(
        "remission.madrs",
        10,
        "points",
        "§4.1, §3 (ESCAPE-TRD, KetECT, Daly 2018: MADRS ≤10)",
        C,
        "MADRS remission cut-off (default protocol definition).",
        0,
        60,
    ),
    Param("remission.madrs.op", "<=", "", "§4.1", C, "Comparator for the MADRS cut-off.", choices=_OPS),
    Param(
        "remission.madrs@esketamine-trd",
        12,
        "points",
        "§3 TRANSFORM-2 / SUSTAIN-1 (MADRS ≤12)",
        C,
        "MADRS remission cut-off used by the esketamine TRD trials.",
        0,
        60,
    ),
    Param(
        "remission.madrs@esketamine-trd.op", "<=", "", "§3", C, "Comparator (esketamine TRD).", choices=_OPS
    ),
    Param(
        "remission.phq9",
        5,
        "points",
        "§4.1 (PHQ-9 <5; SUSTAIN-3 analyses, PMC10439056)",
        C,
        "PHQ-9 remission cut-off.",
        0,
        27,
    ),
    Param("remission.phq9.op", "<", "", "§4.1", C, "Comparator for the PHQ-9 cut-off.", choices=_OPS),
    Param(
        "remission.qids_sr16",
        5,
        "points",
        "§4.1 (QIDS-SR16 ≤5, STAR*D convention; S26)",
        C,
        "QIDS-SR16 remission cut-off.",
        0,
        27,
    ),
    Param(
        "remission.qids_sr16.op", "<=", "", "§4.1", C, "Comparator for the QIDS-SR16 cut-off.", choices=_OPS
    ),
    Param("remission.hamd17", 7, "points", "§4.1 (HRSD17 ≤7; S26)", C, "HAM-D17 remission cut-off.", 0, 52),
    Param("remission.hamd17.op", "<=", "", "§4.1", C, "Comparator for the HAM-D17 cut-off.", choices=_OPS),
    Param(
        "remission.bdi2",
        13,
        "points",
        "§4.1 (BDI-II ≤13, ⚠ convention)",
        U,
        "BDI-II remission cut-off.",
        0,
        63,
    ),
    Param("remission.bdi2.op", "<=", "", "§4.1 (⚠)", U, "Comparator for the BDI-II cut-off.", choices=_OPS),
    Param(
        "remission.gad7", 5, "points", "§4.1 (GAD-7 <5, ⚠ convention)", U, "GAD-7 remission cut-off.", 0, 21
    ),
    Param("remission.gad7.op", "<", "", "§4.1 (⚠)", U, "Comparator for the GAD-7 cut-off.", choices=_OPS),
    # --- loss of response / relapse -----------------------------------------------------------------------
    Param(
        "relapse.below_reduction_pct",
        50.0,
        "%",
        "not in reference (⚠ 'no longer meets response')",
        U,
        "After a response, an assessment whose reduction from baseline is below this counts towards "
        "loss of response.",
        0,
        90,
    ),
    Param(
        "relapse.confirm_assessments",
        2,
        "assessments",
        "not in reference (⚠ confirmation rule)",
        U,
        "Consecutive qualifying assessments needed to confirm loss of response (1 = no confirmation).",
        1,
        5,
    ),
    Param(
        "relapse.confirm_min_days",
        5,
        "days",
        "not in reference (⚠ confirmation rule)",
        U,
        "Minimum days between the first and last confirming assessments (0 = any spacing).",
        0,
        28,
    ),
    # --- rapid response -----------------------------------------------------------------------------------
    Param(
        "rapid.window_h",
        24,
        "h",
        "§3 Murrough 2013 AJP (24 h primary endpoint); §3 monotherapy onset by 24 h (S12)",
        P,
        "Rapid response: response at the assessment about this long after dose 1.",
        1,
        72,
    ),
    Param(
        "rapid.tolerance_h",
        6,
        "h",
        "not in reference (⚠ visit-window tolerance)",
        U,
        "Assessments up to window + tolerance after dose 1 count for rapid response.",
        0,
        24,
    ),
    # --- baseline -----------------------------------------------------------------------------------------
    Param(
        "baseline.max_age_days",
        30,
        "days",
        "not in reference (⚠; §2.1 asks for a baseline rating)",
        U,
        "A baseline older than this before dose 1 is flagged as stale (still used).",
        1,
        365,
    ),
]

RULES = RuleSet.of("outcomes", "Outcome definitions (response, remission, relapse)", _PARAMS)
