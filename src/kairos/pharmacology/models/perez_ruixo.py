"""Perez-Ruixo 2021 esketamine (intranasal / IV / oral) + apparent noresketamine.

Perez-Ruixo C et al. Clin Pharmacokinet 2021;60:501-516 (doi:10.1007/s40262-020-00953-4), Table 3, as
summarised in reference pharmacology.md section 1.1 and encoded (with errata) in nlmixr2lib
``PerezRuixo_2020_esketamine.R``. Structure: nasal depot (first-order ka_n, fraction FRn per 28 mg
device, 0.62 x FRn for later devices of a session); swallowed nasal fraction (1 - FRn) x Fgut into a depot
filled zero-order over Dsw then first-order ka_sw into the hepato-portal compartment; oral solution the
same with Dpo / ka_po; 3-compartment esketamine with a well-stirred liver compartment (Qh, Vh, kel,
kmet); noresketamine 2-compartment, apparent (fed by kmet in esketamine mass, no MW conversion).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kairos.pharmacology.models.base import IIVBlock, PKModel, StudiedRange, batch_shape
from kairos.pharmacology.models.base import P as _P
from kairos.pharmacology.pk.linear import InputChannel, LinearSystem
from kairos.pharmacology.types import Drug, Route, Subject

SRC = "Perez-Ruixo 2021 Clin Pharmacokinet 60:501, Table 3 (reference pharmacology.md §1.1; nlmixr2lib PerezRuixo_2020_esketamine.R)"

PARAMETERS = {
    p.name: p
    for p in [
        _P(
            "FRn",
            0.54,
            "fraction",
            SRC,
            description="per-device fraction absorbed via the nasal cavity (first 28 mg device)",
        ),
        _P(
            "FRn_later_device_factor",
            0.62,
            "factor",
            SRC,
            description="FRn multiplier for 2nd and later 28 mg devices of a session",
        ),
        _P("device_mg", 28.0, "mg", "Spravato device = 28 mg esketamine base (reference header)"),
        _P("ka_n", 2.93, "1/h", SRC),
        _P("Dsw", 0.53, "h", SRC, description="zero-order duration of the swallowed nasal fraction"),
        _P("ka_sw", 1.45, "1/h", SRC),
        _P("Dpo", 0.32, "h", SRC),
        _P("ka_po", 0.97, "1/h", SRC),
        _P("Fgut", 0.64, "fraction", SRC),
        _P("Vc", 192.0, "L", SRC),
        _P("Q1", 84.3, "L/h", SRC),
        _P("Vp1", 143.0, "L", SRC),
        _P("Q2", 37.6, "L/h", SRC),
        _P("Vp2", 417.0, "L", SRC),
        _P("Qh", 151.0, "L/h", SRC),
        _P(
            "Qh_age_slope",
            2.19,
            "L/h per year above 60",
            SRC,
            description="Qh decreases by this per year of age > 60",
        ),
        _P("Vh", 101.0, "L", SRC),
        _P("kel", 1.11, "1/h", SRC, description="hepatic elimination to other metabolites"),
        _P("kmet", 2.77, "1/h", SRC, description="hepatic metabolism to noresketamine"),
        _P("Vcn", 70.0, "L", SRC, description="apparent (Vcn/F)"),
        _P("CLn", 38.0, "L/h", SRC, description="apparent (CLn/F)"),
        _P("Vpn", 115.0, "L", SRC, description="apparent (Vpn/F)"),
        _P("Q3", 26.1, "L/h", SRC, description="apparent (Q3/F)"),
    ]
}


def _cv2omega(cv: float) -> float:
    return float(np.log1p(cv * cv))


IIV = (
    IIVBlock(("FRn",), ((0.708**2,),), SRC + ": 70.8 (additive, logit scale)", transform="logit"),
    IIVBlock(("ka_n",), ((_cv2omega(0.615),),), SRC + ": 61.5 %"),
    IIVBlock(("ka_sw",), ((_cv2omega(1.32),),), SRC + ": 132 %"),
    IIVBlock(("ka_po",), ((_cv2omega(1.32),),), SRC + ": 132 %"),
    IIVBlock(("Vc",), ((_cv2omega(0.275),),), SRC + ": 27.5 %"),
    IIVBlock(("Vp1",), ((_cv2omega(0.493),),), SRC + ": 49.3 %"),
    IIVBlock(("Qh",), ((_cv2omega(0.232),),), SRC + ": 23.2 %"),
    IIVBlock(("Vh",), ((_cv2omega(0.346),),), SRC + ": 34.6 %"),
    IIVBlock(("kel",), ((_cv2omega(1.20),),), SRC + ": 120 %"),
    IIVBlock(
        ("kmet",),
        ((_cv2omega(0.30),),),
        "placeholder CV 30 %: kmet IIV is reported in the text but its Table 3 value is blank (nlmixr2lib errata)",
        status="placeholder",
    ),
    IIVBlock(("Vcn",), ((_cv2omega(0.316),),), SRC + ": 31.6 %"),
    IIVBlock(("CLn",), ((_cv2omega(0.254),),), SRC + ": 25.4 %"),
)

# state indices
DEP_N, DEP_SW, DEP_PO, CEN, P1, P2, LIV, NC, NP = range(9)
STATES = (
    "depot_nasal",
    "depot_swallowed",
    "depot_oral",
    "central",
    "peripheral1",
    "peripheral2",
    "liver",
    "nesk_central",
    "nesk_peripheral",
)


def hepatic_qh(p: Mapping[str, float], subject: Subject) -> float:
    return p["Qh"] - p["Qh_age_slope"] * max(0.0, subject.age_y - 60.0)


def build(p: Mapping[str, float], subject: Subject, drug: Drug) -> LinearSystem:
    h = 1.0 / 60.0  # per hour -> per minute
    qh = hepatic_qh(p, subject)
    shape = batch_shape(p)  # () for scalar parameters; (N,) for per-patient arrays
    K = np.zeros((*shape, 9, 9))
    kan, kasw, kapo = p["ka_n"] * h, p["ka_sw"] * h, p["ka_po"] * h
    K[..., DEP_N, DEP_N] = -kan
    K[..., CEN, DEP_N] = kan
    K[..., DEP_SW, DEP_SW] = -kasw
    K[..., LIV, DEP_SW] = kasw
    K[..., DEP_PO, DEP_PO] = -kapo
    K[..., LIV, DEP_PO] = kapo
    vc = p["Vc"]
    K[..., CEN, CEN] = -(p["Q1"] + p["Q2"] + qh) / vc * h
    K[..., P1, CEN] = p["Q1"] / vc * h
    K[..., CEN, P1] = p["Q1"] / p["Vp1"] * h
    K[..., P1, P1] = -p["Q1"] / p["Vp1"] * h
    K[..., P2, CEN] = p["Q2"] / vc * h
    K[..., CEN, P2] = p["Q2"] / p["Vp2"] * h
    K[..., P2, P2] = -p["Q2"] / p["Vp2"] * h
    K[..., LIV, CEN] = qh / vc * h
    K[..., CEN, LIV] = qh / p["Vh"] * h
    K[..., LIV, LIV] = -(qh / p["Vh"] + p["kel"] + p["kmet"]) * h
    K[..., NC, LIV] = p["kmet"] * h
    K[..., NC, NC] = -(p["CLn"] + p["Q3"]) / p["Vcn"] * h
    K[..., NP, NC] = p["Q3"] / p["Vcn"] * h
    K[..., NC, NP] = p["Q3"] / p["Vpn"] * h
    K[..., NP, NP] = -p["Q3"] / p["Vpn"] * h
    frn = p["FRn"]
    frn2 = frn * p["FRn_later_device_factor"]
    fgut = p["Fgut"]
    dev = p["device_mg"]
    inputs = {
        Route.IV: (InputChannel(CEN, 1.0, None),),
        Route.INTRANASAL: (
            InputChannel(DEP_N, frn, 0.0, "S", frn2, dev),
            InputChannel(DEP_SW, (1.0 - frn) * fgut, p["Dsw"] * 60.0, "S", (1.0 - frn2) * fgut, dev),
        ),
        Route.ORAL: (InputChannel(DEP_PO, fgut, p["Dpo"] * 60.0),),
    }
    c_parent = np.zeros((*shape, 9))
    c_parent[..., CEN] = 1000.0 / vc  # mg/L -> ng/mL
    c_met = np.zeros((*shape, 9))
    c_met[..., NC] = 1000.0 / p["Vcn"]  # apparent, esketamine mass units as published (no MW conversion)
    return LinearSystem(K, STATES, inputs, {"parent": c_parent, "metabolite": c_met}, ("S",))


def analytic_bioavailability(
    p: Mapping[str, float], subject: Subject, route: Route, n_devices: int = 1
) -> float:
    """Closed-form F of the structure: hepatic E = CLint/(Qh + CLint), CLint = Vh (kel + kmet)."""
    qh = hepatic_qh(p, subject)
    clint = p["Vh"] * (p["kel"] + p["kmet"])
    f_hep = 1.0 - clint / (qh + clint)
    if route is Route.IV:
        return 1.0
    if route is Route.ORAL:
        return p["Fgut"] * f_hep
    frn = p["FRn"] * (1.0 + (n_devices - 1) * p["FRn_later_device_factor"]) / n_devices
    return frn + (1.0 - frn) * p["Fgut"] * f_hep


MODEL = PKModel(
    name="perez-ruixo-2021",
    title="Perez-Ruixo 2021 esketamine nasal spray + noresketamine",
    citation="Perez-Ruixo C, et al. Clin Pharmacokinet 2021;60(4):501-516. doi:10.1007/s40262-020-00953-4",
    support={Drug.ESKETAMINE: frozenset({Route.INTRANASAL, Route.IV, Route.ORAL})},
    sampling_site="venous plasma",
    parent_analyte={Drug.ESKETAMINE: "esketamine (free base)"},
    metabolite_analyte="noresketamine (apparent)",
    metabolite_routes=frozenset({Route.INTRANASAL, Route.IV, Route.ORAL}),
    metabolite_units="ng/mL as published: apparent 2-compartment model in esketamine mass units, no MW conversion",
    metabolite_note=(
        "Apparent noresketamine parameters (no IV noresketamine data; kmet IIV blank in Table 3). Taken literally "
        "the published parameters over-predict noresketamine AUC by ~1.4-1.56x while matching Cmax (nlmixr2lib "
        "errata; reference §1.1/§1.2)."
    ),
    parameters=PARAMETERS,
    iiv=IIV,
    caveats=(
        "kmet IIV is reported but blank in Table 3; the sampling hook uses a 30 % placeholder only on request.",
        "Noresketamine AUC over-predicted ~1.4-1.56x when the parameters are taken literally (errata).",
        "Printed ODEs in section 2.3 have typos; the standard f()/dur() encoding reproduces the published F.",
        "Asian (kel x0.36, CLn x0.81) and Japanese (FRn x1.34) covariates exist but Subject has no race field: not applied.",
        "Weight was not retained as a covariate.",
    ),
    covariates_used=frozenset({"age_y"}),
    studied={
        "age_y": StudiedRange(18.0, 86.0, "Perez-Ruixo 2021 Table 2 (18-86 y)"),
        "weight_kg": StudiedRange(39.0, 170.0, "Perez-Ruixo 2021 Table 2 (39-170 kg)"),
    },
    builder=build,
    vectorised=True,
    dose_studied_mg={
        Route.INTRANASAL: StudiedRange(14.0, 112.0, "Perez-Ruixo 2021: IN 14-112 mg"),
        Route.IV: StudiedRange(28.0, 28.0, "Perez-Ruixo 2021: IV 28 mg"),
        Route.ORAL: StudiedRange(84.0, 84.0, "Perez-Ruixo 2021: PO 84 mg"),
    },
)
