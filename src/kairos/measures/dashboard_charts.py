"""Server-rendered chart geometry of the outcomes dashboard: Kaplan–Meier curves and the small comparison
bars (the clinic's 95 % CI beside the published figures). Pure: plain numbers in, SVG coordinates out."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kairos.clinical.stats import KaplanMeier
from kairos.measures.dashboard import MetricRow

# --- Kaplan–Meier curve geometry (server-rendered SVG) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurveGeometry:
    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    path: str  # survival step line
    band: str  # CI polygon
    censor_marks: tuple[tuple[float, float], ...]
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    median_x: float | None
    median_y: float


def nice_step(span: float, target: int = 6) -> float:
    """A 1-2-5 step giving about ``target`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


@dataclass(frozen=True, slots=True)
class KMStep:
    """One row of the page's Kaplan–Meier table: a step of the curve (a time with at least one event), with
    the observations censored since the previous step; a last row carries those censored after the last
    event (if any)."""

    time: float
    at_risk: int
    events: int
    censored: int  # censored since the previous row, up to and including ``time``
    survival: float
    lower: float
    upper: float


def km_steps(km: KaplanMeier) -> tuple[KMStep, ...]:
    """The curve's step points: one row per distinct event time (plus one for censoring after the last
    event) instead of one per distinct time, so the table stays small however many censoring times there
    are; the estimates are those of ``km.table`` at the same times."""
    out: list[KMStep] = []
    censored = 0
    for r in km.table:
        censored += r.censored
        if r.events:
            out.append(KMStep(r.time, r.at_risk, r.events, censored, r.survival, r.lower, r.upper))
            censored = 0
    if censored:
        last = km.table[-1]
        out.append(KMStep(last.time, last.at_risk, 0, censored, last.survival, last.lower, last.upper))
    return tuple(out)


def km_geometry(km: KaplanMeier, *, width: int = 640, height: int = 260) -> CurveGeometry:
    """Step-curve SVG geometry for a Kaplan–Meier estimate (survival on y from 0 to 1), drawn from the
    curve's step points (times without an event add no corner) with one censoring mark per distinct
    position."""
    left, top, right, bottom = 48, 14, 16, 36
    pw, ph = width - left - right, height - top - bottom
    t_max = max([km.table[-1].time if km.table else 0.0, 1.0])
    step = nice_step(t_max)
    x_max = math.ceil(t_max / step) * step

    def x(t: float) -> float:
        return round(left + pw * t / x_max, 1)

    def y(s: float) -> float:
        return round(top + ph * (1 - s), 1)

    pts = [(0.0, 1.0, 1.0, 1.0)] + [(r.time, r.survival, r.lower, r.upper) for r in km.table if r.events]
    line = [f"M{x(0)},{y(1)}"]
    upper: list[str] = [f"{x(0)},{y(1)}"]
    lower: list[str] = [f"{x(0)},{y(1)}"]
    prev = pts[0]
    for t, s, lo, hi in pts[1:]:
        line.append(f"H{x(t)}V{y(s)}")
        upper += [f"{x(t)},{y(prev[3])}", f"{x(t)},{y(hi)}"]
        lower += [f"{x(t)},{y(prev[2])}", f"{x(t)},{y(lo)}"]
        prev = (t, s, lo, hi)
    line.append(f"H{x(x_max)}")
    upper.append(f"{x(x_max)},{y(prev[3])}")
    lower.append(f"{x(x_max)},{y(prev[2])}")
    band = " ".join(upper + list(reversed(lower)))
    marks = tuple(dict.fromkeys((x(r.time), y(r.survival)) for r in km.table if r.censored))
    xt = tuple((x(k * step), f"{k * step:g}") for k in range(int(round(x_max / step)) + 1))
    yt = tuple((y(v / 4), f"{v * 25}%") for v in range(5))
    return CurveGeometry(
        width,
        height,
        left,
        top,
        pw,
        ph,
        "".join(line),
        band,
        marks,
        xt,
        yt,
        x(km.median) if km.median is not None else None,
        y(0.5),
    )


# --- comparison bars (clinic 95 % CI beside the published figures, 0–100 %) ---------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    width: int
    est: float
    lo: float
    hi: float
    published: tuple[tuple[float, float, str], ...]  # (x from, x to, label)


def comparison_bar(row: MetricRow, width: int = 200) -> Bar | None:
    """Geometry of a small 0–100 % bar: the clinic estimate with its CI and the published figures."""
    r = row.rate
    if r is None or r.unit != "%":
        return None
    pad = 6
    span = width - 2 * pad

    def x(v: float) -> float:
        return round(pad + span * min(max(v, 0.0), 100.0) / 100.0, 1)

    pubs = tuple(
        (x(p.value), x(p.value_high if p.value_high is not None else p.value), f"{p.label}: {p.display}")
        for p in row.published
        if p.unit == "%"
    )
    return Bar(width, x(r.estimate), x(r.lower), x(r.upper), pubs)
