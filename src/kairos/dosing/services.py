"""All writes of the dosing day. Each service checks the policy, validates through the pure clinical rules,
writes, and records the audit event in the same transaction.

Status transitions use optimistic locking: a caller passes the ``version`` it saw; if someone else moved the
session meanwhile the write is refused with a message (nothing is lost: the page reloads with their change).
Flowsheet readings need no lock: they are append-only rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import Any, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kairos.access import policies
from kairos.access.policies import Act
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical import dosing as dosing_rules
from kairos.clinical.instruments import AnswerError, score
from kairos.clinical.protocols import ProtocolError, get_protocol
from kairos.clinical.rules.dosing import RULES as DOSING_RULES
from kairos.clinical.safety.result import Outcome
from kairos.clinical.safety.vitals import VitalsError, parse_symptoms, validate_vitals
from kairos.dosing import domain, hooks, selectors
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    SERIOUSNESS_CODES,
    Administration,
    AdverseEvent,
    DischargeNote,
    DoseOrder,
    DoseRoute,
    DosingSession,
    Drug,
    EmergencyAction,
    Escalation,
    EventOutcome,
    EventType,
    IntegrationNote,
    Nausea,
    Phase,
    PreCheck,
    PregnancyStatus,
    Reading,
    ReadingKind,
    RemsForm,
    RiskCheck,
    Severity,
)
from kairos.patients.checks import FUTURE_SLACK, is_future

MIN_REASON = 15  # characters in an override / amendment reason (a policy, not a clinical number)
# How far back a "last food/liquid" time may lie: a plausibility bound on data entry (year-1 typos), not the
# fasting rule itself (that lives in kairos.clinical); older times are left blank as unknown.
INTAKE_LOOKBACK = dt.timedelta(days=7)


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: f"{field}: {message}"})


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise _err(field, f"at least {MIN_REASON} characters saying why (got {len(reason)})")
    return reason


def _aware(value: dt.datetime | None, field: str, *, default_now: bool = True) -> dt.datetime:
    if value is None:
        if default_now:
            return timezone.now()
        raise _err(field, "required")
    if timezone.is_naive(value):
        raise _err(field, "must include a time zone")
    if is_future(value):
        raise _err(
            field,
            f"{value.isoformat(timespec='minutes')} is in the future "
            f"(allowed: up to {FUTURE_SLACK.seconds // 60} min after now)",
        )
    return value


def _local(session: DosingSession, value: dt.datetime) -> str:
    return value.astimezone(session.clinic.tz).strftime("%Y-%m-%d %H:%M")


def _charted_at(
    session: DosingSession,
    at: dt.datetime | None,
    field: str,
    what: str,
    previous: tuple[tuple[str, dt.datetime | None], ...],
) -> dt.datetime:
    """The time a step is charted at: ``at`` (clinic-local from the form, for retrospective charting) or
    now; never more than :data:`FUTURE_SLACK` in the future and never before the session's previous step
    (each of ``previous``: (label, time), None = step not taken)."""
    when = _aware(at, field)
    for label, prev in previous:
        if prev is not None and when < prev:
            raise _err(
                field,
                f"{what} {_local(session, when)} is before {label} ({_local(session, prev)}); "
                f"allowed range [{_local(session, prev)}, now + {FUTURE_SLACK.seconds // 60} min], "
                f"clinic time ({session.clinic.tz})",
            )
    return when


def _lock(session: DosingSession, expected_version: int | None) -> DosingSession:
    """Re-read the session under a row lock and check the caller saw the latest version."""
    fresh = (
        DosingSession.objects.select_for_update(of=("self",))
        .select_related("clinic", "patient")
        .get(pk=session.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise ValidationError(
            {
                "version": "version: this session was changed by someone else (now version "
                f"{fresh.version}, you saw {expected_version}); reload and try again"
            }
        )
    return fresh


def _fresh(session: DosingSession) -> DosingSession:
    return DosingSession.objects.select_related("clinic", "patient", "responsible_clinician").get(
        pk=session.pk
    )


def _move(session: DosingSession, target: Status, **fields: Any) -> None:
    if not domain.can_move(session.status, target):
        raise ValidationError(
            {
                "status": f"status: cannot go from {session.get_status_display()} to {target.value.replace('_', ' ')}"
            }
        )
    session.status = target.value
    for k, v in fields.items():
        setattr(session, k, v)
    session.updated_at = timezone.now()
    DosingSession.objects.filter(pk=session.pk).update(
        version=F("version") + 1, status=session.status, updated_at=session.updated_at, **fields
    )
    session.version += 1


# --- create / cancel ---------------------------------------------------------------------------------------


@transaction.atomic
def create_session(
    actor: Any,
    patient: Any,
    *,
    protocol_id: str,
    scheduled_for: dt.datetime,
    responsible: Any = None,
    course: Any = None,
    appointment: Any = None,
) -> DosingSession:
    policies.require(actor, Act.SESSION_CHART, patient.clinic_id)
    try:
        protocol = get_protocol(protocol_id)
    except ProtocolError as exc:
        raise _err("protocol_id", str(exc)) from None
    drug = Drug.ESKETAMINE if protocol.drug == "esketamine" else Drug.KETAMINE
    route = protocol.route.lower()
    if route not in DoseRoute.values:
        raise _err("protocol_id", f"{protocol_id} is given {route}; dosing sessions cover intranasal, iv, im")
    if timezone.is_naive(scheduled_for):
        raise _err("scheduled_for", "must include a time zone")
    responsible = responsible or actor
    if not policies.can(responsible, Act.SESSION_SIGN, patient.clinic_id):
        raise _err("responsible", "the responsible clinician must be a prescriber or nurse of this clinic")
    for obj, name in ((course, "course"), (appointment, "appointment")):
        if obj is not None and obj.patient_id != patient.pk:
            raise _err(name, f"{name} belongs to another patient")
    session = DosingSession.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        course=course,
        appointment=appointment,
        protocol_id=protocol.id,
        drug=drug,
        route=route,
        scheduled_for=scheduled_for,
        responsible_clinician=responsible,
        created_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=patient,
        obj=session,
        new={"protocol_id": protocol.id, "scheduled_for": scheduled_for},
        summary="dosing session created",
    )
    return session


@transaction.atomic
def cancel_session(
    actor: Any, session: DosingSession, *, reason: str, version: int | None = None
) -> DosingSession:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    reason = _reason(reason)
    _move(session, Status.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason[:300])
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        new={"status": "cancelled"},
        reason=reason,
        summary="session cancelled",
    )
    return session


# --- check-in and the pre-dose gate ------------------------------------------------------------------------


def _vitals_fields(values: Mapping[str, Any]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in ("sbp", "dbp", "heart_rate", "spo2", "resp_rate"):
        v = values.get(name)
        if v in (None, ""):
            out[name] = None
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise _err(name, f"expected a number, got {v!r}") from None
        if not math.isfinite(f):
            raise _err(name, f"expected a finite number, got {v!r}")
        out[name] = round(f)
    return out


def _validate_vitals(at: dt.datetime, vals: Mapping[str, int | None]) -> None:
    try:
        validate_vitals(selectors.as_vitals_values(at, vals))
    except VitalsError as exc:
        raise _err(exc.field, str(exc).split(": ", 1)[1]) from None


@transaction.atomic
def check_in(
    actor: Any,
    session: DosingSession,
    *,
    prescriber_on_site: Any,
    pulse_oximeter_on_site: bool,
    ride_home_confirmed: bool,
    no_driving_acknowledged: bool,
    vitals: Mapping[str, Any],
    weight_kg: Decimal | float | str | None = None,
    last_food_at: dt.datetime | None = None,
    last_liquid_at: dt.datetime | None = None,
    escort_name: str = "",
    medicines_taken_today: str = "",
    pregnancy_status: str = PregnancyStatus.NOT_APPLICABLE,
    symptoms: Iterable[str] = (),
    at: dt.datetime | None = None,
    version: int | None = None,
) -> DosingSession:
    """Check the patient in, record the pre-checks and pre-dose vitals, and run the REMS and pre-dose gates.

    The session moves to ``prechecks_done`` when both gates pass, otherwise to ``held`` with the reasons.
    """
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    entered_at = timezone.now()
    # Check-in is the session's first step; the one before it is its scheduled day (clinic-local): a
    # check-in charted before that day is charting the wrong session (move the session first).
    tz = session.clinic.tz
    day_start = dt.datetime.combine(session.scheduled_for.astimezone(tz).date(), dt.time(), tzinfo=tz)
    now = _charted_at(session, at, "at", "check-in time", (("the start of the scheduled day", day_start),))
    if prescriber_on_site is not None and not policies.can(
        prescriber_on_site, Act.DOSE_ORDER, session.clinic_id
    ):
        raise _err("prescriber_on_site", "must be a prescriber of this clinic")
    if pregnancy_status not in PregnancyStatus.values:
        raise _err("pregnancy_status", f"one of {', '.join(PregnancyStatus.values)}")
    try:
        parsed_symptoms = [s.value for s in parse_symptoms(symptoms)]
    except ValueError as exc:
        raise _err("symptoms", str(exc).split(": ", 1)[1]) from None
    for name, value in (("last_food_at", last_food_at), ("last_liquid_at", last_liquid_at)):
        if value is not None:
            _aware(value, name)
            if value < now - INTAKE_LOOKBACK:
                raise _err(
                    name,
                    f"{_local(session, value)} is more than {INTAKE_LOOKBACK.days} days before check-in; "
                    "leave it blank if unknown",
                )
    vals = _vitals_fields(vitals)
    _validate_vitals(now, vals)
    weight = None
    if weight_kg not in (None, ""):
        from kairos.patients.services import record_weight

        assert weight_kg is not None
        weight = record_weight(actor, session.patient, weight_kg, measured_at=now)
    else:
        weight = selectors.weight_today(session)
    _move(
        session,
        Status.CHECKED_IN,
        checked_in_at=now,
        prescriber_on_site=prescriber_on_site,
        pulse_oximeter_on_site=bool(pulse_oximeter_on_site),
    )
    precheck = PreCheck.objects.create(
        session=session,
        weight=weight,
        last_food_at=last_food_at,
        last_liquid_at=last_liquid_at,
        ride_home_confirmed=bool(ride_home_confirmed),
        no_driving_acknowledged=bool(no_driving_acknowledged),
        escort_name=escort_name.strip()[:120],
        medicines_taken_today=medicines_taken_today.strip(),
        pregnancy_status=pregnancy_status,
        symptoms=parsed_symptoms,
        recorded_by=actor,
        recorded_at=now,
    )
    if any(v is not None for v in vals.values()):
        Reading.objects.create(
            session=session,
            kind=ReadingKind.VITALS,
            phase=Phase.PRE_DOSE,
            taken_at=now,
            recorded_by=actor,
            symptoms=parsed_symptoms,
            **vals,
        )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=precheck,
        new={
            "vitals": vals,
            "weight_id": getattr(weight, "pk", None),
            "checked_in_at": now,  # the charted time (may be retrospective)
            "entered_at": entered_at,  # when it was entered
        },
        summary="checked in; pre-checks recorded",
    )
    _apply_gate(actor, session, precheck, now)
    hooks.session_changed(session.pk)
    return session


def _hold_reasons(rems: Any, gate: Any) -> list[dict[str, Any]]:
    """The findings of both gates that hold the session (HOLD or worse), as stored in ``hold_reasons``."""
    return [f.to_dict() for f in (*rems.findings, *gate.findings) if f.severity.rank >= Outcome.HOLD.rank]


def _apply_gate(actor: Any, session: DosingSession, precheck: PreCheck, now: dt.datetime) -> None:
    rems = selectors.rems_result(session, now)
    gate = selectors.gate_result(session, precheck, now)
    precheck.rems_result = rems.to_dict()
    precheck.gate_result = gate.to_dict()
    worst = Outcome.worst([rems.outcome, gate.outcome])
    precheck.gate_outcome = worst.value
    precheck.save(update_fields=["rems_result", "gate_result", "gate_outcome"])
    if worst.rank >= Outcome.HOLD.rank:
        reasons = _hold_reasons(rems, gate)
        _move(session, Status.HELD, held_at=now, hold_reasons=reasons)
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "held", "reasons": [r["code"] for r in reasons]},
            summary="pre-dose gate: held",
        )
    else:
        _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now, hold_reasons=[])
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "prechecks_done", "gate": worst.value},
            summary="pre-dose gate passed",
        )


@transaction.atomic
def recheck(
    actor: Any,
    session: DosingSession,
    *,
    vitals: Mapping[str, Any],
    at: dt.datetime | None = None,
    version: int | None = None,
) -> DosingSession:
    """A held session: record repeat pre-dose vitals and run both gates again."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    if session.status != Status.HELD:
        raise _err("status", "only a held session is re-checked")
    now = _aware(at, "at")
    vals = _vitals_fields(vitals)
    _validate_vitals(now, vals)
    Reading.objects.create(
        session=session,
        kind=ReadingKind.VITALS,
        phase=Phase.PRE_DOSE,
        taken_at=now,
        recorded_by=actor,
        **vals,
    )
    hooks.session_changed(session.pk)
    precheck = session.precheck
    rems = selectors.rems_result(session, now)
    gate = selectors.gate_result(session, precheck, now)
    precheck.rems_result, precheck.gate_result = rems.to_dict(), gate.to_dict()
    worst = Outcome.worst([rems.outcome, gate.outcome])
    precheck.gate_outcome = worst.value
    precheck.save(update_fields=["rems_result", "gate_result", "gate_outcome"])
    if worst.rank < Outcome.HOLD.rank:
        _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now, hold_reasons=[])
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            new={"status": "prechecks_done"},
            summary="re-check passed",
        )
    else:
        # Still held: the hold now rests on the re-check's findings (e.g. a hold confirmed by a second
        # reading, ``bp_hold``, replaces the first reading's ``bp_hold_recheck``), so an override that
        # follows records what was actually confirmed.
        previous = [r["code"] for r in session.hold_reasons]
        reasons = _hold_reasons(rems, gate)
        session.hold_reasons = reasons
        session.updated_at = timezone.now()
        DosingSession.objects.filter(pk=session.pk).update(
            version=F("version") + 1, hold_reasons=reasons, updated_at=session.updated_at
        )
        session.version += 1
        record(
            Action.UPDATE,
            actor=actor,
            patient=session.patient,
            obj=session,
            old={"reasons": previous},
            new={"gate": worst.value, "reasons": [r["code"] for r in reasons]},
            summary="re-check: still held",
        )
    return session


