"""Acute effect-site pharmacodynamics driven by S-ketamine concentration.

Structure (reference §2.1): an effect compartment ``dCe/dt = ke0·(Cp − Ce)`` followed by a sigmoid Emax
``E = Emax·Ce^γ/(C50^γ + Ce^γ)``. Three endpoints: dissociation / psychedelic "external perception",
"drug high", and the systolic blood-pressure rise.

Sampling site matters (reference §1.5): the published C50/ke0 (Olofsen 2022, Simons 2022 part 2) were
estimated on ARTERIAL S-ketamine concentrations and belong with an arterial PK model (``simons-2022``).
For venous PK models (Fanta/Otto, Perez-Ruixo, the psychiatry trials) a separate parameter set is
provided whose values are *calibrated* to the reference's venous observations; they are labelled as such.

Every parameter is a :class:`Parameter` record (value, unit, source, status). Status ``published`` means
the number is in the cited paper's abstract as quoted by the reference; ``calibrated`` means fitted or
chosen by us against a stated observation; ``placeholder`` means a design guess (⚠ configurable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kairos.pharmacology.molar_mass import MW_KETAMINE_BASE
from kairos.pharmacology.types import InputError

Status = Literal["published", "calibrated", "placeholder"]
FloatArray = NDArray[np.float64]

#: S-ketamine free base molar mass, g/mol (:mod:`kairos.pharmacology.molar_mass`): 1 nmol/mL = 237.73 ng/mL.
KETAMINE_MW = MW_KETAMINE_BASE


@dataclass(frozen=True, slots=True)
class Parameter:
    """One model parameter with its provenance."""

    value: float
    unit: str
    source: str
    status: Status

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise InputError(f"parameter value must be finite (got {self.value!r})")
        if self.status not in ("published", "calibrated", "placeholder"):
            raise InputError(f"status must be published, calibrated or placeholder (got {self.status!r})")

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "unit": self.unit, "source": self.source, "status": self.status}


def _ke0_from_half_life(t_half_min: float) -> float:
    return math.log(2.0) / t_half_min


@dataclass(frozen=True, slots=True)
class EmaxEndpoint:
    """Effect-site sigmoid Emax model of one endpoint on S-ketamine concentration (ng/mL)."""

    name: str
    unit: str
    t_half_ke0: Parameter  # min
    c50: Parameter  # ng/mL S-ketamine
    gamma: Parameter
    emax: Parameter
    sampling_site: Literal["arterial", "venous"]
    notes: str = ""

    @property
    def ke0_per_min(self) -> float:
        return _ke0_from_half_life(self.t_half_ke0.value)

    def effect(self, ce_ng_ml: ArrayLike) -> FloatArray:
        """Sigmoid Emax at effect-site concentration(s); always within [0, Emax]."""
        return emax_effect(ce_ng_ml, c50=self.c50.value, gamma=self.gamma.value, emax=self.emax.value)

    def parameters(self) -> dict[str, Parameter]:
        return {"t_half_ke0": self.t_half_ke0, "c50": self.c50, "gamma": self.gamma, "emax": self.emax}

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            "sampling_site": self.sampling_site,
            "notes": self.notes,
            "parameters": {k: p.to_dict() for k, p in self.parameters().items()},
        }


def emax_effect(ce: ArrayLike, *, c50: float, gamma: float, emax: float) -> FloatArray:
    """``Emax·Ce^γ/(C50^γ + Ce^γ)`` evaluated stably (no overflow for huge Ce, 0 at Ce = 0)."""
    if not (c50 > 0 and math.isfinite(c50)):
        raise InputError(f"c50 must be a positive finite number (got {c50!r})")
    if not (0 < gamma <= 20 and math.isfinite(gamma)):
        raise InputError(f"gamma must be in (0, 20] (got {gamma!r})")
    if not (emax >= 0 and math.isfinite(emax)):
        raise InputError(f"emax must be a non-negative finite number (got {emax!r})")
    c = np.asarray(ce, dtype=np.float64)
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise InputError("concentration must be finite and >= 0")
    # E/Emax = 1/(1 + (C50/Ce)^γ), written through logs to stay finite at any magnitude.
    with np.errstate(divide="ignore"):
        log_ratio = gamma * (np.log(c50) - np.log(c))
    frac = np.where(c > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700.0))), 0.0)
    return np.asarray(emax * frac, dtype=np.float64)


def effect_site(t_min: ArrayLike, cp: ArrayLike, ke0_per_min: float, ce0: float = 0.0) -> FloatArray:
    """Effect-site concentration from plasma samples, exact for piecewise-linear ``cp`` between samples.

    On each interval ``[t0, t1]`` with ``cp = a + b·(t − t0)`` and ``h = t1 − t0``,
    ``Ce(t1) = Ce(t0)·e + a·(1 − e) + b·(h − (1 − e)/ke0)``, ``e = exp(−ke0·h)``. Sample densely
    around infusion starts/stops (or pass the PK engine's own exact grid) for an exact result.
    """
    t = np.asarray(t_min, dtype=np.float64)
    c = np.asarray(cp, dtype=np.float64)
    if t.ndim != 1 or t.shape != c.shape[-1:]:
        raise InputError("t_min must be 1-D and match the last axis of cp")
    if not (ke0_per_min > 0 and math.isfinite(ke0_per_min)):
        raise InputError(f"ke0_per_min must be positive (got {ke0_per_min!r})")
    if t.size and np.any(np.diff(t) < 0):
        raise InputError("t_min must be non-decreasing")
    out = np.empty_like(c)
    if t.size == 0:
        return out
    out[..., 0] = ce0
    h = np.diff(t)
    e = np.exp(-ke0_per_min * h)
    one_m_e = -np.expm1(-ke0_per_min * h)
    # (h - (1-e)/ke0) with a series for small ke0*h to avoid cancellation
    x = ke0_per_min * h
    lin = np.where(x > 1e-4, h - one_m_e / ke0_per_min, h * (x / 2.0 - x * x / 6.0))
    a = c[..., :-1]
    b = np.divide(np.diff(c, axis=-1), h, out=np.zeros_like(a), where=h > 0)
    ce = np.full(c.shape[:-1], ce0, dtype=np.float64)
    for k in range(h.size):
        ce = ce * e[k] + a[..., k] * one_m_e[k] + b[..., k] * lin[k]
        out[..., k + 1] = ce
    return np.maximum(out, 0.0)


_OLOFSEN = "Olofsen 2022 'Ketamine psychedelic and antinociceptive effects are connected' (reference §2.1)"
_SIMONS2 = "Simons 2022 part 2, Front Pain Res (reference §2.1)"
_GAMMA_NOTE = "γ not in the available abstracts (reference §2.1/§6): design value γ≈1–2, ⚠ configurable"


def arterial_endpoints() -> dict[str, EmaxEndpoint]:
    """Published (arterial) parameter set; pair with the arterial PK model ``simons-2022``."""
    ke0 = Parameter(8.3, "min", _OLOFSEN + ": t½ke0 8.3 min (5.1–13.0)", "published")
    return {
        "dissociation": EmaxEndpoint(
            name="dissociation",
            unit="mm VAS (Bowdle external perception, 0–100)",
            t_half_ke0=ke0,
            c50=Parameter(
                0.51 * KETAMINE_MW, "ng/mL S-ketamine", _OLOFSEN + ": C50 0.51 nmol/mL", "published"
            ),
            gamma=Parameter(1.5, "1", _GAMMA_NOTE, "placeholder"),
            emax=Parameter(100.0, "mm VAS", "scale maximum (reference §2.1 design defaults)", "placeholder"),
            sampling_site="arterial",
        ),
        "drug_high": EmaxEndpoint(
            name="drug_high",
            unit="points (11-point VAS, 0–10)",
            t_half_ke0=Parameter(
                8.3,
                "min",
                "drug-high t½ke0 truncated in the available copy (§6); Olofsen value reused",
                "placeholder",
            ),
            c50=Parameter(0.3 * KETAMINE_MW, "ng/mL S-ketamine", _SIMONS2 + ": C50 0.3 nmol/mL", "published"),
            gamma=Parameter(1.5, "1", _GAMMA_NOTE, "placeholder"),
            emax=Parameter(10.0, "points", "scale maximum (reference §2.1 design defaults)", "placeholder"),
            sampling_site="arterial",
        ),
        "sbp_rise": EmaxEndpoint(
            name="sbp_rise",
            unit="mmHg (systolic rise over baseline)",
            t_half_ke0=Parameter(
                12.0, "min", "reference §2.2 suggested BP sub-model: t½ke0 8–15 min", "placeholder"
            ),
            c50=Parameter(
                0.51 * KETAMINE_MW,
                "ng/mL S-ketamine",
                "reference §2.2: C50 near the psychedelic C50",
                "placeholder",
            ),
            gamma=Parameter(1.0, "1", "reference §2.2 design guess", "placeholder"),
            emax=Parameter(
                22.0, "mmHg", "reference §2.2: ΔSBPmax ≈ 20–25 mmHg (design guess)", "placeholder"
            ),
            sampling_site="arterial",
            notes="reproduces ~+8 mmHg mean at esketamine 56–84 mg per reference §2.2 (to check against label)",
        ),
    }


_VENOUS_OBS = (
    "calibrated by hand (checked in tests/pharmacology/test_timeline.py) to reference §1.2/§2.1 venous "
    "observations: dissociation at 100–250 ng/mL venous racemic (Krystal 1994 via Zanos 2018), i.e. "
    "50–125 ng/mL S; peak ~40 min, resolved by ~1.5–2 h (esketamine label, TRANSFORM); BP peak ~40 min, "
    "lasting ~4 h (esketamine label)"
)

#: Hand-calibrated venous values (C50 = half the geometric mean of 100 and 250 ng/mL racemic; ke0/γ so
#: that esketamine 56 mg peaks ~40 min and falls below half-peak by 2 h); checked in test_timeline.py.
VENOUS_CALIBRATION: Mapping[str, Mapping[str, float]] = {
    "dissociation": {"t_half_ke0": 2.0, "c50": 79.1, "gamma": 3.0},
    "drug_high": {"t_half_ke0": 2.0, "c50": 46.5, "gamma": 3.0},
    "sbp_rise": {"t_half_ke0": 20.0, "c50": 79.1, "gamma": 1.0},
}


def venous_endpoints() -> dict[str, EmaxEndpoint]:
    """Calibrated parameter set for venous PK models (Fanta/Otto, Perez-Ruixo, psychiatry trials)."""
    art = arterial_endpoints()
    out: dict[str, EmaxEndpoint] = {}
    for name, ep in art.items():
        cal = VENOUS_CALIBRATION[name]
        out[name] = replace(
            ep,
            t_half_ke0=Parameter(cal["t_half_ke0"], "min", _VENOUS_OBS, "calibrated"),
            c50=Parameter(cal["c50"], "ng/mL S-ketamine (venous)", _VENOUS_OBS, "calibrated"),
            gamma=Parameter(cal["gamma"], "1", _VENOUS_OBS, "calibrated") if name != "sbp_rise" else ep.gamma,
            sampling_site="venous",
        )
    return out


#: PK models known to be built on arterial sampling (reference §1.5).
ARTERIAL_MODELS = frozenset({"simons-2022", "simons_2022", "domino-1984"})


def endpoints_for_model(model_name: str | None) -> dict[str, EmaxEndpoint]:
    """The effect parameter set matching a PK model's sampling site (reference §1.5 pairing rule)."""
    if model_name is not None and model_name.lower() in ARTERIAL_MODELS:
        return arterial_endpoints()
    return venous_endpoints()


@dataclass(frozen=True, slots=True)
class EffectCurves:
    """Effect-site concentration and effect of each endpoint on a time grid."""

    t_min: FloatArray
    ce: dict[str, FloatArray] = field(default_factory=dict)
    effect: dict[str, FloatArray] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "t_min": self.t_min.tolist(),
            "ce_ng_ml": {k: v.tolist() for k, v in self.ce.items()},
            "effect": {k: v.tolist() for k, v in self.effect.items()},
        }


def effect_curves(
    t_min: ArrayLike, cp_s_ng_ml: ArrayLike, endpoints: Mapping[str, EmaxEndpoint] | None = None
) -> EffectCurves:
    """Effect-site concentrations and effects for every endpoint from plasma S-ketamine samples."""
    t = np.asarray(t_min, dtype=np.float64)
    cp = np.asarray(cp_s_ng_ml, dtype=np.float64)
    eps = dict(endpoints) if endpoints is not None else venous_endpoints()
    ce: dict[str, FloatArray] = {}
    eff: dict[str, FloatArray] = {}
    for name, ep in eps.items():
        ce[name] = effect_site(t, cp, ep.ke0_per_min)
        eff[name] = ep.effect(ce[name])
    return EffectCurves(t_min=t, ce=ce, effect=eff)
