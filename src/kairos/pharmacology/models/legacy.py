"""Legacy racemic IV models used in TCI software: Domino 1984 (3-cmt) and Clements 1981 (2-cmt).

Parameters as coded in opentiva ``opentiva/ketamine.py`` (reference pharmacology.md §1.1). Both were fitted
on total (racemic) ketamine without IIV. opentiva's ke0 values (0.652 / 5.2 1/min) come from a "time to
peak 1 min" assumption, not from data, and are deliberately NOT part of these records. The models are not
enantioselective: the S and R series are each half of the total.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kairos.pharmacology.models.base import P as _P
from kairos.pharmacology.models.base import PKModel
from kairos.pharmacology.pk.linear import InputChannel, LinearSystem, block_diagonal
from kairos.pharmacology.types import Drug, Route, Subject

DOMINO = "Domino 1984 Clin Pharmacol Ther (PMID 7198883 per opentiva), as coded in opentiva ketamine.py (reference §1.1)"
CLEMENTS = "Clements 1981 BJA 53:27 ('Clements250'), as coded in opentiva ketamine.py (reference §1.1)"


def _mammillary(v1: float, k10: float, ks: list[tuple[float, float]], enantiomer: str) -> LinearSystem:
    n = 1 + len(ks)
    K = np.zeros((n, n))
    K[0, 0] = -k10
    for i, (k1i, ki1) in enumerate(ks, start=1):
        K[0, 0] -= k1i
        K[i, 0] = k1i
        K[0, i] = ki1
        K[i, i] = -ki1
    c = np.zeros(n)
    c[0] = 1000.0 / v1
    names = ("central",) + tuple(f"peripheral{i}" for i in range(1, n))
    inputs = {Route.IV: (InputChannel(0, 1.0, None, enantiomer),)}
    return LinearSystem(K, names, inputs, {"parent": c}, (enantiomer,))


def build_domino(p: Mapping[str, float], subject: Subject, drug: Drug) -> LinearSystem:
    v1 = p["V1_per_kg"] * subject.weight_kg
    blocks = [_mammillary(v1, p["k10"], [(p["k12"], p["k21"]), (p["k13"], p["k31"])], e) for e in ("S", "R")]
    return block_diagonal(blocks, ["S", "R"])


def build_clements(p: Mapping[str, float], subject: Subject, drug: Drug) -> LinearSystem:
    v1 = p["V1_per_kg"] * subject.weight_kg
    blocks = [_mammillary(v1, p["k10"], [(p["k12"], p["k21"])], e) for e in ("S", "R")]
    return block_diagonal(blocks, ["S", "R"])


_COMMON_CAVEATS = (
    "No inter-individual variability published; old non-stereoselective assays (total ketamine).",
    "opentiva's ke0 is derived from an assumed time-to-peak, not from data: not provided and must not be used.",
    "Not enantioselective: S and R series are each half of the total.",
    "Studied population ranges not recorded in the reference.",
)

DOMINO_MODEL = PKModel(
    name="domino-1984",
    title="Domino 1984 racemic ketamine, 3-compartment (TCI legacy)",
    citation="Domino EF, et al. Clin Pharmacol Ther 1984 (PMID 7198883 per opentiva)",
    support={Drug.RACEMIC: frozenset({Route.IV})},
    sampling_site="plasma (site not recorded in the reference)",
    parent_analyte={Drug.RACEMIC: "total ketamine (racemic, free base)"},
    metabolite_analyte=None,
    metabolite_routes=frozenset(),
    metabolite_units="",
    metabolite_note="no metabolite in this model",
    parameters={
        p.name: p
        for p in [
            _P("V1_per_kg", 0.063, "L/kg", DOMINO),
            _P("k10", 0.4381, "1/min", DOMINO),
            _P("k12", 0.5921, "1/min", DOMINO),
            _P("k13", 0.5900, "1/min", DOMINO),
            _P("k21", 0.2470, "1/min", DOMINO),
            _P("k31", 0.0146, "1/min", DOMINO),
        ]
    },
    iiv=(),
    caveats=_COMMON_CAVEATS + ("Tiny V1 (4.4 L/70 kg): very high end-of-infusion peaks.",),
    covariates_used=frozenset({"weight_kg"}),
    studied={},
    builder=build_domino,
)

CLEMENTS_MODEL = PKModel(
    name="clements-1981",
    title="Clements 1981 racemic ketamine, 2-compartment (TCI legacy)",
    citation="Clements JA, Nimmo WS. Br J Anaesth 1981;53:27",
    support={Drug.RACEMIC: frozenset({Route.IV})},
    sampling_site="plasma (site not recorded in the reference)",
    parent_analyte={Drug.RACEMIC: "total ketamine (racemic, free base)"},
    metabolite_analyte=None,
    metabolite_routes=frozenset(),
    metabolite_units="",
    metabolite_note="no metabolite in this model",
    parameters={
        p.name: p
        for p in [
            _P("V1_per_kg", 1.7522, "L/kg", CLEMENTS),
            _P("k10", 0.0109, "1/min", CLEMENTS),
            _P("k12", 0.0186, "1/min", CLEMENTS),
            _P("k21", 0.0137, "1/min", CLEMENTS),
        ]
    },
    iiv=(),
    caveats=_COMMON_CAVEATS + ("Fitted on a 250 ug/kg bolus.",),
    covariates_used=frozenset({"weight_kg"}),
    studied={},
    builder=build_clements,
)
