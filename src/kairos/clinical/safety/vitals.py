"""Vital-sign readings, plausibility checks and the BP / SpO₂ / symptom findings shared by the rules."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.result import Finding, Outcome, Route

SRC_BP_LABEL = "Spravato PI §5.6 (S4) via clinical.md §1.5"
SRC_BP_HOLD = (
    "clinic-configured hold threshold; anchors clinical.md §2.2 (S18) — ⚠ unconfirmed, clinic sign-off"
)
SRC_BP_RISE = "Spravato ISI (S6) via clinical.md §1.5: ≥40 mmHg SBP and/or ≥25 mmHg DBP rise"
SRC_SPO2 = (
    "clinical.md §1.5 (S5 pulse oximetry each session; S13 SpO₂ <93% on ≥2 consecutive checks) — ⚠ alarm"
)
SRC_CRISIS = "Spravato PI §5.6 (S4) via clinical.md §1.5: crisis/encephalopathy symptoms → emergency care"


class VitalsError(ValueError):
    """A vital-sign value is missing, not a number or outside its plausible range; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class CrisisSymptom(enum.StrEnum):
    """Symptoms of hypertensive crisis or hypertensive encephalopathy (label §5.6)."""

    CHEST_PAIN = "chest_pain"
    DYSPNOEA = "dyspnoea"
    SEVERE_HEADACHE = "severe_headache"
    VISUAL_CHANGE = "visual_change"
    SEIZURE = "seizure"
    REDUCED_CONSCIOUSNESS = "reduced_consciousness"
    FOCAL_DEFICIT = "focal_neurological_deficit"


@dataclass(frozen=True, slots=True)
class Vitals:
    """One set of vital signs taken at ``at`` (any value may be absent)."""

    at: dt.datetime
    sbp: float | None = None
    dbp: float | None = None
    heart_rate: float | None = None
    spo2: float | None = None
    resp_rate: float | None = None

    @property
    def has_bp(self) -> bool:
        return self.sbp is not None and self.dbp is not None


_FIELDS = (
    ("sbp", "plausible.sbp"),
    ("dbp", "plausible.dbp"),
    ("heart_rate", "plausible.heart_rate"),
    ("spo2", "plausible.spo2"),
    ("resp_rate", "plausible.resp_rate"),
)


def _bounds(rules: RuleSet, key: str) -> tuple[float, float]:
    value = rules[key]
    if not isinstance(value, tuple) or len(value) != 2 or not all(isinstance(x, int | float) for x in value):
        raise ValueError(f"{rules.name}.{key}: expected a (low, high) pair, got {value!r}")
    return float(value[0]), float(value[1])


def validate_vitals(vitals: Vitals, rules: RuleSet = RULES) -> Vitals:
    """Return ``vitals`` unchanged, or raise :class:`VitalsError` naming the field and its allowed range."""
    if not isinstance(vitals.at, dt.datetime) or vitals.at.tzinfo is None or vitals.at.utcoffset() is None:
        raise VitalsError("at", "must be a timezone-aware datetime")
    for name, key in _FIELDS:
        value = getattr(vitals, name)
        if value is None:
            continue
        lo, hi = _bounds(rules, key)
        unit = rules.param(key).unit
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise VitalsError(name, f"expected a finite number in [{lo:g}, {hi:g}] {unit}, got {value!r}")
        if not lo <= value <= hi:
            raise VitalsError(name, f"{value:g} is outside the plausible range [{lo:g}, {hi:g}] {unit}")
    if (vitals.sbp is None) != (vitals.dbp is None):
        missing = "dbp" if vitals.dbp is None else "sbp"
        raise VitalsError(missing, "blood pressure needs both systolic and diastolic values")
    if vitals.sbp is not None and vitals.dbp is not None and vitals.dbp >= vitals.sbp:
        raise VitalsError("dbp", f"diastolic {vitals.dbp:g} must be below systolic {vitals.sbp:g} mmHg")
    return vitals


def validate_series(readings: Iterable[Vitals], rules: RuleSet = RULES) -> list[Vitals]:
    """Validate each reading and return them sorted by time."""
    return sorted((validate_vitals(v, rules) for v in readings), key=lambda v: v.at)


def parse_symptoms(symptoms: Iterable[CrisisSymptom | str]) -> list[CrisisSymptom]:
    """Symptoms as enum members; an unknown name raises ``ValueError`` listing the allowed names."""
    parsed: list[CrisisSymptom] = []
    for s in symptoms:
        try:
            parsed.append(CrisisSymptom(s))
        except ValueError:
            allowed = ", ".join(m.value for m in CrisisSymptom)
            raise ValueError(f"symptoms: {s!r} is not one of {allowed}") from None
    return parsed


