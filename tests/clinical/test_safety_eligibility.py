"""Eligibility: contraindications (clinical.md §1.6), relative exclusions (§1.5, §2.1), interactions (§1.4/§1.5)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.safety.eligibility import (
    ConditionFlag,
    DrugClass,
    Medicine,
    PatientFacts,
    assess_eligibility,
    interacting_classes,
)
from kairos.clinical.safety.result import Outcome


def facts(**kw):
    kw.setdefault("age_years", 40)
    kw.setdefault("pregnant", False)
    return PatientFacts(**kw)


def test_plain_adult_ok():
    assert assess_eligibility(facts()).outcome is Outcome.OK


# §1.6: the four US contraindications → hard stop
@pytest.mark.parametrize(
    "condition",
    [
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_haemorrhage_history",
        "hypersensitivity_esketamine_ketamine",
        "I71.4",
        "i67.1",
        "Q28.2",
        "I61.9",
    ],
)
def test_absolute_contraindications_hard_stop(condition):
    result = assess_eligibility(facts(conditions={condition}))
    assert result.outcome is Outcome.HARD_STOP
    assert "§1.6" in result.findings[0].source


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("uncontrolled_hypertension", "rel_uncontrolled_hypertension"),
        ("psychosis", "rel_psychosis"),
        ("F20.9", "rel_psychosis"),
        ("substance_use_disorder", "rel_substance_use_disorder"),
        ("F11.20", "rel_substance_use_disorder"),
        ("hypertensive_encephalopathy_history", "hx_hypertensive_encephalopathy"),
        ("myocardial_infarction_within_6_weeks", "rel_recent_mi"),
        ("seizure_disorder", "rel_seizure_disorder"),
    ],
)
def test_relative_contraindications_caution(condition, code):
    result = assess_eligibility(facts(conditions={condition}))
    assert result.outcome is Outcome.CAUTION
    assert result.codes == [code]


def test_nicotine_and_plain_hypertension_codes_are_not_flags():
    assert assess_eligibility(facts(conditions={"F17.210", "I10", "38341003"})).outcome is Outcome.OK


def test_pregnancy_breastfeeding_and_unknown_status():
    assert assess_eligibility(facts(pregnant=True)).codes == ["rel_pregnancy"]
    assert assess_eligibility(facts(pregnant=None)).codes == ["pregnancy_status_unknown"]
    assert assess_eligibility(facts(pregnant=None, pregnancy_possible=False)).outcome is Outcome.OK
    assert assess_eligibility(facts(breastfeeding=True)).codes == ["breastfeeding"]


def test_age_rules():
    assert assess_eligibility(facts(age_years=17)).outcome is Outcome.HOLD
    assert assess_eligibility(facts(age_years=24)).codes == ["suicidality_warning_age"]
    assert assess_eligibility(facts(age_years=25)).outcome is Outcome.OK
    with pytest.raises(ValueError, match="age_years"):
        facts(age_years=-1)


@pytest.mark.parametrize(
    ("medicine", "cls", "code"),
    [
        ("Lorazepam 1 MG Oral Tablet", DrugClass.BENZODIAZEPINE, "interaction_cns_depressant"),
        ("XANAX", DrugClass.BENZODIAZEPINE, "interaction_cns_depressant"),
        ("zolpidem 10 mg", DrugClass.SEDATIVE_HYPNOTIC, "interaction_cns_depressant"),
        ("oxycodone/acetaminophen", DrugClass.OPIOID, "interaction_cns_depressant"),
        ("phenelzine", DrugClass.MAOI, "interaction_maoi"),
        ("dextroamphetamine-amphetamine ER", DrugClass.PSYCHOSTIMULANT, "interaction_psychostimulant"),
        (
            Medicine("gabapentin", DrugClass.OTHER_CNS_DEPRESSANT),
            DrugClass.OTHER_CNS_DEPRESSANT,
            "interaction_cns_depressant",
        ),
    ],
)
def test_interactions_by_name_and_class(medicine, cls, code):
    assert cls in interacting_classes([medicine])
    result = assess_eligibility(facts(medicines=(medicine,)))
    assert result.outcome is Outcome.CAUTION
    assert result.codes == [code]


def test_flags_listed_in_enum_order_with_sources():
    result = assess_eligibility(
        facts(conditions={ConditionFlag.PSYCHOSIS, ConditionFlag.ARTERIOVENOUS_MALFORMATION})
    )
    assert result.codes == ["ci_arteriovenous_malformation", "rel_psychosis"]
    assert all(f.source for f in result.findings)


NON_MAOI_ANTIDEPRESSANTS = ["sertraline", "escitalopram", "venlafaxine", "bupropion", "mirtazapine"]


@given(
    st.lists(st.sampled_from(NON_MAOI_ANTIDEPRESSANTS), max_size=3),
    st.sets(st.sampled_from(list(ConditionFlag)), max_size=3),
)
def test_oral_antidepressant_not_required(antidepressants, conditions):
    """Monotherapy approved 21 Jan 2025 (§1.2, §1.7): having or lacking an oral AD never changes eligibility."""
    without = assess_eligibility(facts(conditions=conditions))
    with_ad = assess_eligibility(facts(conditions=conditions, medicines=tuple(antidepressants)))
    assert with_ad == without
