"""NMDA-receptor occupancy: an EXPLANATORY ESTIMATE, never a measurement.

Competitive multi-ligand occupancy at the PCP site at equilibrium (reference §2.3)::

    occ = Σ_i (Cu_i/Ki_i) / (1 + Σ_i Cu_i/Ki_i),   Cu_i = fu_i · Kp,uu · C_i

Caveats that make this an estimate only (and why the output must never be shown as a measured value):
* the Ki values are rat-brain in-vitro [³H]MK-801 displacement affinities (Ebert 1997) and differ by
  preparation (Sałat 2015 gives 0.119 µM for the racemate vs ~0.5 µM commonly quoted — conflicting);
* human brain unbound exposure is uncertain (Kp,uu assumed 1; a third-party model uses 0.6, unconfirmed);
* ketamine is a use-dependent open-channel *trapping* blocker (Mg²⁺/voltage dependent), which an
  equilibrium competitive model ignores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kairos.pharmacology.effects import KETAMINE_MW, Parameter
from kairos.pharmacology.molar_mass import MW_NORKETAMINE
from kairos.pharmacology.types import InputError

FloatArray = NDArray[np.float64]

NORKETAMINE_MW = MW_NORKETAMINE  # g/mol (kairos.pharmacology.molar_mass)

DISCLAIMER = (
    "Explanatory estimate from rat in-vitro affinities and assumed brain exposure; ketamine is a trapping "
    "open-channel blocker. Not a measurement and not an individual prediction."
)

_EBERT = "Ebert 1997, [3H]MK-801 displacement, rat brain (reference §2.3)"
_FU = "esketamine label: protein binding 43–45 % → fu ≈ 0.56 (reference §1.3/§1.4)"


@dataclass(frozen=True, slots=True)
class Ligand:
    name: str
    ki_um: Parameter
    fu: Parameter
    mw: float


LIGANDS: Mapping[str, Ligand] = {
    "s_ketamine": Ligand(
        "s_ketamine",
        Parameter(0.30, "µM", _EBERT, "published"),
        Parameter(0.56, "1", _FU, "published"),
        KETAMINE_MW,
    ),
    "r_ketamine": Ligand(
        "r_ketamine",
        Parameter(1.4, "µM", _EBERT, "published"),
        Parameter(0.56, "1", _FU, "published"),
        KETAMINE_MW,
    ),
    "s_norketamine": Ligand(
        "s_norketamine",
        Parameter(1.7, "µM", _EBERT, "published"),
        Parameter(0.56, "1", "not found in the reference; ketamine value reused", "placeholder"),
        NORKETAMINE_MW,
    ),
    "r_norketamine": Ligand(
        "r_norketamine",
        Parameter(13.0, "µM", _EBERT, "published"),
        Parameter(0.56, "1", "not found in the reference; ketamine value reused", "placeholder"),
        NORKETAMINE_MW,
    ),
}

KP_UU = Parameter(
    1.0,
    "1",
    "assumed brain unbound = plasma unbound (reference §2.3; third-party 0.6 unconfirmed)",
    "placeholder",
)


def ng_ml_to_um(c_ng_ml: ArrayLike, mw: float) -> FloatArray:
    """ng/mL (= µg/L) to µmol/L."""
    return np.asarray(c_ng_ml, dtype=np.float64) / mw


def nmda_occupancy(
    concentrations_ng_ml: Mapping[str, ArrayLike],
    *,
    kp_uu: float | None = None,
    ligands: Mapping[str, Ligand] = LIGANDS,
) -> FloatArray:
    """Fractional NMDA occupancy in [0, 1) from total plasma (or effect-site) concentrations in ng/mL.

    Keys of ``concentrations_ng_ml`` are ligand names (``s_ketamine``, ``r_ketamine``, ``s_norketamine``,
    ``r_norketamine``); arrays broadcast together. See the module docstring: an estimate, not a measurement.
    """
    if not concentrations_ng_ml:
        raise InputError("concentrations_ng_ml must name at least one ligand")
    kp = KP_UU.value if kp_uu is None else kp_uu
    if not (0 < kp <= 10):
        raise InputError(f"kp_uu must be in (0, 10] (got {kp!r})")
    total: FloatArray | float = 0.0
    for name, conc in concentrations_ng_ml.items():
        if name not in ligands:
            raise InputError(f"ligand must be one of {', '.join(sorted(ligands))} (got {name!r})")
        lig = ligands[name]
        c = np.asarray(conc, dtype=np.float64)
        if not np.all(np.isfinite(c)) or np.any(c < 0):
            raise InputError(f"{name} concentration must be finite and >= 0")
        total = total + ng_ml_to_um(c, lig.mw) * lig.fu.value * kp / lig.ki_um.value
    t = np.asarray(total, dtype=np.float64)
    return np.asarray(t / (1.0 + t), dtype=np.float64)


def occupancy_s_r(
    s_ng_ml: ArrayLike, r_ng_ml: ArrayLike | None = None, *, kp_uu: float | None = None
) -> FloatArray:
    """Convenience: occupancy from S- (and optionally R-) ketamine only."""
    conc: dict[str, ArrayLike] = {"s_ketamine": s_ng_ml}
    if r_ng_ml is not None:
        conc["r_ketamine"] = r_ng_ml
    return nmda_occupancy(conc, kp_uu=kp_uu)