@transaction.atomic
def override_hold(
    actor: Any, session: DosingSession, *, reason: str, version: int | None = None
) -> DosingSession:
    """A prescriber proceeds despite a pre-dose HOLD, with a reason. REMS hard stops and emergencies
    (crisis symptoms) can never be overridden."""
    policies.require(actor, Act.GATE_OVERRIDE, session.clinic_id)
    session = _lock(session, version)
    if session.status != Status.HELD:
        raise _err("status", "only a held session can be overridden")
    reason = _reason(reason)
    precheck = session.precheck
    blocking = [
        r for r in session.hold_reasons if r["severity"] in (Outcome.HARD_STOP.value, Outcome.ESCALATE.value)
    ]
    if blocking:
        raise _err(
            "override", "cannot override " + "; ".join(f"{r['code']} ({r['severity']})" for r in blocking)
        )
    now = timezone.now()
    precheck.override_by, precheck.override_reason, precheck.override_at = actor, reason, now
    precheck.save(update_fields=["override_by", "override_reason", "override_at"])
    _move(session, Status.PRECHECKS_DONE, prechecks_done_at=now)
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        old={"status": "held"},
        new={"status": "prechecks_done", "override": [r["code"] for r in session.hold_reasons]},
        reason=reason,
        summary="pre-dose hold overridden by prescriber",
    )
    return session


