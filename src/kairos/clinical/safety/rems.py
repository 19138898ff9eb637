"""Spravato REMS: hard stops before a session, the Patient Monitoring Form and its 7-calendar-day clock."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from kairos.clinical.config import RuleSet
from kairos.clinical.definitions import definitions
from kairos.clinical.rules.rems import RULES
from kairos.clinical.safety.eligibility import DrugClass
from kairos.clinical.safety.result import Finding, Outcome, Route, RuleResult, require_aware
from kairos.clinical.safety.vitals import Vitals, validate_vitals

SRC_CERT = "Spravato REMS outpatient setting certification (S1, S9, S10) via clinical.md §1.3"
SRC_ENROL = "Spravato REMS (S1): enrol each patient before the first treatment; clinical.md §1.3 item 4"
SRC_HOME = "Spravato REMS (S9): never dispense to a patient for home use; clinical.md §1.3 item 7"
SRC_PMF = "Spravato REMS Patient Monitoring Form (S2, S3) via clinical.md §1.4"


class Setting(enum.StrEnum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"


def rems_hard_stops(
    *,
    route: Route | str,
    dose_at: dt.datetime,
    site_certified: bool,
    prescriber_on_site: bool,
    pulse_oximeter_on_site: bool,
    patient_enrolled_at: dt.datetime | None,
    setting: Setting | str = Setting.OUTPATIENT,
    home_use: bool = False,
) -> RuleResult:
    """REMS conditions that must all hold before an esketamine dose (other routes: no REMS findings).

    Inpatient settings must be certified but need not enrol patients; prescriber and pulse oximeter on site
    are outpatient certification elements.
    """
    route, setting = Route(route), Setting(setting)
    require_aware(dose_at, "dose_at")
    if route is not Route.ESKETAMINE:
        return RuleResult.of([])
    stops: list[Finding] = []
    if home_use:
        stops.append(
            Finding(
                "rems_home_use",
                Outcome.HARD_STOP,
                "Esketamine may never be dispensed for use at home.",
                SRC_HOME,
            )
        )
    if not site_certified:
        stops.append(
            Finding(
                "rems_site_not_certified",
                Outcome.HARD_STOP,
                "This healthcare setting is not REMS-certified.",
                SRC_CERT,
            )
        )
    if setting is Setting.OUTPATIENT:
        if not prescriber_on_site:
            stops.append(
                Finding(
                    "rems_no_prescriber",
                    Outcome.HARD_STOP,
                    "No prescriber on site for administration and monitoring.",
                    SRC_CERT,
                )
            )
        if not pulse_oximeter_on_site:
            stops.append(
                Finding(
                    "rems_no_pulse_oximeter",
                    Outcome.HARD_STOP,
                    "No pulse oximeter on site to monitor the patient.",
                    SRC_CERT,
                )
            )
        if patient_enrolled_at is None:
            stops.append(
                Finding(
                    "rems_patient_not_enrolled",
                    Outcome.HARD_STOP,
                    "Patient is not enrolled in the REMS: submit the Patient Enrollment Form "
                    "(signed by patient and prescriber) before the first treatment.",
                    SRC_ENROL,
                )
            )
        elif require_aware(patient_enrolled_at, "patient_enrolled_at") > dose_at:
            stops.append(
                Finding(
                    "rems_enrolled_after_dose",
                    Outcome.HARD_STOP,
                    f"REMS enrolment ({patient_enrolled_at.isoformat(timespec='minutes')}) is after "
                    "the dose time: enrolment must come first.",
                    SRC_ENROL,
                )
            )
    return RuleResult.of(stops)


# --- Patient Monitoring Form ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormPatient:
    first_name: str | None = None
    middle_initial: str | None = None
    last_name: str | None = None
    date_of_birth: dt.date | None = None
    sex: str | None = None  # "M", "F" or "Other"


@dataclass(frozen=True, slots=True)
class FormHcp:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class FormSetting:
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None


@dataclass(frozen=True)
class FormSession:
    """Structured session data the form is assembled from (``None`` = not recorded)."""

    first_device_at: dt.datetime | None = None
    monitoring_end_at: dt.datetime | None = None
    dose_mg: int | None = None
    lot_number: str | None = None
    first_treatment: bool | None = None
    enrolled: bool | None = None
    concomitant_classes: frozenset[DrugClass] | None = None  # from eligibility.interacting_classes
    ready_to_leave_minutes: int | None = None
    vitals_acceptable_before: bool | None = None
    vitals_acceptable_at_completion: bool | None = None
    bp_pre: Vitals | None = None
    bp_post40: Vitals | None = None
    bp_completion: Vitals | None = None
    #: kairos.clinical.definitions.rems_sedation (MOAA/S < 5 or an event), not the dashboard's significant sedation
    sedation: bool | None = None
    #: kairos.clinical.definitions.rems_dissociation (CADSS-6 > 0 or an event), not "above pre-dose"
    dissociation: bool | None = None
    respiratory_depression: bool | None = None
    pulse_oximetry_checked: bool | None = None
    serious_adverse_event: bool | None = None


@dataclass(frozen=True)
class MonitoringForm:
    """The assembled form (flat ``section.field`` keys), what is missing and any problems found."""

    fields: dict[str, Any]
    missing: tuple[str, ...]
    problems: tuple[Finding, ...]
    due_date: dt.date | None
    #: the named definition behind a Y/N field (``adverse.sedation``, ``adverse.dissociation``): its label
    definitions: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.problems

    def sections(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key, value in self.fields.items():
            section, name = key.split(".", 1)
            out.setdefault(section, {})[name] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "sections": self.sections(),
            "missing": list(self.missing),
            "problems": [p.to_dict() for p in self.problems],
            "due_date": None if self.due_date is None else self.due_date.isoformat(),
            "complete": self.complete,
            "definitions": dict(self.definitions),
        }


def _tz(clinic_tz: ZoneInfo | str) -> ZoneInfo:
    return clinic_tz if isinstance(clinic_tz, ZoneInfo) else ZoneInfo(clinic_tz)


def _bp(prefix: str, v: Vitals | None) -> dict[str, Any]:
    if v is not None:
        validate_vitals(v)
    return {
        f"bp.{prefix}_sbp": None if v is None else v.sbp,
        f"bp.{prefix}_dbp": None if v is None else v.dbp,
    }


def _yn(value: bool | None) -> str | None:
    return None if value is None else ("Y" if value else "N")


def build_monitoring_form(
    *,
    patient: FormPatient,
    hcp: FormHcp,
    setting: FormSetting,
    session: FormSession,
    clinic_tz: ZoneInfo | str,
    rules: RuleSet = RULES,
) -> MonitoringForm:
    """Assemble the outpatient Patient Monitoring Form and list every required field that is missing."""
    tz = _tz(clinic_tz)
    start, end = session.first_device_at, session.monitoring_end_at
    if start is not None:
        require_aware(start, "first_device_at")
    if end is not None:
        require_aware(end, "monitoring_end_at")
    total = None if start is None or end is None else int((end - start).total_seconds() // 60)
    dose: str | None = None
    if session.dose_mg is not None:
        dose = f"{session.dose_mg} mg" if session.dose_mg in rules["pmf.dose_choices"] else "Other"  # type: ignore[operator]
    classes = session.concomitant_classes

    def has(cls: DrugClass) -> str | None:
        return None if classes is None else _yn(cls in classes)

    values: dict[str, Any] = {
        "patient.first_name": patient.first_name,
        "patient.middle_initial": patient.middle_initial,
        "patient.last_name": patient.last_name,
        "patient.date_of_birth": None
        if patient.date_of_birth is None
        else patient.date_of_birth.strftime("%m/%d/%Y"),
        "patient.sex": patient.sex,
        "patient.first_treatment": _yn(session.first_treatment),
        "patient.enrolled": _yn(session.enrolled),
        "concomitant.benzodiazepines": has(DrugClass.BENZODIAZEPINE),
        "concomitant.sedative_hypnotics": has(DrugClass.SEDATIVE_HYPNOTIC),
        "concomitant.psychostimulants": has(DrugClass.PSYCHOSTIMULANT),
        "concomitant.maois": has(DrugClass.MAOI),
        "concomitant.opioids": has(DrugClass.OPIOID),
        "hcp.first_name": hcp.first_name,
        "hcp.last_name": hcp.last_name,
        "hcp.phone": hcp.phone,
        "hcp.email": hcp.email,
        **{f"setting.{f.name}": getattr(setting, f.name) for f in fields(FormSetting)},
        "session.treatment_date": None if start is None else start.astimezone(tz).date().isoformat(),
        "session.dose": dose,
        "session.lot_number": session.lot_number,
        "duration.total_minutes": total,
        "duration.ready_to_leave_minutes": session.ready_to_leave_minutes,
        "vitals.acceptable_before": _yn(session.vitals_acceptable_before),
        "vitals.acceptable_at_completion": _yn(session.vitals_acceptable_at_completion),
        **_bp("pre", session.bp_pre),
        **_bp("post40", session.bp_post40),
        **_bp("completion", session.bp_completion),
        "adverse.sedation": _yn(session.sedation),
        "adverse.dissociation": _yn(session.dissociation),
        "adverse.respiratory_depression": _yn(session.respiratory_depression),
        "adverse.pulse_oximetry_checked": _yn(session.pulse_oximetry_checked),
        "adverse.serious_adverse_event": _yn(session.serious_adverse_event),
    }
    required = [str(k) for k in rules["pmf.required_fields"]]  # type: ignore[union-attr]
    unknown = [k for k in required if k not in values]
    if unknown:
        raise ValueError(f"pmf.required_fields: unknown field(s) {', '.join(unknown)}")
    missing = tuple(k for k in required if values[k] in (None, ""))
    problems: list[Finding] = []
    minimum = rules.num("pmf.min_monitoring_min")
    if total is not None and total < minimum:
        problems.append(
            Finding(
                "pmf_monitoring_under_minimum",
                Outcome.HOLD,
                f"Monitoring lasted {total} min from the first device; the REMS requires at "
                f"least {minimum:g} min.",
                SRC_PMF,
            )
        )
    if session.first_treatment and session.enrolled is False:
        problems.append(
            Finding(
                "pmf_not_enrolled",
                Outcome.HARD_STOP,
                "First treatment but the patient is not enrolled: submit the enrolment form first.",
                SRC_ENROL,
            )
        )
    if session.ready_to_leave_minutes is not None and session.ready_to_leave_minutes < 0:
        raise ValueError("ready_to_leave_minutes: must be 0 or more minutes from the start of administration")
    due = None if start is None else form_due_date(start, tz, rules)
    named = definitions(rems=rules)
    labels = {
        "adverse.sedation": named["rems_sedation"].label,
        "adverse.dissociation": named["rems_dissociation"].label,
    }
    return MonitoringForm(values, missing, tuple(problems), due, labels)


# --- 7-calendar-day clock -------------------------------------------------------------------------------------


class FormState(enum.StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"


def form_due_date(session_at: dt.datetime, clinic_tz: ZoneInfo | str, rules: RuleSet = RULES) -> dt.date:
    """Last calendar day (clinic time zone) on which the form is on time: the session's local date + 7 days."""
    require_aware(session_at, "session_at")
    local = session_at.astimezone(_tz(clinic_tz)).date()
    return local + dt.timedelta(days=int(rules.num("pmf.due_days")))


