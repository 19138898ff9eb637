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

from kairos.access import policies
from kairos.access.policies import Act
from kairos.accounts.models import Clinic
from kairos.audit.models import Action
from kairos.audit.services import record
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
from kairos.dosing import domain
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    AdverseEvent,
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


def pregnancy_relevant(patient: Patient) -> bool:
    return patient.sex != "male"


def gate_result(session: DosingSession, precheck: PreCheck, now: dt.datetime) -> RuleResult:
    readings = [as_vitals(r) for r in vitals_rows(session) if r.phase == Phase.PRE_DOSE]
    gate = predose_gate(
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
    """Flags for a new reading at entry: BP rise and hold, SpO₂ alarm, crisis symptoms, loss of consciousness."""
    findings: list[Finding] = []
    base = baseline(session)
    reading = as_vitals_values(t, vals)
    previous = [as_vitals(r) for r in vitals_rows(session) if r.taken_at <= t]
    if (
        any(v is not None for v in vals.values())
        and base is not None
        and phase_at(session, t) != Phase.PRE_DOSE
    ):
        res = evaluate_reading(
            route=safety_route(session), reading=reading, baseline=base, previous=previous, symptoms=symptoms
        )
        findings.extend(res.findings)
    else:
        from kairos.clinical.safety.vitals import crisis_findings, spo2_findings

        findings.extend(crisis_findings(symptoms))
        if vals.get("spo2") is not None:
            findings.extend(
                spo2_findings(
                    [*previous, reading],
                    Outcome.ESCALATE,
                    "assess airway and breathing now.",
                )
            )
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
    """The monitoring schedule with each slot marked done / due / overdue / upcoming."""
    start = session.dosing_started_at or session.prechecks_done_at or session.checked_in_at
    if start is None:
        return []
    try:
        schedule = monitoring_schedule(safety_route(session), start, infusion_min=infusion_min(session))
    except ValueError:
        return []
    taken = [r.taken_at for r in vitals_rows(session) if r.has_bp]
    window = dt.timedelta(minutes=SAFETY_RULES.num("monitor.slot_window_min"))
    out = []
    for slot in schedule:
        done = any(abs(t - slot.at) <= window for t in taken) or (
            slot.phase == "pre_dose" and any(t <= slot.at for t in taken)
        )
        state = (
            "done"
            if done
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
    post = [r for r in vitals_rows(session) if r.taken_at >= first]
    latest_symptoms = [s for r in session.readings.all() if r.taken_at >= first for s in r.symptoms][-3:]
    if escort_present is None and hasattr(session, "precheck"):
        escort_present = bool(session.precheck.escort_name) or None
    return discharge_readiness(
        route=safety_route(session),
        first_dose_at=first,
        now=max(now, first),
        latest=as_vitals(post[-1]) if post else None,
        baseline=baseline(session),
        moaas=latest_moaas(session),
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
        sedation=any(
            r.moaas is not None and r.moaas < REMS_RULES.num("pmf.sedation_moaas_below")
            for r in post_readings
        )
        or any(e.event_type == EventType.SEDATION for e in events),
        dissociation=any((r.cadss6_total or 0) > 0 for r in post_readings)
        or any(e.event_type == EventType.DISSOCIATION for e in events),
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


def rems_forms(user: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """REMS forms of the user's clinics with their state (due / overdue / submitted)."""
    qs = RemsForm.objects.filter(
        session__clinic_id__in=policies.clinic_ids_for(user, Act.SESSION_VIEW)
    ).select_related("session__patient", "session__clinic")
    return [
        {"form": f, "session": f.session, "state": rems_state(f, now)} for f in qs.order_by("due_date", "pk")
    ]


# --- scoped reads ------------------------------------------------------------------------------------------


def visible_sessions(user: Any, action: str = Act.SESSION_VIEW) -> QuerySet[DosingSession]:
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


def get_session(user: Any, session_id: Any, action: str = Act.SESSION_VIEW) -> DosingSession:
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


def read_session(user: Any, session_id: Any, *, purpose: str = "dosing session") -> DosingSession:
    session = get_session(user, session_id, Act.SESSION_VIEW)
    record(Action.READ, actor=user, patient=session.patient, obj=session, summary=f"{purpose} opened")
    return session


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.datetime | dt.date) else v


def session_record(session: DosingSession, now: dt.datetime | None = None) -> dict[str, Any]:
    """The whole structured record (pre-checks, order, administration, readings, events, discharge, signature)."""
    now = now or timezone.now()
    pc = getattr(session, "precheck", None)
    order = getattr(session, "order", None)
    admin = getattr(session, "administration", None)
    notes = list(session.notes.order_by("version"))
    return {
        "id": session.pk,
        "patient_id": session.patient_id,
        "clinic_id": session.clinic_id,
        "course_id": session.course_id,
        "appointment_id": session.appointment_id,
        "protocol_id": session.protocol_id,
        "drug": session.drug,
        "route": session.route,
        "status": session.status,
        "version": session.version,
        "scheduled_for": _iso(session.scheduled_for),
        "responsible_clinician": session.responsible_clinician.get_username(),
        "prescriber_on_site": session.prescriber_on_site.get_username()
        if session.prescriber_on_site is not None
        else None,
        "pulse_oximeter_on_site": session.pulse_oximeter_on_site,
        "times": {
            k: _iso(getattr(session, k))
            for k in (
                "checked_in_at",
                "prechecks_done_at",
                "dosing_started_at",
                "dosing_ended_at",
                "ready_at",
                "discharged_at",
                "held_at",
                "cancelled_at",
            )
        },
        "hold_reasons": session.hold_reasons,
        "precheck": None
        if pc is None
        else {
            "weight_kg": str(pc.weight.weight_kg) if pc.weight_id else None,
            "weight_loinc": domain.LOINC["weight"][0],
            "last_food_at": _iso(pc.last_food_at),
            "last_liquid_at": _iso(pc.last_liquid_at),
            "ride_home_confirmed": pc.ride_home_confirmed,
            "no_driving_acknowledged": pc.no_driving_acknowledged,
            "escort_name": pc.escort_name,
            "medicines_taken_today": pc.medicines_taken_today,
            "pregnancy_status": pc.pregnancy_status,
            "symptoms": pc.symptoms,
            "rems": pc.rems_result,
            "gate": pc.gate_result,
            "gate_outcome": pc.gate_outcome,
            "override": None
            if pc.override_at is None
            else {
                "by": pc.override_by.get_username(),
                "reason": pc.override_reason,
                "at": _iso(pc.override_at),
            },
        },
        "order": None
        if order is None
        else {
            "dose_mg": str(order.dose_mg),
            "dose_mg_hcl": str(order.dose_mg_hcl),
            "computed_mg": None if order.computed_mg is None else str(order.computed_mg),
            "mg_per_kg": None if order.mg_per_kg is None else str(order.mg_per_kg),
            "weight_kg": None if order.weight_kg is None else str(order.weight_kg),
            "devices": order.devices,
            "concentration_mg_ml": None
            if order.concentration_mg_ml is None
            else str(order.concentration_mg_ml),
            "total_volume_ml": None if order.total_volume_ml is None else str(order.total_volume_ml),
            "rate_ml_h": None if order.rate_ml_h is None else str(order.rate_ml_h),
            "infusion_min": None if order.infusion_min is None else str(order.infusion_min),
            "injection_volume_ml": None
            if order.injection_volume_ml is None
            else str(order.injection_volume_ml),
            "outside_limits": order.outside_limits,
            "override_reason": order.override_reason,
            "reasons": (order.calculation.get("computed") or {}).get("reasons", []),
            "ordered_by": order.ordered_by.get_username(),
            "ordered_at": _iso(order.ordered_at),
            "verified_by": order.verified_by.get_username() if order.verified_by_id else None,
            "verified_at": _iso(order.verified_at),
        },
        "administration": None
        if admin is None
        else {
            "product_code": admin.product_code,
            "product_name": admin.product_name,
            "ndc": admin.ndc,
            "strength_base": admin.strength_base,
            "lot_number": admin.lot_number,
            "route": admin.route,
            "rate_ml_h": None if admin.rate_ml_h is None else str(admin.rate_ml_h),
            "started_at": _iso(admin.started_at),
            "ended_at": _iso(admin.ended_at),
            "device_times": admin.device_times,
            "administered_by": admin.administered_by.get_username(),
        },
        "readings": [
            {
                "id": r.pk,
                "kind": r.kind,
                "phase": r.phase,
                "taken_at": _iso(r.taken_at),
                "values": {
                    k: {"value": getattr(r, k), "loinc": domain.LOINC[k][0], "unit": domain.LOINC[k][2]}
                    for k in ("sbp", "dbp", "heart_rate", "spo2", "resp_rate")
                    if getattr(r, k) is not None
                },
                "moaas": r.moaas,
                "cadss6_total": r.cadss6_total,
                "cadss6_items": r.cadss6_items,
                "nausea": r.nausea,
                "symptoms": r.symptoms,
                "other_effects": r.other_effects,
                "intervention": r.intervention,
                "outcome": r.outcome,
                "findings": r.findings,
                "recorded_by": r.recorded_by.get_username(),
            }
            for r in session.readings.select_related("recorded_by")
        ],
        "adverse_events": [adverse_event_dict(e) for e in session.adverse_events.all()],
        "emergency_actions": [
            {
                "at": _iso(a.at),
                "action": a.action,
                "escalation": a.escalation,
                "by": a.recorded_by.get_username(),
            }
            for a in session.emergency_actions.select_related("recorded_by")
        ],
        "discharge": [
            {
                "version": n.version,
                "previous_version": n.previous_version.version if n.previous_version is not None else None,
                "discharged_at": _iso(n.discharged_at),
                "summary": n.summary,
                "readiness": n.readiness,
                "escort_present": n.escort_present,
                "dissociation_resolved": n.dissociation_resolved,
                "amendment_reason": n.amendment_reason,
                "author": n.author.get_username(),
                "signature": None
                if n.signed_at is None
                else {
                    "by": n.signed_by.get_username() if n.signed_by is not None else None,
                    "at": _iso(n.signed_at),
                },
            }
            for n in notes
        ],
        "rems_form": rems_form_summary(session, now),
    }


def rems_form_summary(session: DosingSession, now: dt.datetime) -> dict[str, Any] | None:
    form = RemsForm.objects.filter(session=session).first()
    if form is None:
        return None
    return {
        "due_date": _iso(form.due_date),
        "state": rems_state(form, now),
        "signed_at": _iso(form.signed_at),
        "submitted_on": _iso(form.submitted_on),
        "confirmation": form.confirmation,
    }


def adverse_event_dict(e: AdverseEvent) -> dict[str, Any]:
    return {
        "id": e.pk,
        "type": e.event_type,
        "description": e.description,
        "onset_at": _iso(e.onset_at),
        "severity": e.severity,
        "serious": e.serious,
        "seriousness": e.seriousness,
        "action_taken": e.action_taken,
        "outcome": e.outcome,
    }


def safety_report(session: DosingSession, event: AdverseEvent) -> dict[str, Any]:
    """What a REMS adverse-event report / FDA MedWatch 3500 needs, assembled from the record."""
    p = session.patient
    order = getattr(session, "order", None)
    admin = getattr(session, "administration", None)
    return {
        "report_type": "serious" if event.serious else "non-serious",
        "patient": {
            "identifier": p.mrn,
            "age_years": p.age_on(local_date(session, event.onset_at)),
            "sex": p.sex,
            "weight_kg": str(session.precheck.weight.weight_kg)
            if hasattr(session, "precheck") and session.precheck.weight is not None
            else None,
        },
        "event": {
            **adverse_event_dict(event),
            "emergency_actions": [
                {"at": _iso(a.at), "action": a.action, "escalation": a.escalation}
                for a in session.emergency_actions.all()
            ],
        },
        "suspect_product": None
        if admin is None
        else {
            "name": admin.product_name,
            "ndc": admin.ndc,
            "lot_number": admin.lot_number,
            "dose_mg": str(order.dose_mg) if order else None,
            "route": admin.route,
            "started_at": _iso(admin.started_at),
            "ended_at": _iso(admin.ended_at),
        },
        "concomitant_medicines": session.precheck.medicines_taken_today
        if hasattr(session, "precheck")
        else "",
        "reporter": {
            "name": session.responsible_clinician.get_full_name(),
            "email": session.responsible_clinician.email,
            "setting": session.clinic.name,
        },
        "destinations": (["Spravato REMS (1-855-382-6022)"] if session.is_esketamine else [])
        + ["FDA MedWatch Form 3500"],
        "source": "clinical.md §1.3 (REMS: report suspected adverse events); FDA Form 3500 sections A–D",
    }


def board_states(clinic: Any, day: dt.date) -> dict[int, str]:
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
