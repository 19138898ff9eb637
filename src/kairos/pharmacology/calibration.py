"""Deterministic calibration of the response model to published trial-level targets.

Run ``python -m kairos.pharmacology.calibration`` to refit and rewrite ``response_parameters.json``
(seed fixed, 512 virtual patients with common random numbers, Nelder–Mead from the fixed ``INITIAL``;
a rerun reproduces the file exactly; ~1 min on 2 cores). Integer-valued medians are fitted through
smooth (interpolated) surrogates; the reported statistics are the plain medians. Each target's control
arm is modelled as the trial ran it:

| Target | Statistic | Comparator / control arm as run |
|---|---|---|
| Murrough 2013a | 24-h MADRS change −16.5 ketamine vs −8.8 | midazolam active placebo (``active_placebo``) |
| Zarate 2006 | drug effect day 7 / 24 h ≈ 0.47 | single-infusion placebo control (``active_placebo``) |
| Murrough 2013b | 70.8 % response 24 h after the 6th infusion | open label, no comparator (``open_label``) |
| Murrough 2013b | median 18 days to relapse among responders | open-label follow-up (``open_label``) |
| Phillips 2019 | median 3 infusions to response; 59 % responders | open-label thrice-weekly (``open_label``) |
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
N_CAL = 512
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
        "zarate2006_day7_to_24h_effect_ratio",
        "drug-minus-control effect at day 7 / at 24 h after one infusion",
        0.47,
        0.15,
        "placebo (Zarate) / midazolam (Murrough 2013a) single infusion",
        "Zarate 2006 d 1.46 at 24 h → 0.68 at 1 week; reference §3.1: effect falls to roughly half by day 3–7",
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
        "phillips2019_series_response",
        "response rate (%) at any assessment 24 h after infusions 1–6",
        59.0,
        8.0,
        "open-label thrice-weekly series",
        "Phillips 2019 (reference §3.2); identifies the trial-level Emax mean of its population",
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


def _interp_median(cum: FloatArray, x: FloatArray) -> float:
    """Linearly interpolated point where the increasing cumulative fraction ``cum`` (at ``x``) crosses 0.5."""
    c = np.concatenate([[0.0], cum])
    xs = np.concatenate([[x[0] - 1.0], x])
    k = int(np.searchsorted(c, 0.5, side="left"))
    if k >= c.size:
        return float(xs[-1] + 1.0)
    lo, hi = c[k - 1], c[k]
    return float(xs[k - 1] + (0.5 - lo) / (hi - lo) * (xs[k] - xs[k - 1])) if hi > lo else float(xs[k])


def _series_signal(sc: Scenarios, p: Mapping[str, float]) -> tuple[FloatArray, FloatArray]:
    """Readout times (daily, 24 h apart, from day 1) and drug signal over the MWF series and follow-up."""
    tr = np.arange(1, 12 + FOLLOW_UP_DAYS + 1, dtype=np.float64) * DAY
    ps, d = resp.plasticity_states(sc.series, p, tr)
    return tr, resp.drug_signal(ps, d, p)


def _series(
    sc: Scenarios, p: Mapping[str, float], eff: resp.PatientEffects, tr: FloatArray, sig: FloatArray
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Daily open-label MADRS over the series and follow-up and the response mask."""
    score = resp.madrs(sig, tr, "open_label", eff, p, sc.noise[:, : tr.size])
    return resp.responders(score, eff.baseline), score


#: readout index 24 h after each infusion of the MWF series (day d0 + 1 → index d0)
AFTER_INFUSION = np.array(MWF)
END_IDX = 11  # day 12 = 24 h after the 6th infusion (day 11)