# --- dose order and verification ---------------------------------------------------------------------------


@overload
def _dec(x: float, places: str = ...) -> Decimal: ...
@overload
def _dec(x: None, places: str = ...) -> None: ...
def _dec(x: float | None, places: str = "0.01") -> Decimal | None:
    return None if x is None else Decimal(str(x)).quantize(Decimal(places))


@transaction.atomic
def order_dose(
    actor: Any,
    session: DosingSession,
    *,
    requested_mg: float | None = None,
    level: int = 0,
    dose_mg: float | None = None,
    override_reason: str = "",
) -> DoseOrder:
    """The prescriber orders the dose the rules compute. A dose outside the rules (``dose_mg`` different from
    the computed dose, or a request the rules refuse) needs ``override_reason``; the physical preparation
    rules (never undiluted 100 mg/mL IV, whole esketamine devices) can never be overridden."""
    policies.require(actor, Act.DOSE_ORDER, session.clinic_id)
    session = _lock(session, None)
    if session.status != Status.PRECHECKS_DONE:
        raise _err(
            "status",
            f"the dose is ordered after the pre-checks pass (session is {session.get_status_display()})",
        )
    if hasattr(session, "order"):
        raise _err("order", "a dose is already ordered for this session")
    precheck = session.precheck
    weight = precheck.weight
    today = selectors.local_date(session, session.checked_in_at or timezone.now())
    computed: dosing_rules.DoseResult | None = None
    refusal = ""
    try:
        computed = dosing_rules.compute_dose(
            session.protocol_id,
            weight_kg=float(weight.weight_kg) if weight else None,
            weight_measured_on=selectors.local_date(session, weight.measured_at) if weight else None,
            session_date=today if weight else None,
            sex=session.patient.sex,
            level=level,
            requested_mg=requested_mg,
            previous_doses_mg=selectors.previous_doses(session),
            age_years=session.patient.age_on(today),
        )
    except dosing_rules.DoseError as exc:
        refusal = str(exc)
        if dose_mg is None:
            raise _err("dose_mg", refusal) from None
    if dose_mg is not None and not (
        isinstance(dose_mg, int | float | Decimal) and 0 < float(dose_mg) <= dosing_rules.DOSE_INPUT_MAX_MG
    ):
        raise _err(
            "dose_mg", f"{dose_mg!r} is outside the allowed range (0, {dosing_rules.DOSE_INPUT_MAX_MG:g}] mg"
        )
    final = float(dose_mg) if dose_mg is not None else computed.dose_mg  # type: ignore[union-attr]
    outside = computed is None or abs(final - computed.dose_mg) > 1e-6
    reason = ""
    if outside:
        reason = _reason(override_reason, "override_reason")
    calc: dict[str, Any] = {"computed": computed.to_dict() if computed else None, "refusal": refusal}
    fields: dict[str, Any] = {}
    try:
        if session.route == DoseRoute.IV:
            protocol = get_protocol(session.protocol_id)
            adm = dosing_rules.iv_admixture(final, float(protocol.administration_min))
            fields = {
                "concentration_mg_ml": _dec(adm.final_mg_ml, "0.001"),
                "total_volume_ml": _dec(adm.total_volume_ml),
                "drug_volume_ml": _dec(adm.drug_volume_ml),
                "rate_ml_h": _dec(adm.rate_ml_h, "0.1"),
                "infusion_min": _dec(adm.infusion_min, "0.1"),
            }
            calc["admixture"] = asdict(adm)
        elif session.route == DoseRoute.INTRANASAL:
            plan = dosing_rules.device_plan(final)
            fields = {"devices": plan.devices}
        elif session.route == DoseRoute.IM:
            vial = DOSING_RULES.num("im.vial_mg_ml")
            fields = {"injection_volume_ml": _dec(final / vial)}
    except dosing_rules.DoseError as exc:
        raise _err("dose_mg", str(exc)) from None
    order = DoseOrder.objects.create(
        session=session,
        dose_mg=_dec(final),
        dose_mg_hcl=_dec(dosing_rules.base_to_hcl_mg(final)),
        computed_mg=_dec(computed.dose_mg) if computed else None,
        mg_per_kg=_dec(final / float(weight.weight_kg), "0.001")
        if weight and session.drug == Drug.KETAMINE
        else None,
        weight_kg=weight.weight_kg if weight else None,
        calculation=calc,
        outside_limits=outside,
        override_reason=reason,
        ordered_by=actor,
        **fields,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=order,
        new={"dose_mg": order.dose_mg, "outside_limits": outside, **fields},
        reason=reason,
        summary="dose ordered" + (" outside limits (override)" if outside else ""),
    )
    return order


