"""Measurement-based care and the long-term safety schedule: the rule set of the measurement planner.

Every number used by :mod:`kairos.clinical.measurement_plan` lives here with its source. Instruments by
indication (§4.1): depression – PHQ-9 (and/or QIDS-SR16) and MADRS; anxiety – GAD-7; PTSD – PCL-5. The §5
frequencies are design proposals in the reference (⚠) and therefore ``Status.UNCONFIRMED`` defaults a clinic
must review. "§" refers to ``shared/reference/clinical.md``. The rule set keeps its name ``measures``: clinic
overrides (``ClinicMeasureSettings.schedule_overrides``) are keyed by these param keys.
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

C, P, U = Status.CONFIRMED, Status.PARTIAL, Status.UNCONFIRMED


def _days(key: str, value: int, src: str, st: Status, what: str, lo: int = 0, hi: int = 730) -> Param:
    return Param(key, value, "days", src, st, what, lo, hi)


RULES: RuleSet = RuleSet.of(
    "measures",
    "Measurement-based care and long-term safety schedule",
    [
        Param(
            "indication.depression",
            ("phq9", "madrs"),
            "instrument ids",
            "clinical.md §4.1 (PHQ-9, QIDS-SR16, MADRS measure depression; MADRS is the trial endpoint §3); "
            "QIDS-SR16 may replace or join PHQ-9",
            P,
            "Outcome instruments for depression.",
        ),
        Param(
            "indication.anxiety", ("gad7",), "instrument ids", "clinical.md §4.1, §4.4 (GAD-7)", C, "Anxiety."
        ),
        Param("indication.ptsd", ("pcl5",), "instrument ids", "clinical.md §4.1 (PCL-5)", C, "PTSD."),
        _days(
            "baseline.window_days",
            14,
            "Kairos default ⚠ (not in clinical.md): baseline within 14 days before the first dose",
            U,
            "How long before the first dose a baseline may be completed.",
            1,
            60,
        ),
        Param(
            "pre_dose.window_hours",
            48,
            "hours",
            "Kairos default ⚠ (not in clinical.md): complete in the 48 h before the session",
            U,
            "Window before a dosing session for pre-dose questionnaires.",
            1,
            168,
        ),
        Param(
            "rapid_24h.enabled",
            True,
            "",
            "clinical.md §3 (rapid response at 24 h in ketamine trials); phq9_24h modified recall (§4.3 ⚠)",
            P,
            "Schedule the 24-hour PHQ-9 after the first dose (depression).",
        ),
        Param(
            "rapid_24h.after_hours",
            24,
            "hours",
            "clinical.md §3 (24-hour response time point)",
            P,
            "Hours after the first dose.",
            12,
            72,
        ),
        Param(
            "rapid_24h.window_hours",
            12,
            "hours",
            "Kairos default ⚠: ± window around the 24-hour time point",
            U,
            "Half-width of the rapid-response window.",
            1,
            24,
        ),
        _days(
            "end_of_induction.after_days",
            1,
            "clinical.md §1.2 / protocols: evaluate benefit at the end of induction (S5, S7); delay ⚠ Kairos default",
            U,
            "Days after the last induction session.",
            0,
            14,
        ),
        _days(
            "end_of_induction.window_days",
            7,
            "Kairos default ⚠",
            U,
            "Window length of the end-of-induction assessment.",
            1,
            28,
        ),
        _days(
            "monthly.interval_days",
            30,
            "issue 'Measurement-based care' (monthly in maintenance); not in clinical.md ⚠",
            U,
            "Interval of outcome measures during maintenance.",
            14,
            120,
        ),
        _days("monthly.window_days", 7, "Kairos default ⚠", U, "Window length of a monthly measure.", 1, 28),
        _days(
            "safety.window_days",
            14,
            "Kairos default ⚠",
            U,
            "Window length of a long-term safety check.",
            1,
            60,
        ),
        Param(
            "safety.bladder_sx.every_maintenance_visit",
            True,
            "",
            "clinical.md §5.1: bladder-symptom questions at baseline and every maintenance visit (⚠ design proposal)",
            U,
            "Bladder screen before every maintenance dosing session.",
        ),
        _days(
            "safety.icsi.interval_days",
            90,
            "clinical.md §5.1: structured score (e.g. ICSI) at baseline and every 3 months (⚠ design proposal)",
            U,
            "ICSI interval (0 = baseline only).",
        ),
        _days(
            "safety.liver_tests.interval_days",
            90,
            "clinical.md §5.2: LFTs at baseline, then every 3–6 months in maintenance (⚠ design proposal)",
            U,
            "Liver tests interval (0 = baseline only).",
        ),
        _days(
            "safety.cognition_check.interval_days",
            180,
            "clinical.md §5.3: brief cognitive screen at baseline and every 6 months (⚠)",
            U,
            "Cognition check interval (0 = baseline only).",
        ),
        _days(
            "safety.dast10.interval_days",
            365,
            "clinical.md §5.4: DAST-10 / AUDIT-C screen at intake (⚠); repeat interval not in clinical.md — "
            "Kairos default = the 12-month recall",
            U,
            "DAST-10 interval (0 = baseline only).",
        ),
        _days(
            "safety.audit_c.interval_days",
            365,
            "clinical.md §5.4 (intake screen ⚠); repeat = 12-month recall, Kairos default",
            U,
            "AUDIT-C interval (0 = baseline only).",
        ),
        _days(
            "safety.urine_drug_screen.interval_days",
            0,
            "clinical.md §5.4: urine drug screen at baseline when indicated (APA consensus ◐ S14)",
            P,
            "Urine drug screen interval (0 = baseline only).",
        ),
        _days(
            "safety.pdmp_check.interval_days",
            90,
            "clinical.md §5.4: PDMP check where state law requires (⚠ state-dependent); interval Kairos default",
            U,
            "PDMP check interval (0 = baseline only).",
        ),
    ],
)
