"""Clinical hazard log (DCB0129-style safety case) as data; ``python -m kairos.clinical.hazards`` writes
``docs/hazard-log.md`` (``make docs``).

Each :class:`Hazard` names its causes, the controls in Kairos (the ``Param`` keys, functions and the tests
that prove each control, as ``path::test_function``) and the residual risk. The initial and residual
ratings use the DCB0129 risk matrix (severity × likelihood → 1 acceptable … 5 unacceptable); they are the
developers' proposal and must be reviewed by the clinic's Clinical Safety Officer.

:data:`REVIEWED_DEFAULTS` is the reviewed default of every directional safety param (``Param.safer`` set):
``"<rule set>.<key>": (value, hazard id)``. ``tests/clinical/test_hazard_log.py`` fails when a shipped
default has moved in the less safe direction from its reviewed value (a move in the safer direction
passes); such a change needs the reviewed value updated here, with its hazard entry, in the same change.
:data:`NON_DIRECTIONAL` lists the numeric params of the safety rule sets that have no safer direction, each
with the reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kairos.clinical.config import Param, RuleSet

DEFAULT_PATH = Path("docs/hazard-log.md")
REGENERATE = "python -m kairos.clinical.hazards"

#: rule sets whose numeric params must each state a safer direction or be listed in NON_DIRECTIONAL
SAFETY_RULE_SETS = ("safety", "dosing", "rems", "alerts", "safety_reporting")

SEVERITIES = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOODS = ("very low", "low", "medium", "high", "very high")
#: DCB0129 risk matrix: likelihood -> risk rating for each severity (minor … catastrophic)
RISK_MATRIX: dict[str, tuple[int, ...]] = {
    "very high": (3, 4, 4, 5, 5),
    "high": (2, 3, 3, 4, 5),
    "medium": (2, 2, 3, 3, 4),
    "low": (1, 2, 2, 3, 4),
    "very low": (1, 1, 2, 2, 3),
}
RISK_MEANING = {
    1: "acceptable",
    2: "acceptable where further mitigation is impractical",
    3: "undesirable: needs further controls or a documented justification",
    4: "mandatory elimination or further controls",
    5: "unacceptable",
}


def risk(severity: str, likelihood: str) -> int:
    """The DCB0129 rating of ``severity`` at ``likelihood``; ``ValueError`` naming the allowed words."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity: {severity!r} is not one of {', '.join(SEVERITIES)}")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood: {likelihood!r} is not one of {', '.join(LIKELIHOODS)}")
    return RISK_MATRIX[likelihood][SEVERITIES.index(severity)]


@dataclass(frozen=True, slots=True)
class Control:
    """One control: what it does, the params and functions that implement it, the tests that prove it."""

    text: str
    params: tuple[str, ...] = ()  # "<rule set>.<key>"
    functions: tuple[str, ...] = ()  # dotted: module.function or module.Class.method
    tests: tuple[str, ...] = ()  # "path::test_function"


@dataclass(frozen=True, slots=True)
class Hazard:
    id: str
    title: str
    harm: str
    causes: tuple[str, ...]
    controls: tuple[Control, ...]
    residual: str
    severity: str
    initial_likelihood: str
    residual_likelihood: str

    @property
    def initial_risk(self) -> int:
        return risk(self.severity, self.initial_likelihood)

    @property
    def residual_risk(self) -> int:
        return risk(self.severity, self.residual_likelihood)


_TC = "tests/clinical"
_DT = "src/kairos/dosing/tests"
_MT = "src/kairos/measures/tests"

