"""Dose calculation: mg/kg on the configured weight basis, caps, free-base salt conversion, the IV
admixture and pump rate, IM volume, sublingual units and esketamine device counts.

All doses are **free-base** mg. Ketamine HCl → base uses the molar masses in
:mod:`kairos.clinical.rules.dosing` (237.73 / 274.19 g/mol ⇒ 0.867; a 28 mg esketamine device holds 32.3 mg
HCl, §1.1). Every number comes from a rule set; functions return result objects with readable reasons and
raise :class:`DoseError` naming the field and its allowed range for bad input.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kairos.clinical.config import RuleSet
from kairos.clinical.protocols import Protocol, get_protocol
from kairos.clinical.rules.dosing import RULES

# The largest dose in mg any dose field accepts: an INPUT bound that refuses typing errors (an extra zero), not
# a clinical dose or cap (those are Params in kairos.clinical.rules.dosing). Used here and by the dosing app.
DOSE_INPUT_MAX_MG = 1000.0


class DoseError(ValueError):
    """A dose cannot be computed or would be unsafe; the message names the field and allowed range."""


def _round_to(x: float, step: float) -> float:
    """Nearest multiple of ``step`` (half up), cleaned of float noise."""
    return round(math.floor(x / step + 0.5 + 1e-9) * step, 6)


def _floor_to(x: float, step: float) -> float:
    return round(math.floor(x / step + 1e-9) * step, 6)


def base_per_hcl(rules: RuleSet = RULES) -> float:
    """Mass of free base in 1 mg of (es)ketamine hydrochloride."""
    return rules.num("mw.ketamine_base") / rules.num("mw.ketamine_hcl")


def hcl_to_base_mg(mg_hcl: float, rules: RuleSet = RULES) -> float:
    """Free-base equivalent of ``mg_hcl`` mg of (es)ketamine HCl."""
    _check_finite("mg_hcl", mg_hcl, 0.0, None, "mg")
    return mg_hcl * base_per_hcl(rules)


def base_to_hcl_mg(mg_base: float, rules: RuleSet = RULES) -> float:
    """Mass of (es)ketamine HCl that contains ``mg_base`` mg of free base."""
    _check_finite("mg_base", mg_base, 0.0, None, "mg")
    return mg_base / base_per_hcl(rules)


def _check_finite(name: str, value: float, lo: float | None, hi: float | None, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DoseError(f"{name}: expected a finite number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise DoseError(f"{name}: {value:g} is outside the allowed range [{lo_s}, {hi_s}] {unit}".rstrip())
    return float(value)


# --- weight -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BasisWeight:
    """The weight a mg/kg dose is computed on, and why."""

    basis: str
    kg: float
    actual_kg: float
    ideal_kg: float | None
    reasons: tuple[str, ...]


def ideal_body_weight(height_cm: float, sex: str, rules: RuleSet = RULES) -> float:
    """Devine ideal body weight (kg) for an adult of ``height_cm`` and ``sex`` ('female' or 'male')."""
    _check_finite("height_cm", height_cm, rules.num("height.min_cm"), rules.num("height.max_cm"), "cm")
    if sex not in ("female", "male"):
        raise DoseError(f"sex: {sex!r} is not one of 'female', 'male'")
    base = rules.num(f"ibw.{sex}_base_kg")
    return base + rules.num("ibw.kg_per_cm") * (height_cm - 152.4)


def basis_weight(
    weight_kg: float,
    *,
    height_cm: float | None = None,
    sex: str | None = None,
    weight_measured_on: dt.date | None = None,
    session_date: dt.date | None = None,
    height_measured_on: dt.date | None = None,
    rules: RuleSet = RULES,
) -> BasisWeight:
    """The dosing weight on the configured basis (actual / ideal / adjusted).

    The ideal and adjusted bases need ``height_cm`` and ``sex``; a height measured more than
    ``height.max_age_days`` before ``session_date`` is refused (like an old weight)."""
    actual = _check_finite(
        "weight_kg", weight_kg, rules.num("weight.min_kg"), rules.num("weight.max_kg"), "kg"
    )
    reasons: list[str] = []
    if weight_measured_on is not None and session_date is not None:
        age = (session_date - weight_measured_on).days
        max_age = int(rules.num("weight.max_age_days"))
        if age < 0 or age > max_age:
            raise DoseError(
                f"weight_measured_on: {weight_measured_on.isoformat()} is {age} days before the session; "
                f"allowed range [0, {max_age}] days (weight is measured at the session)"
            )
        reasons.append(f"weight {actual:g} kg measured {weight_measured_on.isoformat()}")
    else:
        reasons.append(f"weight {actual:g} kg (taken as measured at the session)")
    basis = str(rules["weight.basis"])
    if basis == "actual":
        return BasisWeight("actual", actual, actual, None, tuple(reasons))
    if height_cm is None or sex is None:
        raise DoseError(f"height_cm, sex: required for the {basis!r} weight basis (weight.basis)")
    if height_measured_on is not None and session_date is not None:
        h_age = (session_date - height_measured_on).days
        h_max = int(rules.num("height.max_age_days"))
        if h_age < 0 or h_age > h_max:
            raise DoseError(
                f"height_measured_on: {height_measured_on.isoformat()} is {h_age} days before the session; "
                f"allowed range [0, {h_max}] days (height.max_age_days)"
            )
    ibw = ideal_body_weight(height_cm, sex, rules)
    reasons.append(
        f"height {height_cm:g} cm"
        + (f" measured {height_measured_on.isoformat()}" if height_measured_on is not None else "")
        + f", sex {sex}"
    )
    kg = ibw if basis == "ideal" else ibw + rules.num("abw.factor") * (actual - ibw)
    reasons.append(f"ideal body weight {ibw:.1f} kg (Devine)")
    if rules["weight.lesser_of_actual"] and actual < kg:
        reasons.append(f"actual weight is below the {basis} weight: actual weight used")
        kg = actual
    else:
        reasons.append(f"{basis} weight {kg:.1f} kg used")
    return BasisWeight(basis, kg, actual, ibw, tuple(reasons))


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Admixture:
    """IV admixture: vial drawn, diluent, final concentration and pump rate."""

    vial_mg_ml: float
    drug_volume_ml: float
    diluent_volume_ml: float
    total_volume_ml: float
    final_mg_ml: float
    infusion_min: float
    rate_ml_h: float
    run_min: float  # time to deliver the whole volume at the rounded rate

    @property
    def delivered_mg(self) -> float:
        return self.final_mg_ml * self.rate_ml_h * self.run_min / 60.0


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """Esketamine nasal devices: count and minute offsets (5-minute spacing)."""

    devices: int
    device_mg: float
    spacing_min: float
    offsets_min: tuple[float, ...]

    def times(self, first: dt.datetime) -> tuple[dt.datetime, ...]:
        if first.tzinfo is None:
            raise DoseError("first: device time must be timezone-aware")
        return tuple(first + dt.timedelta(minutes=m) for m in self.offsets_min)


@dataclass(frozen=True, slots=True)
class DoseResult:
    """A computed dose (free base) with everything needed to prepare it and the reasons."""

    protocol_id: str
    drug: str
    route: str
    dose_mg: float
    dose_mg_hcl: float
    mg_per_kg: float | None = None
    effective_mg_per_kg: float | None = None
    basis_weight: BasisWeight | None = None
    capped: bool = False
    admixture: Admixture | None = None
    devices: DevicePlan | None = None
    injection_volume_ml: float | None = None
    units: float | None = None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.admixture is not None:
            d["admixture"]["delivered_mg"] = round(self.admixture.delivered_mg, 4)
        return d


# --- IV admixture -----------------------------------------------------------------------------------------


def check_iv_concentration(
    final_mg_ml: float,
    vial_mg_ml: float,
    drug_volume_ml: float,
    total_volume_ml: float,
    rules: RuleSet = RULES,
) -> None:
    """Hard stop: raise ``DoseError`` for an undiluted 100 mg/mL vial or a too-strong IV admixture."""
    forbidden = rules.num("iv.undiluted_forbidden_mg_ml")
    if vial_mg_ml >= forbidden and drug_volume_ml >= total_volume_ml - 1e-9:
        raise DoseError(
            f"iv.vial_mg_ml: undiluted {vial_mg_ml:g} mg/mL ketamine must never be given IV; dilute it "
            f"(final concentration allowed range (0, {rules.num('iv.max_final_mg_ml'):g}] mg/mL)"
        )
    limit = rules.num("iv.max_final_mg_ml")
    if final_mg_ml > limit + 1e-9:
        raise DoseError(
            f"final_mg_ml: {final_mg_ml:g} mg/mL is outside the allowed range (0, {limit:g}] mg/mL for IV use"
        )


def iv_admixture(dose_mg: float, infusion_min: float, rules: RuleSet = RULES) -> Admixture:
    """The admixture for ``dose_mg`` free base infused over ``infusion_min`` minutes."""
    _check_finite("dose_mg", dose_mg, 1e-6, None, "mg")
    _check_finite("infusion_min", infusion_min, 1.0, None, "min")
    vial = rules.num("iv.vial_mg_ml")
    vial_base = vial if rules["iv.vial_strength_is_base"] else vial * base_per_hcl(rules)
    total = rules.num("iv.total_volume_ml")
    drug_ml = dose_mg / vial_base
    if drug_ml > total + 1e-9:
        raise DoseError(
            f"iv.total_volume_ml: the dose needs {drug_ml:.2f} mL of {vial:g} mg/mL vial, more than the "
            f"{total:g} mL total volume (allowed range: drug volume ≤ total volume)"
        )
    final = dose_mg / total
    check_iv_concentration(final, vial, drug_ml, total, rules)
    res = rules.num("iv.pump_resolution_ml_h")
    rate = max(_round_to(total / (infusion_min / 60.0), res), res)
    return Admixture(
        vial_mg_ml=vial,
        drug_volume_ml=round(drug_ml, 4),
        diluent_volume_ml=round(total - drug_ml, 4),
        total_volume_ml=total,
        final_mg_ml=final,
        infusion_min=infusion_min,
        rate_ml_h=rate,
        run_min=total / rate * 60.0,
    )


# --- esketamine devices -----------------------------------------------------------------------------------


def device_plan(dose_mg: float, rules: RuleSet = RULES) -> DevicePlan:
    """Devices for an esketamine dose (28 mg each) and their 5-minute spacing offsets."""
    per = rules.num("esketamine.device_mg")
    n = dose_mg / per
    if not math.isfinite(n) or n < 1 or abs(n - round(n)) > 1e-9:
        raise DoseError(
            f"dose_mg: {dose_mg:g} mg is not a whole number of {per:g} mg devices (allowed 28, 56, 84)"
        )
    spacing = rules.num("esketamine.device_spacing_min")
    return DevicePlan(int(round(n)), per, spacing, tuple(i * spacing for i in range(int(round(n)))))


def check_device_spacing(times: Sequence[dt.datetime], rules: RuleSet = RULES) -> list[str]:
    """Problems with recorded device times: each device must follow the previous by ≥ the spacing."""
    spacing = rules.num("esketamine.device_spacing_min")
    problems: list[str] = []
    for i, t in enumerate(times):
        if t.tzinfo is None:
            raise DoseError(f"times[{i}]: device time must be timezone-aware")
    for i in range(1, len(times)):
        gap = (times[i] - times[i - 1]).total_seconds() / 60.0
        if gap < spacing:
            problems.append(
                f"device {i + 1} given {gap:g} min after device {i}; wait at least {spacing:g} min"
            )
    return problems


def _esketamine_dose(
    p: Protocol, requested: float | None, previous: Sequence[float], age_years: float | None, rules: RuleSet
) -> tuple[float, list[str]]:
    allowed = {float(x) for x in p.dose.allowed_mg}
    start = float(p.dose.start_mg or 0.0)
    reasons: list[str] = []
    option = bool(rules["esketamine.geriatric_28mg_start"])
    geriatric = option and age_years is not None and age_years >= rules.num("esketamine.geriatric_age_years")
    if geriatric:
        allowed.add(rules.num("esketamine.device_mg"))
        reasons.append("jurisdiction option: age ≥65 may use 28 mg (non-US label S8, ⚠ US)")
    dose = float(requested) if requested is not None else (float(previous[-1]) if previous else start)
    allowed_s = ", ".join(f"{a:g}" for a in sorted(allowed))
    if dose not in allowed:
        raise DoseError(f"requested_mg: {dose:g} mg is not one of {allowed_s} mg for {p.id}")
    if not previous:
        if dose > start:
            raise DoseError(
                f"requested_mg: {dose:g} mg on day 1; the first dose of {p.id} is at most {start:g} mg "
                f"(84 mg only after a {start:g} mg start, §1.2)"
            )
        reasons.append(f"day-1 dose {dose:g} mg (start dose {start:g} mg, §1.2)")
    elif option and abs(dose - float(previous[-1])) > rules.num("esketamine.device_mg") + 1e-9:
        raise DoseError(
            f"requested_mg: change from {previous[-1]:g} to {dose:g} mg; with the non-US option doses change "
            f"in steps of at most {rules.num('esketamine.device_mg'):g} mg (S8)"
        )
    else:
        reasons.append(f"dose {dose:g} mg after a {previous[0]:g} mg start")
    return dose, reasons


# --- main entry -------------------------------------------------------------------------------------------


MAX_TITRATION_LEVEL = 50
"""Largest titration step index accepted as input: a bound on bad input, not a clinical number (the
protocol's ceiling mg/kg caps the dose long before it)."""


def check_level(level: object) -> int:
    """``level`` as a titration step index in [0, MAX_TITRATION_LEVEL]; raises :class:`DoseError`."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_TITRATION_LEVEL:
        raise DoseError(
            f"level: {level!r} is outside the allowed range [0, {MAX_TITRATION_LEVEL}] (titration level)"
        )
    return level


def compute_dose(
    protocol_id: str,
    *,
    weight_kg: float | None = None,
    weight_measured_on: dt.date | None = None,
    session_date: dt.date | None = None,
    height_cm: float | None = None,
    height_measured_on: dt.date | None = None,
    sex: str | None = None,
    level: int = 0,
    requested_mg: float | None = None,
    previous_doses_mg: Sequence[float] = (),
    age_years: float | None = None,
    rules: RuleSet = RULES,
) -> DoseResult:
    """Compute one session's dose for ``protocol_id``.

    Weight-based routes (IV, IM) need ``weight_kg`` measured at the session; ``level`` is the clinic's
    titration level (0 = starting mg/kg). Esketamine takes ``requested_mg`` (default: the start dose, or
    the last dose) and the ``previous_doses_mg`` of the course. Raises :class:`DoseError`.
    """
    p = get_protocol(protocol_id, dosing_rules=rules)
    for i, prev in enumerate(previous_doses_mg):
        _check_finite(f"previous_doses_mg[{i}]", prev, 1e-6, DOSE_INPUT_MAX_MG, "mg")
    if requested_mg is not None:
        _check_finite("requested_mg", requested_mg, 1e-6, DOSE_INPUT_MAX_MG, "mg")
    factor = base_per_hcl(rules)
    if p.dose.basis == "mg_per_kg":
        if weight_kg is None:
            raise DoseError(f"weight_kg: required for {p.id} (mg/kg dosing)")
        check_level(level)
        bw = basis_weight(
            weight_kg,
            height_cm=height_cm,
            sex=sex,
            weight_measured_on=weight_measured_on,
            session_date=session_date,
            height_measured_on=height_measured_on,
            rules=rules,
        )
        base = float(p.dose.mg_per_kg or 0.0)
        ceiling = float(p.dose.ceiling_mg_per_kg or base)
        cap = float(p.dose.max_dose_mg or math.inf)
        reasons = list(bw.reasons)
        mgkg = base + level * float(p.dose.step_mg_per_kg or 0.0)
        capped = False
        if mgkg > ceiling + 1e-9:
            reasons.append(f"titration level {level} capped at the ceiling {ceiling:g} mg/kg")
            mgkg, capped = ceiling, True
        raw = mgkg * bw.kg
        step = rules.num("dose.rounding_mg")
        dose = _round_to(raw, step)
        cap_floor = _floor_to(cap, step)
        if dose > cap_floor:
            reasons.append(f"{raw:.1f} mg capped at the maximum single dose {cap:g} mg")
            dose, capped = cap_floor, True
        reasons.append(f"{mgkg:g} mg/kg × {bw.kg:.1f} kg = {dose:g} mg ketamine (free base)")
        admix = None
        volume = None
        if p.route == "IV":
            admix = iv_admixture(dose, float(p.administration_min), rules)
            reasons.append(
                f"admixture {admix.drug_volume_ml:g} mL of {admix.vial_mg_ml:g} mg/mL + {admix.diluent_volume_ml:g}"
                f" mL diluent = {admix.total_volume_ml:g} mL at {admix.final_mg_ml:.3g} mg/mL; "
                f"{admix.rate_ml_h:g} mL/h over {admix.run_min:.1f} min"
            )
        else:
            vial = rules.num("im.vial_mg_ml")
            volume = round(dose / vial, 2)
            reasons.append(f"{volume:g} mL of {vial:g} mg/mL by IM injection")
        return DoseResult(
            protocol_id=p.id,
            drug=p.drug,
            route=p.route,
            dose_mg=dose,
            dose_mg_hcl=round(dose / factor, 2),
            mg_per_kg=mgkg,
            effective_mg_per_kg=dose / bw.kg,
            basis_weight=bw,
            capped=capped,
            admixture=admix,
            injection_volume_ml=volume,
            reasons=tuple(reasons),
        )
    if p.dose.basis == "fixed_choice":
        dose, reasons = _esketamine_dose(p, requested_mg, previous_doses_mg, age_years, rules)
        devices = device_plan(dose, rules)
        reasons.append(
            f"{devices.devices} × {devices.device_mg:g} mg devices, {devices.spacing_min:g} min apart"
        )
        return DoseResult(
            protocol_id=p.id,
            drug=p.drug,
            route=p.route,
            dose_mg=dose,
            dose_mg_hcl=round(dose / factor, 2),
            devices=devices,
            reasons=tuple(reasons),
        )
    # fixed sublingual dose, written in the configured salt
    salt = str(rules["sublingual-kap.dose_salt"])
    written = float(p.dose.start_mg or 0.0) if requested_mg is None else float(requested_mg)
    lo, hi = rules.param("sublingual-kap.dose_mg").minimum, rules.param("sublingual-kap.dose_mg").maximum
    _check_finite("requested_mg", written, lo, hi, f"mg ({salt})")
    dose = written * factor if salt == "hcl" else written
    units = written / rules.num("sublingual-kap.unit_strength_mg")
    reasons = [
        f"{written:g} mg ketamine {salt.upper() if salt == 'hcl' else 'base'} = {dose:.1f} mg free base"
    ]
    reasons.append(f"{units:g} unit(s) of {rules.num('sublingual-kap.unit_strength_mg'):g} mg")
    if abs(units - round(units)) > 1e-9:
        reasons.append("dose is not a whole number of units: check the product")
    return DoseResult(
        protocol_id=p.id,
        drug=p.drug,
        route=p.route,
        dose_mg=round(dose, 2),
        dose_mg_hcl=round(dose / factor, 2),
        units=round(units, 3),
        reasons=tuple(reasons),
    )


# --- override ceilings (issue #12 §4) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoseCeilings:
    """The bounds of a prescriber's dose override (free-base mg).

    Up to ``soft_mg`` an override needs a reason; above it, up to ``hard_mg``, it also needs a second
    prescriber's co-signature before administration; above ``hard_mg`` it is refused.
    """

    protocol_id: str
    soft_mg: float
    hard_mg: float
    soft_rule: str
    hard_rule: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def dose_ceilings(
    protocol_id: str,
    *,
    weight_kg: float | None = None,
    weight_measured_on: dt.date | None = None,
    session_date: dt.date | None = None,
    height_cm: float | None = None,
    height_measured_on: dt.date | None = None,
    sex: str | None = None,
    rules: RuleSet = RULES,
) -> DoseCeilings:
    """The soft and hard ceilings of an override of ``protocol_id``'s dose.

    mg/kg routes (IV, IM): soft = the lesser of ``ceiling_mg_per_kg`` × dosing weight and ``max_dose_mg``
    (the limits of the computed dose); hard = the lesser of ``hard_ceiling_mg_per_kg`` × dosing weight and
    ``hard_max_dose_mg``. The dosing weight is the configured basis (actual / ideal / adjusted), so a mg/kg
    override without a usable weight (and, for ideal/adjusted, height and sex) is refused.
    Esketamine: soft = hard = ``esketamine.hard_max_mg`` (84 mg). Sublingual: soft = the protocol dose,
    hard = ``sublingual-kap.hard_max_mg`` (converted to free base like the dose).
    """
    p = get_protocol(protocol_id, dosing_rules=rules)
    if p.dose.basis == "mg_per_kg":
        if weight_kg is None:
            raise DoseError(f"weight_kg: required to bound a dose override of {p.id} (mg/kg dosing)")
        bw = basis_weight(
            weight_kg,
            height_cm=height_cm,
            sex=sex,
            weight_measured_on=weight_measured_on,
            session_date=session_date,
            height_measured_on=height_measured_on,
            rules=rules,
        )
        soft_kg = rules.num(f"{p.id}.ceiling_mg_per_kg")
        soft_abs = rules.num(f"{p.id}.max_dose_mg")
        hard_kg = rules.num(f"{p.id}.hard_ceiling_mg_per_kg")
        hard_abs = rules.num(f"{p.id}.hard_max_dose_mg")
        hard = min(hard_kg * bw.kg, hard_abs)
        soft = min(soft_kg * bw.kg, soft_abs, hard)
        return DoseCeilings(
            p.id,
            round(soft, 4),
            round(hard, 4),
            f"{p.id}.ceiling_mg_per_kg {soft_kg:g} mg/kg × {bw.kg:.1f} kg ({bw.basis} weight), at most "
            f"{p.id}.max_dose_mg {soft_abs:g} mg",
            f"{p.id}.hard_ceiling_mg_per_kg {hard_kg:g} mg/kg × {bw.kg:.1f} kg ({bw.basis} weight), at most "
            f"{p.id}.hard_max_dose_mg {hard_abs:g} mg",
        )
    if p.dose.basis == "fixed_choice":
        hard = rules.num("esketamine.hard_max_mg")
        rule = f"esketamine.hard_max_mg {hard:g} mg"
        return DoseCeilings(p.id, hard, hard, rule, rule)
    factor = base_per_hcl(rules) if str(rules["sublingual-kap.dose_salt"]) == "hcl" else 1.0
    hard_w = rules.num("sublingual-kap.hard_max_mg")
    soft_w = min(rules.num("sublingual-kap.dose_mg"), hard_w)
    salt = str(rules["sublingual-kap.dose_salt"])
    return DoseCeilings(
        p.id,
        round(soft_w * factor, 4),
        round(hard_w * factor, 4),
        f"sublingual-kap.dose_mg {soft_w:g} mg ({salt})",
        f"sublingual-kap.hard_max_mg {hard_w:g} mg ({salt})",
    )


def check_override(dose_mg: float, ceilings: DoseCeilings) -> bool:
    """Whether an override of ``dose_mg`` (free base) needs a second prescriber's co-signature.

    Raises :class:`DoseError` naming the hard ceiling when ``dose_mg`` is above it (never allowed).
    """
    _check_finite("dose_mg", dose_mg, 1e-6, DOSE_INPUT_MAX_MG, "mg")
    if dose_mg > ceilings.hard_mg + 1e-6:
        raise DoseError(
            f"dose_mg: {dose_mg:g} mg is above the hard ceiling {ceilings.hard_mg:g} mg for "
            f"{ceilings.protocol_id} ({ceilings.hard_rule}); allowed range (0, {ceilings.hard_mg:g}] mg"
        )
    return dose_mg > ceilings.soft_mg + 1e-6
