"""The authorization policy of Kairos: role × action, scoped to a clinic.

This is the only place that says who may do what. Views, API endpoints and selectors ask
:func:`can` / :func:`clinic_ids_for` / :func:`require`; none of them test roles directly.

Scope rule: every patient-scoped object belongs to one clinic. A user acts in a clinic through a
:class:`~kairos.accounts.models.Membership` (one role per clinic). An object in a clinic where the user
has no membership is invisible (404, never 403); a member whose role lacks the action gets 403.
Break-glass grants (:mod:`kairos.access.breakglass`) open one patient to a named user for a limited
time, with a reason, always audited and flagged to the clinic admin.
"""

from __future__ import annotations

import enum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kairos.core.actor import Viewer
from kairos.core.roles import Role


class Act(enum.StrEnum):
    # patients
    PATIENT_LIST = "patient.list"  # see names in the registry/schedule
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT = "patient.edit"
    CHART_VIEW = "chart.view"  # open the clinical chart (PHI)
    WEIGHT_RECORD = "weight.record"
    # audit and administration
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    CLINIC_ADMIN = "clinic.admin"
    BREAK_GLASS_REVIEW = "breakglass.review"
    # intake, eligibility, consent (treatment journey)
    INTAKE_VIEW = "intake.view"  # diagnoses, treatment history, medicines, baseline vitals (PHI)
    INTAKE_EDIT = "intake.edit"
    ELIGIBILITY_SIGN = "eligibility.sign"  # sign or amend the eligibility decision (prescriber)
    CONSENT_RECORD = "consent.record"  # record a patient's consent acceptance / REMS enrolment
    CONSENT_MANAGE = "consent.manage"  # publish consent document versions
    # courses, scheduling, today's board
    COURSE_PLAN = "course.plan"  # choose a protocol, generate and change the dated plan (prescriber)
    SCHEDULE_VIEW = "schedule.view"  # see appointments (front desk too; no clinical notes)
    SCHEDULE_BOOK = "schedule.book"  # book, move, cancel appointments
    BOARD_VIEW = "board.view"  # today's chairs and patient states
    # Minimum necessary (issue #9): schedule pages and the courses API show everyone with SCHEDULE_VIEW /
    # BOARD_VIEW the schedule facts only (date, time, chair, patient name, generic session kind such as
    # "Dosing session", arrival state); this action adds the clinical detail of the same rows: protocol
    # (it names the drug), indication, planned drug, route, dose and phase, and clinical session states
    # (e.g. a pre-dose hold). Front desk and clinic admin do not have it.
    CLINICAL_DETAIL = "clinical.detail"
    CLINIC_SETTINGS = "clinic.settings"  # REMS certification, calendar, chairs, closures
    # dosing day (sessions, flowsheet, discharge, REMS monitoring form, integration notes)
    SESSION_VIEW = "session.view"  # the structured dosing-session record (PHI)
    SESSION_CHART = "session.chart"  # check-in, pre-checks, administration, flowsheet readings, events
    DOSE_ORDER = "dose.order"  # order the computed dose, override limits with a reason (prescriber)
    DOSE_VERIFY = "dose.verify"  # second-clinician verification of IV/IM doses
    GATE_OVERRIDE = "gate.override"  # proceed despite a pre-dose hold, with a reason (prescriber)
    SESSION_SIGN = "session.sign"  # sign / amend the discharge note (responsible clinician)
    REMS_SUBMIT = "rems.submit"  # sign and record submission of the REMS Patient Monitoring Form
    INTEGRATION_NOTE = "integration.note"  # write integration-session notes (therapist)
    INTEGRATION_VIEW = "integration.view"  # read integration-session notes
    # measurement-based care (questionnaires, scores, safety alerts)
    MEASURE_VIEW = "measure.view"  # scores, responses and the measurement plan in the chart (PHI)
    MEASURE_ENTER = (
        "measure.enter"  # clinician-entered instruments (C-SSRS, MADRS, HAM-D, CADSS-6), FHIR import
    )
    MEASURE_PLAN = "measure.plan"  # generate the measurement plan, record safety checks done
    LINK_SEND = "measure.link_send"  # create/e-mail/print a patient questionnaire link (front desk too)
    ALERT_VIEW = "alert.view"  # the clinic's safety-alert board
    ALERT_ACK = "alert.ack"  # acknowledge a safety alert with the action taken
    MEASURE_SETTINGS = "measure.settings"  # crisis resources text, instrument licences, schedule defaults
    # research
    RESEARCH_VIEW = "research.view"  # de-identified analytics and simulation only
    # measurement-based care: clinic outcomes dashboard (aggregates; CSV export is always de-identified)
    OUTCOMES_VIEW = "outcomes.view"
    # clinic overrides of clinical thresholds (issue #12 §7): read the effective rules and their sources;
    # sign a bounded, versioned override (or a revert to the cited default) with a reason
    RULES_VIEW = "rules.view"
    RULES_OVERRIDE = "rules.override"