def form_deadline(session_at: dt.datetime, clinic_tz: ZoneInfo | str, rules: RuleSet = RULES) -> dt.datetime:
    """The instant the form becomes overdue: local midnight starting the day after the due date (aware, UTC)."""
    tz = _tz(clinic_tz)
    day_after = form_due_date(session_at, tz, rules) + dt.timedelta(days=1)
    naive_midnight = dt.datetime.combine(day_after, dt.time())
    # Normalise through UTC so a midnight that does not exist (DST at 00:00) resolves to a real instant.
    return naive_midnight.replace(tzinfo=tz).astimezone(dt.UTC)


def form_state(
    session_at: dt.datetime,
    now: dt.datetime,
    clinic_tz: ZoneInfo | str,
    submitted_at: dt.datetime | None = None,
    rules: RuleSet = RULES,
) -> FormState:
    """``submitted`` once submitted; otherwise ``overdue`` after the due date (clinic calendar), else ``due``."""
    require_aware(now, "now")
    if submitted_at is not None:
        require_aware(submitted_at, "submitted_at")
        return FormState.SUBMITTED
    today = now.astimezone(_tz(clinic_tz)).date()
    return FormState.OVERDUE if today > form_due_date(session_at, clinic_tz, rules) else FormState.DUE


def concomitant_flags(classes: Iterable[DrugClass]) -> frozenset[DrugClass]:
    """Convenience: the interacting classes as a frozen set for :class:`FormSession`."""
    return frozenset(classes)
