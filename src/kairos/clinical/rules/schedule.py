"""Schedule rule set: course phases, session frequency and spacing, integration timing, missed sessions
and maintenance recommendations.

Every number used by :mod:`kairos.clinical.schedule` and the phase part of :mod:`kairos.clinical.protocols`
lives here with its source. ``§`` references point at ``shared/reference/clinical.md``; ``S<n>`` at its
source key. ⚠ / absent values are ``Status.UNCONFIRMED`` defaults a clinic must review.

Frequencies are written as ``<phase>.sessions`` sessions at ``<phase>.per_period`` sessions per
``<phase>.period_days`` days.
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

C, P, U = Status.CONFIRMED, Status.PARTIAL, Status.UNCONFIRMED


def _phase(
    prefix: str, sessions: int, per: int, days: int, src: str, st: Status, lo: int = 0, hi: int = 52
) -> list[Param]:
    return [
        Param(f"{prefix}.sessions", sessions, "sessions", src, st, f"Sessions in {prefix}.", lo, hi),
        Param(f"{prefix}.per_period", per, "sessions", src, st, f"Sessions per period in {prefix}.", 1, 3),
        Param(
            f"{prefix}.period_days",
            days,
            "days",
            src,
            st,
            f"Length of the frequency period in {prefix}.",
            7,
            28,
        ),
    ]


_PARAMS = [
    Param(
        "clinic.open_weekdays",
        (0, 1, 2, 3, 4),
        "ISO weekday − 1 (0 = Monday)",
        "not in reference (clinic setting)",
        U,
        "Default opening weekdays when no calendar is given.",
    ),
    # --- IV racemic ---------------------------------------------------------------------------------------
    *_phase(
        "iv-racemic.induction",
        6,
        2,
        7,
        "§2.1 (≈6 infusions, 2–3/week for 2–3 weeks, ⚠ consensus wording); §3 ELEKT-D 2×/wk × 3 wk",
        P,
        1,
        12,
    ),
    *_phase(
        "iv-racemic.maintenance",
        0,
        1,
        7,
        "§3 Phillips 2019 (responders: 4 weekly infusions); planned count ⚠ clinic",
        U,
    ),
    Param(
        "iv-racemic.min_interval_days",
        2,
        "days",
        "§3 Shiroma 2014 Mon-Wed-Fri (◐ implied minimum)",
        P,
        "Minimum days between two infusions.",
        1,
        7,
    ),
    Param(
        "iv-racemic.recovery_min",
        60,
        "min",
        "§2.2 recovery 30–60 min typical (◐)",
        P,
        "Recovery/observation booked after the infusion.",
        30,
        180,
    ),
    Param(
        "iv-racemic.integration",
        False,
        "",
        "not in reference (⚠ clinic choice)",
        U,
        "Book integration sessions after IV doses.",
    ),
    # --- esketamine TRD -----------------------------------------------------------------------------------
    *_phase("esketamine-trd.induction", 8, 2, 7, "§1.2 (weeks 1–4 twice per week, S5, S7)", C, 1, 16),
    *_phase("esketamine-trd.maintenance", 4, 1, 7, "§1.2 (weeks 5–8 once weekly, S5, S7)", C, 0, 8),
    Param(
        "esketamine-trd.continuation.sessions",
        4,
        "sessions",
        "planning horizon (clinic setting, ⚠)",
        U,
        "Week ≥9 sessions written into a new plan.",
        0,
        52,
    ),
    Param(
        "esketamine-trd.continuation.period_days",
        14,
        "days",
        "§1.2 (week ≥9 every 2 weeks or weekly; least frequent that keeps response, S5)",
        P,
        "Interval from week 9 (7 or 14; individualise).",
        choices=(7, 14),
    ),
    Param(
        "esketamine-trd.continuation.per_period", 1, "sessions", "§1.2", C, "One session per interval.", 1, 1
    ),
    Param(
        "esketamine.min_interval_days",
        2,
        "days",
        "not in label (⚠); NCT04599855 used days 1, 4, 8, 11 … (§1.2)",
        U,
        "Minimum days between two esketamine sessions.",
        1,
        7,
    ),
    Param(
        "esketamine.observation_min",
        120,
        "min",
        "§1.5 (≥2 h observation, S4 boxed warning)",
        C,
        "Post-dose observation booked at every esketamine session.",
        120,
        240,
    ),
    Param(
        "esketamine-trd.integration",
        False,
        "",
        "not in reference (⚠ clinic choice)",
        U,
        "Book integration sessions after esketamine doses.",
    ),
    # --- esketamine MDSI ----------------------------------------------------------------------------------
    *_phase(
        "esketamine-mdsi.induction",
        8,
        2,
        7,
        "§1.2 MDSI (84 mg twice weekly × 4 weeks, ends at 4 weeks)",
        C,
        1,
        8,
    ),
    Param(
        "esketamine-mdsi.integration",
        False,
        "",
        "not in reference (⚠ clinic choice)",
        U,
        "Book integration sessions after esketamine doses.",
    ),
    # --- KAP routes (IM and sublingual) -------------------------------------------------------------------
    *_phase(
        "im-racemic.preparation",
        3,
        1,
        7,
        "§2.5 (≥3 preparatory sessions at one clinic, S20); weekly ⚠",
        P,
        0,
        10,
    ),
    *_phase("im-racemic.induction", 6, 2, 7, "§2.5 (6 sessions over 3 weeks common, S20)", C, 1, 12),
    Param(
        "im-racemic.min_interval_days",
        2,
        "days",
        "not in reference (⚠)",
        U,
        "Minimum days between two IM dosing sessions.",
        1,
        7,
    ),
    Param(
        "im-racemic.session_min",
        180,
        "min",
        "§2.5 (dosing session ~2.5–3 h, S20)",
        C,
        "Dosing session length.",
        60,
        300,
    ),
    Param(
        "im-racemic.integration",
        True,
        "",
        "§2.5 (integration after dosing, S20)",
        C,
        "Book integration sessions after IM doses.",
    ),
    *_phase(
        "sublingual-kap.preparation",
        3,
        1,
        7,
        "§2.5 (≥3 preparatory sessions at one clinic, S20); weekly ⚠",
        P,
        0,
        10,
    ),
    *_phase("sublingual-kap.induction", 6, 2, 7, "§2.5 (6 sessions over 3 weeks common, S20)", C, 1, 12),
    Param(
        "sublingual-kap.min_interval_days",
        2,
        "days",
        "§2.4 Lara 2013 (every 2–3 days or weekly)",
        P,
        "Minimum days between two sublingual dosing sessions.",
        1,
        7,
    ),
    Param(
        "sublingual-kap.session_min",
        180,
        "min",
        "§2.5 (dosing session ~2.5–3 h, S20)",
        C,
        "Dosing session length.",
        60,
        300,
    ),
    Param(
        "sublingual-kap.integration",
        True,
        "",
        "§2.5 (integration after dosing, S20)",
        C,
        "Book integration sessions after sublingual doses.",
    ),
    Param(
        "preparation.min_interval_days",
        1,
        "days",
        "not in reference (⚠)",
        U,
        "Minimum days between preparation sessions, and from the last one to dose 1.",
        0,
        7,
    ),
    # --- integration: the ONE rule that places integration bookings ----------------------------------------
    Param(
        "integration.min_hours",
        24,
        "h",
        "§2.5 (same/next day, S20); 24–72 h window ⚠ clinic",
        U,
        "Earliest integration session after a dose.",
        0,
        168,
    ),
    Param(
        "integration.max_hours",
        72,
        "h",
        "§2.5 (same/next day, S20); 24–72 h window ⚠ clinic",
        U,
        "Latest integration session after a dose.",
        0,
        336,
    ),
    # --- missed sessions ----------------------------------------------------------------------------------
    Param(
        "missed.other_routes",
        "reschedule",
        "",
        "not in reference (⚠ clinic rule; esketamine follows §1.2)",
        U,
        "Non-esketamine missed session: move it to the next possible day, or skip it.",
        choices=("reschedule", "skip"),
    ),
    # --- maintenance recommendations ----------------------------------------------------------------------
    Param(
        "maintenance.space_out_step_days",
        7,
        "days",
        "not in reference (⚠ taper step, §2.1 'taper')",
        U,
        "A responder's interval is suggested to grow by this much.",
        1,
        28,
    ),
    Param(
        "maintenance.max_interval_days",
        28,
        "days",
        "§3 SUSTAIN-3 (weekly/q2wk/q4wk individualised)",
        P,
        "Longest maintenance interval suggested.",
        7,
        90,
    ),
    Param(
        "maintenance.booster_within_days",
        7,
        "days",
        "not in reference (⚠ clinic)",
        U,
        "After a relapse, suggest a booster within this many days.",
        1,
        28,
    ),
]

RULES = RuleSet.of("schedule", "Scheduling (phases, spacing, integration, maintenance)", _PARAMS)
