"""Cohort statistics: Wilson score intervals for proportions and the Kaplan–Meier estimator.

Pure Python (standard library only). Methods:

* :func:`wilson_interval` - Wilson score interval (Wilson 1927, JASA 22:209-212), no continuity correction;
  equals ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
* :func:`kaplan_meier` - product-limit survival estimate; Greenwood variance; pointwise confidence band on
  the complementary log-log scale ("exponential Greenwood", Kalbfleisch & Prentice), as lifelines'
  ``KaplanMeierFitter`` reports it. Censored subjects are at risk at their own censoring time (events
  before censorings at tied times).
* Median survival: the first time with S(t) ≤ 0.5. Its confidence interval is **Brookmeyer–Crowley**
  (Biometrics 1982;38:29-41) by test inversion on the log-log scale with Greenwood standard errors, in the
  SAS PROC LIFETEST form: the lower limit is the first event time whose transformed survival lies within
  z of the 0.5 quantile, the upper limit the event time following the last such time (None = not
  reached), identical to ``statsmodels`` ``SurvfuncRight.quantile_ci(0.5, method="cloglog")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any


class StatsError(ValueError):
    """Bad input to a statistic; the message names the field and the allowed range."""


def _z(confidence: float) -> float:
    if not (isinstance(confidence, float | int) and 0.5 <= confidence < 1):
        raise StatsError(f"confidence: {confidence!r} is outside the allowed range [0.5, 1)")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True, slots=True)
class Proportion:
    """A proportion ``k``/``n`` with its Wilson score interval."""

    k: int
    n: int
    estimate: float
    lower: float
    upper: float
    confidence: float = 0.95
    method: str = "wilson"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> Proportion:
    """Wilson score interval for ``k`` successes out of ``n`` (n ≥ 1, 0 ≤ k ≤ n)."""
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise StatsError(f"{name}: expected a whole number, got {v!r}")
    if n < 1:
        raise StatsError(f"n: {n} is outside the allowed range [1, inf)")
    if not 0 <= k <= n:
        raise StatsError(f"k: {k} is outside the allowed range [0, {n}]")
    z = _z(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lower = 0.0 if k == 0 else max(0.0, centre - half)  # exact limits at the boundaries
    upper = 1.0 if k == n else min(1.0, centre + half)
    return Proportion(k, n, p, lower, upper, float(confidence))


def proportion(flags: Sequence[bool], confidence: float = 0.95) -> Proportion:
    """Wilson interval for the share of true values in ``flags``."""
    return wilson_interval(sum(1 for f in flags if f), len(flags), confidence)


@dataclass(frozen=True, slots=True)
class KMRow:
    """One distinct time of the Kaplan–Meier table."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    std_err: float  # Greenwood standard error of S(t)
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    """Kaplan–Meier estimate with its table and median (Brookmeyer–Crowley CI)."""

    n: int
    events: int
    table: tuple[KMRow, ...]
    median: float | None  # None: survival never reaches 0.5
    median_lower: float | None
    median_upper: float | None  # None: not reached
    confidence: float = 0.95
    ci_method: str = "Greenwood variance, log-log (exponential Greenwood) pointwise band"
    median_ci_method: str = "Brookmeyer-Crowley, log-log transform, Greenwood SE (SAS LIFETEST form)"

    def survival_at(self, t: float) -> float:
        """S(t): the estimate at the last table time ≤ t (1 before the first event)."""
        s = 1.0
        for row in self.table:
            if row.time > t:
                break
            s = row.survival
        return s

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kaplan_meier(
    times: Sequence[float], events: Sequence[bool | int], confidence: float = 0.95
) -> KaplanMeier:
    """Kaplan–Meier estimate for right-censored ``times`` (``events`` true = event, false = censored)."""
    if len(times) != len(events):
        raise StatsError(f"events: length {len(events)} must equal the length of times ({len(times)})")
    if not times:
        raise StatsError("times: needs at least one observation (allowed length [1, inf))")
    for i, t in enumerate(times):
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            raise StatsError(f"times[{i}]: {t!r} is outside the allowed range [0, inf)")
    for i, e in enumerate(events):
        if e not in (0, 1, True, False):
            raise StatsError(f"events[{i}]: {e!r} is not one of 0, 1, True, False")
    z = _z(confidence)
    pairs = sorted((float(t), bool(e)) for t, e in zip(times, events, strict=True))
    n_at_risk = len(pairs)
    s = 1.0
    gw = 0.0  # Greenwood sum Σ d / (n (n − d))
    rows: list[KMRow] = []
    i = 0
    while i < len(pairs):
        t = pairs[i][0]
        d = c = 0
        while i < len(pairs) and pairs[i][0] == t:
            d += pairs[i][1]
            c += not pairs[i][1]
            i += 1
        n = n_at_risk
        if d:
            s *= 1 - d / n
            gw = gw + d / (n * (n - d)) if n > d else math.inf
        se = s * math.sqrt(gw) if math.isfinite(gw) else math.inf
        lo, hi = _loglog_band(s, gw, z)
        rows.append(KMRow(t, n, d, c, s, se if s > 0 else 0.0, lo, hi))
        n_at_risk -= d + c
    median = next((r.time for r in rows if r.survival <= 0.5), None)
    med_lo, med_hi = _brookmeyer_crowley(rows, z)
    return KaplanMeier(
        n=len(pairs),
        events=sum(r.events for r in rows),
        table=tuple(rows),
        median=median,
        median_lower=med_lo,
        median_upper=med_hi,
        confidence=float(confidence),
    )


def _loglog_band(s: float, gw: float, z: float) -> tuple[float, float]:
    if s >= 1.0:
        return 1.0, 1.0
    if s <= 0.0 or not math.isfinite(gw):
        return 0.0, 0.0
    log_s = math.log(s)
    theta = math.log(-log_s)
    half = z * math.sqrt(gw) / abs(log_s)
    return math.exp(-math.exp(theta + half)), math.exp(-math.exp(theta - half))


def _brookmeyer_crowley(rows: Sequence[KMRow], z: float) -> tuple[float | None, float | None]:
    event_rows = [r for r in rows if r.events > 0]
    g_half = math.log(-math.log(0.5))
    inside: list[int] = []
    for idx, r in enumerate(event_rows):
        s, se = r.survival, r.std_err
        if not (0.0 < s < 1.0) or not math.isfinite(se) or se <= 0:
            continue
        stat = (math.log(-math.log(s)) - g_half) / (se / abs(s * math.log(s)))
        if abs(stat) <= z:
            inside.append(idx)
    if not inside:
        return None, None
    lower = event_rows[inside[0]].time
    upper = event_rows[inside[-1] + 1].time if inside[-1] + 1 < len(event_rows) else None
    return lower, upper