HAZARDS: tuple[Hazard, ...] = (
    Hazard(
        "HAZ-01",
        "Wrong dose",
        "Overdose (deep sedation, respiratory depression, hypertension) or underdose (no benefit) of "
        "ketamine or esketamine.",
        (
            "Weight not measured at the session, stale or mistyped; wrong weight basis.",
            "Salt / free-base confusion; a 100 mg/mL vial given undiluted.",
            "mg/kg, cap or device count wrong; a dose override above the protocol ceiling.",
            "Esketamine devices given closer together than the label's spacing.",
        ),
        (
            Control(
                "The dose is computed from the weight measured at the session (mg/kg, titration, caps) in "
                "free base, with the weight basis and height recency checked.",
                (
                    "dosing.iv-racemic.mg_per_kg",
                    "dosing.iv-racemic.max_dose_mg",
                    "dosing.weight.max_age_days",
                ),
                ("kairos.clinical.dosing.compute_dose", "kairos.clinical.dosing.basis_weight"),
                (
                    f"{_TC}/test_dosing.py::test_iv_half_mg_per_kg",
                    f"{_TC}/test_dosing.py::test_absolute_cap",
                    f"{_TC}/test_dosing.py::test_weight_must_be_measured_at_session",
                    f"{_TC}/test_dosing.py::test_dose_monotone_in_weight_up_to_cap",
                    f"{_TC}/test_dose_ceilings.py::test_height_recency",
                ),
            ),
            Control(
                "IV admixture never undiluted; the concentration and pump rate are computed.",
                ("dosing.iv.max_final_mg_ml", "dosing.iv.undiluted_forbidden_mg_ml"),
                ("kairos.clinical.dosing.iv_admixture", "kairos.clinical.dosing.check_iv_concentration"),
                (
                    f"{_TC}/test_dosing.py::test_undiluted_100_mg_ml_is_a_hard_stop",
                    f"{_TC}/test_dosing.py::test_admixture_rate_times_time_equals_dose",
                    f"{_DT}/test_gates.py::test_iv_admixture_never_undiluted",
                ),
            ),
            Control(
                "Overrides stay inside a hard ceiling per route and drug; above the soft ceiling a second "
                "prescriber co-signs.",
                ("dosing.iv-racemic.hard_ceiling_mg_per_kg", "dosing.esketamine.hard_max_mg"),
                ("kairos.clinical.dosing.dose_ceilings", "kairos.clinical.dosing.check_override"),
                (
                    f"{_TC}/test_dose_ceilings.py::test_iv_override_above_the_hard_ceiling_is_refused_naming_it",
                    f"{_TC}/test_dose_ceilings.py::test_esketamine_override_above_84_is_refused",
                    f"{_DT}/test_dose_ceiling.py::test_over_the_soft_ceiling_without_cosign_administration_is_refused",
                    f"{_DT}/test_dose_ceiling.py::test_cosign_by_the_same_prescriber_is_refused_and_a_nurse_cannot",
                ),
            ),
            Control(
                "Esketamine device count and spacing checked.",
                ("dosing.esketamine.device_spacing_min",),
                ("kairos.clinical.dosing.device_plan", "kairos.clinical.dosing.check_device_spacing"),
                (
                    f"{_TC}/test_dosing.py::test_device_count_and_spacing",
                    f"{_TC}/test_dosing.py::test_device_spacing_violation_and_bad_count",
                ),
            ),
        ),
        "A correctly entered but wrong weight, or a clinically wrong prescriber decision inside the "
        "ceilings, is not detected; the prescriber's verification and the nurse's check remain the control.",
        "major",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-02",
        "Missed respiratory depression",
        "Hypoxia from respiratory depression (a named REMS concern) not recognised in time.",
        (
            "SpO₂ not measured or measured too rarely; a single low reading taken as an artefact.",
            "Respiratory rate recorded but not judged.",
            "No pulse oximeter on site.",
        ),
        (
            Control(
                "SpO₂ below the alarm threshold on consecutive checks holds before dosing and escalates in "
                "session; a low single check asks for a re-check.",
                ("safety.spo2.alarm_below", "safety.spo2.alarm_consecutive"),
                (
                    "kairos.clinical.safety.vitals.spo2_findings",
                    "kairos.clinical.safety.monitoring.evaluate_reading",
                ),
                (
                    f"{_TC}/test_safety_predose.py::test_spo2_two_consecutive",
                    f"{_TC}/test_safety_monitoring.py::test_spo2_two_consecutive_escalates_single_cautions",
                    f"{_DT}/test_journey.py::test_spo2_alarm_and_crisis_escalate",
                ),
            ),
            Control(
                "One SpO₂ below the single-reading floor holds before dosing and escalates in session; a "
                "respiratory rate outside its bands is a caution or a hold (escalate in session).",
                (
                    "safety.spo2.hold_below",
                    "safety.rr.hold_below",
                    "safety.rr.caution_below",
                    "safety.rr.caution_above",
                    "safety.rr.hold_above",
                ),
                (
                    "kairos.clinical.safety.vitals.spo2_floor_findings",
                    "kairos.clinical.safety.vitals.resp_rate_findings",
                    "kairos.clinical.safety.vitals.judged_findings",
                ),
                (
                    f"{_TC}/test_safety_vitals_judged.py::test_reproduced_predose_hr_160_rr_4_holds",
                    f"{_TC}/test_safety_vitals_judged.py::test_reproduced_in_session_rr_5_hr_35_escalates",
                    f"{_TC}/test_safety_vitals_judged.py::test_reproduced_single_spo2_80_to_82_holds_pre_dose_and_escalates_in_session",
                    f"{_TC}/test_safety_vitals_judged.py::test_respiratory_rate_bands",
                    f"{_TC}/test_safety_vitals_judged.py::test_spo2_floor_boundary",
                    f"{_DT}/test_vitals_judged.py::test_in_session_rr_5_hr_35_escalates",
                    f"{_DT}/test_vitals_judged.py::test_in_session_single_low_spo2_escalates",
                    f"{_TC}/test_cli_gate.py::test_in_session_rr_5_with_hr_35_escalates",
                    f"{_TC}/test_cli_gate.py::test_single_spo2_81_holds_predose",
                ),
            ),
            Control(
                "Readings are due on a schedule per route (esketamine pre-dose, 40 min and before "
                "discharge; IV every 10 min during and every 15 min after).",
                ("safety.monitor.iv_during_every_min", "safety.monitor.iv_after_every_min"),
                ("kairos.clinical.safety.monitoring.monitoring_schedule",),
                (
                    f"{_TC}/test_safety_monitoring.py::test_esketamine_pre_40_and_before_discharge",
                    f"{_TC}/test_safety_monitoring.py::test_iv_every_10_during_and_every_15_after",
                ),
            ),
            Control(
                "No pulse oximeter on site is a REMS hard stop for esketamine.",
                (),
                ("kairos.clinical.safety.rems.rems_hard_stops",),
                (f"{_TC}/test_rems.py::test_hard_stops",),
            ),
        ),
        "Readings between scheduled checks are not captured (no device integration); a nurse's clinical "
        "observation between readings remains the control. The single-reading SpO₂ floor and the "
        "respiratory-rate bands are clinic-protocol values (⚠ unconfirmed).",
        "catastrophic",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-03",
        "Hypertensive crisis or cardiovascular instability missed",
        "Stroke, myocardial ischaemia or hypertensive encephalopathy after dosing on a high or rising BP.",
        (
            "High pre-dose BP dosed without a decision; esketamine has no hold in the label.",
            "A significant in-session rise not re-measured or escalated.",
            "Crisis symptoms ignored because the numbers looked acceptable.",
        ),
        (
            Control(
                "Pre-dose BP above the label guide is a caution that needs a prescriber's decision; above "
                "the clinic hold threshold a hold (confirmed on a re-check).",
                (
                    "safety.bp.caution_sbp",
                    "safety.bp.caution_dbp",
                    "safety.bp.hold_sbp",
                    "safety.bp.hold_dbp",
                    "safety.bp.hold_single_sbp",
                    "safety.bp.hold_single_dbp",
                ),
                (
                    "kairos.clinical.safety.predose.predose_gate",
                    "kairos.clinical.safety.vitals.bp_hold_findings",
                ),
                (
                    f"{_TC}/test_safety_predose.py::test_bp_table",
                    f"{_TC}/test_safety_predose.py::test_gate_outcome_monotone_in_bp",
                    f"{_DT}/test_gates.py::test_bp_hold_without_and_with_override",
                ),
            ),
            Control(
                "Hypertensive-crisis BP (≥180 and/or ≥120 mmHg, ACC/AHA 2017) holds before dosing on every "
                "route and, in session, means stop further devices / the infusion and escalate; heart rate "
                "outside its bands is a caution or a hold (escalate in session).",
                (
                    "safety.bp.crisis_sbp",
                    "safety.bp.crisis_dbp",
                    "safety.hr.brady_hold_below",
                    "safety.hr.brady_caution_below",
                    "safety.hr.tachy_caution_above",
                    "safety.hr.tachy_hold_above",
                ),
                (
                    "kairos.clinical.safety.vitals.bp_crisis_findings",
                    "kairos.clinical.safety.vitals.heart_rate_findings",
                ),
                (
                    f"{_TC}/test_safety_vitals_judged.py::test_reproduced_esketamine_220_130_pre_dose_holds",
                    f"{_TC}/test_safety_vitals_judged.py::test_reproduced_esketamine_230_130_in_session_escalates_and_stops_further_devices",
                    f"{_TC}/test_safety_vitals_judged.py::test_crisis_boundaries_every_route",
                    f"{_TC}/test_safety_vitals_judged.py::test_heart_rate_bands",
                    f"{_DT}/test_vitals_judged.py::test_checkin_esketamine_crisis_boundary",
                    f"{_DT}/test_vitals_judged.py::test_in_session_230_130_escalates_and_stops_further_devices",
                    f"{_TC}/test_cli_gate.py::test_esketamine_predose_crisis_level_holds",
                    f"{_TC}/test_cli_gate.py::test_in_session_crisis_level_escalates",
                ),
            ),
            Control(
                "A significant rise from pre-dose is flagged in session (named definition "
                "significant_bp_rise) and holds discharge until it settles; the dashboard counts rises in "
                "the first 90 min.",
                ("safety.bp.rise_sbp", "safety.bp.rise_dbp", "safety_reporting.bp_rise.window_min"),
                (
                    "kairos.clinical.definitions.significant_bp_rise",
                    "kairos.clinical.definitions.bp_rise_within_window",
                    "kairos.clinical.safety.vitals.bp_rise_findings",
                ),
                (
                    f"{_TC}/test_safety_monitoring.py::test_significant_rise",
                    f"{_TC}/test_definitions.py::test_significant_bp_rise_boundaries",
                    f"{_TC}/test_definitions.py::test_monitoring_rise_and_named_definition_agree",
                    f"{_TC}/test_cli_gate.py::test_monitoring_bp_rise_boundary",
                ),
            ),
            Control(
                "Crisis or encephalopathy symptoms escalate whatever the numbers.",
                (),
                ("kairos.clinical.safety.vitals.crisis_findings",),
                (
                    f"{_TC}/test_safety_predose.py::test_crisis_symptoms_escalate_whatever_the_numbers",
                    f"{_TC}/test_safety_monitoring.py::test_crisis_symptoms_escalate",
                    f"{_TC}/test_cli_gate.py::test_worst_finding_decides_escalate_over_hold",
                ),
            ),
        ),
        "A prescriber may proceed on a caution with a recorded reason; BP is sampled, not continuous; the "
        "heart-rate bands are clinic-protocol values (⚠ unconfirmed).",
        "catastrophic",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-04",
        "Missed suicide risk",
        "A patient reporting suicidal thoughts is not reviewed the same day.",
        (
            "A low total score hides a positive suicide item.",
            "A blank suicide item read as 'no'.",
            "C-SSRS screener with blank items given a severity of 'none'.",
        ),
        (
            Control(
                "Item alerts fire on the item value alone; a blank safety item raises its own alert.",
                (
                    "alerts.phq9_item9.min_value",
                    "alerts.qids_item12.min_value",
                    "alerts.madrs_item10.min_value",
                    "alerts.hamd_item3.min_value",
                ),
                ("kairos.clinical.rules.alerts.evaluate_alerts",),
                (
                    f"{_TC}/test_alerts.py::test_phq9_item9_alert_with_minimal_total",
                    f"{_TC}/test_alerts.py::test_blank_safety_item_alerts",
                    f"{_TC}/test_alerts.py::test_qids_alert_survives_unscored_total",
                    f"{_MT}/test_alerts.py::test_low_total_does_not_suppress_item9_alert_task_goes_to_prescriber",
                ),
            ),
            Control(
                "C-SSRS blank items are 'not assessed' (no severity) and an answered 'yes' keeps its alert.",
                (),
                (),
                (
                    f"{_TC}/test_scoring_defects.py::test_cssrs_all_blank_is_not_assessed_not_none",
                    f"{_TC}/test_scoring_defects.py::test_cssrs_item2_yes_with_3_to_5_blank_is_not_assessed_alert_kept",
                ),
            ),
            Control(
                "A patient answering item 9 positively on a link sees crisis resources at once.",
                (),
                (),
                (f"{_MT}/test_links.py::test_item9_positive_shows_crisis_resources_immediately",),
            ),
        ),
        "Kairos only sees what is answered; risk expressed outside the instruments is the clinician's to "
        "assess. Thresholds at 'any positive answer' leave little room for a less safe default.",
        "catastrophic",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-05",
        "Wrong patient",
        "A dose, reading or score recorded against, or shown for, the wrong patient or another clinic's "
        "patient.",
        (
            "Looking a record up by id without the clinic scope.",
            "Another patient's REMS enrolment counted for this one.",
        ),
        (
            Control(
                "Every read and write is scoped to the user's clinics; another clinic's record answers 404 "
                "with no data.",
                (),
                ("kairos.core.clinics.get_in_clinic", "kairos.core.clinics.scoped"),
                (
                    f"{_DT}/test_gates.py::test_scoping_other_clinic_is_404",
                    "src/kairos/api/tests/test_patients_api.py::test_get_one_foreign_clinic_is_404_with_no_data",
                    "src/kairos/access/tests/test_permission_matrix.py::test_foreign_clinic_sees_nothing",
                ),
            ),
            Control(
                "REMS enrolment is looked up for this patient only.",
                (),
                (),
                (f"{_DT}/test_rems_lookup.py::test_another_patients_enrolment_does_not_count",),
            ),
        ),
        "Selecting the wrong patient within the same clinic (two similar names) is not detected by the "
        "software; identity checks at check-in remain a clinic procedure.",
        "major",
        "low",
        "low",
    ),
    Hazard(
        "HAZ-06",
        "Lost alert",
        "A safety alert is raised but nobody sees it.",
        (
            "The notification e-mail fails.",
            "The worker is killed between storing the response and notifying.",
        ),
        (
            Control(
                "Alert rows are written in the same transaction as the response; the board shows them "
                "whatever happens to the e-mail; a re-run notifies once.",
                (),
                ("kairos.measures.tasks.deliver_alert_notification", "kairos.measures.tasks.notify_alert"),
                (
                    f"{_MT}/test_alerts.py::test_alert_rows_are_written_with_the_response",
                    f"{_MT}/test_alerts.py::test_email_failure_keeps_alert_and_board",
                    f"{_MT}/test_alerts.py::test_killed_worker_alert_survives_and_rerun_notifies_once",
                    f"{_MT}/test_alerts.py::test_alert_board_shows_and_acknowledge_requires_action",
                ),
            ),
        ),
        "An alert board nobody opens: the clinic must staff the review (same-day policy).",
        "catastrophic",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-07",
        "Missed or under-reported sedation and dissociation",
        "A sedated or dissociated patient is discharged, or the REMS form and the outcomes dashboard "
        "under-report sedation and dissociation.",
        (
            "One word for two definitions (REMS 'sedation' MOAA/S < 5 vs dashboard MOAA/S ≤ 3).",
            "Dissociation judged against pre-dose on one page and against zero on another.",
        ),
        (
            Control(
                "Each term is defined once and named (kairos.clinical.definitions); the REMS form, the "
                "dosing selector and the dashboard call the named definition and label it.",
                (
                    "rems.pmf.sedation_moaas_below",
                    "rems.pmf.dissociation_cadss_above",
                    "safety_reporting.sedation.moaas_max",
                    "safety_reporting.loss_of_consciousness.moaas_max",
                ),
                (
                    "kairos.clinical.definitions.rems_sedation",
                    "kairos.clinical.definitions.significant_sedation",
                    "kairos.clinical.definitions.rems_dissociation",
                    "kairos.clinical.definitions.dissociation_above_predose",
                ),
                (
                    f"{_TC}/test_definitions.py::test_rems_sedation_is_any_moaas_below_5",
                    f"{_TC}/test_definitions.py::test_significant_sedation_is_moaas_at_most_3",
                    f"{_TC}/test_definitions.py::test_rems_dissociation_is_any_cadss_above_0",
                    f"{_TC}/test_definitions.py::test_dissociation_above_predose_compares_with_the_predose_total",
                    f"{_TC}/test_definitions.py::test_dashboard_session_flags_use_the_dashboard_definitions",
                    f"{_TC}/test_rems.py::test_form_names_the_definitions_behind_sedation_and_dissociation",
                ),
            ),
            Control(
                "Discharge needs MOAA/S 5 and dissociation recorded as resolved; MOAA/S 0 raises an alert.",
                ("safety.discharge.moaas_required", "alerts.moaas_loss_of_consciousness.max_value"),
                ("kairos.clinical.safety.discharge.discharge_readiness",),
                (
                    f"{_TC}/test_safety_discharge.py::test_each_unmet_criterion_named",
                    f"{_TC}/test_alerts.py::test_moaas_and_bladder_alerts",
                    f"{_TC}/test_cli_gate.py::test_discharge_moaas_boundary",
                ),
            ),
        ),
        "MOAA/S and CADSS-6 are observer ratings taken at intervals; the sedation and dissociation cut-offs "
        "of the dashboard and the form's reading are clinic definitions (⚠ unconfirmed).",
        "major",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-08",
        "Undecided caution",
        "Dosing goes ahead on a caution (e.g. BP above the label guide) without anyone deciding it should.",
        ("A caution moved the session on without a recorded decision; a direct POST skipped the form.",),
        (
            Control(
                "Every caution needs the prescriber's recorded decision (proceed / delay / cancel with a "
                "reason) before the order; it is shown on the flowsheet, the note and the REMS form.",
                (),
                (
                    "kairos.dosing.services.checkin.decide_cautions",
                    "kairos.dosing.services.orders.order_dose",
                ),
                (
                    f"{_DT}/test_caution_decision.py::test_order_without_a_decision_is_refused_naming_the_caution",
                    f"{_DT}/test_caution_decision.py::test_direct_post_to_the_order_endpoint_without_a_decision_is_400_naming_the_caution",
                    f"{_DT}/test_caution_decision.py::test_a_nurse_cannot_decide",
                    f"{_DT}/test_caution_decision.py::test_a_recheck_needs_a_new_decision",
                ),
            ),
        ),
        "A decision to proceed may be clinically wrong; it is attributable and audited.",
        "major",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-09",
        "Unbounded override",
        "A threshold or dose override moves a safety limit beyond any defensible value.",
        (
            "A clinic override outside the param's range; an unsigned or anonymous change.",
            "A dose override with a reason bypassing every cap.",
        ),
        (
            Control(
                "Clinic overrides are validated against each Param's allowed range, signed by a named "
                "prescriber with a reason, versioned and audited.",
                (),
                ("kairos.clinical.config.Param.validate", "kairos.rulesets.services.set_override"),
                (
                    f"{_TC}/test_config.py::test_override_outside_range_names_key_and_range",
                    "src/kairos/rulesets/tests/test_services.py::test_values_outside_the_allowed_range_are_refused_naming_param_and_range",
                    "src/kairos/rulesets/tests/test_services.py::test_only_a_prescriber_of_the_clinic_signs",
                    "src/kairos/rulesets/tests/test_services.py::test_each_signing_is_audited_with_old_and_new_values",
                ),
            ),
            Control(
                "Dose overrides are bounded by the hard ceiling (HAZ-01); a clinic cannot raise the ceiling "
                "past its bound.",
                (),
                ("kairos.clinical.dosing.check_override",),
                (
                    f"{_TC}/test_dose_ceilings.py::test_a_clinic_cannot_raise_the_hard_ceiling_beyond_its_bound",
                ),
            ),
            Control(
                "A shipped default moved in the less safe direction fails the build unless its reviewed "
                "value here is updated with it.",
                (),
                ("kairos.clinical.hazards.less_safe_changes",),
                (f"{_TC}/test_hazard_log.py::test_no_safety_default_moved_in_the_less_safe_direction",),
            ),
        ),
        "A prescriber may set any value inside the allowed range; the ranges themselves are developer "
        "proposals for clinic review.",
        "major",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-10",
        "Premature discharge",
        "A patient leaves before the observation period or with vital signs, alertness or escort not "
        "restored.",
        (
            "Discharge judged on an old reading; only the rise from pre-dose checked.",
            "Observation period counted from the wrong time (IV: from the end of the infusion).",
        ),
        (
            Control(
                "Minimum observation (esketamine 2 h from the first device; IV after the infusion ends), "
                "vitals, MOAA/S, dissociation and escort each named when unmet.",
                (
                    "safety.discharge.esketamine_min_obs_min",
                    "safety.discharge.iv_min_after_end_min",
                    "safety.discharge.moaas_required",
                ),
                ("kairos.clinical.safety.discharge.discharge_readiness",),
                (
                    f"{_TC}/test_safety_discharge.py::test_earliest_is_two_hours_from_first_device",
                    f"{_TC}/test_safety_discharge.py::test_iv_counts_from_infusion_end",
                    f"{_TC}/test_safety_discharge.py::test_every_unmet_listed_at_once",
                    f"{_TC}/test_cli_gate.py::test_discharge_not_ready_is_hold_esketamine_two_hours",
                    f"{_TC}/test_cli_gate.py::test_discharge_iv_counts_from_the_end_of_the_infusion",
                ),
            ),
            Control(
                "Discharge needs a reading within the window before it (default 15 min) with BP, heart "
                "rate, respiratory rate and SpO₂ inside absolute limits, and says which criterion is unmet.",
                (
                    "safety.discharge.reading_max_age_min",
                    "safety.discharge.sbp_max",
                    "safety.discharge.dbp_max",
                    "safety.discharge.hr_min",
                    "safety.discharge.hr_max",
                    "safety.discharge.rr_min",
                    "safety.discharge.rr_max",
                    "safety.discharge.spo2_min",
                ),
                (
                    "kairos.clinical.safety.discharge.discharge_readiness",
                    "kairos.dosing.services.discharge.mark_ready",
                ),
                (
                    f"{_TC}/test_safety_discharge_recent.py::test_reproduced_185_108_is_not_ready_without_a_baseline",
                    f"{_TC}/test_safety_discharge_recent.py::test_reproduced_vitals_at_41_min_do_not_satisfy_a_discharge_at_200_min",
                    f"{_TC}/test_safety_discharge_recent.py::test_reading_window_boundary",
                    f"{_TC}/test_safety_discharge_recent.py::test_absolute_limits",
                    f"{_DT}/test_discharge_recent_reading.py::test_reproduced_185_108_refused_naming_the_limit",
                    f"{_DT}/test_discharge_recent_reading.py::test_mark_ready_refuses_a_stale_reading",
                    f"{_TC}/test_cli_gate.py::test_discharge_185_108_is_not_ready",
                ),
            ),
        ),
        "The patient may leave against advice; Kairos records it but cannot stop it.",
        "major",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-11",
        "Contraindicated or ineligible patient dosed",
        "Dosing a patient with an aneurysmal vascular disease, intracerebral haemorrhage, psychosis, "
        "pregnancy or an interacting medicine without a decision.",
        ("Contraindications or interacting medicines not checked before the course or the session.",),
        (
            Control(
                "Absolute contraindications are hard stops, relative ones cautions; interacting medicine "
                "classes named.",
                (),
                ("kairos.clinical.safety.eligibility.assess_eligibility",),
                (
                    f"{_TC}/test_safety_eligibility.py::test_absolute_contraindications_hard_stop",
                    f"{_TC}/test_safety_eligibility.py::test_relative_contraindications_caution",
                    f"{_TC}/test_safety_eligibility.py::test_interactions_by_name_and_class",
                ),
            ),
            Control(
                "AUDIT-C screens use the sex-specific cut-offs (the lower one when sex is not recorded).",
                (
                    "instruments.audit_c.positive_screen_min_total_men",
                    "instruments.audit_c.positive_screen_min_total_women",
                ),
                (),
                (f"{_TC}/test_scoring_defects.py::test_audit_c_boundaries_by_sex",),
            ),
        ),
        "Conditions not recorded in Kairos cannot be checked; history taking remains the control.",
        "major",
        "low",
        "low",
    ),
    Hazard(
        "HAZ-12",
        "REMS requirement missed",
        "Esketamine given outside the REMS (uncertified setting, unenrolled patient, no prescriber on "
        "site) or the Patient Monitoring Form not filed on time.",
        ("Certification or enrolment not checked at the session; the form's 7-day clock not tracked.",),
        (
            Control(
                "REMS conditions are hard stops before an esketamine dose; the form is assembled from the "
                "record with its due date and required fields.",
                ("rems.pmf.due_days", "rems.pmf.min_monitoring_min"),
                (
                    "kairos.clinical.safety.rems.rems_hard_stops",
                    "kairos.clinical.safety.rems.build_monitoring_form",
                    "kairos.clinical.safety.rems.form_state",
                ),
                (
                    f"{_TC}/test_rems.py::test_hard_stops",
                    f"{_TC}/test_rems.py::test_missing_fields_listed",
                    f"{_TC}/test_rems.py::test_form_state",
                    f"{_DT}/test_gates.py::test_rems_hard_stops_hold_and_cannot_be_overridden",
                ),
            ),
        ),
        "Submission to the REMS itself happens outside Kairos; the confirmation number is recorded by hand.",
        "significant",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-13",
        "Vomiting and aspiration",
        "Nausea and vomiting after esketamine in a patient who ate or drank shortly before.",
        ("Time of the last food or liquid not asked or not compared with the dose time.",),
        (
            Control(
                "Fasting times are checked before esketamine (food ≥ 2 h, liquids ≥ 30 min) and a "
                "missing time is a caution.",
                ("safety.fasting.food_min", "safety.fasting.liquid_min"),
                ("kairos.clinical.safety.predose.predose_gate",),
                (
                    f"{_TC}/test_safety_predose.py::test_fasting_esketamine_two_hours_food_thirty_minutes_liquids",
                    f"{_TC}/test_safety_predose.py::test_fasting_not_recorded_and_not_checked_for_iv",
                    f"{_TC}/test_cli_gate.py::test_fasting_is_judged_when_given",
                ),
            ),
        ),
        "Fasting for IV routes is not in the reference; the clinic decides.",
        "significant",
        "medium",
        "low",
    ),
    Hazard(
        "HAZ-14",
        "Clinical record altered or unattributed",
        "A dose, reading or decision changed after the fact, or no record of who did it.",
        ("Direct database edits; deleted or rewritten audit rows.",),
        (
            Control(
                "Every PHI read and write is audited in a hash-chained, signed trail; clinical rows are "
                "append-only.",
                (),
                ("kairos.audit.services.record",),
                (
                    "src/kairos/audit/tests/test_tamper_evidence.py::test_plain_tampering_names_the_row",
                    "src/kairos/audit/tests/test_tamper_evidence.py::test_deleting_a_middle_row_and_rehashing_fails_against_the_key_and_the_checkpoint",
                    f"{_DT}/test_journey.py::test_readings_are_append_only",
                    f"{_DT}/test_journey.py::test_amendment_is_a_new_version_never_an_edit",
                ),
            ),
        ),
        "A database superuser can still alter rows; the checkpoint detects it afterwards, it does not "
        "prevent it.",
        "considerable",
        "low",
        "very low",
    ),
)

