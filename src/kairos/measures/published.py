"""Published figures the clinic outcomes dashboard shows beside the clinic's own numbers.

One cited table. Every row names its source (the trial and the section of
``shared/reference/clinical.md`` that quotes it), its definition and population (which differ from a
clinic's: trial populations are selected, definitions vary by scale), and the reference's confidence
status (✅ confirmed, ◐ partly confirmed, ⚠ unconfirmed). A figure the reference marks ⚠ is shown with
that mark, never silently. Metrics without a comparable published figure say so (``FIGURES`` has no row).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    """One published figure: a value (or a range) in ``unit``, with definition, population and source."""

    metric: str  # dashboard metric key (see METRICS)
    label: str  # short name of the trial / source
    value: float
    unit: str  # "%", "days", "per 100 sessions", "sessions"
    definition: str
    population: str
    source: str  # trial citation and reference section
    status: str  # "confirmed" | "partial" | "unconfirmed"
    value_high: float | None = None  # a range: value .. value_high
    protocol_family: str = ""  # "iv" (racemic IV series), "esketamine", "" (any)

    @property
    def display(self) -> str:
        v = f"{self.value:g}"
        if self.value_high is not None:
            v += f"–{self.value_high:g}"
        return v + ("%" if self.unit == "%" else f" {self.unit}")

    @property
    def mark(self) -> str:
        """The reference's status as text (✅ / ◐ / ⚠ in clinical.md)."""
        return {"confirmed": "confirmed", "partial": "partly confirmed", "unconfirmed": "⚠ unconfirmed"}[
            self.status
        ]


#: Dashboard metric keys and their labels.
METRICS: dict[str, str] = {
    "response": "Response (≥50 % reduction)",
    "remission": "Remission",
    "rapid_response": "Rapid response at 24 h",
    "median_relapse_days": "Median time to relapse after response",
    "sessions_to_response": "Sessions to response (median)",
    "bp_rise": "BP rise ≥40 mmHg systolic and/or ≥25 diastolic within 1.5 h",
    "sedation": "Sedation",
    "loss_of_consciousness": "Loss of consciousness (MOAA/S 0)",
    "dissociation": "Dissociation",
    "respiratory_depression": "Respiratory depression",
    "adverse_events_per_100": "Adverse events per 100 sessions",
}

C, P, U = "confirmed", "partial", "unconfirmed"

