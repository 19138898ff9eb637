"""Deterministic calibration of the response model (and the venous effect parameters) to published targets.

Run ``python -m kairos.pharmacology.calibration`` to refit and rewrite ``response_parameters.json``
(seed fixed; identical output on rerun). Each target's control arm is modelled as the trial ran it:

| Target | Statistic | Comparator / control arm as run |
|---|---|---|
| Murrough 2013a | 24-h MADRS change −16.5 ketamine vs −8.8 | midazolam active placebo (``active_placebo``) |
| Murrough 2013b | 70.8 % response after up to 6 infusions / 12 days | open label, no comparator (``open_label``) |
| Murrough 2013b | median 18 days to relapse among responders | open-label follow-up (``open_label``) |
| Phillips 2019 | median 3 infusions to response | open-label thrice-weekly series (``open_label``) |
| TRANSFORM-2 | −4.0 MADRS difference at day 28 | new oral AD + placebo spray (``ad_placebo_spray``) |
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kairos.pharmacology import response as resp
from kairos.pharmacology import trials
from kairos.pharmacology import trials_fastpath as fp
from kairos.pharmacology.types import DoseEvent, Drug, Route

FloatArray = NDArray[np.float64]

SEED = 20240611
N_CAL = 1024
DAY = 1440.0
MWF = (0, 2, 4, 7, 9, 11)  # Mon-Wed-Fri over 12 days
FOLLOW_UP_DAYS = 83  # Murrough 2013b followed responders up to 83 days


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    statistic: str
    value: float
    tolerance: float
    comparator: str
    source: str


TARGETS: tuple[Target, ...] = (
    Target(
        "murrough2013a_ketamine_24h",
        "mean MADRS change at 24 h, ketamine arm",
        -16.5,
        1.5,
        "midazolam 0.045 mg/kg active placebo",
        "Murrough 2013a Am J Psychiatry 170:1134 (reference §3.1)",
    ),
    Target(
        "murrough2013a_midazolam_24h",
        "mean MADRS change at 24 h, midazolam arm",
        -8.8,
        1.5,
        "—",
        "Murrough 2013a (reference §3.1)",
    ),
    Target(
        "murrough2013b_response",
        "response rate (%) 24 h after the 6th infusion",
        70.8,
        8.0,
        "open label (no comparator)",
        "Murrough 2013b Biol Psychiatry 74:250 (reference §3.2)",
    ),
    Target(
        "murrough2013b_relapse_median_d",
        "median days to relapse among responders",
        18.0,
        4.0,
        "open-label follow-up",
        "Murrough 2013b; Shiroma 2014 mean 16 d (reference §3.2)",
    ),
    Target(
        "phillips2019_infusions_to_response",
        "median infusions to response (responders)",
        3.0,
        1.0,
        "open-label thrice-weekly series",
        "Phillips 2019 Am J Psychiatry 176:401 (reference §3.2)",
    ),
    Target(
        "transform2_day28_difference",
        "LS-mean MADRS difference at day 28",
        -4.0,
        1.5,
        "new oral AD + placebo spray",
        "Popova 2019 TRANSFORM-2 (reference §3.3)",
    ),
)


def iv_racemic(days: tuple[int, ...], weight_kg: float = 70.0) -> tuple[DoseEvent, ...]:
    return tuple(
        DoseEvent(
            start_min=d * DAY,
            drug=Drug.RACEMIC,
            route=Route.IV,
            amount_mg_base=0.5 * weight_kg,
            duration_min=40.0,
        )
        for d in days
    )


def esketamine_transform2() -> tuple[DoseEvent, ...]:
    """56 mg on day 1 then 84 mg twice weekly (flexible 56/84 mg; 84 mg assumed after day 1 — decision)."""
    days = (0, 3, 7, 10, 14, 17, 21, 24)
    return tuple(
        DoseEvent(
            start_min=d * DAY,
            drug=Drug.ESKETAMINE,
            route=Route.INTRANASAL,
            amount_mg_base=56.0 if i == 0 else 84.0,
        )
        for i, d in enumerate(days)
    )


@dataclass(frozen=True, slots=True)
class Scenarios:
    z: FloatArray
    single: resp.OccupancyWindows
    series: resp.OccupancyWindows
    esk: resp.OccupancyWindows
    noise: FloatArray  # daily visit noise [n, days]


def build_scenarios(n: int = N_CAL, seed: int = SEED) -> Scenarios:
    z = fp.block_normals(seed, 0, n, trials.N_COLS)
    eta = z[:, : fp.N_ETA]
    single, _ = trials.occupancy_windows(iv_racemic((0,)), eta)
    series, _ = trials.occupancy_windows(iv_racemic(MWF), eta)
    esk, _ = trials.occupancy_windows(esketamine_transform2(), eta)
    noise = np.random.default_rng(seed + 1).standard_normal((n, 12 + FOLLOW_UP_DAYS + 2))
    return Scenarios(z=z, single=single, series=series, esk=esk, noise=noise)


def model_statistics(sc: Scenarios, p: Mapping[str, float]) -> dict[str, float]:
    """The model's value of every target statistic under parameters ``p``."""
    zr = sc.z[:, trials._COL_RESP]
    out: dict[str, float] = {}
    # Murrough 2013a: single infusion, baseline ~32, active placebo in both arms
    eff = resp.PatientEffects.from_normals(zr, p, 32.0)
    t24 = np.array([DAY])
    ps, d = resp.plasticity_states(sc.single, p, t24)
    d = resp.drug_signal(ps, d, p)
    nz = sc.noise[:, :1]
    ket = resp.madrs(d, t24, "active_placebo", eff, p, nz)
    mid = resp.madrs(np.zeros_like(d), t24, "active_placebo", eff, p, nz)
    out["murrough2013a_ketamine_24h"] = float(np.mean(ket[:, 0] - eff.baseline))
    out["murrough2013a_midazolam_24h"] = float(np.mean(mid[:, 0] - eff.baseline))
    # Murrough 2013b / Phillips 2019: MWF series, daily readouts (24 h after each infusion and follow-up)
    days = np.arange(1, 12 + FOLLOW_UP_DAYS + 1, dtype=np.float64)
    tr = days * DAY
    ps, d = resp.plasticity_states(sc.series, p, tr)
    d = resp.drug_signal(ps, d, p)
    score = resp.madrs(d, tr, "open_label", eff, p, sc.noise[:, : tr.size])
    resp_mask = resp.responders(score, eff.baseline)
    end_idx = 11  # day 12 = 24 h after the 6th infusion (day 11)
    responders = resp_mask[:, end_idx]
    out["murrough2013b_response"] = 100.0 * float(responders.mean())
    follow = score[responders, end_idx + 1 :]
    ttr = resp.time_to_relapse_days(follow, eff.baseline[responders])
    ttr = np.where(np.isnan(ttr), np.inf, ttr)
    out["murrough2013b_relapse_median_d"] = float(np.median(ttr)) if ttr.size else math.nan
    after = np.array([d0 + 1 for d0 in MWF]) - 1  # readout index 24 h after each infusion
    first = np.argmax(resp_mask[:, after], axis=1) + 1
    ever = resp_mask[:, after].any(axis=1)
    out["phillips2019_infusions_to_response"] = float(np.median(first[ever])) if ever.any() else math.nan
    # TRANSFORM-2: day 28 (27 days after day-1 dose), baseline ~37
    eff2 = resp.PatientEffects.from_normals(zr, p, 37.3)
    t28 = np.array([27.0 * DAY])
    ps, d = resp.plasticity_states(sc.esk, p, t28)
    d = resp.drug_signal(ps, d, p)
    esk = resp.madrs(d, t28, "ad_placebo_spray", eff2, p, nz)
    pla = resp.madrs(np.zeros_like(d), t28, "ad_placebo_spray", eff2, p, nz)
    out["transform2_day28_difference"] = float(np.mean(esk[:, 0] - pla[:, 0]))
    return out