#: reviewed default of every directional safety param: "<rule set>.<key>" -> (value, hazard id)
REVIEWED_DEFAULTS: dict[str, tuple[float, str]] = {
    "alerts.hamd_item3.min_value": (1, "HAZ-04"),
    "alerts.madrs_item10.min_value": (4, "HAZ-04"),
    "alerts.moaas_loss_of_consciousness.max_value": (0, "HAZ-07"),
    "alerts.phq9_item9.min_value": (1, "HAZ-04"),
    "alerts.qids_item12.min_value": (1, "HAZ-04"),
    "dosing.dose.rounding_mg": (0.1, "HAZ-01"),
    "dosing.esketamine-mdsi.start_mg": (84, "HAZ-01"),
    "dosing.esketamine-trd.start_mg": (56, "HAZ-01"),
    "dosing.esketamine.device_spacing_min": (5, "HAZ-01"),
    "dosing.esketamine.geriatric_age_years": (65, "HAZ-01"),
    "dosing.esketamine.hard_max_mg": (84, "HAZ-01"),
    "dosing.height.max_age_days": (365, "HAZ-01"),
    "dosing.im-racemic.ceiling_mg_per_kg": (0.5, "HAZ-01"),
    "dosing.im-racemic.hard_ceiling_mg_per_kg": (1.5, "HAZ-01"),
    "dosing.im-racemic.hard_max_dose_mg": (150.0, "HAZ-01"),
    "dosing.im-racemic.max_dose_mg": (100.0, "HAZ-01"),
    "dosing.im-racemic.mg_per_kg": (0.5, "HAZ-01"),
    "dosing.im-racemic.titration_step_mg_per_kg": (0.05, "HAZ-01"),
    "dosing.iv-racemic.ceiling_mg_per_kg": (0.75, "HAZ-01"),
    "dosing.iv-racemic.hard_ceiling_mg_per_kg": (1.0, "HAZ-01"),
    "dosing.iv-racemic.hard_max_dose_mg": (150.0, "HAZ-01"),
    "dosing.iv-racemic.infusion_min": (40, "HAZ-01"),
    "dosing.iv-racemic.max_dose_mg": (100.0, "HAZ-01"),
    "dosing.iv-racemic.mg_per_kg": (0.5, "HAZ-01"),
    "dosing.iv-racemic.titration_step_mg_per_kg": (0.1, "HAZ-01"),
    "dosing.iv.max_final_mg_ml": (50.0, "HAZ-01"),
    "dosing.iv.pump_resolution_ml_h": (0.1, "HAZ-01"),
    "dosing.iv.total_volume_ml": (100.0, "HAZ-01"),
    "dosing.iv.undiluted_forbidden_mg_ml": (100, "HAZ-01"),
    "dosing.iv.vial_mg_ml": (10, "HAZ-01"),
    "dosing.sublingual-kap.dose_mg": (100.0, "HAZ-01"),
    "dosing.sublingual-kap.hard_max_mg": (300.0, "HAZ-01"),
    "dosing.weight.max_age_days": (0, "HAZ-01"),
    "instruments.audit_c.positive_screen_min_total_men": (4, "HAZ-11"),
    "instruments.audit_c.positive_screen_min_total_women": (3, "HAZ-11"),
    "rems.pmf.dissociation_cadss_above": (0, "HAZ-07"),
    "rems.pmf.due_days": (7, "HAZ-12"),
    "rems.pmf.min_monitoring_min": (120, "HAZ-12"),
    "rems.pmf.sedation_moaas_below": (5, "HAZ-07"),
    "safety.bp.caution_dbp": (90, "HAZ-03"),
    "safety.bp.caution_sbp": (140, "HAZ-03"),
    "safety.bp.crisis_dbp": (120, "HAZ-03"),
    "safety.bp.crisis_sbp": (180, "HAZ-03"),
    "safety.bp.hold_confirm_gap_min": (5, "HAZ-03"),
    "safety.bp.hold_dbp": (110, "HAZ-03"),
    "safety.bp.hold_sbp": (180, "HAZ-03"),
    "safety.bp.hold_single_dbp": (120, "HAZ-03"),
    "safety.bp.hold_single_sbp": (200, "HAZ-03"),
    "safety.bp.rise_dbp": (25, "HAZ-03"),
    "safety.bp.rise_sbp": (40, "HAZ-03"),
    "safety.discharge.dbp_max": (100, "HAZ-10"),
    "safety.discharge.esketamine_min_obs_min": (120, "HAZ-10"),
    "safety.discharge.hr_max": (110, "HAZ-10"),
    "safety.discharge.hr_min": (50, "HAZ-10"),
    "safety.discharge.iv_min_after_end_min": (30, "HAZ-10"),
    "safety.discharge.moaas_required": (5, "HAZ-07"),
    "safety.discharge.reading_max_age_min": (15, "HAZ-10"),
    "safety.discharge.rr_max": (24, "HAZ-10"),
    "safety.discharge.rr_min": (10, "HAZ-10"),
    "safety.discharge.sbp_max": (160, "HAZ-10"),
    "safety.discharge.spo2_min": (93, "HAZ-10"),
    "safety.eligibility.min_age_years": (18, "HAZ-11"),
    "safety.eligibility.suicidality_warning_max_age": (24, "HAZ-11"),
    "safety.fasting.food_min": (120, "HAZ-13"),
    "safety.fasting.liquid_min": (30, "HAZ-13"),
    "safety.hr.brady_caution_below": (50, "HAZ-03"),
    "safety.hr.brady_hold_below": (40, "HAZ-03"),
    "safety.hr.tachy_caution_above": (110, "HAZ-03"),
    "safety.hr.tachy_hold_above": (120, "HAZ-03"),
    "safety.monitor.im_every_min": (15, "HAZ-02"),
    "safety.monitor.im_total_min": (90, "HAZ-02"),
    "safety.monitor.iv_after_every_min": (15, "HAZ-02"),
    "safety.monitor.iv_after_total_min": (60, "HAZ-02"),
    "safety.monitor.iv_during_every_min": (10, "HAZ-02"),
    "safety.monitor.iv_infusion_min": (40, "HAZ-02"),
    "safety.monitor.slot_window_min": (5, "HAZ-02"),
    "safety.rr.caution_above": (24, "HAZ-02"),
    "safety.rr.caution_below": (10, "HAZ-02"),
    "safety.rr.hold_above": (30, "HAZ-02"),
    "safety.rr.hold_below": (8, "HAZ-02"),
    "safety.spo2.alarm_below": (93, "HAZ-02"),
    "safety.spo2.alarm_consecutive": (2, "HAZ-02"),
    "safety.spo2.hold_below": (90, "HAZ-02"),
    "safety_reporting.bp_rise.patient_days": (28, "HAZ-03"),
    "safety_reporting.bp_rise.window_min": (90, "HAZ-03"),
    "safety_reporting.loss_of_consciousness.moaas_max": (0, "HAZ-07"),
    "safety_reporting.sedation.moaas_max": (3, "HAZ-07"),
}

