"""Pure dosing-day vocabulary: the product table, LOINC codes of flowsheet readings, status machine.

No Django here. Every product fact carries its source (``§`` = ``shared/reference/clinical.md``). NDCs the
reference does not give are left empty and marked unconfirmed: the nurse records the package NDC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Product:
    """One product a dose is prepared from. Strengths are free base (mg per device, or mg/mL)."""

    code: str
    name: str
    drug: str  # "esketamine" | "ketamine"
    routes: tuple[str, ...]
    ndc: str  # "" = not in the reference: record the package NDC
    base_mg_per_unit: float
    unit: str  # "device" | "mL"
    devices_per_pack: int | None
    source: str
    confirmed: bool


PRODUCTS: tuple[Product, ...] = (
    Product(
        "spravato-28",
        "Spravato 28 mg nasal spray device (single blister)",
        "esketamine",
        ("intranasal",),
        "50458-028-00",
        28.0,
        "device",
        1,
        "§1.1 (28 mg base per device, 32.3 mg HCl) and §7.3 NDC 50458-028-00 (openFDA) ✅",
        True,
    ),
    Product(
        "spravato-56",
        "Spravato 56 mg kit (2 devices)",
        "esketamine",
        ("intranasal",),
        "50458-028-02",
        28.0,
        "device",
        2,
        "§1.1, §7.3 NDC 50458-028-02 (openFDA) ✅",
        True,
    ),
    Product(
        "spravato-84",
        "Spravato 84 mg kit (3 devices)",
        "esketamine",
        ("intranasal",),
        "50458-028-03",
        28.0,
        "device",
        3,
        "§1.1, §7.3 NDC 50458-028-03 (openFDA) ✅",
        True,
    ),
    Product(
        "ketamine-10",
        "Ketamine HCl injection 10 mg/mL (base equivalent)",
        "ketamine",
        ("iv", "im"),
        "",
        10.0,
        "mL",
        None,
        "§7.3 US strengths 10/50/100 mg/mL (◐); NDC not in reference ⚠",
        False,
    ),
    Product(
        "ketamine-50",
        "Ketamine HCl injection 50 mg/mL (base equivalent)",
        "ketamine",
        ("iv", "im"),
        "",
        50.0,
        "mL",
        None,
        "§7.3 US strengths (◐); NDC not in reference ⚠",
        False,
    ),
    Product(
        "ketamine-100",
        "Ketamine HCl injection 100 mg/mL (base equivalent) — dilute before IV",
        "ketamine",
        ("iv", "im"),
        "25021-684",
        100.0,
        "mL",
        None,
        "§7.3 Sagent 100 mg/mL NDC 25021-684 (◐ openFDA); §2.2 never IV undiluted",
        False,
    ),
)

PRODUCTS_BY_CODE = {p.code: p for p in PRODUCTS}


def product(code: str) -> Product:
    try:
        return PRODUCTS_BY_CODE[code]
    except KeyError:
        allowed = ", ".join(PRODUCTS_BY_CODE)
        raise ValueError(f"product: {code!r} is not one of {allowed}") from None


def products_for(drug: str, route: str) -> list[Product]:
    return [p for p in PRODUCTS if p.drug == drug and route in p.routes]


# --- LOINC codes of flowsheet values (§7.1 ✅ S23) -----------------------------------------------------
LOINC = {
    "sbp": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "dbp": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "resp_rate": ("9279-1", "Respiratory rate", "/min"),
    "spo2": ("59408-5", "Oxygen saturation by pulse oximetry", "%"),
    "weight": ("29463-7", "Body weight", "kg"),
}
LOINC_SOURCE = "clinical.md §7.1 (S23 FHIR vital-signs profiles)"

# --- session status machine ----------------------------------------------------------------------------


class Status(enum.StrEnum):
    EXPECTED = "expected"
    CHECKED_IN = "checked_in"
    PRECHECKS_DONE = "prechecks_done"
    DOSING = "dosing"
    MONITORING = "monitoring"
    READY = "ready_for_discharge"
    DISCHARGED = "discharged"
    HELD = "held"
    CANCELLED = "cancelled"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.EXPECTED: frozenset({Status.CHECKED_IN, Status.CANCELLED}),
    Status.CHECKED_IN: frozenset({Status.PRECHECKS_DONE, Status.HELD, Status.CANCELLED}),
    Status.PRECHECKS_DONE: frozenset({Status.DOSING, Status.HELD, Status.CANCELLED}),
    # held → checked in: a re-check clears the hold but leaves cautions awaiting the prescriber's decision
    Status.HELD: frozenset({Status.CHECKED_IN, Status.PRECHECKS_DONE, Status.CANCELLED}),
    Status.DOSING: frozenset({Status.MONITORING}),
    Status.MONITORING: frozenset({Status.READY, Status.DISCHARGED}),
    Status.READY: frozenset({Status.MONITORING, Status.DISCHARGED}),
    Status.DISCHARGED: frozenset(),
    Status.CANCELLED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


# Board state shown on the courses board for each session status.
BOARD_STATE = {
    Status.EXPECTED: "expected",
    Status.CHECKED_IN: "checked_in",
    Status.PRECHECKS_DONE: "ready_to_dose",
    Status.DOSING: "dosing",
    Status.MONITORING: "monitoring",
    Status.READY: "ready_for_discharge",
    Status.DISCHARGED: "discharged",
    Status.HELD: "held",
    Status.CANCELLED: "cancelled",
}

# Safety-rule route of each (drug, route) pair (kairos.clinical.safety.result.Route values).
SAFETY_ROUTE = {
    ("esketamine", "intranasal"): "esketamine",
    ("ketamine", "iv"): "iv",
    ("ketamine", "im"): "im",
    ("ketamine", "sc"): "sc",
}


def safety_route(drug: str, route: str) -> str:
    try:
        return SAFETY_ROUTE[(drug, route)]
    except KeyError:
        raise ValueError(
            f"route: {drug} by {route} has no monitoring rules (allowed: esketamine intranasal, "
            "ketamine iv/im/sc)"
        ) from None