def model_statistics(sc: Scenarios, p: Mapping[str, float]) -> dict[str, float]:
    """The model's value of every target statistic under parameters ``p``.

    Keys starting with ``_`` are smooth surrogates used by the fit (interpolated medians).
    """
    zr = sc.z[:, trials._COL_RESP]
    out: dict[str, float] = {}
    # Murrough 2013a: single infusion, baseline ~32, midazolam active placebo; ketamine arm blinded
    eff = resp.PatientEffects.from_normals(zr, p, 32.0)
    t1 = np.array([DAY, 7.0 * DAY])
    ps, d = resp.plasticity_states(sc.single, p, t1)
    sig = resp.drug_signal(ps, d, p)
    nz = sc.noise[:, :2]
    ket = resp.madrs(sig, t1, "active_placebo", eff, p, nz)
    mid = resp.madrs(np.zeros_like(sig), t1, "active_placebo", eff, p, nz)
    out["murrough2013a_ketamine_24h"] = float(np.mean(ket[:, 0] - eff.baseline))
    out["murrough2013a_midazolam_24h"] = float(np.mean(mid[:, 0] - eff.baseline))
    effect = np.mean(ket - mid, axis=0)
    out["zarate2006_day7_to_24h_effect_ratio"] = float(effect[1] / effect[0]) if effect[0] < 0 else math.nan
    # Murrough 2013b: open-label MWF series, response 24 h after the 6th infusion, daily follow-up
    tr, sig_series = _series_signal(sc, p)
    resp_mask, score = _series(sc, p, eff, tr, sig_series)
    responders = resp_mask[:, END_IDX]
    out["murrough2013b_response"] = 100.0 * float(responders.mean())
    follow = score[responders, END_IDX + 1 :]
    ttr = resp.time_to_relapse_days(follow, eff.baseline[responders])
    out["murrough2013b_relapse_median_d"] = (
        float(np.median(np.where(np.isnan(ttr), np.inf, ttr))) if ttr.size else math.nan
    )
    days = np.arange(1, follow.shape[1] + 1, dtype=np.float64)
    relapsed = (ttr[:, None] <= days[None, :]).mean(axis=0) if ttr.size else np.zeros(days.size)
    out["_relapse_interp_d"] = _interp_median(relapsed, days)
    # Phillips 2019: its own population (trial-level Emax mean), same open-label thrice-weekly series
    q = dict(p)
    q["emax_mean"] = p["phillips2019_emax_mean"]
    eff_ph = resp.PatientEffects.from_normals(zr, q, 32.0)
    mask_ph, _ = _series(sc, q, eff_ph, tr, sig_series)
    after = mask_ph[:, AFTER_INFUSION]
    ever = after.any(axis=1)
    first = np.argmax(after, axis=1) + 1
    out["phillips2019_infusions_to_response"] = float(np.median(first[ever])) if ever.any() else math.nan
    out["phillips2019_series_response"] = 100.0 * float(ever.mean())
    cum = np.array([(ever & (first <= k)).sum() for k in range(1, 7)], dtype=np.float64)
    out["_phillips_interp"] = _interp_median(cum / max(1, int(ever.sum())), np.arange(1.0, 7.0)) + 0.5
    # TRANSFORM-2: day 28 (27 days after the day-1 dose), baseline ~37.3, new oral AD + placebo spray
    eff2 = resp.PatientEffects.from_normals(zr, p, 37.3)
    t28 = np.array([27.0 * DAY])
    ps, d = resp.plasticity_states(sc.esk, p, t28)
    sig = resp.drug_signal(ps, d, p)
    esk = resp.madrs(sig, t28, "ad_placebo_spray", eff2, p, nz[:, :1])
    pla = resp.madrs(np.zeros_like(sig), t28, "ad_placebo_spray", eff2, p, nz[:, :1])
    out["transform2_day28_difference"] = float(np.mean(esk[:, 0] - pla[:, 0]))
    return out


#: the fit uses smooth surrogates for the integer-valued medians (same target, same tolerance)
SURROGATE = {
    "murrough2013b_relapse_median_d": "_relapse_interp_d",
    "phillips2019_infusions_to_response": "_phillips_interp",
}