#: numeric params of the safety rule sets with no safer direction, and why
NON_DIRECTIONAL: dict[str, str] = {
    "dosing.abw.factor": "constant of the adjusted-body-weight formula, not a limit",
    "dosing.esketamine.device_mg": "product strength fixed by the label (28 mg per device)",
    "dosing.height.max_cm": "data-entry plausibility bound (refuses typing errors), not a clinical limit",
    "dosing.height.min_cm": "data-entry plausibility bound (refuses typing errors), not a clinical limit",
    "dosing.ibw.female_base_kg": "constant of the Devine ideal-body-weight formula",
    "dosing.ibw.kg_per_cm": "constant of the Devine ideal-body-weight formula",
    "dosing.ibw.male_base_kg": "constant of the Devine ideal-body-weight formula",
    "dosing.im.vial_mg_ml": "product strength of the stocked vial",
    "dosing.mw.ketamine_base": "physical constant (molar mass)",
    "dosing.mw.ketamine_hcl": "physical constant (molar mass)",
    "dosing.sublingual-kap.unit_strength_mg": "product strength of the stocked lozenge",
    "dosing.weight.max_kg": "data-entry plausibility bound (refuses typing errors), not a clinical limit",
    "dosing.weight.min_kg": "data-entry plausibility bound (refuses typing errors), not a clinical limit",
    "safety.monitor.esketamine_post_min": "time of the label's post-dose BP reading (the expected peak, about "
    "40 min): earlier or later both miss the peak",
}