P, N, T, F, A, AU, R = (
    Role.PRESCRIBER,
    Role.NURSE,
    Role.THERAPIST,
    Role.FRONT_DESK,
    Role.CLINIC_ADMIN,
    Role.AUDITOR,
    Role.RESEARCHER,
)
CLINICAL = frozenset({P, N, T})

POLICY: dict[Act, frozenset[Role]] = {
    Act.PATIENT_LIST: frozenset({P, N, T, F, A}),
    Act.PATIENT_CREATE: frozenset({P, N, F, A}),
    Act.PATIENT_EDIT: frozenset({P, N, F, A}),
    Act.CHART_VIEW: CLINICAL | {AU},
    Act.WEIGHT_RECORD: frozenset({P, N}),
    Act.AUDIT_VIEW: frozenset({AU, A}),
    Act.AUDIT_EXPORT: frozenset({AU}),
    Act.CLINIC_ADMIN: frozenset({A}),
    Act.BREAK_GLASS_REVIEW: frozenset({A, AU}),
    Act.RESEARCH_VIEW: frozenset({R}),
    Act.OUTCOMES_VIEW: frozenset({P, A, AU}),
    Act.INTAKE_VIEW: CLINICAL | {AU},
    Act.INTAKE_EDIT: frozenset({P, N}),
    Act.ELIGIBILITY_SIGN: frozenset({P}),
    Act.CONSENT_RECORD: frozenset({P, N}),
    Act.CONSENT_MANAGE: frozenset({P, A}),
    Act.COURSE_PLAN: frozenset({P}),
    Act.SCHEDULE_VIEW: frozenset({P, N, T, F, A, AU}),
    Act.SCHEDULE_BOOK: frozenset({P, N, F}),
    Act.BOARD_VIEW: frozenset({P, N, T, F, A, AU}),
    Act.CLINICAL_DETAIL: CLINICAL | {AU},  # not front desk / clinic admin: schedule facts only
    Act.CLINIC_SETTINGS: frozenset({A}),
    Act.SESSION_VIEW: CLINICAL | {AU},
    Act.SESSION_CHART: frozenset({P, N}),
    Act.DOSE_ORDER: frozenset({P}),
    Act.DOSE_VERIFY: frozenset({P, N}),
    Act.GATE_OVERRIDE: frozenset({P}),
    Act.SESSION_SIGN: frozenset({P, N}),
    Act.REMS_SUBMIT: frozenset({P, N}),
    Act.INTEGRATION_NOTE: frozenset({T}),
    Act.INTEGRATION_VIEW: frozenset({T, P, AU}),
    Act.MEASURE_VIEW: CLINICAL | {AU},
    Act.MEASURE_ENTER: frozenset({P, N}),
    Act.MEASURE_PLAN: frozenset({P, N}),
    Act.LINK_SEND: frozenset({P, N, T, F}),
    Act.ALERT_VIEW: CLINICAL | {AU},
    Act.ALERT_ACK: frozenset({P, N}),
    Act.MEASURE_SETTINGS: frozenset({A}),
    Act.RULES_VIEW: CLINICAL | {AU},  # clinical governance: not front desk, clinic admin or researcher
    Act.RULES_OVERRIDE: frozenset({P}),  # a named prescriber signs each override
}

# Roles that may request break-glass access to a patient outside their normal reach.
BREAK_GLASS_ROLES = frozenset({P, N})


def roles_for(action: str) -> frozenset[Role]:
    try:
        return POLICY[Act(action)]
    except (KeyError, ValueError):
        raise KeyError(f"unknown action {action!r}; add it to kairos.core.policies.POLICY") from None


def memberships(user: Viewer) -> dict[int, str]:
    """clinic id -> role, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return {}
    cached: dict[int, str] | None = getattr(user, "_kairos_memberships", None)
    if cached is None:
        cached = dict(user.memberships.values_list("clinic_id", "role"))
        setattr(user, "_kairos_memberships", cached)  # noqa: B010 (a per-request cache, not a model field)
    return cached


def clinic_ids_for(user: Viewer, action: str) -> list[int]:
    """Clinics in which ``user`` may perform ``action``."""
    allowed = roles_for(action)
    return sorted(cid for cid, role in memberships(user).items() if role in allowed)


def can(user: Viewer, action: str, clinic_id: int | None) -> bool:
    if clinic_id is None:
        return False
    role = memberships(user).get(clinic_id)
    return role is not None and role in roles_for(action)


def is_member(user: Viewer, clinic_id: int) -> bool:
    return clinic_id in memberships(user)


def require(user: Viewer, action: str, clinic_id: int) -> None:
    """404 outside the user's clinics, 403 inside them without the permission."""
    if not is_member(user, clinic_id):
        raise Http404("not found")
    if not can(user, action, clinic_id):
        raise PermissionDenied(f"your role may not {action}")


def any_clinic(user: Viewer, action: str) -> bool:
    return bool(clinic_ids_for(user, action))
