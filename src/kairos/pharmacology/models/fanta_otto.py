"""Fanta 2015 S-ketamine disposition + Otto 2021 S-norketamine re-fit (venous).

S-ketamine 3-compartment (Fanta S et al. Eur J Clin Pharmacol 2015;71:441; values fixed in Otto 2021
Table 3), S-norketamine 2-compartment fed by ALL S-ketamine clearance (fm = 1, S-ketamine mass units, no
MW conversion) re-estimated by Otto ME et al. Eur J Clin Pharmacol 2021;77:1181 on IV data only
(nlmixr2lib ``Otto_2021_s_ketamine.R``; reference pharmacology.md §1.1). Allometry (WT/70): exponent 1 on
central volumes, 0.75 on elimination clearances of both analytes; peripheral terms unscaled (as run).

Racemic ketamine = S + R, simulated as two independent blocks (half the dose each); R-ketamine shares S
distribution with CL_R = ratio x CL_S (reference §1.6: 0.80-0.95). R-norketamine is not modelled.
Oral: F = 8 % (Fanta 2015) with absorption parameters that are NOT from Fanta (placeholders borrowed from
the Perez-Ruixo 2021 esketamine oral solution); Fanta's presystemic norketamine formation is not
implemented, so no metabolite is reported after oral doses.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kairos.pharmacology.models.base import IIVBlock, PKModel, StudiedRange, batch_shape
from kairos.pharmacology.models.base import P as _P
from kairos.pharmacology.pk.linear import InputChannel, LinearSystem, block_diagonal
from kairos.pharmacology.types import Drug, Route, Subject

FANTA = "Fanta 2015 Eur J Clin Pharmacol 71:441, values fixed in Otto 2021 Table 3 (reference §1.1; nlmixr2lib Otto_2021_s_ketamine.R)"
OTTO = "Otto 2021 Eur J Clin Pharmacol 77:1181, Table 3 (reference §1.1; nlmixr2lib Otto_2021_s_ketamine.R)"

PARAMETERS = {
    p.name: p
    for p in [
        _P("V1", 133.0, "L/70 kg", FANTA),
        _P("CL", 95.2, "L/h/70 kg", FANTA),
        _P("Vp1", 187.0, "L", FANTA),
        _P("Q1", 23.2, "L/h", FANTA),
        _P("Vp2", 98.8, "L", FANTA),
        _P("Q2", 157.0, "L/h", FANTA),
        _P("V_nk", 98.6, "L/70 kg", OTTO),
        _P("CL_nk", 57.7, "L/h/70 kg", OTTO),
        _P("Vp_nk", 160.0, "L", OTTO),
        _P("Q_nk", 42.8, "L/h", OTTO),
        _P(
            "fm_nk",
            1.0,
            "fraction",
            OTTO + ": all S-ketamine clearance forms S-norketamine (assumption of the model)",
        ),
        _P("F_oral", 0.08, "fraction", "Fanta 2015 abstract: oral F 8 % (reference §1.1/§1.3)"),
        _P(
            "ka_oral",
            0.97,
            "1/h",
            "PLACEHOLDER: Fanta's absorption model not retrieved; borrowed Perez-Ruixo 2021 oral solution ka,po",
            "placeholder",
        ),
        _P(
            "D_oral",
            0.32,
            "h",
            "PLACEHOLDER: borrowed Perez-Ruixo 2021 oral solution zero-order lead-in Dpo",
            "placeholder",
        ),
        _P(
            "R_to_S_CL_ratio",
            0.875,
            "ratio",
            "PLACEHOLDER ⚠ midpoint of reference §1.6 range 0.80-0.95 (Henthorn 2018 ~0.8-0.85; Persson 2002 0.83; "
            "Hasan 2021 0.94); configurable",
            "placeholder",
        ),
    ]
}

IIV = (
    IIVBlock(("V1", "CL"), ((0.084, 0.023), (0.023, 0.026)), OTTO + ": omega2 V 0.084, cov 0.023, CL 0.026"),
    IIVBlock(
        ("V_nk", "CL_nk"), ((0.040, 0.044), (0.044, 0.103)), OTTO + ": omega2 V 0.040, cov 0.044, CL 0.103"
    ),
    IIVBlock(
        ("F_oral",), ((float(np.log1p(0.11**2)),),), "Fanta 2015 abstract: oral F IIV 11 %", transform="logit"
    ),
)


def _enantiomer_block(
    p: Mapping[str, float], subject: Subject, enantiomer: str, with_metabolite: bool
) -> LinearSystem:
    h = 1.0 / 60.0
    w = subject.weight_kg / 70.0
    v1 = p["V1"] * w
    cl = p["CL"] * w**0.75 * (p["R_to_S_CL_ratio"] if enantiomer == "R" else 1.0)
    n = 6 if with_metabolite else 4
    DEP, CEN, P1, P2, NC, NP = range(6)
    shape = batch_shape(p)  # () for scalar parameters; (N,) for per-patient arrays
    K = np.zeros((*shape, n, n))
    ka = p["ka_oral"] * h
    K[..., DEP, DEP] = -ka
    K[..., CEN, DEP] = ka
    K[..., CEN, CEN] = -(cl + p["Q1"] + p["Q2"]) / v1 * h
    K[..., P1, CEN] = p["Q1"] / v1 * h
    K[..., CEN, P1] = p["Q1"] / p["Vp1"] * h
    K[..., P1, P1] = -p["Q1"] / p["Vp1"] * h
    K[..., P2, CEN] = p["Q2"] / v1 * h
    K[..., CEN, P2] = p["Q2"] / p["Vp2"] * h
    K[..., P2, P2] = -p["Q2"] / p["Vp2"] * h
    c_parent = np.zeros((*shape, n))
    c_parent[..., CEN] = 1000.0 / v1
    outputs = {"parent": c_parent}
    names = ["depot_oral", "central", "peripheral1", "peripheral2"]
    if with_metabolite:
        vn = p["V_nk"] * w
        cln = p["CL_nk"] * w**0.75
        K[..., NC, CEN] = p["fm_nk"] * cl / v1 * h
        K[..., NC, NC] = -(cln + p["Q_nk"]) / vn * h
        K[..., NP, NC] = p["Q_nk"] / vn * h
        K[..., NC, NP] = p["Q_nk"] / p["Vp_nk"] * h
        K[..., NP, NP] = -p["Q_nk"] / p["Vp_nk"] * h
        c_met = np.zeros((*shape, n))
        c_met[..., NC] = 1000.0 / vn  # S-ketamine mass units as published (no MW conversion)
        outputs["metabolite"] = c_met
        names += ["snk_central", "snk_peripheral"]
    inputs = {
        Route.IV: (InputChannel(CEN, 1.0, None, enantiomer),),
        Route.ORAL: (InputChannel(DEP, p["F_oral"], p["D_oral"] * 60.0, enantiomer),),
    }
    return LinearSystem(K, tuple(names), inputs, outputs, (enantiomer,))


def build(p: Mapping[str, float], subject: Subject, drug: Drug) -> LinearSystem:
    s_block = _enantiomer_block(p, subject, "S", with_metabolite=True)
    if drug is Drug.ESKETAMINE:
        return s_block
    r_block = _enantiomer_block(p, subject, "R", with_metabolite=False)
    return block_diagonal([s_block, r_block], ["S", "R"])


MODEL = PKModel(
    name="fanta-otto-2021",
    title="Fanta 2015 S-ketamine + Otto 2021 S-norketamine (racemic as S + R)",
    citation=(
        "Fanta S, et al. Eur J Clin Pharmacol 2015;71(4):441-447; Otto ME, et al. Eur J Clin Pharmacol "
        "2021;77(8):1181-1192. doi:10.1007/s00228-021-03104-1"
    ),
    support={
        Drug.ESKETAMINE: frozenset({Route.IV, Route.ORAL}),
        Drug.RACEMIC: frozenset({Route.IV, Route.ORAL}),
    },
    sampling_site="venous plasma",
    parent_analyte={
        Drug.ESKETAMINE: "S-ketamine (free base)",
        Drug.RACEMIC: "total ketamine S + R (free base)",
    },
    metabolite_analyte="S-norketamine",
    metabolite_routes=frozenset({Route.IV}),
    metabolite_units="ng/mL as published: S-norketamine model carried in S-ketamine mass units, no MW conversion",
    metabolite_note=(
        "S-norketamine re-fitted by Otto 2021 on IV data only (fm = 1 assumed); not reported after oral doses "
        "(Fanta's presystemic norketamine formation not implemented); R-norketamine not modelled."
    ),
    parameters=PARAMETERS,
    iiv=IIV,
    caveats=(
        "Otto 2021 re-fit is IV only; oral absorption rate/lead-in are placeholders borrowed from Perez-Ruixo 2021.",
        "Fanta 2015: 11 healthy men; Otto 2021: 48 healthy young adults (venous).",
        "R-ketamine clearance = ratio x S (placeholder ⚠ 0.875, range 0.80-0.95); R shares S distribution.",
    ),
    covariates_used=frozenset({"weight_kg"}),
    studied={
        "weight_kg": StudiedRange(
            50.0, 95.0, "Otto 2021 Table 1: mean 68-71 kg, SD 7-8.5 (approx. mean +/- 3 SD)"
        ),
        "age_y": StudiedRange(18.0, 45.0, "Otto 2021 Table 1: mean 23 y, SD 3.6-5.1 (approx.)"),
    },
    builder=build,
    vectorised=True,
)