# --- checks ------------------------------------------------------------------------------------------------


def qualified(rule_sets: Iterable[RuleSet]) -> dict[str, Param]:
    """Every param as ``"<rule set>.<key>" -> Param``."""
    return {f"{r.name}.{p.key}": p for r in rule_sets for p in r}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def directional(params: Mapping[str, Param]) -> dict[str, Param]:
    """The numeric params that state a safer direction."""
    return {k: p for k, p in params.items() if p.safer is not None and _number(p.value) is not None}


def less_safe_changes(
    params: Mapping[str, Param], reviewed: Mapping[str, tuple[float, str]] = REVIEWED_DEFAULTS
) -> list[str]:
    """One message per directional param whose default is less safe than its reviewed value, or that has
    no reviewed value at all (a new safety param needs its reviewed default and hazard)."""
    problems: list[str] = []
    for key, p in sorted(directional(params).items()):
        if key not in reviewed:
            problems.append(
                f"{key}: safety param (safer={p.safer}) has no reviewed default; add it with its hazard "
                "to kairos.clinical.hazards.REVIEWED_DEFAULTS"
            )
            continue
        was, current = float(reviewed[key][0]), _number(p.value)
        assert current is not None
        worse = current > was if p.safer == "lower" else current < was
        if worse:
            problems.append(
                f"{key}: default {current:g} {p.unit} is less safe than the reviewed {was:g} (safer is "
                f"{p.safer}); review hazard {reviewed[key][1]} and update REVIEWED_DEFAULTS with it"
            )
    return problems


