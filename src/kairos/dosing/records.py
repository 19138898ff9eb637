"""The structured record of a dosing session (API and export), the REMS tracking summary and the adverse-event
report data. Reads only: callers scope and audit through :mod:`kairos.dosing.selectors` first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from kairos.dosing import domain
from kairos.dosing.models import (
    AdverseEvent,
    DosingSession,
    RemsForm,
)
from kairos.dosing.selectors import local_date, rems_state


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.datetime | dt.date) else v


# Over 80 lines: one dict literal mirroring the record's sections in reading order; there is no logic to split.
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
            "height_cm": str(pc.height.height_cm) if pc.height_id else None,
            "height_measured_at": _iso(pc.height.measured_at) if pc.height_id else None,
            "gate_run": pc.gate_run,
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
        "caution_decisions": [
            {**d.as_dict(), "gate_run": d.gate_run, "findings": d.findings}
            for d in session.caution_decisions.select_related("decided_by")
        ],
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
            "ceilings": order.calculation.get("ceilings"),
            "cosign_required": order.cosign_required,
            "cosigned_by": order.cosigned_by.get_username() if order.cosigned_by_id else None,
            "cosigned_at": _iso(order.cosigned_at),
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
                "predose_decisions": n.predose_decisions,
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
