"""Server-rendered inline SVG of the flowsheet: measured BP / HR / SpO₂ in front of the model's typical
concentration and effect curves. Presentation attributes only (strict CSP: no style attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

W, H = 720, 260
L, R, T, B = 48, 48, 16, 32  # margins
Y_MAX = 220.0  # mmHg / bpm axis


def _x(minute: float, span: float) -> float:
    return L + (W - L - R) * max(0.0, min(minute, span)) / span


def _y(value: float, top: float = Y_MAX) -> float:
    return T + (H - T - B) * (1 - max(0.0, min(value, top)) / top)


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


# Over 80 lines: one SVG drawn top to bottom (axes, bands, series, markers); split, the coordinates scatter.
def flowsheet_svg(session: Any, readings: Sequence[Any], curves: Any = None) -> SafeString:
    start = session.dosing_started_at or session.checked_in_at or session.scheduled_for
    vit = [r for r in readings if r.kind == "vitals"]
    last = max([(r.taken_at - start).total_seconds() / 60 for r in vit] + [150.0])
    span = float(min(max(180.0, last + 10), 600.0))
    offset = 20.0  # show 20 min before the first dose
    total = span + offset

    def X(m: float) -> float:  # noqa: N802
        return _x(m + offset, total)

    parts = [
        f'<svg class="flowsheet-chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="fs-title fs-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="fs-title">Flowsheet chart</title>',
        f'<desc id="fs-desc">Measured blood pressure, heart rate and SpO2 by minutes from the first dose; shaded: typical model concentration{", dashed: typical dissociation effect" if curves else ""}.</desc>',
        f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="#fbfcfe" stroke="#d5dbe5"/>',
    ]
    for v in (60, 100, 140, 180):
        y = _y(v)
        parts.append(
            f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e6eaf0"/><text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6678">{v}</text>'
        )
    step = 30 if span <= 240 else 60
    m = 0
    while m <= span:
        x = X(m)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{H - B}" stroke="#eef1f5"/><text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle" font-size="11" fill="#5b6678">{m}′</text>'
        )
        m += step
    if session.dosing_started_at:
        parts.append(
            f'<line x1="{X(0):.1f}" x2="{X(0):.1f}" y1="{T}" y2="{H - B}" stroke="#6b4fbb" stroke-dasharray="3 3"/><text x="{X(0) + 4:.1f}" y="{T + 12}" font-size="11" fill="#6b4fbb">dose</text>'
        )
        parts.append(
            f'<line x1="{X(40):.1f}" x2="{X(40):.1f}" y1="{T}" y2="{H - B}" stroke="#c08a00" stroke-dasharray="2 4"/><text x="{X(40) + 4:.1f}" y="{T + 12}" font-size="11" fill="#8a6400">~40′ BP</text>'
        )
    if curves is not None and curves.conc_ng_ml:
        cmax = max(curves.conc_ng_ml) or 1.0
        pts = [
            (X(t), _y(c / cmax * Y_MAX * 0.8))
            for t, c in zip(curves.t_min, curves.conc_ng_ml, strict=False)
            if t <= span
        ]
        if pts:
            area = _path(pts) + f" L{pts[-1][0]:.1f},{_y(0):.1f} L{pts[0][0]:.1f},{_y(0):.1f} Z"
            parts.append(
                f'<path d="{area}" fill="#6b4fbb" fill-opacity="0.10" stroke="#6b4fbb" stroke-opacity="0.35"/>'
            )
        if curves.effect:
            emax = max(curves.effect) or 1.0
            ep = [
                (X(t), _y(e / emax * Y_MAX * 0.6))
                for t, e in zip(curves.t_min, curves.effect, strict=False)
                if t <= span
            ]
            parts.append(
                f'<path d="{_path(ep)}" fill="none" stroke="#b0417a" stroke-opacity="0.55" stroke-dasharray="6 4"/>'
            )

    def series(attr: str, color: str, marker: str) -> None:
        pts = [
            (X((r.taken_at - start).total_seconds() / 60), _y(float(getattr(r, attr))))
            for r in vit
            if getattr(r, attr) is not None
        ]
        if not pts:
            return
        parts.append(f'<path d="{_path(pts)}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            if marker == "v":
                parts.append(
                    f'<path d="M{x - 5:.1f},{y - 4:.1f} L{x + 5:.1f},{y - 4:.1f} L{x:.1f},{y + 4:.1f} Z" fill="{color}"/>'
                )
            elif marker == "^":
                parts.append(
                    f'<path d="M{x - 5:.1f},{y + 4:.1f} L{x + 5:.1f},{y + 4:.1f} L{x:.1f},{y - 4:.1f} Z" fill="{color}"/>'
                )
            else:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')

    series("sbp", "#c0392b", "v")
    series("dbp", "#c0392b", "^")
    series("heart_rate", "#1f6feb", "o")
    series("spo2", "#1a7f4b", "o")
    for r in vit:
        if r.outcome in ("caution", "hold", "escalate"):
            x = X((r.taken_at - start).total_seconds() / 60)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{T + 6}" r="5" fill="{"#c0392b" if r.outcome != "caution" else "#d08700"}"><title>{escape(r.outcome)}</title></circle>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only