# --- rendering ---------------------------------------------------------------------------------------------


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(items: Iterable[str]) -> str:
    return ", ".join(f"`{i}`" for i in items)


def render_hazard_log(params: Mapping[str, Param] | None = None) -> str:
    """The whole hazard log as Markdown."""
    if params is None:
        from kairos.clinical.rules import all_rule_sets

        params = qualified(all_rule_sets())
    out = [
        "# Clinical hazard log",
        "",
        f"Generated from `kairos.clinical.hazards` by `{REGENERATE}` (`make docs`); do not edit by hand.",
        "The shape of a DCB0129 clinical-safety case: each hazard, its causes, the controls in Kairos (the",
        "`Param` keys, functions and the tests that prove each control) and the residual risk. Ratings use the",
        "DCB0129 risk matrix below; they are the developers' proposal for the clinic's Clinical Safety",
        "Officer to review. `tests/clinical/test_hazard_log.py` checks that every test named here exists and",
        "that no safety default has moved in the less safe direction from its reviewed value.",
        "",
        "## Risk matrix",
        "",
        "Risk rating by likelihood and severity, the 5×5 matrix of the NHS DCB0129/DCB0160 guidance as",
        "commonly reproduced (⚠ confirm against the clinic's clinical-risk-management template).",
        "",
        "| Likelihood \\ severity | " + " | ".join(SEVERITIES) + " |",
        "|---|" + "---|" * len(SEVERITIES),
    ]
    out.extend(f"| {lk} | " + " | ".join(str(r) for r in RISK_MATRIX[lk]) + " |" for lk in LIKELIHOODS[::-1])
    out.append("")
    out.extend(f"- {n}: {meaning}" for n, meaning in RISK_MEANING.items())
    out.extend(
        [
            "",
            "## Summary",
            "",
            "| Id | Hazard | Severity | Initial risk | Residual risk |",
            "|---|---|---|---|---|",
        ]
    )
    for h in HAZARDS:
        out.append(
            f"| {h.id} | {_cell(h.title)} | {h.severity} | {h.initial_risk} ({h.initial_likelihood}) | "
            f"{h.residual_risk} ({h.residual_likelihood}) |"
        )
    out.append("")
    by_hazard: dict[str, list[str]] = {}
    for key, (_, hid) in REVIEWED_DEFAULTS.items():
        by_hazard.setdefault(hid, []).append(key)
    for h in HAZARDS:
        out.extend([f"## {h.id} {h.title}", "", f"**Harm.** {h.harm}", "", "**Causes.**", ""])
        out.extend(f"- {c}" for c in h.causes)
        out.extend(["", "**Controls.**", ""])
        for i, c in enumerate(h.controls, 1):
            out.append(f"{i}. {c.text}")
            if c.params:
                out.append(f"   - Params: {_code(c.params)}")
            if c.functions:
                out.append(f"   - Functions: {_code(c.functions)}")
            if c.tests:
                out.append(f"   - Tests: {_code(c.tests)}")
        if by_hazard.get(h.id):
            out.extend(["", f"**Reviewed safety defaults.** {_code(sorted(by_hazard[h.id]))}"])
        out.extend(
            [
                "",
                f"**Residual risk.** {h.residual} Rating {h.residual_risk} ({h.severity}, "
                f"{h.residual_likelihood}; initially {h.initial_risk}, {h.initial_likelihood}).",
                "",
            ]
        )
    out.extend(
        [
            "## Reviewed safety defaults",
            "",
            "Each directional safety param (`safer` set) with its reviewed default. A default moved in the",
            "safer direction passes; one moved in the less safe direction fails the build until the reviewed",
            "value is updated here with its hazard.",
            "",
            "| Param | Reviewed | Current default | Unit | Safer | Hazard |",
            "|---|---|---|---|---|---|",
        ]
    )
    for key, (value, hid) in sorted(REVIEWED_DEFAULTS.items()):
        p = params.get(key)
        current = "—" if p is None else _cell(p.value)
        unit = "" if p is None else _cell(p.unit)
        safer = "—" if p is None else str(p.safer)
        out.append(f"| `{key}` | {value:g} | {current} | {unit} | {safer} | {hid} |")
    out.append("")
    if NON_DIRECTIONAL:
        out.extend(
            [
                "## Numeric safety params without a safer direction",
                "",
                "| Param | Why no direction |",
                "|---|---|",
            ]
        )
        out.extend(f"| `{k}` | {_cell(why)} |" for k, why in sorted(NON_DIRECTIONAL.items()))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_hazard_log(), encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
