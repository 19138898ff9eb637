"""Permission-matrix entries of the patients app added here (the older patients routes are listed in
kairos.access.tests.matrix): recording a height (issue #12 §4)."""

from __future__ import annotations

from typing import Any

from kairos.access.tests.matrix import Entry, World


def _patient(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk}


ENTRIES = [
    Entry(
        "patients:height_add",
        phi=True,
        method="POST",
        allowed=frozenset({"prescriber", "nurse"}),
        kwargs=_patient,
        data=lambda w: {"height_cm": "172.5"},
    ),
]