FIGURES: tuple[PublishedFigure, ...] = (
    # --- efficacy (clinical.md §3) -------------------------------------------------------------------------
    PublishedFigure(
        "response",
        "Murrough 2013 Biol Psych",
        70.8,
        "%",
        "MADRS ≥50 % reduction after up to 6 infusions",
        "open-label, N=24, antidepressant washout",
        "Murrough et al. 2013 Biol Psychiatry; clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "response",
        "ELEKT-D (Anand 2023 NEJM)",
        50.8,
        "%",
        "MADRS ≥50 % at the end of 6 infusions over 3 weeks (QIDS-SR16: 55.4 %)",
        "randomized vs ECT, N=403, referred for ECT",
        "Anand et al. 2023 NEJM; clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "response",
        "Phillips 2019 AJP",
        59.0,
        "%",
        "MADRS ≥50 % after 6 infusions",
        "crossover then open-label, N=41",
        "Phillips et al. 2019 AJP (pubmed 30922101); clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "response",
        "TRANSFORM-2 (Popova 2019 AJP)",
        69.3,
        "%",
        "MADRS ≥50 % at day 28",
        "phase 3, esketamine + new oral AD, FAS 114",
        "Popova et al. 2019 AJP (PMC7894501); clinical.md §3",
        C,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "remission",
        "KetECT (Ekstrand 2022 IJNP)",
        46.0,
        "%",
        "MADRS ≤10 at the end of the course",
        "randomized vs ECT, 186 inpatients, 3×/week up to 12 infusions",
        "Ekstrand et al. 2022 IJNP (PMC9154276); clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "remission",
        "Shiroma 2014 JAD",
        66.6,
        "%",
        "remission after 6 infusions (8/12)",
        "open-label, 12 completers, antidepressants continued",
        "Shiroma et al. 2014 J Affect Disord; clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "remission",
        "TRANSFORM-2 (Popova 2019 AJP)",
        52.5,
        "%",
        "MADRS ≤12 at day 28",
        "phase 3, esketamine + new oral AD",
        "Popova et al. 2019 AJP (PMC7894501); clinical.md §3",
        C,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "remission",
        "ESCAPE-TRD (Reif 2023 NEJM)",
        27.1,
        "%",
        "MADRS ≤10 at week 8",
        "open-label vs quetiapine XR, N=676",
        "Reif et al. 2023 NEJM; clinical.md §3",
        C,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "rapid_response",
        "Murrough 2013 AJP",
        64.0,
        "%",
        "MADRS ≥50 % at 24 h after one infusion",
        "randomized vs midazolam, N=73",
        "Murrough et al. 2013 AJP; clinical.md §3 (response % marked ⚠)",
        U,
        protocol_family="iv",
    ),
    PublishedFigure(
        "rapid_response",
        "Zarate 2006 Arch Gen Psychiatry",
        71.0,
        "%",
        "HDRS ≥50 % at day 1",
        "crossover, N=18",
        "Zarate et al. 2006 Arch Gen Psychiatry; clinical.md §3 (◐, 71 % marked ⚠)",
        U,
        protocol_family="iv",
    ),
    PublishedFigure(
        "median_relapse_days",
        "Murrough 2013 Biol Psych",
        18.0,
        "days",
        "median time to relapse among responders after a 6-infusion series",
        "open-label, N=24 (followed up to 83 days)",
        "Murrough et al. 2013 Biol Psychiatry; clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "median_relapse_days",
        "Shiroma 2014 JAD",
        16.0,
        "days",
        "mean time to relapse (6 relapsers)",
        "open-label, 11 responders",
        "Shiroma et al. 2014 J Affect Disord; clinical.md §3",
        C,
        protocol_family="iv",
    ),
    PublishedFigure(
        "median_relapse_days",
        "SUSTAIN-1 (Daly 2019)",
        273.0,
        "days",
        "median time to relapse, stable remitters switched to placebo spray (continuing esketamine: not "
        "estimable)",
        "randomized withdrawal after 16 weeks, n=176 remitters",
        "Daly et al. 2019 JAMA Psychiatry (PMC6551577); clinical.md §3",
        C,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "sessions_to_response",
        "Phillips 2019 AJP",
        3.0,
        "sessions",
        "median infusions to response",
        "open-label series, N=41",
        "Phillips et al. 2019 AJP (pubmed 30922101); clinical.md §3",
        C,
        protocol_family="iv",
    ),
    # --- session safety (clinical.md §1.5, §4.8) -------------------------------------------------------------
    PublishedFigure(
        "bp_rise",
        "Spravato label",
        8.0,
        "%",
        "patients with ≥40 mmHg SBP and/or ≥25 mmHg DBP rise in the first 1.5 h, at least once in the first "
        "4 weeks (placebo 1–4 %)",
        "esketamine phase 3 trials",
        "Spravato ISI (S6); clinical.md §1.5",
        C,
        value_high=19.0,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "sedation",
        "Spravato label",
        48.0,
        "%",
        "patients who developed sedation",
        "esketamine phase 3 trials",
        "Spravato PI §5.1 (S4, S6); clinical.md §1.5",
        C,
        value_high=61.0,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "loss_of_consciousness",
        "Spravato label",
        0.3,
        "%",
        "patients with MOAA/S = 0",
        "esketamine phase 3 trials",
        "Spravato PI §5.1 (S4, S6); clinical.md §1.5",
        C,
        value_high=0.4,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "dissociation",
        "Spravato label",
        61.0,
        "%",
        "patients with dissociative or perceptual changes (CADSS)",
        "esketamine phase 3 trials",
        "Spravato PI §5.2 (S4); clinical.md §1.5, §4.8",
        C,
        value_high=75.0,
        protocol_family="esketamine",
    ),
    PublishedFigure(
        "respiratory_depression",
        "Chepke 2024 IJNP",
        0.005,
        "per 100 sessions",
        "post-marketing respiratory depression, ~1 case per 20,000 sessions",
        "post-marketing (US)",
        "Chepke 2024 IJNP (S13); clinical.md §1.5",
        C,
        protocol_family="esketamine",
    ),
)


def figures_for(metric: str, protocol_family: str = "") -> tuple[PublishedFigure, ...]:
    """Published figures for ``metric``; with a protocol family, that family's first (others follow)."""
    if metric not in METRICS:
        raise KeyError(f"metric: {metric!r} is not one of {', '.join(METRICS)}")
    rows = [f for f in FIGURES if f.metric == metric]
    if protocol_family:
        rows.sort(key=lambda f: f.protocol_family not in ("", protocol_family))
    return tuple(rows)


def protocol_family(protocol_id: str) -> str:
    """ "esketamine" for esketamine protocols, "iv" for racemic ones (the trial literature is IV), else ""."""
    if protocol_id.startswith("esketamine"):
        return "esketamine"
    if protocol_id:
        return "iv"
    return ""