FITTED = (
    "beta",
    "trigger_occ50",
    "synaptic_t_half_d",
    "responder_fraction",
    "expectancy_open_label",
    "fast_weight",
)


def loss(sc: Scenarios, p: Mapping[str, float]) -> float:
    stats = model_statistics(sc, p)
    total = 0.0
    for t in TARGETS:
        v = stats[t.name]
        v = 1e3 if not math.isfinite(v) else v
        total += ((v - t.value) / t.tolerance) ** 2
    return total


def fit(sc: Scenarios, start: Mapping[str, float]) -> dict[str, float]:
    from scipy.optimize import minimize

    base = dict(start)

    def unpack(x: FloatArray) -> dict[str, float]:
        q = dict(base)
        q["beta"] = float(np.exp(x[0]))
        q["trigger_occ50"] = float(1.0 / (1.0 + np.exp(-x[1])))
        q["synaptic_t_half_d"] = float(np.exp(x[2]))
        q["responder_fraction"] = float(1.0 / (1.0 + np.exp(-x[3])))
        q["expectancy_open_label"] = float(np.exp(x[4]))
        q["fast_weight"] = float(np.exp(x[5]))
        return q

    def logit(v: float) -> float:
        return math.log(v / (1.0 - v))

    x0 = np.array(
        [
            math.log(base["beta"]),
            logit(base["trigger_occ50"]),
            math.log(base["synaptic_t_half_d"]),
            logit(base["responder_fraction"]),
            math.log(base["expectancy_open_label"]),
            math.log(base["fast_weight"]),
        ]
    )
    res = minimize(
        lambda x: loss(sc, unpack(x)),
        x0,
        method="Nelder-Mead",
        options={"maxiter": 600, "xatol": 1e-3, "fatol": 1e-3},
    )
    return unpack(res.x)


PARAMS_PATH = Path(__file__).with_name("response_parameters.json")

#: fixed starting point of the fit (design values inside the reference §3.5 priors), so that a rerun
#: reproduces response_parameters.json exactly instead of drifting from the previous fit
INITIAL: dict[str, float] = {
    "beta": 300.0,
    "trigger_occ50": 0.3,
    "synaptic_t_half_d": 3.0,
    "responder_fraction": 0.7,
    "expectancy_open_label": 12.0,
    "fast_weight": 0.5,
}


def main() -> None:  # pragma: no cover - run manually
    params = resp.load_parameters()
    sc = build_scenarios()
    start = resp.params_values(params)
    start.update(INITIAL)
    fitted = fit(sc, start)
    raw = json.loads(PARAMS_PATH.read_text("utf-8"))
    for k in FITTED:
        raw[k]["value"] = round(fitted[k], 6)
    PARAMS_PATH.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", "utf-8")
    resp.load_parameters.cache_clear()
    stats = model_statistics(sc, resp.params_values())
    for t in TARGETS:
        print(f"{t.name}: target {t.value} model {stats[t.name]:.2f}")  # noqa: T201


if __name__ == "__main__":  # pragma: no cover
    main()
