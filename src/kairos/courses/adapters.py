"""The ONLY module of the courses/intake apps that touches :mod:`kairos.pharmacology`.

The planning page draws the engine's modelled plasticity window beside the dated plan, as an illustration
of the model (never a clinical claim). The engine's timeline API (``kairos.pharmacology.timeline``) is
expected to offer ``plasticity_timeline(protocol_id, dose_days, weight_kg) -> (days, values)``; until it
exists this adapter returns ``None`` and the page draws nothing.

TODO(pharmacology): bind to the real ``kairos.pharmacology.timeline`` signature when it lands.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Illustration:
    """A polyline in an SVG box of ``width`` × ``height`` and its caption."""

    points: str
    width: int
    height: int
    caption: str


def plasticity_illustration(
    protocol_id: str, dose_days: Sequence[int], weight_kg: float | None, *, width: int = 560, height: int = 80
) -> Illustration | None:
    """The modelled plasticity window over the plan (days from the first dose), or None if unavailable."""
    if not dose_days:
        return None
    try:
        timeline: Any = importlib.import_module("kairos.pharmacology.timeline")
    except ImportError:
        return None
    fn = getattr(timeline, "plasticity_timeline", None)
    if not callable(fn):
        return None
    try:
        days, values = fn(protocol_id, list(dose_days), weight_kg)
    except (ValueError, TypeError, KeyError):
        return None
    pts = [
        (float(d), float(v))
        for d, v in zip(days, values, strict=False)
        if math.isfinite(d) and math.isfinite(v)
    ]
    if len(pts) < 2:
        return None
    x_max = max(p[0] for p in pts) or 1.0
    y_max = max(max(p[1] for p in pts), 1e-9)
    line = " ".join(f"{p[0] / x_max * width:.1f},{height - p[1] / y_max * (height - 4):.1f}" for p in pts)
    return Illustration(
        line, width, height, "Modelled plasticity window (pharmacology engine; illustration only)"
    )
