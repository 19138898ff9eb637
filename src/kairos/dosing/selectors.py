"""Permission-scoped reads of dosing sessions and the derived clinical views (gates, schedule, readiness,
REMS form). Rules come from :mod:`kairos.clinical`; this module only translates records into their inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical import definitions
from kairos.clinical.config import RuleSet
from kairos.clinical.instruments import score
from kairos.clinical.rules.rems import RULES as REMS_RULES
from kairos.clinical.rules.safety import RULES as SAFETY_RULES
from kairos.clinical.safety.discharge import DischargeResult, discharge_readiness
from kairos.clinical.safety.eligibility import interacting_classes
from kairos.clinical.safety.monitoring import evaluate_reading, monitoring_schedule
from kairos.clinical.safety.predose import predose_gate
from kairos.clinical.safety.rems import (
    FormHcp,
    FormPatient,
    FormSession,
    FormSetting,
    MonitoringForm,
    build_monitoring_form,
    form_due_date,
    form_state,
    rems_hard_stops,
)
from kairos.clinical.safety.result import Finding, Outcome, RuleResult
from kairos.clinical.safety.vitals import Vitals
from kairos.core import policies
from kairos.core.actor import Viewer
from kairos.core.policies import Act
from kairos.dosing import domain
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    DoseRoute,
    DosingSession,
    EventType,
    Phase,
    PreCheck,
    PregnancyStatus,
    Reading,
    RemsForm,
    RemsSiteProfile,
)
from kairos.intake import selectors as intake_selectors
from kairos.rulesets.selectors import effective_rules

if TYPE_CHECKING:
    from kairos.patients.models import Patient

SRC_WEIGHT = "clinical.md §2.2 weight-based dosing; kairos.clinical.rules.dosing weight.max_age_days (weighed at the session)"
SRC_PREGNANCY = (
    "Spravato PI §5.10/§17 (S4) via clinical.md §1.5: possible fetal harm; pregnancy status before dosing"
)
SRC_O2 = "Spravato REMS (S1) via clinical.md §1.3: pulse oximeter on site"

# --- time helpers ------------------------------------------------------------------------------------------


def local_date(session: DosingSession, when: dt.datetime) -> dt.date:
    return when.astimezone(session.clinic.tz).date()


def weight_today(session: DosingSession) -> Any:
    """The patient's weight measured on the session's day (clinic time zone), or None."""
    day = local_date(session, session.checked_in_at or timezone.now())
    for w in session.patient.weights.all()[:10]:
        if local_date(session, w.measured_at) == day:
            return w
    return None


def as_vitals_values(at: dt.datetime, vals: Mapping[str, int | float | None]) -> Vitals:
    def f(name: str) -> float | None:
        v = vals.get(name)
        return None if v is None else float(v)

    return Vitals(
        at=at,
        sbp=f("sbp"),
        dbp=f("dbp"),
        heart_rate=f("heart_rate"),
        spo2=f("spo2"),
        resp_rate=f("resp_rate"),
    )


def as_vitals(r: Reading) -> Vitals:
    return as_vitals_values(
        r.taken_at, {k: getattr(r, k) for k in ("sbp", "dbp", "heart_rate", "spo2", "resp_rate")}
    )


def vitals_rows(session: DosingSession) -> list[Reading]:
    return [r for r in session.readings.all() if r.kind == "vitals"]


def baseline(session: DosingSession) -> Vitals | None:
    """The latest pre-dose reading with a blood pressure."""
    pre = [r for r in vitals_rows(session) if r.phase == Phase.PRE_DOSE and r.has_bp]
    return as_vitals(pre[-1]) if pre else None


# --- REMS and the pre-dose gate ----------------------------------------------------------------------------


def patient_enrolled_at(patient: Any) -> dt.datetime | None:
    """When the patient was enrolled in the Spravato REMS (intake's selector; tests replace this function)."""
    return intake_selectors.rems_enrolled_at(patient)


def safety_route(session: DosingSession) -> str:
    return domain.safety_route(session.drug, session.route)


def rems_result(session: DosingSession, now: dt.datetime) -> RuleResult:
    return rems_hard_stops(
        route=safety_route(session),
        dose_at=now,
        site_certified=session.clinic.rems_certified,
        prescriber_on_site=session.prescriber_on_site_id is not None,
        pulse_oximeter_on_site=bool(session.pulse_oximeter_on_site),
        patient_enrolled_at=patient_enrolled_at(session.patient) if session.is_esketamine else None,
    )


def safety_rules(session: DosingSession) -> RuleSet:
    """The clinic's effective safety rule set: the cited defaults with the clinic's signed overrides
    (:mod:`kairos.rulesets`), so every gate judges with the values the clinic's prescribers signed."""
    cached: RuleSet | None = getattr(session, "_kairos_safety_rules", None)
    if cached is None:  # one query per session object, however many gates a page or write evaluates
        cached = effective_rules(session.clinic_id, "safety")
        setattr(session, "_kairos_safety_rules", cached)  # noqa: B010 (a cache on the instance, not a field)
    return cached


def pregnancy_relevant(patient: Patient) -> bool:
    return patient.sex != "male"


def gate_result(session: DosingSession, precheck: PreCheck, now: dt.datetime) -> RuleResult:
    readings = [as_vitals(r) for r in vitals_rows(session) if r.phase == Phase.PRE_DOSE]
    gate = predose_gate(
        rules=safety_rules(session),
        route=safety_route(session),
        readings=readings,
        planned_dose_at=now,
        ride_home_confirmed=precheck.ride_home_confirmed,
        no_driving_acknowledged=precheck.no_driving_acknowledged,
        symptoms=precheck.symptoms,
        last_food_at=precheck.last_food_at,
        last_liquid_at=precheck.last_liquid_at,
    )
    extra: list[Finding] = []
    if precheck.weight_id is None:
        weight_based = session.drug == "ketamine"
        extra.append(
            Finding(
                "weight_not_today",
                Outcome.HOLD if weight_based else Outcome.CAUTION,
                "No weight measured today: weigh the patient"
                + (" (the dose is per kg)." if weight_based else "."),
                SRC_WEIGHT,
            )
        )
    if session.pulse_oximeter_on_site is False and not session.is_esketamine:
        extra.append(
            Finding("no_pulse_oximeter", Outcome.HOLD, "No pulse oximeter available for monitoring.", SRC_O2)
        )
    if pregnancy_relevant(session.patient):
        if precheck.pregnancy_status == PregnancyStatus.PREGNANT:
            extra.append(
                Finding(
                    "pregnant",
                    Outcome.HOLD,
                    "Patient is pregnant: do not dose without a documented prescriber decision.",
                    SRC_PREGNANCY,
                )
            )
        elif precheck.pregnancy_status in (PregnancyStatus.UNKNOWN, PregnancyStatus.NOT_APPLICABLE):
            extra.append(
                Finding(
                    "pregnancy_unknown",
                    Outcome.CAUTION,
                    "Pregnancy status not established today: ask or test before dosing.",
                    SRC_PREGNANCY,
                )
            )
    return RuleResult.of([*gate.findings, *extra])


def previous_doses(session: DosingSession) -> list[float]:
    """Earlier administered doses (free base mg) of the same drug, oldest first (course if linked)."""
    qs = DosingSession.objects.filter(
        patient_id=session.patient_id, drug=session.drug, administration__isnull=False
    ).exclude(pk=session.pk)
    if session.course_id:
        qs = qs.filter(course_id=session.course_id)
    qs = qs.filter(dosing_started_at__lt=session.checked_in_at or timezone.now()).order_by(
        "dosing_started_at"
    )
    return [float(s.order.dose_mg) for s in qs.select_related("order")]


# --- flowsheet ---------------------------------------------------------------------------------------------


def phase_at(session: DosingSession, t: dt.datetime) -> str:
    if session.dosing_started_at is None or t < session.dosing_started_at:
        return Phase.PRE_DOSE
    if session.dosing_ended_at is None or t <= session.dosing_ended_at:
        return Phase.DURING
    return Phase.POST


def evaluate_new(
    session: DosingSession,
    t: dt.datetime,
    vals: Mapping[str, int | None],
    moaas: int | None,
    symptoms: Iterable[str],
) -> RuleResult:
    """Flags for a new reading at entry: every vital sign judged (hypertensive crisis, SpO₂ floor and alarm,
    heart and respiratory rate; in session with or without a pre-dose baseline), BP rise and hold, crisis
    symptoms, loss of consciousness (issue #12 §1)."""
    findings: list[Finding] = []
    base = baseline(session)
    reading = as_vitals_values(t, vals)
    previous = [as_vitals(r) for r in vitals_rows(session) if r.taken_at <= t]
    if any(v is not None for v in vals.values()) and phase_at(session, t) != Phase.PRE_DOSE:
        res = evaluate_reading(
            route=safety_route(session),
            reading=reading,
            baseline=base,
            previous=previous,
            symptoms=symptoms,
            rules=safety_rules(session),
        )
        findings.extend(res.findings)
    else:
        from kairos.clinical.safety.vitals import crisis_findings, judged_findings, spo2_findings

        findings.extend(crisis_findings(symptoms))
        if vals.get("spo2") is not None:
            findings.extend(
                spo2_findings(
                    [*previous, reading],
                    Outcome.ESCALATE,
                    "assess airway and breathing now.",
                    safety_rules(session),
                )
            )
        # A pre-dose reading is judged as the pre-dose gate judges it (hold-level values hold).
        findings.extend(judged_findings([reading], in_session=False, rules=safety_rules(session)))
    if moaas is not None:
        s = score("moaas", {"1": moaas})
        for flag in s.flags:
            findings.append(
                Finding(flag.code, Outcome.ESCALATE, flag.reason, "clinical.md §1.5/§4.8 (S4 §5.1: MOAA/S 0)")
            )
    return RuleResult.of(findings)


def first_dose_at(session: DosingSession) -> dt.datetime | None:
    return session.dosing_started_at


def infusion_min(session: DosingSession) -> float | None:
    order = getattr(session, "order", None)
    return float(order.infusion_min) if order is not None and order.infusion_min is not None else None


def due_readings(session: DosingSession, now: dt.datetime) -> list[dict[str, Any]]:
    """The monitoring schedule with each slot marked done / due / overdue / upcoming.

    A held or cancelled (hard-stopped) session is not being monitored on a schedule any more: its slots not
    yet charted are marked ``stopped`` and none is due or overdue (issue #11 §4)."""
    start = session.dosing_started_at or session.prechecks_done_at or session.checked_in_at
    if start is None:
        return []
    try:
        schedule = monitoring_schedule(
            safety_route(session), start, infusion_min=infusion_min(session), rules=safety_rules(session)
        )
    except ValueError:
        return []
    taken = [r.taken_at for r in vitals_rows(session) if r.has_bp]
    window = dt.timedelta(minutes=SAFETY_RULES.num("monitor.slot_window_min"))
    stopped = session.status in (Status.HELD, Status.CANCELLED)
    out = []
    for slot in schedule:
        done = any(abs(t - slot.at) <= window for t in taken) or (
            slot.phase == "pre_dose" and any(t <= slot.at for t in taken)
        )
        state = (
            "done"
            if done
            else "stopped"
            if stopped
            else "overdue"
            if now > slot.at + window
            else "due"
            if now >= slot.at - window
            else "upcoming"
        )
        out.append({"at": slot.at, "phase": slot.phase, "label": slot.label, "state": state})
    return out


def latest_moaas(session: DosingSession) -> int | None:
    rows = [r for r in session.readings.all() if r.moaas is not None and r.phase != Phase.PRE_DOSE]
    return rows[-1].moaas if rows else None


def readiness(
    session: DosingSession,
    now: dt.datetime,
    *,
    escort_present: bool | None = None,
    dissociation_resolved: bool | None = None,
) -> DischargeResult:
    first = session.dosing_started_at
    if first is None:
        return DischargeResult(
            Outcome.HOLD, (Finding("not_dosed", Outcome.HOLD, "No dose given yet.", ""),), None
        )
    at = max(now, first)
    # Only what was charted by the discharge time counts: a later row cannot make an earlier discharge ready,
    # and the latest row must be recent (discharge.reading_max_age_min, issue #12 §3).
    post = [r for r in vitals_rows(session) if first <= r.taken_at <= at]
    assessed = [
        r
        for r in session.readings.all()
        if r.moaas is not None and r.phase != Phase.PRE_DOSE and r.taken_at <= at
    ]
    latest_symptoms = [s for r in session.readings.all() if first <= r.taken_at <= at for s in r.symptoms][
        -3:
    ]
    if escort_present is None and hasattr(session, "precheck"):
        escort_present = bool(session.precheck.escort_name) or None
    return discharge_readiness(
        rules=safety_rules(session),
        route=safety_route(session),
        first_dose_at=first,
        now=at,
        latest=as_vitals(post[-1]) if post else None,
        baseline=baseline(session),
        moaas=assessed[-1].moaas if assessed else None,
        moaas_at=assessed[-1].taken_at if assessed else None,
        dissociation_resolved=dissociation_resolved,
        escort_present=escort_present,
        dosing_ended_at=session.dosing_ended_at
        or (first if session.route == DoseRoute.IM else None)
        or first,
        symptoms=latest_symptoms,
    )


# --- REMS form ---------------------------------------------------------------------------------------------


def rems_due_date(session: DosingSession) -> dt.date:
    return form_due_date(session.dosing_started_at or session.scheduled_for, session.clinic.tz)


def _closest(rows: list[Reading], target: dt.datetime, lo: float, hi: float) -> Reading | None:
    inside = [r for r in rows if lo <= (r.taken_at - target).total_seconds() / 60 <= hi]
    return min(inside, key=lambda r: abs((r.taken_at - target).total_seconds())) if inside else None


# Over 80 lines: maps the record onto the form's sections field by field (clinical.md §1.4), no branching.
def build_rems_form(session: DosingSession) -> MonitoringForm:
    """Assemble the Patient Monitoring Form from the structured record (pure rule: clinical.safety.rems)."""
    p = session.patient
    admin = getattr(session, "administration", None)
    order = getattr(session, "order", None)
    precheck = getattr(session, "precheck", None)
    first = session.dosing_started_at
    bp_rows = [r for r in vitals_rows(session) if r.has_bp]
    post = [r for r in bp_rows if first is not None and r.taken_at >= first]
    pre = baseline(session)
    lo, hi = cast(tuple[int, int], REMS_RULES["pmf.post40_window_min"])
    post40 = _closest(post, first, lo, hi) if first else None
    completion = post[-1] if post else None
    events = list(session.adverse_events.all())
    readings = list(session.readings.all())
    post_readings = [r for r in readings if first is not None and r.taken_at >= first]
    profile = RemsSiteProfile.objects.filter(clinic_id=session.clinic_id).first()
    note = session.notes.order_by("-version").first()
    earlier = (
        DosingSession.objects.filter(patient_id=p.pk, drug=session.drug, dosing_started_at__lt=first)
        .exclude(pk=session.pk)
        .exists()
        if first
        else None
    )
    enrolled_at = patient_enrolled_at(p)
    gate_codes = {f["code"] for f in (precheck.gate_result.get("findings", []) if precheck else [])}
    vitals_codes = {"bp_hold", "bp_hold_recheck", "bp_above_label_guide", "spo2_alarm", "spo2_low_recheck"}
    ready_codes = {f["code"] for f in (note.readiness.get("findings", []) if note else [])}
    hcp = session.responsible_clinician
    sex = {"female": "F", "male": "M", "other": "Other"}.get(p.sex)
    fsession = FormSession(
        first_device_at=first,
        monitoring_end_at=session.discharged_at,
        dose_mg=int(order.dose_mg) if order else None,
        lot_number=admin.lot_number if admin else None,
        first_treatment=None if earlier is None else not earlier,
        enrolled=enrolled_at is not None,
        concomitant_classes=interacting_classes(
            [
                m
                for m in (precheck.medicines_taken_today.replace(",", "\n").splitlines() if precheck else [])
                if m.strip()
            ]
        )
        if precheck
        else None,
        ready_to_leave_minutes=note.readiness.get("ready_to_leave_minutes") if note else None,
        vitals_acceptable_before=None if precheck is None else not (gate_codes & vitals_codes),
        vitals_acceptable_at_completion=None
        if note is None
        else not (
            ready_codes & {"bp_not_settled", "spo2_low", "bp_missing", "spo2_missing", "vitals_missing"}
        ),
        bp_pre=pre,
        bp_post40=as_vitals(post40) if post40 else None,
        bp_completion=as_vitals(completion) if completion else None,
        sedation=definitions.rems_sedation(
            (r.moaas for r in post_readings),
            sedation_event=any(e.event_type == EventType.SEDATION for e in events),
        ),
        dissociation=definitions.rems_dissociation(
            (r.cadss6_total for r in post_readings),
            dissociation_event=any(e.event_type == EventType.DISSOCIATION for e in events),
        ),
        respiratory_depression=any(e.event_type == EventType.RESPIRATORY_DEPRESSION for e in events)
        or any(f.get("code") == "spo2_alarm" for r in post_readings for f in r.findings),
        pulse_oximetry_checked=any(r.spo2 is not None for r in post_readings),
        serious_adverse_event=any(e.serious for e in events),
    )
    return build_monitoring_form(
        patient=FormPatient(
            first_name=p.given_name,
            middle_initial=None,
            last_name=p.family_name,
            date_of_birth=p.date_of_birth,
            sex=sex,
        ),
        hcp=FormHcp(
            first_name=hcp.first_name or None,
            last_name=hcp.last_name or None,
            phone=(profile.phone if profile else None) or None,
            email=hcp.email or None,
        ),
        setting=FormSetting(
            name=(profile.setting_name if profile and profile.setting_name else session.clinic.name),
            address1=(profile.address1 if profile else None) or None,
            address2=(profile.address2 if profile else None) or None,
            city=(profile.city if profile else None) or None,
            state=(profile.state if profile else None) or None,
            zip=(profile.zip if profile else None) or None,
        ),
        session=fsession,
        clinic_tz=session.clinic.tz,
    )


def rems_state(form: RemsForm, now: dt.datetime) -> str:
    session = form.session
    return form_state(
        session.dosing_started_at or session.scheduled_for, now, session.clinic.tz, form.submitted_at
    ).value


def rems_forms(user: Viewer, now: dt.datetime) -> list[dict[str, Any]]:
    """REMS forms of the user's clinics with their state (due / overdue / submitted)."""
    qs = RemsForm.objects.filter(
        session__clinic_id__in=policies.clinic_ids_for(user, Act.SESSION_VIEW)
    ).select_related("session__patient", "session__clinic")
    return [
        {"form": f, "session": f.session, "state": rems_state(f, now)} for f in qs.order_by("due_date", "pk")
    ]


def overdue_rems_forms(user: Viewer, now: dt.datetime | None = None) -> int:
    """How many unsubmitted REMS forms of the user's clinics are past their 7-day due date (clinic calendar),
    for the navigation badge (issue #11 §3, §5)."""
    now = now or timezone.now()
    qs = RemsForm.objects.filter(
        session__clinic_id__in=policies.clinic_ids_for(user, Act.SESSION_VIEW), submitted_at__isnull=True
    ).select_related("session__clinic")
    return sum(1 for f in qs if rems_state(f, now) == "overdue")


# --- scoped reads ------------------------------------------------------------------------------------------


def visible_sessions(user: Viewer, action: str = Act.SESSION_VIEW) -> QuerySet[DosingSession]:
    return DosingSession.objects.filter(clinic_id__in=policies.clinic_ids_for(user, action)).select_related(
        "patient", "clinic"
    )


def _utc_or_none(day: dt.date, tz: dt.tzinfo) -> dt.datetime | None:
    """Local midnight starting ``day`` in UTC, or None where it lies outside datetime's range."""
    try:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    except OverflowError:
        return None


def on_local_date(qs: QuerySet[DosingSession], day: dt.date) -> QuerySet[DosingSession]:
    """Sessions scheduled on ``day`` in their own clinic's time zone, filtered in SQL (so a limit applied
    afterwards counts only that day's sessions)."""
    day_q = Q(pk__in=[])
    for clinic in Clinic.objects.filter(pk__in=qs.values("clinic_id")):
        start = _utc_or_none(day, clinic.tz)
        end = _utc_or_none(day + dt.timedelta(days=1), clinic.tz) if day < dt.date.max else None
        q = Q(clinic_id=clinic.pk)
        if start is not None:
            q &= Q(scheduled_for__gte=start)
        if end is not None:
            q &= Q(scheduled_for__lt=end)
        day_q |= q
    return qs.filter(day_q)


def get_session(user: Viewer, session_id: Any, action: str = Act.SESSION_VIEW) -> DosingSession:
    """404 outside the user's clinics, 403 for a member whose role lacks ``action``. Not audited."""
    try:
        pk = int(session_id)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    session = (
        DosingSession.objects.select_related("patient", "clinic", "responsible_clinician")
        .filter(pk=pk)
        .first()
    )
    if session is None or not policies.is_member(user, session.clinic_id):
        raise Http404("not found")
    if not policies.can(user, action, session.clinic_id):
        raise PermissionDenied(f"your role may not {action}")
    return session


def read_session(user: Viewer, session_id: Any, *, purpose: str = "dosing session") -> DosingSession:
    session = get_session(user, session_id, Act.SESSION_VIEW)
    record(Action.READ, actor=user, patient=session.patient, obj=session, summary=f"{purpose} opened")
    return session


def board_states(clinic: Clinic, day: dt.date) -> dict[int, str]:
    """Session state per appointment id (or per patient id when a session has no appointment) for ``day``
    in the clinic's time zone, for the courses board."""
    tz = clinic.tz
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = start + dt.timedelta(days=1)
    out: dict[int, str] = {}
    qs = DosingSession.objects.filter(
        clinic=clinic, scheduled_for__gte=start, scheduled_for__lt=end
    ).order_by("scheduled_for", "pk")
    for s in qs:
        key = s.appointment_id if s.appointment_id is not None else s.patient_id
        out[key] = domain.BOARD_STATE[Status(s.status)]
    return out
