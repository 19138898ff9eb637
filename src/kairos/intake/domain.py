"""Pure intake rules and code tables (no Django). Each value carries its source.

* Diagnosis codes: clinical.md §7.4 (SNOMED CT / ICD-10-CM), statuses as the reference gives them.
* Treatment resistance: clinical.md §1.1 and §7.4 — TRD is a *derived flag*: at least two adequate
  antidepressant trials without response in the current episode (no SNOMED/ICD code exists).
* Vital signs: LOINC codes and UCUM units from clinical.md §7.1; the entry bounds are plausibility limits
  that refuse typing errors, not clinical thresholds: cited params of kairos.clinical.rules (safety
  ``plausible.*``, intake ``plausible.resp_rate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.intake import RULES as INTAKE_RULES
from kairos.clinical.rules.safety import RULES as SAFETY_RULES

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SRC_74 = "clinical.md §7.4"


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    key: str
    display: str
    snomed: str | None
    icd10: str | None
    status: str  # the reference's status marks (✅ confirmed, ◐ partly, ⚠ unconfirmed)
    source: str


DIAGNOSES: tuple[DiagnosisCode, ...] = (
    DiagnosisCode(
        "mdd_single",
        "Major depressive disorder, single episode",
        "370143000",
        "F32.9",
        "◐ SNOMED; ICD range ✅",
        SRC_74,
    ),
    DiagnosisCode(
        "mdd_recurrent",
        "Major depressive disorder, recurrent",
        "370143000",
        "F33.9",
        "◐ SNOMED; ICD range ✅",
        SRC_74,
    ),
    DiagnosisCode(
        "depression_unspecified", "Depression, unspecified", None, "F32.A", "⚠ unconfirmed", SRC_74
    ),
    DiagnosisCode(
        "mdd_suicidal_ideation",
        "MDD with acute suicidal ideation (MDD code + suicidal ideation)",
        "370143000",
        "R45.851",
        "⚠ R45.851 from memory",
        SRC_74,
    ),
    DiagnosisCode(
        "ptsd",
        "Post-traumatic stress disorder, unspecified",
        "47505003",
        "F43.10",
        "◐ SNOMED; F43.10 ✅",
        SRC_74,
    ),
    DiagnosisCode(
        "ptsd_chronic",
        "Post-traumatic stress disorder, chronic",
        "47505003",
        "F43.12",
        "⚠ F43.12 unconfirmed",
        SRC_74,
    ),
    DiagnosisCode("gad", "Generalized anxiety disorder", "21897009", "F41.1", "◐ code repos", SRC_74),
)
DIAGNOSIS_BY_KEY = {d.key: d for d in DIAGNOSES}
TRD_SOURCE = "clinical.md §1.1/§7.4: TRD = ≥2 adequate antidepressant trials without response in the current episode (derived flag, no code)"
TRD_MIN_FAILED_TRIALS = int(INTAKE_RULES.num("trd.min_failed_trials"))

FAILED_OUTCOMES = frozenset({"no_response", "partial_response"})


@dataclass(frozen=True, slots=True)
class Trial:
    drug: str
    adequate: bool
    outcome: str  # response | partial_response | no_response | intolerance | ongoing
    current_episode: bool = True


def failed_adequate_trials(trials: Iterable[Trial]) -> int:
    """Adequate trials in the current episode that did not lead to response (partial response counts as failed)."""
    return sum(1 for t in trials if t.current_episode and t.adequate and t.outcome in FAILED_OUTCOMES)


def is_treatment_resistant(trials: Iterable[Trial]) -> bool:
    """The derived TRD flag: at least :data:`TRD_MIN_FAILED_TRIALS` adequate failed trials this episode."""
    return failed_adequate_trials(trials) >= TRD_MIN_FAILED_TRIALS


@dataclass(frozen=True, slots=True)
class VitalSpec:
    key: str
    loinc: str
    display: str
    unit: str
    low: Decimal
    high: Decimal


def _vital(key: str, loinc: str, display: str, unit: str, rules: RuleSet, param: str) -> VitalSpec:
    bounds = rules[param]
    if not isinstance(bounds, tuple):
        raise TypeError(f"{rules.name}.{param} must be a (low, high) pair")
    low, high = bounds
    return VitalSpec(key, loinc, display, unit, Decimal(low), Decimal(high))


SRC_71 = "clinical.md §7.1 (LOINC, UCUM; S23)"
VITALS: tuple[VitalSpec, ...] = (
    _vital("systolic", "8480-6", "Systolic blood pressure", "mm[Hg]", SAFETY_RULES, "plausible.sbp"),
    _vital("diastolic", "8462-4", "Diastolic blood pressure", "mm[Hg]", SAFETY_RULES, "plausible.dbp"),
    _vital("heart_rate", "8867-4", "Heart rate", "/min", SAFETY_RULES, "plausible.heart_rate"),
    _vital("spo2", "59408-5", "SpO2 by pulse oximetry", "%", SAFETY_RULES, "plausible.spo2"),
    _vital("resp_rate", "9279-1", "Respiratory rate", "/min", INTAKE_RULES, "plausible.resp_rate"),
)
VITAL_BY_KEY = {v.key: v for v in VITALS}


def check_vital(key: str, value: Decimal) -> str | None:
    """None if plausible, else a message naming the field and the allowed range."""
    spec = VITAL_BY_KEY[key]
    if not value.is_finite() or not spec.low <= value <= spec.high:
        return f"{key}: {value} {spec.unit} is outside the plausible range {spec.low}–{spec.high} {spec.unit}"
    return None
