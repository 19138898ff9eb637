"""Simons 2022 S-ketamine oral thin film (sublingual = buccal) + IV, arterial, with S-NK and S-HNK.

Simons P et al. Front Pain Res 2022;3:946486, Table 4 (reference pharmacology.md §1.1; nlmixr2lib
``Simons_2022_s_ketamine.R``). Film dose: mucosal route F1 zero-order over D1 into a depot drained by KA1
into central S-ketamine; swallowed route F2 (116 % of film dose!) zero-order over D2 into a gut depot
(KA2) then a gut-to-liver delay (1/MTTG) directly into the metabolism chain (never reaches systemic
S-ketamine). Systemic S-ketamine cleared by CLK1 and the swallowed flux pass a 2-compartment metabolism
delay chain (each 2/MTT K->NK) of which fm 0.8 forms S-norketamine (VN1 = VK1); S-NK cleared by CLN1
passes a 2-compartment chain (2/MTT NK->HNK) with fm 0.7 to S-HNK. Model fitted in nmol/mL, so
metabolites are converted to ng/mL with their own molecular weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kairos.pharmacology.models.base import IIVBlock, PKModel, StudiedRange
from kairos.pharmacology.models.base import P as _P
from kairos.pharmacology.molar_mass import MW_HYDROXYNORKETAMINE, MW_KETAMINE_BASE, MW_NORKETAMINE
from kairos.pharmacology.pk.linear import InputChannel, LinearSystem
from kairos.pharmacology.types import Drug, Route, Subject

SRC = "Simons 2022 Front Pain Res 3:946486, Table 4 (reference §1.1; nlmixr2lib Simons_2022_s_ketamine.R)"
ALLO = "allometric exponents not printed in Simons 2022; standard 0.75/1 assumed (nlmixr2lib vignette)"

PARAMETERS = {
    p.name: p
    for p in [
        _P("F1", 0.263, "fraction", SRC, description="oral-mucosal bioavailability"),
        _P("D1", 13.1, "min", SRC),
        _P("KA1", 0.04, "1/min", SRC),
        _P(
            "F2",
            1.16,
            "fraction of film dose",
            SRC,
            description="swallowed route into first-pass metabolism (116 %!)",
        ),
        _P("D2", 29.9, "min", SRC),
        _P("KA2", 0.049, "1/min", SRC),
        _P("MTT_gut", 10.7, "min", SRC),
        _P("VK1", 11.6, "L/70 kg", SRC),
        _P("VK2", 39.0, "L/70 kg", SRC),
        _P("VK3", 174.0, "L/70 kg", SRC),
        _P("CLK1", 1.48, "L/min/70 kg", SRC),
        _P("CLK2", 2.43, "L/min/70 kg", SRC),
        _P("CLK3", 1.21, "L/min/70 kg", SRC),
        _P("MTT_K_NK", 20.1, "min", SRC),
        _P("fm_NK", 0.8, "fraction", SRC + " (fixed, assumed)"),
        _P("VN2", 221.0, "L/70 kg", SRC),
        _P("CLN1", 1.00, "L/min/70 kg", SRC),
        _P("CLN2", 2.63, "L/min/70 kg", SRC),
        _P("MTT_NK_HNK", 1.12, "min", SRC),
        _P("fm_HNK", 0.7, "fraction", SRC + " (fixed, assumed)"),
        _P("VH1", 4.4, "L/70 kg", SRC),
        _P("VH2", 87.5, "L/70 kg", SRC),
        _P("CLH1", 0.933, "L/min/70 kg", SRC),
        _P("CLH2", 1.70, "L/min/70 kg", SRC),
        _P("allometric_cl", 0.75, "exponent", ALLO, "placeholder"),
        _P("allometric_v", 1.0, "exponent", ALLO, "placeholder"),
    ]
}

IIV = (
    IIVBlock(("VK1",), ((0.057,),), SRC + ": omega2 VK1 (= VN1) 0.057"),
    IIVBlock(("CLK1",), ((0.029,),), SRC + ": omega2 0.029"),
    IIVBlock(("CLK3",), ((0.026,),), SRC + ": omega2 0.026"),
    IIVBlock(("CLN1",), ((0.050,),), SRC + ": omega2 0.050"),
    IIVBlock(("MTT_K_NK",), ((0.021,),), SRC + ": omega2 0.021"),
    IIVBlock(("VH1",), ((1.22,),), SRC + ": omega2 1.22"),
    IIVBlock(("CLH1",), ((0.103,),), SRC + ": omega2 0.103"),
    IIVBlock(("CLH2",), ((0.287,),), SRC + ": omega2 0.287"),
)

(DEP, GUT, GL, CEN, P1, P2, TK1, TK2, NC, NP, TH1, TH2, HC, HP) = range(14)
STATES = (
    "depot_mucosal", "depot_gut", "gut_liver", "central", "peripheral1", "peripheral2", "k_nk_chain1",
    "k_nk_chain2", "snk_central", "snk_peripheral", "nk_hnk_chain1", "nk_hnk_chain2", "shnk_central",
    "shnk_peripheral",
)  # fmt: skip


def build(p: Mapping[str, float], subject: Subject, drug: Drug) -> LinearSystem:
    w = subject.weight_kg / 70.0
    wc, wv = w ** p["allometric_cl"], w ** p["allometric_v"]
    vc, vp, vp2 = p["VK1"] * wv, p["VK2"] * wv, p["VK3"] * wv
    cl, q, q2 = p["CLK1"] * wc, p["CLK2"] * wc, p["CLK3"] * wc
    vn, vpn = vc, p["VN2"] * wv  # VN1 = VK1
    cln, qn = p["CLN1"] * wc, p["CLN2"] * wc
    vh, vph = p["VH1"] * wv, p["VH2"] * wv
    clh, qhh = p["CLH1"] * wc, p["CLH2"] * wc
    ktr_g = 1.0 / p["MTT_gut"]
    ktr_k = 2.0 / p["MTT_K_NK"]
    ktr_n = 2.0 / p["MTT_NK_HNK"]
    K = np.zeros((14, 14))

    def flow(src: int, dst: int | None, k: float) -> None:
        K[src, src] -= k
        if dst is not None:
            K[dst, src] += k

    flow(DEP, CEN, p["KA1"])
    flow(GUT, GL, p["KA2"])
    flow(GL, TK1, ktr_g)
    flow(CEN, TK1, cl / vc)
    flow(CEN, P1, q / vc)
    flow(P1, CEN, q / vp)
    flow(CEN, P2, q2 / vc)
    flow(P2, CEN, q2 / vp2)
    flow(TK1, TK2, ktr_k)
    K[TK2, TK2] -= ktr_k
    K[NC, TK2] += p["fm_NK"] * ktr_k  # 1 - fm lost
    flow(NC, TH1, cln / vn)
    flow(NC, NP, qn / vn)
    flow(NP, NC, qn / vpn)
    flow(TH1, TH2, ktr_n)
    K[TH2, TH2] -= ktr_n
    K[HC, TH2] += p["fm_HNK"] * ktr_n
    flow(HC, None, clh / vh)
    flow(HC, HP, qhh / vh)
    flow(HP, HC, qhh / vph)
    inputs = {
        Route.IV: (InputChannel(CEN, 1.0, None),),
        Route.SUBLINGUAL: (
            InputChannel(DEP, p["F1"], p["D1"]),
            InputChannel(GUT, p["F2"], p["D2"]),
        ),
    }
    c_parent = np.zeros(14)
    c_parent[CEN] = 1000.0 / vc
    c_nk = np.zeros(14)
    c_nk[NC] = 1000.0 / vn * MW_NORKETAMINE / MW_KETAMINE_BASE  # nmol/mL model -> ng/mL norketamine
    c_hnk = np.zeros(14)
    c_hnk[HC] = 1000.0 / vh * MW_HYDROXYNORKETAMINE / MW_KETAMINE_BASE
    return LinearSystem(K, STATES, inputs, {"parent": c_parent, "metabolite": c_nk, "hnk": c_hnk}, ("S",))


MODEL = PKModel(
    name="simons-2022",
    title="Simons 2022 S-ketamine oral thin film (sublingual/buccal) + IV, arterial",
    citation="Simons P, et al. Front Pain Res 2022;3:946486. doi:10.3389/fpain.2022.946486",
    support={Drug.ESKETAMINE: frozenset({Route.SUBLINGUAL, Route.IV})},
    sampling_site="arterial plasma",
    parent_analyte={Drug.ESKETAMINE: "S-ketamine (free base)"},
    metabolite_analyte="S-norketamine",
    metabolite_routes=frozenset({Route.SUBLINGUAL, Route.IV}),
    metabolite_units=f"model fitted in nmol/mL; converted to ng/mL with norketamine MW {MW_NORKETAMINE}",
    metabolite_note=(
        "S-norketamine with fm 0.8 fixed (assumed, not identifiable); S-hydroxynorketamine also available as "
        "output 'hnk' (fm 0.7 fixed, MW 239.70 computed)."
    ),
    parameters=PARAMETERS,
    iiv=IIV,
    caveats=(
        "Swallowed-route fraction F2 = 116 % of the film dose (> 100 %; a fitted, non-physical value).",
        "Fitted in 20 healthy young adults (19-32 y, 53-93 kg) on a 50-100 mg film; extrapolation outside is unverified.",
        "Arterial sampling: early concentrations higher than venous models (reference §1.5).",
        "Allometric exponents not printed in the paper; 0.75/1 assumed.",
        "Inter-occasion variability on absorption terms is not sampled by the IIV hook.",
    ),
    covariates_used=frozenset({"weight_kg"}),
    studied={
        "weight_kg": StudiedRange(53.0, 93.0, "Simons 2022 Table 1 (53-93 kg)"),
        "age_y": StudiedRange(19.0, 32.0, "Simons 2022 Table 1 (19-32 y)"),
    },
    builder=build,
    dose_studied_mg={
        Route.SUBLINGUAL: StudiedRange(50.0, 100.0, "Simons 2022: 50 or 100 mg film"),
        Route.IV: StudiedRange(20.0, 20.0, "Simons 2022: 20 mg IV over 20 min"),
    },
)