#: fitted parameters and their transform to an unconstrained scale ("log" or "logit")
FITTED: dict[str, str] = {
    "rapid_gain": "log",
    "rapid_t_half_d": "log",
    "slow_gain": "log",
    "slow_t_half_d": "log",
    "emax_mean": "logit",
    "emax_concentration": "log",
    "expectancy_open_label": "log",
    "phillips2019_emax_mean": "logit",
}


def loss(sc: Scenarios, p: Mapping[str, float]) -> float:
    stats = model_statistics(sc, p)
    total = 0.0
    for t in TARGETS:
        v = stats[SURROGATE.get(t.name, t.name)]
        v = 1e3 if not math.isfinite(v) else v
        total += ((v - t.value) / t.tolerance) ** 2
    return total


def _to_x(name: str, v: float) -> float:
    return math.log(v / (1.0 - v)) if FITTED[name] == "logit" else math.log(v)


def _from_x(name: str, x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if FITTED[name] == "logit" else math.exp(x)


SIMPLEX_STEP = 0.3  # initial simplex edge on the transformed scale (log / logit)


def fit(sc: Scenarios, start: Mapping[str, float], maxiter: int = 1200) -> dict[str, float]:
    from scipy.optimize import minimize

    base = dict(start)
    names = list(FITTED)

    def unpack(x: FloatArray) -> dict[str, float]:
        q = dict(base)
        q.update({k: _from_x(k, float(v)) for k, v in zip(names, x, strict=True)})
        return q

    x0 = np.array([_to_x(k, base[k]) for k in names])
    simplex = np.vstack([x0, x0 + SIMPLEX_STEP * np.eye(x0.size)])
    res = minimize(
        lambda x: loss(sc, unpack(x)),
        x0,
        method="Nelder-Mead",
        options={
            "maxiter": maxiter,
            "xatol": 1e-3,
            "fatol": 1e-3,
            "adaptive": True,
            "initial_simplex": simplex,
        },
    )
    return unpack(res.x)


PARAMS_PATH = Path(__file__).with_name("response_parameters.json")

#: fixed starting point of the fit (design values inside the reference §3.5 priors), so that a rerun
#: reproduces response_parameters.json exactly instead of drifting from the previous fit
INITIAL: dict[str, float] = {
    "rapid_gain": 20.0,
    "rapid_t_half_d": 0.5,
    "slow_gain": 300.0,
    "slow_t_half_d": 20.0,
    "emax_mean": 0.57,
    "emax_concentration": 40.0,
    "expectancy_open_label": 5.0,
    "phillips2019_emax_mean": 0.42,
}

PROVENANCE = (
    "fitted by kairos.pharmacology.calibration (seed {seed}, {n} virtual patients, common random numbers, "
    "Nelder-Mead from calibration.INITIAL) to the targets in docs/pharmacology-validation.md ## Response model"
)


def main() -> None:  # pragma: no cover - run manually
    sc = build_scenarios()
    start = resp.params_values()
    start.update(INITIAL)
    fitted = fit(sc, start)
    raw = json.loads(PARAMS_PATH.read_text("utf-8"))
    prov = PROVENANCE.format(seed=SEED, n=N_CAL)
    for k in FITTED:
        raw[k]["value"] = round(fitted[k], 6)
        raw[k]["status"] = "calibrated"
        note = raw[k]["source"].split("; ", 1)
        raw[k]["source"] = prov + ("; " + note[1] if len(note) == 2 and note[0].startswith("fitted") else "")
    PARAMS_PATH.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", "utf-8")
    resp.load_parameters.cache_clear()
    stats = model_statistics(sc, resp.params_values())
    for t in TARGETS:
        v = stats[t.name]
        ok = "ok" if abs(v - t.value) <= t.tolerance else "MISS"
        print(f"{t.name}: target {t.value} ± {t.tolerance} model {v:.2f} {ok}")  # noqa: T201


if __name__ == "__main__":  # pragma: no cover
    main()
