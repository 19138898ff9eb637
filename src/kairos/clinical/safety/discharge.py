"""Discharge readiness: minimum observation, vitals settled, alert, dissociation resolved, escort present."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.result import Finding, Outcome, Route, RuleResult, require_aware
from kairos.clinical.safety.vitals import (
    CrisisSymptom,
    Vitals,
    crisis_findings,
    is_significant_rise,
    validate_vitals,
)

SRC_OBS_ESK = "Spravato REMS (S1) and PI boxed warning (S4) via clinical.md §1.3/§1.5: ≥2 h from first device"
SRC_OBS_IV = "clinical.md §2.2 (recovery 30–60 min, ◐) — ⚠ clinic-configured minimum after infusion end"
SRC_VITALS = (
    "Spravato PI §5.6 (S4) via clinical.md §1.5: re-measure until values decline; PMF 'acceptable range'"
)
SRC_LIMITS = (
    "clinic-protocol discharge limits — ⚠ unconfirmed (issue #12 §3); clinical.md §1.5 (S4 §5.6 re-measure "
    "until values decline), §2.1 discharge criteria ◐, §1.5 S13 (SpO₂ <93% low)"
)
SRC_RECENT = (
    "issue #12 §3: a reading within the configured window before discharge — ⚠ unconfirmed default; "
    "the REMS form records a pre-discharge BP (clinical.md §1.3, S2)"
)
SRC_ALERT = "clinical.md §1.5 (S4 §5.1 sedation, MOAA/S) and §2.1 (return to baseline mental status, ◐)"
SRC_DISSOC = "Spravato REMS goal (S1) via clinical.md §1.3: monitor until sedation and dissociation resolve"
SRC_ESCORT = "clinical.md §1.3 (S9 safe way home), §2.1 (responsible adult escort; Ketalar label)"


@dataclass(frozen=True)
class DischargeResult(RuleResult):
    """Readiness: ``outcome`` OK means ready now; ``earliest_allowed`` is the time-based lower bound."""

    earliest_allowed: dt.datetime | None = None

    @property
    def ready(self) -> bool:
        return self.outcome is Outcome.OK

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["ready"] = self.ready
        data["earliest_allowed"] = (
            None if self.earliest_allowed is None else self.earliest_allowed.isoformat()
        )
        return data


def _unmet(code: str, message: str, source: str) -> Finding:
    return Finding(code, Outcome.HOLD, message, source)


def discharge_readiness(
    *,
    route: Route | str,
    first_dose_at: dt.datetime,
    now: dt.datetime,
    latest: Vitals | None,
    baseline: Vitals | None,
    moaas: int | None,
    dissociation_resolved: bool | None,
    escort_present: bool | None,
    dosing_ended_at: dt.datetime | None = None,
    symptoms: Iterable[CrisisSymptom | str] = (),
    moaas_at: dt.datetime | None = None,
    rules: RuleSet = RULES,
) -> DischargeResult:
    """List every unmet discharge criterion and the earliest time the patient may leave.

    Esketamine: at least ``discharge.esketamine_min_obs_min`` from the first device. IV/IM/SC: at least
    ``discharge.iv_min_after_end_min`` after ``dosing_ended_at`` (required for those routes).

    ``latest`` is the latest vital-signs reading (not after ``now``): it must be no older than
    ``discharge.reading_max_age_min`` and carry BP, heart rate, respiratory rate and SpO₂ inside the
    absolute discharge limits (``discharge.*``), whether or not a pre-dose ``baseline`` exists; with one,
    the BP must also have settled from a significant rise. ``moaas`` (assessed at ``moaas_at`` when given,
    held to the same window) must reach ``discharge.moaas_required``. Each unmet criterion is its own
    finding, named in its message.
    """
    route = Route(route)
    require_aware(first_dose_at, "first_dose_at")
    require_aware(now, "now")
    if route is Route.ESKETAMINE:
        minimum = rules.num("discharge.esketamine_min_obs_min")
        earliest = first_dose_at + dt.timedelta(minutes=minimum)
        what, src = f"{minimum:g} min from the first device", SRC_OBS_ESK
    else:
        if dosing_ended_at is None:
            raise ValueError(f"dosing_ended_at: required for route {route.value}")
        require_aware(dosing_ended_at, "dosing_ended_at")
        if dosing_ended_at < first_dose_at:
            raise ValueError("dosing_ended_at: must not be before first_dose_at")
        minimum = rules.num("discharge.iv_min_after_end_min")
        earliest = dosing_ended_at + dt.timedelta(minutes=minimum)
        what, src = f"{minimum:g} min after dosing ended", SRC_OBS_IV
    findings = crisis_findings(symptoms)
    if now < earliest:
        left = (earliest - now).total_seconds() / 60
        findings.append(
            _unmet(
                "min_observation",
                f"Minimum observation is {what}: {left:.0f} min left "
                f"(earliest {earliest.isoformat(timespec='minutes')}).",
                src,
            )
        )
    findings.extend(_vitals(latest, baseline, first_dose_at, now, rules))
    required = int(rules.num("discharge.moaas_required"))
    window = dt.timedelta(minutes=rules.num("discharge.reading_max_age_min"))
    if moaas_at is not None:
        require_aware(moaas_at, "moaas_at")
        if moaas_at > now:
            raise ValueError("moaas_at: the MOAA/S assessment must not be later than now")
    if moaas is not None and moaas_at is not None and now - moaas_at > window:
        findings.append(
            _unmet(
                "moaas_stale",
                f"Sedation (MOAA/S) last assessed {_minutes(now - moaas_at)} before discharge "
                f"(at {moaas_at.isoformat(timespec='minutes')}): reassess; discharge needs one within "
                f"{rules['discharge.reading_max_age_min']} min.",
                SRC_RECENT,
            )
        )
    if moaas is None:
        findings.append(
            _unmet("moaas_missing", "Sedation (MOAA/S) not assessed before discharge.", SRC_ALERT)
        )
    elif not 0 <= moaas <= 5:
        raise ValueError(f"moaas: {moaas} is outside the MOAA/S range [0, 5]")
    elif moaas < required:
        findings.append(
            _unmet(
                "sedated",
                f"MOAA/S is {moaas} (needs {required}: responds readily to name in a normal tone).",
                SRC_ALERT,
            )
        )
    if dissociation_resolved is not True:
        findings.append(
            _unmet("dissociation", "Dissociation/perceptual changes not recorded as resolved.", SRC_DISSOC)
        )
    if escort_present is not True:
        findings.append(
            _unmet("no_escort", "No escort present: the patient must not leave alone or drive.", SRC_ESCORT)
        )
    result = RuleResult.of(findings)
    return DischargeResult(result.outcome, result.findings, earliest)


def _minutes(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds % 60 else f"{seconds // 60} min"


def _range_finding(
    code: str, what: str, value: float | None, unit: str, lo: float | None, hi: float | None
) -> list[Finding]:
    """An unmet finding when ``value`` is missing, below ``lo`` or above ``hi`` (limits themselves allowed)."""
    if value is None:
        return [_unmet(f"{code}_missing", f"No {what} in the discharge reading.", SRC_LIMITS)]
    if lo is not None and value < lo:
        return [
            _unmet(
                f"{code}_low",
                f"{what[0].upper()}{what[1:]} {value:g}{unit} is below the discharge limit {lo:g}{unit}: "
                "not ready; re-assess and re-measure.",
                SRC_LIMITS,
            )
        ]
    if hi is not None and value > hi:
        return [
            _unmet(
                f"{code}_high",
                f"{what[0].upper()}{what[1:]} {value:g}{unit} is above the discharge limit {hi:g}{unit}: "
                "not ready; re-assess and re-measure.",
                SRC_LIMITS,
            )
        ]
    return []


def _vitals(
    latest: Vitals | None,
    baseline: Vitals | None,
    first_dose_at: dt.datetime,
    now: dt.datetime,
    rules: RuleSet,
) -> list[Finding]:
    if latest is None:
        return [_unmet("vitals_missing", "No vital signs recorded before discharge.", SRC_VITALS)]
    validate_vitals(latest, rules)
    if latest.at < first_dose_at:
        raise ValueError("latest: the discharge reading must be taken after the first dose")
    if latest.at > now:
        raise ValueError("latest: the discharge reading must not be later than the discharge time")
    out: list[Finding] = []
    window = rules.num("discharge.reading_max_age_min")
    if now - latest.at > dt.timedelta(minutes=window):
        out.append(
            _unmet(
                "vitals_stale",
                f"Latest vital signs were taken {_minutes(now - latest.at)} before discharge (at "
                f"{latest.at.isoformat(timespec='minutes')}): take a new reading; discharge needs one "
                f"within {rules['discharge.reading_max_age_min']} min.",
                SRC_RECENT,
            )
        )
    if not latest.has_bp:
        out.append(_unmet("bp_missing", "No blood pressure in the discharge reading.", SRC_VITALS))
    else:
        assert latest.sbp is not None
        assert latest.dbp is not None
        sbp_max, dbp_max = rules.num("discharge.sbp_max"), rules.num("discharge.dbp_max")
        if latest.sbp > sbp_max or latest.dbp > dbp_max:
            out.append(
                _unmet(
                    "bp_above_discharge_limit",
                    f"Blood pressure {latest.sbp:.0f}/{latest.dbp:.0f} mmHg is above the discharge limit "
                    f"{rules['discharge.sbp_max']}/{rules['discharge.dbp_max']} mmHg: not ready; "
                    "re-measure until it declines.",
                    SRC_LIMITS,
                )
            )
        if baseline is not None and is_significant_rise(latest, validate_vitals(baseline, rules), rules):
            out.append(
                _unmet(
                    "bp_not_settled",
                    f"Blood pressure {latest.sbp:.0f}/{latest.dbp:.0f} mmHg is still "
                    f"significantly above pre-dose (≥{rules['bp.rise_sbp']}/≥{rules['bp.rise_dbp']} "
                    "mmHg): re-measure until it declines.",
                    SRC_VITALS,
                )
            )
    out.extend(
        _range_finding(
            "hr",
            "heart rate",
            latest.heart_rate,
            "/min",
            rules.num("discharge.hr_min"),
            rules.num("discharge.hr_max"),
        )
    )
    out.extend(
        _range_finding(
            "rr",
            "respiratory rate",
            latest.resp_rate,
            "/min",
            rules.num("discharge.rr_min"),
            rules.num("discharge.rr_max"),
        )
    )
    out.extend(_range_finding("spo2", "SpO₂", latest.spo2, "%", rules.num("discharge.spo2_min"), None))
    return out
