"""Dose order and verification; administration (start, esketamine devices, end of infusion)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from decimal import Decimal
from typing import Any, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.clinical import dosing as dosing_rules
from kairos.clinical.protocols import get_protocol
from kairos.clinical.safety.result import Outcome
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.dosing import domain, hooks, selectors
from kairos.dosing.domain import Status
from kairos.dosing.models import (
    Administration,
    DoseOrder,
    DoseRoute,
    DosingSession,
    Drug,
)
from kairos.dosing.services.common import (
    _aware,
    _err,
    _fresh,
    _lock,
    _move,
    _reason,
    describe_findings,
    pending_cautions,
)
from kairos.rulesets.selectors import effective_rules

# --- dose order and verification ---------------------------------------------------------------------------


@overload
def _dec(x: float, places: str = ...) -> Decimal: ...
@overload
def _dec(x: None, places: str = ...) -> None: ...
def _dec(x: float | None, places: str = "0.01") -> Decimal | None:
    return None if x is None else Decimal(str(x)).quantize(Decimal(places))


# Over 80 lines: the pure dose calculation, the prescriber's override of it and the audit in one transaction.
@transaction.atomic
def order_dose(
    actor: Actor,
    session: DosingSession,
    *,
    requested_mg: float | None = None,
    level: int = 0,
    dose_mg: float | None = None,
    override_reason: str = "",
) -> DoseOrder:
    """The prescriber orders the dose the rules compute. A dose outside the rules (``dose_mg`` different from
    the computed dose, or a request the rules refuse) needs ``override_reason`` and stays inside the
    protocol's HARD ceiling (:func:`kairos.clinical.dosing.dose_ceilings`); above its SOFT ceiling the order
    needs a second prescriber's co-signature (:func:`cosign_dose`) before administration. The physical
    preparation rules (never undiluted 100 mg/mL IV, whole esketamine devices) can never be overridden.
    Refused while any pre-dose caution has no recorded prescriber decision (issue #12 §2)."""
    policies.require(actor, Act.DOSE_ORDER, session.clinic_id)
    session = _lock(session, None)
    if session.status in (Status.CHECKED_IN, Status.PRECHECKS_DONE):
        undecided = pending_cautions(session)
        if undecided:
            raise _err(
                "caution",
                "undecided pre-dose caution: "
                + describe_findings(undecided)
                + "; a prescriber records proceed, delay or cancel with a reason before the dose is ordered",
            )
    if session.status != Status.PRECHECKS_DONE:
        raise _err(
            "status",
            f"the dose is ordered after the pre-checks pass (session is {session.get_status_display()})",
        )
    if hasattr(session, "order"):
        raise _err("order", "a dose is already ordered for this session")
    precheck = session.precheck
    weight = precheck.weight
    height = precheck.height
    today = selectors.local_date(session, session.checked_in_at or timezone.now())
    body: dict[str, Any] = {
        "weight_kg": float(weight.weight_kg) if weight else None,
        "weight_measured_on": selectors.local_date(session, weight.measured_at) if weight else None,
        "session_date": today,
        "height_cm": float(height.height_cm) if height else None,
        "height_measured_on": selectors.local_date(session, height.measured_at) if height else None,
        "sex": session.patient.sex,
    }
    # The clinic's effective dosing rules (cited defaults with its signed overrides, e.g. weight.basis).
    rules = effective_rules(session.clinic_id, "dosing")
    computed: dosing_rules.DoseResult | None = None
    refusal = ""
    try:
        computed = dosing_rules.compute_dose(
            session.protocol_id,
            **body,
            rules=rules,
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
    cosign = False
    calc: dict[str, Any] = {
        "computed": computed.to_dict() if computed else None,
        "refusal": refusal,
        "clinic_overrides": [
            {"key": p.key, "value": p.value, "by": p.overridden_by.by, "reason": p.overridden_by.reason}
            for p in rules
            if p.overridden_by is not None
        ],
    }
    if outside:
        reason = _reason(override_reason, "override_reason")
        try:
            ceilings = dosing_rules.dose_ceilings(session.protocol_id, **body, rules=rules)
            cosign = dosing_rules.check_override(final, ceilings)
        except dosing_rules.DoseError as exc:
            raise ValidationError({"dose_mg": str(exc)}) from None  # the message names its field
        calc["ceilings"] = ceilings.to_dict()
    fields: dict[str, Any] = {}
    try:
        if session.route == DoseRoute.IV:
            protocol = get_protocol(session.protocol_id, dosing_rules=rules)
            adm = dosing_rules.iv_admixture(final, float(protocol.administration_min), rules)
            fields = {
                "concentration_mg_ml": _dec(adm.final_mg_ml, "0.001"),
                "total_volume_ml": _dec(adm.total_volume_ml),
                "drug_volume_ml": _dec(adm.drug_volume_ml),
                "rate_ml_h": _dec(adm.rate_ml_h, "0.1"),
                "infusion_min": _dec(adm.infusion_min, "0.1"),
            }
            calc["admixture"] = asdict(adm)
        elif session.route == DoseRoute.INTRANASAL:
            plan = dosing_rules.device_plan(final, rules)
            fields = {"devices": plan.devices}
        elif session.route == DoseRoute.IM:
            vial = rules.num("im.vial_mg_ml")
            fields = {"injection_volume_ml": _dec(final / vial)}
    except dosing_rules.DoseError as exc:
        raise _err("dose_mg", str(exc)) from None
    order = DoseOrder.objects.create(
        session=session,
        dose_mg=_dec(final),
        dose_mg_hcl=_dec(dosing_rules.base_to_hcl_mg(final, rules)),
        computed_mg=_dec(computed.dose_mg) if computed else None,
        mg_per_kg=_dec(final / float(weight.weight_kg), "0.001")
        if weight and session.drug == Drug.KETAMINE
        else None,
        weight_kg=weight.weight_kg if weight else None,
        calculation=calc,
        outside_limits=outside,
        override_reason=reason,
        cosign_required=cosign,
        ordered_by=actor,
        **fields,
    )
    record(
        Action.CREATE,
        actor=actor,
        patient=session.patient,
        obj=order,
        new={
            "dose_mg": order.dose_mg,
            "outside_limits": outside,
            "cosign_required": cosign,
            "ceilings": calc.get("ceilings"),
            **fields,
        },
        reason=reason,
        summary="dose ordered"
        + (" outside limits (override)" if outside else "")
        + (": above the soft ceiling, a second prescriber's co-signature is required" if cosign else ""),
    )
    return order


@transaction.atomic
def cosign_dose(actor: Actor, session: DosingSession) -> DoseOrder:
    """A second prescriber co-signs an override above the soft ceiling (issue #12 §4): a prescriber of
    this clinic other than the one who ordered it. Recorded on the order and audited."""
    policies.require(actor, Act.DOSE_ORDER, session.clinic_id)
    session = _fresh(session)
    order = DoseOrder.objects.select_for_update().filter(session=session).first()
    if order is None:
        raise _err("order", "no dose ordered yet")
    if not order.cosign_required:
        raise _err("cosign", "this dose is within the soft ceiling: no co-signature is needed")
    if order.cosigned_at is not None:
        raise _err("cosign", "already co-signed")
    if order.ordered_by_id == getattr(actor, "pk", None):
        raise _err(
            "cosigned_by", "the co-signature must be a second prescriber, not the one who ordered the dose"
        )
    order.cosigned_by, order.cosigned_at = actor, timezone.now()
    order.save(update_fields=["cosigned_by", "cosigned_at"])
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=order,
        new={"cosigned": True, "dose_mg": order.dose_mg, "ceilings": order.calculation.get("ceilings")},
        reason=order.override_reason,
        summary="dose override above the soft ceiling co-signed by a second prescriber",
    )
    return order


@transaction.atomic
def verify_dose(actor: Actor, session: DosingSession) -> DoseOrder:
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


# Over 80 lines: product, lot, device plan and the status move must be validated and written together.
@transaction.atomic
def start_dosing(
    actor: Actor,
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
    if order.cosign_required and order.cosigned_at is None:
        ceilings = order.calculation.get("ceilings") or {}
        raise _err(
            "cosign",
            f"the dose {order.dose_mg} mg is above the soft ceiling {ceilings.get('soft_mg', '?')} mg "
            f"({ceilings.get('soft_rule', '')}): a second prescriber's co-signature is required before "
            "administration",
        )
    try:
        prod = domain.product(product_code)
    except ValueError as exc:
        raise _err("product_code", str(exc).split(": ", 1)[1]) from None
    if prod.drug != session.drug or session.route not in prod.routes:
        raise _err("product_code", f"{prod.name} is not {session.get_drug_display()} by {session.route}")
    if (
        session.route == DoseRoute.IV
        and prod.base_mg_per_unit
        >= effective_rules(session.clinic_id, "dosing").num("iv.undiluted_forbidden_mg_ml")
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
    actor: Actor, session: DosingSession, *, at: dt.datetime | None = None, version: int | None = None
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
    problems = dosing_rules.check_device_spacing([*times, now], effective_rules(session.clinic_id, "dosing"))
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
    actor: Actor, session: DosingSession, *, at: dt.datetime | None = None, version: int | None = None
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