@transaction.atomic
def verify_dose(actor: Any, session: DosingSession) -> DoseOrder:
    """Second-clinician verification of an IV/IM dose: must be a different user from the prescriber."""
    policies.require(actor, Act.DOSE_VERIFY, session.clinic_id)
    session = _fresh(session)
    order = DoseOrder.objects.select_for_update().get(session=session)
    if order.verified_at is not None:
        raise _err("order", "already verified")
    if order.ordered_by_id == getattr(actor, "pk", None):
        raise _err(
            "verified_by", "the second check must be done by a different clinician from the prescriber"
        )
    order.verified_by, order.verified_at = actor, timezone.now()
    order.save(update_fields=["verified_by", "verified_at"])
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=order,
        new={"verified": True},
        summary="dose independently verified",
    )
    return order


# --- administration ----------------------------------------------------------------------------------------


@transaction.atomic
def start_dosing(
    actor: Any,
    session: DosingSession,
    *,
    product_code: str,
    lot_number: str,
    at: dt.datetime | None = None,
    rate_ml_h: float | str | None = None,
    version: int | None = None,
) -> Administration:
    """Start administration (esketamine: the first device). Refused on any REMS hard stop, without an order,
    or (IV/IM) without the second clinician's verification."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    now = _aware(at, "at")
    if session.status != Status.PRECHECKS_DONE:
        raise _err("status", f"cannot start dosing: session is {session.get_status_display()}")
    stops = selectors.rems_result(session, now)
    if stops.outcome is Outcome.HARD_STOP:
        raise ValidationError({"rems": [f"rems: {f.message}" for f in stops.findings]})
    order = getattr(session, "order", None)
    if order is None:
        raise _err("order", "no dose ordered yet")
    if session.needs_verification and order.verified_at is None:
        raise _err("order", "an IV/IM dose needs a second clinician's verification before administration")
    try:
        prod = domain.product(product_code)
    except ValueError as exc:
        raise _err("product_code", str(exc).split(": ", 1)[1]) from None
    if prod.drug != session.drug or session.route not in prod.routes:
        raise _err("product_code", f"{prod.name} is not {session.get_drug_display()} by {session.route}")
    if (
        session.route == DoseRoute.IV
        and prod.base_mg_per_unit >= DOSING_RULES.num("iv.undiluted_forbidden_mg_ml")
        and order.concentration_mg_ml is None
    ):
        raise _err("product_code", "100 mg/mL ketamine must be diluted for IV use")
    lot = (lot_number or "").strip()
    if not lot or len(lot) > 40:
        raise _err("lot_number", "required, 1–40 characters")
    rate: Decimal | None = None
    if session.route == DoseRoute.IV:
        if rate_ml_h is None or rate_ml_h == "":
            rate = order.rate_ml_h
        else:
            try:
                rate_value = float(rate_ml_h)
            except ValueError:
                raise _err(
                    "rate_ml_h", f"{rate_ml_h!r} is not a number (allowed range [1, 999] mL/h)"
                ) from None
            if not math.isfinite(rate_value):
                raise _err("rate_ml_h", f"{rate_value} is outside the allowed range [1, 999] mL/h")
            rate = _dec(rate_value, "0.1")
        assert rate is not None
        if not Decimal("1") <= rate <= Decimal("999"):
            raise _err("rate_ml_h", f"{rate} is outside the allowed range [1, 999] mL/h")
    admin = Administration.objects.create(
        session=session,
        product_code=prod.code,
        product_name=prod.name,
        ndc=prod.ndc,
        strength_base=f"{prod.base_mg_per_unit:g} mg/{prod.unit}",
        lot_number=lot,
        route=session.route,
        rate_ml_h=rate,
        started_at=now,
        ended_at=now if session.route == DoseRoute.IM else None,
        device_times=[now.isoformat()] if session.is_esketamine else [],
        administered_by=actor,
    )
    _move(session, Status.DOSING, dosing_started_at=now)
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=admin,
        new={"product": prod.code, "ndc": prod.ndc, "lot": lot, "started_at": now, "rate_ml_h": rate},
        summary="administration started",
    )
    if session.route == DoseRoute.IM or (session.is_esketamine and order.devices == 1):
        _move(session, Status.MONITORING, dosing_ended_at=now)
        admin.ended_at = now
        admin.save(update_fields=["ended_at"])
    hooks.session_changed(session.pk)
    return admin


@transaction.atomic
def record_device(
    actor: Any, session: DosingSession, *, at: dt.datetime | None = None, version: int | None = None
) -> Administration:
    """Esketamine: the next device, at least the configured spacing (5 min) after the previous one."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    now = _aware(at, "at")
    if not session.is_esketamine or session.status != Status.DOSING:
        raise _err("status", "devices are recorded during esketamine dosing")
    admin = session.administration
    times = [dt.datetime.fromisoformat(t) for t in admin.device_times]
    order = session.order
    if len(times) >= (order.devices or 0):
        raise _err("device", f"all {order.devices} devices already given")
    if now <= times[-1]:
        raise _err("at", f"device time {now.isoformat(timespec='minutes')} is not after the previous device")
    problems = dosing_rules.check_device_spacing([*times, now])
    if problems:
        raise _err("at", problems[-1])
    admin.device_times = [*admin.device_times, now.isoformat()]
    fields = ["device_times"]
    if len(admin.device_times) == order.devices:
        admin.ended_at = now
        fields.append("ended_at")
    admin.save(update_fields=fields)
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=admin,
        new={"device": len(admin.device_times), "at": now},
        summary=f"device {len(admin.device_times)} given",
    )
    if admin.ended_at is not None:
        _move(session, Status.MONITORING, dosing_ended_at=now)
    return admin


