"""Read blood-pressure and SpO₂ readings out of a FHIR R4 Bundle (pure, no FHIR library)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from kairos.clinical.safety.vitals import Vitals

BP_PANELS = frozenset(
    {"85354-9", "55284-4"}
)  # 85354-9 current (clinical.md §7.1); 55284-4 older, used by Synthea
SBP, DBP = "8480-6", "8462-4"  # clinical.md §7.1
SPO2 = frozenset({"59408-5", "2708-6"})  # clinical.md §7.1


def _codes(concept: Mapping[str, Any]) -> set[str]:
    return {str(c.get("code")) for c in concept.get("coding", []) if c.get("system") == "http://loinc.org"}


def _when(resource: Mapping[str, Any]) -> dt.datetime | None:
    raw = resource.get("effectiveDateTime")
    if not isinstance(raw, str):
        return None
    at = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return at if at.tzinfo is not None else None


def vitals_from_bundle(bundle: Mapping[str, Any]) -> Iterator[Vitals]:
    """Yield one :class:`Vitals` per BP panel (systolic + diastolic) or SpO₂ observation, in bundle order.

    Observations without an aware ``effectiveDateTime`` or without both BP components are skipped.
    """
    for entry in bundle.get("entry", []):
        res = entry.get("resource", {})
        if res.get("resourceType") != "Observation":
            continue
        at = _when(res)
        if at is None:
            continue
        codes = _codes(res.get("code", {}))
        if codes & BP_PANELS:
            parts: dict[str, float] = {}
            for comp in res.get("component", []):
                value = comp.get("valueQuantity", {}).get("value")
                for code in _codes(comp.get("code", {})) & {SBP, DBP}:
                    if isinstance(value, int | float):
                        parts[code] = float(value)
            if SBP in parts and DBP in parts:
                yield Vitals(at=at, sbp=parts[SBP], dbp=parts[DBP])
        elif codes & SPO2:
            value = res.get("valueQuantity", {}).get("value")
            if isinstance(value, int | float):
                yield Vitals(at=at, spo2=float(value))