def crisis_findings(symptoms: Iterable[CrisisSymptom | str]) -> list[Finding]:
    """Escalate on any crisis/encephalopathy symptom, whatever the numbers."""
    found = parse_symptoms(symptoms)
    if not found:
        return []
    names = ", ".join(s.value.replace("_", " ") for s in found)
    return [
        Finding(
            "hypertensive_crisis_symptoms",
            Outcome.ESCALATE,
            f"Symptoms of hypertensive crisis or encephalopathy ({names}): do not dose; "
            "get emergency care now, whatever the blood pressure reads.",
            SRC_CRISIS,
        )
    ]


def _above(v: Vitals, sbp: float, dbp: float) -> bool:
    assert v.sbp is not None
    assert v.dbp is not None
    return v.sbp > sbp or v.dbp > dbp


def _fmt(v: Vitals) -> str:
    assert v.sbp is not None
    assert v.dbp is not None
    return f"{v.sbp:.0f}/{v.dbp:.0f} mmHg at {v.at.isoformat(timespec='minutes')}"


def bp_hold_findings(readings: Sequence[Vitals], route: Route, rules: RuleSet = RULES) -> list[Finding]:
    """Hold findings for routes in ``bp.hold_routes`` (readings sorted by time, BP present)."""
    bp = [v for v in readings if v.has_bp]
    if not bp or route.value not in rules["bp.hold_routes"]:  # type: ignore[operator]
        return []
    latest = bp[-1]
    hold_s, hold_d = rules.num("bp.hold_sbp"), rules.num("bp.hold_dbp")
    if _above(latest, rules.num("bp.hold_single_sbp"), rules.num("bp.hold_single_dbp")):
        limit = f"{rules['bp.hold_single_sbp']}/{rules['bp.hold_single_dbp']}"
        return [
            Finding(
                "bp_hold",
                Outcome.HOLD,
                f"Blood pressure {_fmt(latest)} is above {limit} mmHg: hold dosing and seek help from "
                "someone experienced in blood-pressure management.",
                SRC_BP_HOLD,
            )
        ]
    if not _above(latest, hold_s, hold_d):
        return []
    run = [latest]
    for v in reversed(bp[:-1]):
        if not _above(v, hold_s, hold_d):
            break
        run.append(v)
    gap = dt.timedelta(minutes=rules.num("bp.hold_confirm_gap_min"))
    limit = f"{rules['bp.hold_sbp']}/{rules['bp.hold_dbp']}"
    if latest.at - run[-1].at >= gap:
        return [
            Finding(
                "bp_hold",
                Outcome.HOLD,
                f"Blood pressure above {limit} mmHg on readings {gap.seconds // 60} min or more apart "
                f"(latest {_fmt(latest)}): hold dosing.",
                SRC_BP_HOLD,
            )
        ]
    return [
        Finding(
            "bp_hold_recheck",
            Outcome.HOLD,
            f"Blood pressure {_fmt(latest)} is above {limit} mmHg: hold and re-measure in "
            f"{gap.seconds // 60} min; two readings above it confirm the hold.",
            SRC_BP_HOLD,
        )
    ]


def bp_caution_findings(latest: Vitals, rules: RuleSet = RULES) -> list[Finding]:
    """The label's 'consider delaying' guide (>140/90 by default)."""
    if not _above(latest, rules.num("bp.caution_sbp"), rules.num("bp.caution_dbp")):
        return []
    limit = f"{rules['bp.caution_sbp']}/{rules['bp.caution_dbp']}"
    return [
        Finding(
            "bp_above_label_guide",
            Outcome.CAUTION,
            f"Pre-dose blood pressure {_fmt(latest)} is above {limit} mmHg: consider delaying; weigh "
            "benefit and risk for this patient and document the decision.",
            SRC_BP_LABEL,
        )
    ]


def bp_rise_findings(reading: Vitals, baseline: Vitals, rules: RuleSet = RULES) -> list[Finding]:
    """Significant rise above the pre-dose reading (≥40 systolic and/or ≥25 diastolic by default)."""
    if not (reading.has_bp and baseline.has_bp):
        return []
    assert reading.sbp is not None
    assert reading.dbp is not None
    assert baseline.sbp is not None
    assert baseline.dbp is not None
    ds, dd = reading.sbp - baseline.sbp, reading.dbp - baseline.dbp
    if ds < rules.num("bp.rise_sbp") and dd < rules.num("bp.rise_dbp"):
        return []
    return [
        Finding(
            "bp_significant_rise",
            Outcome.CAUTION,
            f"Blood pressure {_fmt(reading)} is {ds:+.0f}/{dd:+.0f} mmHg from pre-dose "
            f"(significant: ≥{rules['bp.rise_sbp']} systolic or ≥{rules['bp.rise_dbp']} diastolic); "
            "re-measure until it declines; if it stays high, get help from someone experienced "
            "in blood-pressure management.",
            SRC_BP_RISE,
        )
    ]


