"""Eligibility: absolute and relative contraindications and interacting medicines.

An oral antidepressant is **not** an eligibility requirement: esketamine was approved as monotherapy for TRD
on 21 Jan 2025 (clinical.md §1.2/§1.7, S12), so its absence produces no finding.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.safety import RULES
from kairos.clinical.safety.result import Finding, Outcome, RuleResult

SRC_CI = "Spravato PI contraindications (S4, S6) via clinical.md §1.6"


class ConditionFlag(enum.StrEnum):
    """Conditions the rules know by name (codes are mapped to some of them, see ``eligibility.codes.*``)."""

    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease"
    ARTERIOVENOUS_MALFORMATION = "arteriovenous_malformation"
    INTRACEREBRAL_HAEMORRHAGE = "intracerebral_haemorrhage_history"
    HYPERSENSITIVITY = "hypersensitivity_esketamine_ketamine"
    UNCONTROLLED_HYPERTENSION = "uncontrolled_hypertension"
    HYPERTENSIVE_ENCEPHALOPATHY = "hypertensive_encephalopathy_history"
    RECENT_MYOCARDIAL_INFARCTION = "myocardial_infarction_within_6_weeks"
    RECENT_STROKE_OR_TIA = "stroke_or_tia_within_6_months"
    VALVULAR_HEART_DISEASE = "haemodynamically_significant_valve_disease"
    HEART_FAILURE_NYHA_III_IV = "heart_failure_nyha_iii_iv"
    PSYCHOSIS = "psychosis"
    SUBSTANCE_USE_DISORDER = "substance_use_disorder"
    SEIZURE_DISORDER = "seizure_disorder"
    SEVERE_LIVER_DISEASE = "severe_liver_disease"


class DrugClass(enum.StrEnum):
    BENZODIAZEPINE = "benzodiazepine"
    SEDATIVE_HYPNOTIC = "sedative_hypnotic"  # non-benzodiazepine sedative hypnotics (z-drugs)
    OPIOID = "opioid"
    OTHER_CNS_DEPRESSANT = "other_cns_depressant"  # by class only (no name list)
    MAOI = "maoi"
    PSYCHOSTIMULANT = "psychostimulant"


_NAME_LISTS = {
    DrugClass.BENZODIAZEPINE: "eligibility.meds.benzodiazepine",
    DrugClass.SEDATIVE_HYPNOTIC: "eligibility.meds.sedative_hypnotic",
    DrugClass.OPIOID: "eligibility.meds.opioid",
    DrugClass.MAOI: "eligibility.meds.maoi",
    DrugClass.PSYCHOSTIMULANT: "eligibility.meds.psychostimulant",
}
_CODE_LISTS = {
    ConditionFlag.ANEURYSMAL_VASCULAR_DISEASE: "eligibility.codes.aneurysm",
    ConditionFlag.ARTERIOVENOUS_MALFORMATION: "eligibility.codes.avm",
    ConditionFlag.INTRACEREBRAL_HAEMORRHAGE: "eligibility.codes.intracerebral_haemorrhage",
    ConditionFlag.PSYCHOSIS: "eligibility.codes.psychosis",
    ConditionFlag.SUBSTANCE_USE_DISORDER: "eligibility.codes.substance_use_disorder",
}

# flag -> (severity, code, message, source)
_CONDITION_RULES: dict[ConditionFlag, tuple[Outcome, str, str, str]] = {
    ConditionFlag.ANEURYSMAL_VASCULAR_DISEASE: (
        Outcome.HARD_STOP,
        "ci_aneurysmal_vascular_disease",
        "Aneurysmal vascular disease (aorta, intracranial or peripheral arteries): contraindicated.",
        SRC_CI,
    ),
    ConditionFlag.ARTERIOVENOUS_MALFORMATION: (
        Outcome.HARD_STOP,
        "ci_arteriovenous_malformation",
        "Arteriovenous malformation: contraindicated.",
        SRC_CI,
    ),
    ConditionFlag.INTRACEREBRAL_HAEMORRHAGE: (
        Outcome.HARD_STOP,
        "ci_intracerebral_haemorrhage",
        "History of intracerebral haemorrhage: contraindicated.",
        SRC_CI,
    ),
    ConditionFlag.HYPERSENSITIVITY: (
        Outcome.HARD_STOP,
        "ci_hypersensitivity",
        "Hypersensitivity to esketamine, ketamine or an excipient: contraindicated.",
        SRC_CI,
    ),
    ConditionFlag.UNCONTROLLED_HYPERTENSION: (
        Outcome.CAUTION,
        "rel_uncontrolled_hypertension",
        "Uncontrolled hypertension: a blood-pressure rise may be hazardous; control BP and assess carefully "
        "before treating.",
        "Spravato PI §5.6 (S4) via clinical.md §1.5; relative exclusion §2.1 (⚠ consensus wording)",
    ),
    ConditionFlag.HYPERTENSIVE_ENCEPHALOPATHY: (
        Outcome.CAUTION,
        "hx_hypertensive_encephalopathy",
        "History of hypertensive encephalopathy: monitor blood pressure and symptoms more intensively.",
        "Spravato PI §5.6 (S4) via clinical.md §1.5",
    ),
    ConditionFlag.RECENT_MYOCARDIAL_INFARCTION: (
        Outcome.CAUTION,
        "rel_recent_mi",
        "Myocardial infarction within 6 weeks: assess carefully before treating.",
        "clinical.md §1.5 (S4; EU SmPC list ◐)",
    ),
    ConditionFlag.RECENT_STROKE_OR_TIA: (
        Outcome.CAUTION,
        "rel_recent_stroke",
        "Stroke or TIA within 6 months: assess carefully before treating.",
        "clinical.md §1.5 (S4; EU SmPC list ◐)",
    ),
    ConditionFlag.VALVULAR_HEART_DISEASE: (
        Outcome.CAUTION,
        "rel_valve_disease",
        "Haemodynamically significant valve disease: assess carefully before treating.",
        "clinical.md §1.5 (S4; EU SmPC list ◐)",
    ),
    ConditionFlag.HEART_FAILURE_NYHA_III_IV: (
        Outcome.CAUTION,
        "rel_heart_failure",
        "Heart failure NYHA III–IV: assess carefully before treating.",
        "clinical.md §1.5 (S4; EU SmPC list ◐)",
    ),
    ConditionFlag.PSYCHOSIS: (
        Outcome.CAUTION,
        "rel_psychosis",
        "Psychosis (active or past): dissociation and psychotomimetic effects; assess benefit and risk.",
        "Spravato PI §5.2 (S4) via clinical.md §1.5; relative exclusion §2.1 (⚠ consensus wording)",
    ),
    ConditionFlag.SUBSTANCE_USE_DISORDER: (
        Outcome.CAUTION,
        "rel_substance_use_disorder",
        "Substance use disorder (incl. alcohol): assess abuse/misuse risk and monitor for misuse.",
        "Spravato PI §5.3 (S4) via clinical.md §1.5/§5.4; relative exclusion §2.1 (⚠ consensus wording)",
    ),
    ConditionFlag.SEIZURE_DISORDER: (
        Outcome.CAUTION,
        "rel_seizure_disorder",
        "Seizure disorder: listed as an exclusion in clinic screens.",
        "clinical.md §2.1 (clinic screens, ⚠ unconfirmed)",
    ),
    ConditionFlag.SEVERE_LIVER_DISEASE: (
        Outcome.CAUTION,
        "rel_severe_liver_disease",
        "Severe liver disease: listed as an exclusion in clinic screens; hepatobiliary risk with repeated use.",
        "clinical.md §2.1 (clinic screens, ⚠) and §5.2",
    ),
}

_INTERACTIONS: dict[DrugClass, tuple[str, str, str]] = {
    DrugClass.BENZODIAZEPINE: (
        "interaction_cns_depressant",
        "closer sedation monitoring",
        "Spravato PI §5.1 (S4) via clinical.md §1.5",
    ),
    DrugClass.SEDATIVE_HYPNOTIC: (
        "interaction_cns_depressant",
        "closer sedation monitoring",
        "Spravato PI §5.1 (S4) via clinical.md §1.5",
    ),
    DrugClass.OPIOID: (
        "interaction_cns_depressant",
        "closer sedation and respiratory monitoring",
        "Spravato PI §5.1 (S4) via clinical.md §1.5; opioids on the newer PMF (◐ S3)",
    ),
    DrugClass.OTHER_CNS_DEPRESSANT: (
        "interaction_cns_depressant",
        "closer sedation monitoring",
        "Spravato PI §5.1 (S4) via clinical.md §1.5",
    ),
    DrugClass.MAOI: (
        "interaction_maoi",
        "closer blood-pressure monitoring",
        "Spravato PI §5.6 (S4) via clinical.md §1.5",
    ),
    DrugClass.PSYCHOSTIMULANT: (
        "interaction_psychostimulant",
        "closer blood-pressure monitoring",
        "Spravato PI §5.6 (S4) via clinical.md §1.5",
    ),
}


@dataclass(frozen=True, slots=True)
class Medicine:
    """A current medicine by name, optionally with its class when the source system knows it."""

    name: str
    drug_class: DrugClass | None = None


@dataclass(frozen=True)
class PatientFacts:
    """Neutral facts about a patient, independent of the record system.

    ``conditions`` holds :class:`ConditionFlag` values and/or ICD-10-CM codes (matched by prefix against
    ``eligibility.codes.*``). ``medicines`` holds names (str) or :class:`Medicine` items.
    """

    age_years: int
    conditions: frozenset[str] = field(default_factory=frozenset)
    medicines: tuple[Medicine | str, ...] = ()
    pregnant: bool | None = None
    pregnancy_possible: bool = True
    breastfeeding: bool = False

    def __post_init__(self) -> None:
        if (
            isinstance(self.age_years, bool)
            or not isinstance(self.age_years, int)
            or not 0 <= self.age_years <= 130
        ):
            raise ValueError(f"age_years: {self.age_years!r} is outside [0, 130]")
        object.__setattr__(self, "conditions", frozenset(self.conditions))
        object.__setattr__(self, "medicines", tuple(self.medicines))


def _tokens(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.lower()))


def medicine_classes(medicine: Medicine | str, rules: RuleSet = RULES) -> set[DrugClass]:
    """Interacting classes of one medicine, by its declared class and by the configured name lists."""
    med = Medicine(medicine) if isinstance(medicine, str) else medicine
    found = {med.drug_class} if med.drug_class is not None else set()
    words = _tokens(med.name)
    for cls, key in _NAME_LISTS.items():
        if words & {str(n).lower() for n in rules[key]}:  # type: ignore[union-attr]
            found.add(cls)
    return found


def interacting_classes(medicines: Iterable[Medicine | str], rules: RuleSet = RULES) -> frozenset[DrugClass]:
    """All interacting classes among ``medicines`` (also feeds the REMS form's concomitant-medication flags)."""
    out: set[DrugClass] = set()
    for m in medicines:
        out |= medicine_classes(m, rules)
    return frozenset(out)


def condition_flags(conditions: Iterable[str], rules: RuleSet = RULES) -> set[ConditionFlag]:
    """Flags named directly, plus those whose configured ICD-10-CM prefixes match a code."""
    flags: set[ConditionFlag] = set()
    for raw in conditions:
        item = raw.strip()
        try:
            flags.add(ConditionFlag(item.lower()))
            continue
        except ValueError:
            pass
        code = item.upper()
        for flag, key in _CODE_LISTS.items():
            if any(code.startswith(str(p).upper()) for p in rules[key]):  # type: ignore[union-attr]
                flags.add(flag)
    return flags


def assess_eligibility(facts: PatientFacts, rules: RuleSet = RULES) -> RuleResult:
    """Contraindications (hard stop), relative contraindications and interactions (caution), with sources."""
    findings: list[Finding] = []
    min_age = int(rules.num("eligibility.min_age_years"))
    if facts.age_years < min_age:
        findings.append(
            Finding(
                "age_below_minimum",
                Outcome.HOLD,
                f"Age {facts.age_years} is below {min_age}: esketamine is not approved in "
                "paediatric patients; needs a specialist decision.",
                "Spravato PI boxed warning (S4) via clinical.md §1.5",
            )
        )
    elif facts.age_years <= int(rules.num("eligibility.suicidality_warning_max_age")):
        findings.append(
            Finding(
                "suicidality_warning_age",
                Outcome.CAUTION,
                f"Age {facts.age_years}: antidepressant-class warning on suicidal thoughts and "
                "behaviours in young adults; monitor closely.",
                "Spravato PI boxed warning (S4) via clinical.md §1.5",
            )
        )
    flags = condition_flags(facts.conditions, rules)
    for flag in ConditionFlag:
        if flag in flags:
            severity, code, message, source = _CONDITION_RULES[flag]
            findings.append(Finding(code, severity, message, source))
    if facts.pregnant:
        findings.append(
            Finding(
                "rel_pregnancy",
                Outcome.CAUTION,
                "Pregnant: possible fetal harm (animal data); discuss risk, consider alternatives; "
                "pregnancy registry 1-844-405-6185.",
                "Spravato PI §5.10 (S4) via clinical.md §1.5; relative exclusion §2.1",
            )
        )
    elif facts.pregnant is None and facts.pregnancy_possible:
        findings.append(
            Finding(
                "pregnancy_status_unknown",
                Outcome.CAUTION,
                "Pregnancy status not recorded: check before starting.",
                "clinical.md §5.5 (S4 §5.10)",
            )
        )
    if facts.breastfeeding:
        findings.append(
            Finding(
                "breastfeeding",
                Outcome.CAUTION,
                "Breastfeeding: not recommended.",
                "Spravato PI §5.10/§17 (S4) via clinical.md §1.5",
            )
        )
    for med in facts.medicines:
        name = med if isinstance(med, str) else med.name
        for cls in sorted(medicine_classes(med, rules)):
            code, advice, source = _INTERACTIONS[cls]
            findings.append(
                Finding(code, Outcome.CAUTION, f"{name} ({cls.value.replace('_', ' ')}): {advice}.", source)
            )
    return RuleResult.of(findings)
