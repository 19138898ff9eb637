"""Spravato REMS rule set (outpatient healthcare settings).

``§`` references point at ``shared/reference/clinical.md``; ``S<n>`` at its source key.
"""

from __future__ import annotations

from kairos.clinical.config import Param, RuleSet, Status

_PARAMS = [
    Param(
        "pmf.due_days",
        7,
        "calendar days",
        "§1.3 item 6 S2 S3 S9; calendar days ◐ S32",
        Status.CONFIRMED,
        "Patient Monitoring Form due this many calendar days after the session (clinic time zone); "
        "the due date itself is the last day on time.",
        1,
        7,
        safer="lower",
    ),
    Param(
        "pmf.min_monitoring_min",
        120,
        "min",
        "§1.3 S1, §1.4 S2 (must be ≥2 h)",
        Status.CONFIRMED,
        "Minimum minutes from the first device to the end of monitoring recorded on the form.",
        120,
        480,
        safer="higher",
    ),
    Param(
        "pmf.dose_choices",
        (56, 84),
        "mg",
        "§1.4 S2 (56 mg / 84 mg / Other)",
        Status.CONFIRMED,
        "Doses the form lists by name; any other dose is reported as 'Other'.",
    ),
    Param(
        "pmf.required_fields",
        (
            "patient.first_name",
            "patient.last_name",
            "patient.date_of_birth",
            "patient.sex",
            "patient.first_treatment",
            "patient.enrolled",
            "concomitant.benzodiazepines",
            "concomitant.sedative_hypnotics",
            "concomitant.psychostimulants",
            "concomitant.maois",
            "hcp.first_name",
            "hcp.last_name",
            "hcp.phone",
            "hcp.email",
            "setting.name",
            "setting.address1",
            "setting.city",
            "setting.state",
            "setting.zip",
            "session.treatment_date",
            "session.dose",
            "session.lot_number",
            "duration.total_minutes",
            "duration.ready_to_leave_minutes",
            "vitals.acceptable_before",
            "vitals.acceptable_at_completion",
            "bp.pre_sbp",
            "bp.pre_dbp",
            "bp.post40_sbp",
            "bp.post40_dbp",
            "bp.completion_sbp",
            "bp.completion_dbp",
            "adverse.sedation",
            "adverse.dissociation",
        ),
        "field",
        "§1.4 fields S2; which are asterisked is not in the reference (⚠)",
        Status.UNCONFIRMED,
        "Form fields that must be filled before submission (middle initial, address 2 and the ◐ newer "
        "fields are optional by default).",
    ),
    Param(
        "pmf.post40_window_min",
        (30, 60),
        "min after the first device",
        "§1.4 S2 asks for the 40-min post-administration BP; the window that counts as '40 min' is not in "
        "the reference (⚠)",
        Status.UNCONFIRMED,
        "A post-dose BP reading in this window (the one closest to 40 min) fills the form's 40-minute BP.",
    ),
    Param(
        "pmf.sedation_moaas_below",
        5,
        "MOAA/S",
        "§1.4 S2 (sedation? on the form), §1.5/§3 MOAA/S 5 = awake (S4 §5.1); reading 'below 5' as sedation "
        "is not in the reference (⚠)",
        Status.UNCONFIRMED,
        "A post-dose MOAA/S below this value is reported as sedation on the form "
        "(kairos.clinical.definitions.rems_sedation).",
        1,
        5,
        safer="higher",
    ),
    Param(
        "pmf.dissociation_cadss_above",
        0,
        "CADSS-6 total",
        "§1.4 S2 (dissociation? on the form); CADSS-6 0–24 (§4.8, Rodrigues 2021); reading any post-dose "
        "total above 0 as dissociation is not in the reference (⚠)",
        Status.UNCONFIRMED,
        "A post-dose CADSS-6 total above this value is reported as dissociation on the form "
        "(kairos.clinical.definitions.rems_dissociation).",
        0,
        24,
        safer="lower",
    ),
]

RULES: RuleSet = RuleSet.of("rems", "Spravato REMS (outpatient setting)", _PARAMS)