def is_significant_rise(reading: Vitals, baseline: Vitals, rules: RuleSet = RULES) -> bool:
    return bool(bp_rise_findings(reading, baseline, rules))


def spo2_findings(
    readings: Sequence[Vitals], alarm: Outcome, action: str, rules: RuleSet = RULES
) -> list[Finding]:
    """Low SpO₂: caution on a single low check, ``alarm`` on the configured number of consecutive checks."""
    checks = [v for v in readings if v.spo2 is not None]
    threshold = rules.num("spo2.alarm_below")
    run = 0
    for v in reversed(checks):
        assert v.spo2 is not None
        if v.spo2 >= threshold:
            break
        run += 1
    if run == 0:
        return []
    latest = checks[-1].spo2
    needed = int(rules.num("spo2.alarm_consecutive"))
    if run >= needed:
        return [
            Finding(
                "spo2_alarm",
                alarm,
                f"SpO₂ below {threshold:g}% on {run} consecutive checks (latest {latest:g}%): {action}",
                SRC_SPO2,
            )
        ]
    return [
        Finding(
            "spo2_low_recheck",
            Outcome.CAUTION,
            f"SpO₂ {latest:g}% is below {threshold:g}%: re-check now; {needed} consecutive low checks "
            "raise the alarm.",
            SRC_SPO2,
        )
    ]


# --- every vital sign judged (issue #12 §1) ------------------------------------------------------------------

SRC_BP_CRISIS = (
    "ACC/AHA 2017 BP guideline (Whelton 2018) §11.2 hypertensive crisis, issue #12 §1 (≥180 and/or ≥120) — ⚠ "
    "not in clinical.md; escalation per Spravato PI §5.6 (S4) via clinical.md §1.5"
)
SRC_HR = (
    "clinic-protocol heart-rate limits — ⚠ unconfirmed (clinical.md §2.1 'HR >110' ⚠, §2.2 S18 'HR >120' "
    "illustrative; HR monitored per §2.1/§2.2)"
)
SRC_RR = (
    "clinic-protocol respiratory-rate limits — ⚠ unconfirmed; respiratory depression is a named REMS risk "
    "(S1 via clinical.md §1.3; S13 via §1.5)"
)
SRC_SPO2_FLOOR = (
    "clinic-protocol single-reading SpO₂ floor — ⚠ unconfirmed; beside clinical.md §1.5 (S13: <93% on ≥2 "
    "consecutive checks) and S5 (pulse oximetry each session)"
)

_STOP = "stop further devices / the infusion and call the responsible clinician now"


def _latest_with(series: Sequence[Vitals], name: str) -> Vitals | None:
    for v in reversed(series):
        if getattr(v, name) is not None:
            return v
    return None


def bp_crisis_findings(latest: Vitals, *, in_session: bool, rules: RuleSet = RULES) -> list[Finding]:
    """Hypertensive-crisis level (≥180 systolic and/or ≥120 diastolic by default), every route and drug.

    Pre-dose: HOLD (do not dose). In session a hold cannot undo a dose: ESCALATE (stop further devices or the
    infusion and get help now).
    """
    if not latest.has_bp:
        return []
    assert latest.sbp is not None
    assert latest.dbp is not None
    sbp, dbp = rules.num("bp.crisis_sbp"), rules.num("bp.crisis_dbp")
    if latest.sbp < sbp and latest.dbp < dbp:
        return []
    level = f"≥{rules['bp.crisis_sbp']} systolic and/or ≥{rules['bp.crisis_dbp']} diastolic"
    if in_session:
        return [
            Finding(
                "bp_hypertensive_crisis",
                Outcome.ESCALATE,
                f"Blood pressure {_fmt(latest)} is at hypertensive-crisis level ({level} mmHg): {_STOP}; get "
                "help from someone experienced in blood-pressure management; emergency care if crisis "
                "symptoms appear.",
                SRC_BP_CRISIS,
            )
        ]
    return [
        Finding(
            "bp_hypertensive_crisis",
            Outcome.HOLD,
            f"Blood pressure {_fmt(latest)} is at hypertensive-crisis level ({level} mmHg): hold dosing; "
            "re-measure and get help from someone experienced in blood-pressure management.",
            SRC_BP_CRISIS,
        )
    ]