@transaction.atomic
def stop_infusion(
    actor: Any, session: DosingSession, *, at: dt.datetime | None = None, version: int | None = None
) -> Administration:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    now = _aware(at, "at")
    if session.route != DoseRoute.IV or session.status != Status.DOSING:
        raise _err("status", "an infusion is stopped while IV dosing is running")
    admin = session.administration
    if now <= admin.started_at:
        raise _err(
            "at", f"stop time must be after the start {admin.started_at.isoformat(timespec='minutes')}"
        )
    admin.ended_at = now
    admin.save(update_fields=["ended_at"])
    _move(session, Status.MONITORING, dosing_ended_at=now)
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=admin,
        new={"ended_at": now},
        summary="infusion stopped",
    )
    return admin


# --- flowsheet ---------------------------------------------------------------------------------------------

CHARTABLE = {
    Status.CHECKED_IN,
    Status.PRECHECKS_DONE,
    Status.HELD,
    Status.DOSING,
    Status.MONITORING,
    Status.READY,
}


@transaction.atomic
def add_reading(
    actor: Any,
    session: DosingSession,
    *,
    taken_at: dt.datetime | None = None,
    vitals: Mapping[str, Any] | None = None,
    moaas: int | str | None = None,
    cadss6: Mapping[str, Any] | None = None,
    nausea: str = "",
    symptoms: Iterable[str] = (),
    other_effects: str = "",
    intervention: str = "",
) -> Reading:
    """Append one flowsheet row, flagged at entry. Implausible values are refused naming field and range."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = DosingSession.objects.select_related("clinic", "patient").get(pk=session.pk)
    if session.status not in CHARTABLE:
        raise _err(
            "status",
            f"readings are charted between check-in and discharge (session is {session.get_status_display()})",
        )
    now = _aware(taken_at, "taken_at")
    if session.checked_in_at and now < session.checked_in_at - dt.timedelta(hours=2):
        raise _err("taken_at", "is more than 2 h before check-in")
    vals = _vitals_fields(vitals or {})
    _validate_vitals(now, vals)
    moaas_value: int | None = None
    if moaas not in (None, ""):
        try:
            moaas_value = score("moaas", {"1": int(moaas)}).total
        except (AnswerError, ValueError, TypeError):
            raise _err("moaas", f"{moaas!r} is outside the MOAA/S range [0, 5]") from None
    cadss_items = None
    cadss_total = None
    if cadss6 and any(v not in (None, "") for v in cadss6.values()):
        try:
            answers = {str(k): int(v) for k, v in cadss6.items() if v not in (None, "")}
            cadss_score = score("cadss6", answers)
        except (AnswerError, ValueError, TypeError) as exc:
            raise _err("cadss6", f"{exc} (each item 0–4)") from None
        if cadss_score.missing:
            raise _err("cadss6", f"items {', '.join(cadss_score.missing)} missing (each item 0–4)")
        cadss_items, cadss_total = answers, cadss_score.total
    if nausea and nausea not in Nausea.values:
        raise _err("nausea", f"one of {', '.join(Nausea.values)}")
    try:
        parsed = [s.value for s in parse_symptoms(symptoms)]
    except ValueError as exc:
        raise _err("symptoms", str(exc).split(": ", 1)[1]) from None
    kind = (
        ReadingKind.VITALS
        if any(v is not None for v in vals.values())
        else ReadingKind.MOAAS
        if moaas_value is not None
        else ReadingKind.CADSS6
        if cadss_total is not None
        else ReadingKind.INTERVENTION
        if intervention.strip()
        else ReadingKind.EFFECT
    )
    if kind == ReadingKind.EFFECT and not (nausea or parsed or other_effects.strip()):
        raise _err("reading", "enter at least one value")
    phase = selectors.phase_at(session, now)
    result = selectors.evaluate_new(session, now, vals, moaas_value, parsed)
    reading = Reading.objects.create(
        session=session,
        kind=kind,
        phase=phase,
        taken_at=now,
        moaas=moaas_value,
        cadss6_items=cadss_items,
        cadss6_total=cadss_total,
        nausea=nausea,
        symptoms=parsed,
        other_effects=other_effects.strip()[:300],
        intervention=intervention.strip()[:300],
        outcome=result.outcome.value,
        findings=[f.to_dict() for f in result.findings],
        recorded_by=actor,
        **vals,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=reading,
        new={
            "kind": kind,
            "phase": phase,
            **vals,
            "moaas": moaas_value,
            "cadss6": cadss_total,
            "outcome": result.outcome.value,
        },
        summary="flowsheet reading",
    )
    if result.outcome is Outcome.ESCALATE and session.status == Status.READY:
        s = _lock(session, None)
        _move(s, Status.MONITORING, ready_at=None)
    hooks.session_changed(session.pk)
    return reading


# --- events and emergencies --------------------------------------------------------------------------------


@transaction.atomic
def record_adverse_event(
    actor: Any,
    session: DosingSession,
    *,
    event_type: str,
    description: str,
    onset_at: dt.datetime | None,
    severity: str,
    serious: bool = False,
    seriousness: Iterable[str] = (),
    action_taken: str = "",
    outcome: str = EventOutcome.UNKNOWN,
) -> AdverseEvent:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _fresh(session)
    for value, choices, name in (
        (event_type, EventType, "event_type"),
        (severity, Severity, "severity"),
        (outcome, EventOutcome, "outcome"),
    ):
        if value not in choices.values:
            raise _err(name, f"one of {', '.join(choices.values)}")
    crit = list(seriousness)
    unknown = [c for c in crit if c not in SERIOUSNESS_CODES]
    if unknown:
        raise _err(
            "seriousness", f"unknown {', '.join(unknown)}; allowed {', '.join(sorted(SERIOUSNESS_CODES))}"
        )
    if serious and not crit:
        raise _err("seriousness", "a serious event needs at least one seriousness criterion")
    if crit and not serious:
        serious = True
    if not description.strip():
        raise _err("description", "required")
    onset = _aware(onset_at, "onset_at")
    event = AdverseEvent.objects.create(
        session=session,
        event_type=event_type,
        description=description.strip(),
        onset_at=onset,
        severity=severity,
        serious=serious,
        seriousness=crit,
        action_taken=action_taken.strip()[:300],
        outcome=outcome,
        recorded_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=event,
        new={"type": event_type, "severity": severity, "serious": serious},
        summary="adverse event recorded",
    )
    hooks.session_changed(session.pk)
    return event


@transaction.atomic
def record_emergency_action(
    actor: Any,
    session: DosingSession,
    *,
    action: str,
    escalation: str = Escalation.NONE,
    at: dt.datetime | None = None,
) -> EmergencyAction:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _fresh(session)
    if escalation not in Escalation.values:
        raise _err("escalation", f"one of {', '.join(Escalation.values)}")
    if not action.strip():
        raise _err("action", "required")
    row = EmergencyAction.objects.create(
        session=session,
        at=_aware(at, "at"),
        action=action.strip()[:300],
        escalation=escalation,
        recorded_by=actor,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=row,
        new={"action": row.action, "escalation": escalation},
        summary="emergency action",
    )
    return row


# --- discharge, signature, amendments ---------------------------------------------------------------------


@transaction.atomic
def mark_ready(
    actor: Any,
    session: DosingSession,
    *,
    escort_present: bool,
    dissociation_resolved: bool,
    version: int | None = None,
) -> DosingSession:
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    result = selectors.readiness(
        session, timezone.now(), escort_present=escort_present, dissociation_resolved=dissociation_resolved
    )
    if not result.ready:
        raise ValidationError({"readiness": [f"{f.code}: {f.message}" for f in result.findings]})
    _move(session, Status.READY, ready_at=timezone.now())
    record(
        Action.UPDATE,
        actor=actor,
        patient=session.patient,
        obj=session,
        new={"status": "ready_for_discharge"},
        summary="ready for discharge",
    )
    return session


@transaction.atomic
def discharge(
    actor: Any,
    session: DosingSession,
    *,
    escort_present: bool,
    dissociation_resolved: bool,
    summary: str,
    ready_to_leave_minutes: int | str | None = None,
    at: dt.datetime | None = None,
    version: int | None = None,
) -> DischargeNote:
    """Discharge when every readiness criterion is met, writing version 1 of the (unsigned) discharge note."""
    policies.require(actor, Act.SESSION_CHART, session.clinic_id)
    session = _lock(session, version)
    entered_at = timezone.now()
    if session.status not in (Status.MONITORING, Status.READY):
        raise _err("status", f"cannot discharge: session is {session.get_status_display()}")
    # The steps before discharge with charted times (ready_at and an override's prechecks_done_at are
    # entry times, so they do not bound a retrospective discharge time).
    now = _charted_at(
        session,
        at,
        "at",
        "discharge time",
        (
            ("check-in", session.checked_in_at),
            ("the start of dosing", session.dosing_started_at),
            ("the end of dosing", session.dosing_ended_at),
        ),
    )
    result = selectors.readiness(
        session, now, escort_present=escort_present, dissociation_resolved=dissociation_resolved
    )
    if not result.ready:
        raise ValidationError({"readiness": [f"{f.code}: {f.message}" for f in result.findings]})
    if ready_to_leave_minutes is not None and ready_to_leave_minutes != "":
        try:
            rtl = int(ready_to_leave_minutes)
        except (TypeError, ValueError):
            raise _err("ready_to_leave_minutes", "whole minutes in [0, 600]") from None
        if not 0 <= rtl <= 600:
            raise _err("ready_to_leave_minutes", f"{rtl} is outside the allowed range [0, 600] min")
        ready_to_leave_minutes = rtl
    if not summary.strip():
        raise _err("summary", "required")
    readiness = result.to_dict()
    readiness["ready_to_leave_minutes"] = ready_to_leave_minutes
    note = DischargeNote.objects.create(
        session=session,
        version=1,
        discharged_at=now,
        readiness=readiness,
        escort_present=escort_present,
        dissociation_resolved=dissociation_resolved,
        summary=summary.strip(),
        author=actor,
    )
    _move(session, Status.DISCHARGED, discharged_at=now)
    if session.is_esketamine:
        RemsForm.objects.get_or_create(
            session=session, defaults={"due_date": selectors.rems_due_date(session)}
        )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=note,
        new={"discharged_at": now, "entered_at": entered_at, "readiness": result.outcome.value},
        summary="discharged",
    )
    return note


@transaction.atomic
def sign_note(actor: Any, note: DischargeNote) -> DischargeNote:
    """The responsible clinician signs the note; it is locked from then on."""
    note = (
        DischargeNote.objects.select_for_update(of=("self",))
        .select_related("session__patient")
        .get(pk=note.pk)
    )
    session = note.session
    policies.require(actor, Act.SESSION_SIGN, session.clinic_id)
    if session.responsible_clinician_id != getattr(actor, "pk", None):
        raise _err("signed_by", "only the responsible clinician signs the discharge note")
    if note.signed_at is not None:
        raise _err("note", "already signed")
    note.signed_by, note.signed_at = actor, timezone.now()
    DischargeNote.objects.filter(pk=note.pk).update(signed_by=actor, signed_at=note.signed_at)
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=note,
        new={"version": note.version},
        summary=f"discharge note v{note.version} signed",
    )
    return note


@transaction.atomic
def amend_note(actor: Any, note: DischargeNote, *, reason: str, summary: str) -> DischargeNote:
    """Correct a signed note: a new version row pointing at the previous one (never an edit)."""
    note = (
        DischargeNote.objects.select_for_update(of=("self",))
        .select_related("session__patient")
        .get(pk=note.pk)
    )
    session = note.session
    policies.require(actor, Act.SESSION_SIGN, session.clinic_id)
    if note.signed_at is None:
        raise _err("note", "sign the note first; an unsigned note is simply completed")
    if DischargeNote.objects.filter(previous_version=note).exists():
        raise _err("note", "this is not the latest version; amend the latest")
    reason = _reason(reason)
    if not summary.strip():
        raise _err("summary", "required")
    new = DischargeNote.objects.create(
        session=session,
        version=note.version + 1,
        previous_version=note,
        discharged_at=note.discharged_at,
        readiness=note.readiness,
        escort_present=note.escort_present,
        dissociation_resolved=note.dissociation_resolved,
        summary=summary.strip(),
        amendment_reason=reason,
        author=actor,
    )
    record(
        Action.AMEND,
        actor=actor,
        patient=session.patient,
        obj=new,
        old={"version": note.version, "summary": note.summary},
        new={"version": new.version, "summary": new.summary},
        reason=reason,
        summary=f"discharge note amended (v{new.version})",
    )
    return new


# --- REMS Patient Monitoring Form --------------------------------------------------------------------------


@transaction.atomic
def sign_rems_form(actor: Any, session: DosingSession) -> RemsForm:
    policies.require(actor, Act.REMS_SUBMIT, session.clinic_id)
    session = _fresh(session)
    form = RemsForm.objects.select_for_update().get(session=session)
    if form.signed_at is not None:
        raise _err("form", "already signed")
    built = selectors.build_rems_form(session)
    if built.missing:
        raise ValidationError({"form": [f"{k}: required field missing" for k in built.missing]})
    if built.problems:
        raise ValidationError({"form": [f"{p.code}: {p.message}" for p in built.problems]})
    form.fields = built.to_dict()
    form.signed_by, form.signed_at = actor, timezone.now()
    form.save(update_fields=["fields", "signed_by", "signed_at"])
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=form,
        new={"due_date": form.due_date},
        summary="REMS monitoring form signed",
    )
    return form


@transaction.atomic
def submit_rems_form(
    actor: Any, session: DosingSession, *, confirmation: str, submitted_on: dt.date | None = None
) -> RemsForm:
    policies.require(actor, Act.REMS_SUBMIT, session.clinic_id)
    session = _fresh(session)
    form = RemsForm.objects.select_for_update().filter(session=session).first()
    if form is None or form.signed_at is None:
        raise _err("form", "sign the completed form before recording its submission")
    if form.submitted_at is not None:
        raise _err("form", "submission already recorded")
    confirmation = (confirmation or "").strip()
    if not 3 <= len(confirmation) <= 60:
        raise _err("confirmation", "the REMS confirmation number, 3–60 characters")
    today = selectors.local_date(session, timezone.now())
    day = submitted_on or today
    session_day = selectors.local_date(session, session.dosing_started_at or session.scheduled_for)
    if not session_day <= day <= today:
        raise _err(
            "submitted_on",
            f"{day.isoformat()} is outside the allowed range [{session_day.isoformat()}, {today.isoformat()}]",
        )
    form.submitted_on, form.submitted_at, form.confirmation, form.submitted_by = (
        day,
        timezone.now(),
        confirmation,
        actor,
    )
    form.save(update_fields=["submitted_on", "submitted_at", "confirmation", "submitted_by"])
    record(
        Action.EXPORT,
        actor=actor,
        patient=session.patient,
        obj=form,
        new={"submitted_on": day, "confirmation": confirmation},
        summary="REMS monitoring form submitted",
    )
    return form


# --- integration notes -------------------------------------------------------------------------------------


@transaction.atomic
def write_integration_note(
    actor: Any,
    session: DosingSession,
    *,
    experience: str,
    risk_check: str,
    insights: str = "",
    intentions: str = "",
    homework: str = "",
    risk_notes: str = "",
    held_at: dt.datetime | None = None,
    appointment: Any = None,
) -> IntegrationNote:
    policies.require(actor, Act.INTEGRATION_NOTE, session.clinic_id)
    session = _fresh(session)
    if session.dosing_started_at is None:
        raise _err("session", "integration follows a dose: this session has no administration")
    when = _aware(held_at, "held_at")
    if when < session.dosing_started_at:
        raise _err("held_at", "the integration session cannot be before the dose")
    if risk_check not in RiskCheck.values:
        raise _err("risk_check", f"one of {', '.join(RiskCheck.values)}")
    if risk_check != RiskCheck.NO_CONCERN and not risk_notes.strip():
        raise _err("risk_notes", "describe the risk and the action taken")
    if not experience.strip():
        raise _err("experience", "required")
    note = IntegrationNote.objects.create(
        session=session,
        appointment=appointment,
        held_at=when,
        experience=experience.strip(),
        insights=insights.strip(),
        intentions=intentions.strip(),
        homework=homework.strip(),
        risk_check=risk_check,
        risk_notes=risk_notes.strip(),
        author=actor,
        signed_by=actor,
        signed_at=timezone.now(),
    )
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=note,
        new={"risk_check": risk_check},
        summary="integration note signed",
    )
    return note