def _rate_findings(
    v: Vitals,
    *,
    name: str,
    label: str,
    keys: tuple[str, str, str, str],
    in_session: bool,
    rules: RuleSet,
    codes: tuple[str, str, str, str],
    source: str,
    low_action: str,
    high_action: str,
) -> list[Finding]:
    value = getattr(v, name)
    if value is None:
        return []
    hold_lo, caution_lo, caution_hi, hold_hi = (rules.num(k) for k in keys)
    severe = Outcome.ESCALATE if in_session else Outcome.HOLD
    when = f"at {v.at.isoformat(timespec='minutes')}"
    if value < hold_lo:
        action = f"{_STOP}; {low_action}" if in_session else f"hold dosing; {low_action}"
        return [
            Finding(
                codes[0], severe, f"{label} {value:g}/min {when} is below {hold_lo:g}/min: {action}", source
            )
        ]
    if value > hold_hi:
        action = f"{_STOP}; {high_action}" if in_session else f"hold dosing; {high_action}"
        return [
            Finding(
                codes[3], severe, f"{label} {value:g}/min {when} is above {hold_hi:g}/min: {action}", source
            )
        ]
    if value < caution_lo:
        return [
            Finding(
                codes[1],
                Outcome.CAUTION,
                f"{label} {value:g}/min {when} is below {caution_lo:g}/min: re-check and decide (document the "
                "decision); watch closely.",
                source,
            )
        ]
    if value > caution_hi:
        return [
            Finding(
                codes[2],
                Outcome.CAUTION,
                f"{label} {value:g}/min {when} is above {caution_hi:g}/min: re-check and decide (document the "
                "decision); watch closely.",
                source,
            )
        ]
    return []


def heart_rate_findings(v: Vitals, *, in_session: bool, rules: RuleSet = RULES) -> list[Finding]:
    """Bradycardia / tachycardia: caution outside the caution band, hold (pre-dose) or escalate (in session)
    outside the hold band (defaults: hold <40 or >120, caution <50 or >110 /min)."""
    return _rate_findings(
        v,
        name="heart_rate",
        label="Heart rate",
        keys=(
            "hr.brady_hold_below",
            "hr.brady_caution_below",
            "hr.tachy_caution_above",
            "hr.tachy_hold_above",
        ),
        in_session=in_session,
        rules=rules,
        codes=("bradycardia_severe", "bradycardia", "tachycardia", "tachycardia_severe"),
        source=SRC_HR,
        low_action="assess the patient (ECG, perfusion, consciousness) and re-measure.",
        high_action="re-measure in 5 min; a sustained rate needs the prescriber's assessment.",
    )


def resp_rate_findings(v: Vitals, *, in_session: bool, rules: RuleSet = RULES) -> list[Finding]:
    """Respiratory depression / tachypnoea: caution outside the caution band, hold (pre-dose) or escalate
    (in session) outside the hold band (defaults: hold <8 or >30, caution <10 or >24 /min)."""
    return _rate_findings(
        v,
        name="resp_rate",
        label="Respiratory rate",
        keys=("rr.hold_below", "rr.caution_below", "rr.caution_above", "rr.hold_above"),
        in_session=in_session,
        rules=rules,
        codes=("respiratory_depression", "resp_rate_low", "resp_rate_high", "resp_rate_high_severe"),
        source=SRC_RR,
        low_action="possible respiratory depression: stimulate, assess airway and breathing, give oxygen per "
        "protocol.",
        high_action="assess breathing and the cause; re-measure.",
    )


def spo2_floor_findings(v: Vitals, *, in_session: bool, rules: RuleSet = RULES) -> list[Finding]:
    """One SpO₂ reading below ``spo2.hold_below`` (90 % by default): hold pre-dose, escalate in session."""
    if v.spo2 is None:
        return []
    floor = rules.num("spo2.hold_below")
    if v.spo2 >= floor:
        return []
    when = f"at {v.at.isoformat(timespec='minutes')}"
    if in_session:
        return [
            Finding(
                "spo2_below_floor",
                Outcome.ESCALATE,
                f"SpO₂ {v.spo2:g}% {when} is below {floor:g}%: possible respiratory depression: {_STOP}; "
                "stimulate, assess airway and breathing, give oxygen per protocol.",
                SRC_SPO2_FLOOR,
            )
        ]
    return [
        Finding(
            "spo2_below_floor",
            Outcome.HOLD,
            f"SpO₂ {v.spo2:g}% {when} is below {floor:g}%: do not dose; assess breathing and re-check before "
            "deciding.",
            SRC_SPO2_FLOOR,
        )
    ]


def judged_findings(series: Sequence[Vitals], *, in_session: bool, rules: RuleSet = RULES) -> list[Finding]:
    """Hypertensive crisis, SpO₂ floor, heart rate and respiratory rate, each judged on the latest reading
    in ``series`` (sorted by time) that carries the value."""
    out: list[Finding] = []
    bp = _latest_with(series, "sbp")
    if bp is not None:
        out.extend(bp_crisis_findings(bp, in_session=in_session, rules=rules))
    for name, judge in (
        ("spo2", spo2_floor_findings),
        ("heart_rate", heart_rate_findings),
        ("resp_rate", resp_rate_findings),
    ):
        v = _latest_with(series, name)
        if v is not None:
            out.extend(judge(v, in_session=in_session, rules=rules))
    return out
