"""FHIR QuestionnaireResponse import against the reference-data questionnaires and Synthea CSV."""

import csv
import json

import pytest

from kairos.clinical.fhir_import import (
    AnswerDisagreement,
    FhirImportError,
    check_same_visit_consistency,
    import_questionnaire_response,
    parse_questionnaire_response_xml,
)
from kairos.clinical.instruments import get
from refdata import reference_file

pytestmark = pytest.mark.db_independent


def _questionnaire(rel):
    return json.loads(reference_file(rel).read_text(encoding="utf-8"))


def _scored_questions(q):
    return [it for it in q["item"] if it.get("type") == "choice" and it.get("answerOption")]


def _response_from(q, picks, *, total=None, ordinal=True):
    """A QuestionnaireResponse choosing option index picks[i] of each choice item, copying its coding."""
    items = []
    for it, pick in zip(_scored_questions(q), picks, strict=False):
        if pick is None:
            continue
        coding = dict(it["answerOption"][pick]["valueCoding"])
        if not ordinal:
            coding.pop("extension", None)
        items.append({"linkId": it["linkId"], "answer": [{"valueCoding": coding}]})
    if total is not None:
        items.append({"linkId": "/" + get("phq9").loinc_total, "answer": [{"valueDecimal": total}]})
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}


def _ordinals(q):
    out = []
    for it in _scored_questions(q):
        ords = []
        for opt in it["answerOption"]:
            ext = opt["valueCoding"].get("extension", []) + opt.get("extension", [])
            ords.append(next((e.get("valueDecimal") for e in ext if e["url"].endswith("ordinalValue")), None))
        out.append(ords)
    return out


@pytest.mark.parametrize(
    "rel",
    [
        "questionnaires/lhncbc-lforms/phq9.json",
        "questionnaires/lhncbc-lforms-fhir-app/phq9.json",
        "questionnaires/uwcirg-asbi-screening-app/Questionnaire-CIRG-PHQ9.json",
    ],
)
def test_phq9_loinc_item_and_answer_mapping_matches_questionnaire(rel):
    q = _questionnaire(rel)
    inst = get("phq9")
    questions = _scored_questions(q)
    # every linkId/code maps to our item with the same LOINC, and every LA code to the same ordinal
    for it in questions:
        code = it["code"][0]["code"]
        ours = next(i for i in inst.items if i.loinc == code)
        assert it["linkId"] == "/" + code
        for opt in it["answerOption"]:
            la = opt["valueCoding"]["code"]
            match = [o for o in ours.options if o.loinc == la]
            assert len(match) == 1, (code, la)
            ords = [
                e.get("valueDecimal")
                for e in opt["valueCoding"].get("extension", [])
                if "ordinal" in e["url"]
            ]
            if ords and ours.scored:
                assert match[0].value == ords[0]
    # fhirpathpy oracle in the README: [1,2,3,0,1,0,2,3,0] -> 12
    picks = [1, 2, 3, 0, 1, 0, 2, 3, 0]
    res = import_questionnaire_response(_response_from(q, picks, ordinal=False))
    assert res.instrument_id == "phq9"
    assert res.score.total == 12
    assert res.warnings == ()


def test_lhc_ordinals_only_match_codes():
    q = _questionnaire("questionnaires/lhncbc-lforms/phq9.json")
    for ords in _ordinals(q)[:9]:
        assert ords == [0, 1, 2, 3]


def test_stored_total_mismatch_warns_with_both_numbers():
    q = _questionnaire("questionnaires/lhncbc-lforms/phq9.json")
    res = import_questionnaire_response(_response_from(q, [3] * 9, total=26))
    assert res.score.total == 27
    assert res.stored_total == 26
    assert any("26" in w and "27" in w for w in res.warnings)
    ok = import_questionnaire_response(_response_from(q, [3] * 9, total=27))
    assert ok.warnings == ()


def test_cirg_gad7_variant_answer_code():
    q = _questionnaire("questionnaires/uwcirg-asbi-screening-app/Questionnaire-CIRG-GAD7.json")
    item2 = _scored_questions(q)[1]
    assert item2["answerOption"][2]["valueCoding"]["code"] == "LA18938-3"  # the known variant
    res = import_questionnaire_response(_response_from(q, [2] * 7, ordinal=False))
    assert res.instrument_id == "gad7"
    assert res.answers["2"] == 2
    assert res.score.total == 14  # cirg-gad7-03
    assert any("LA18938-3" in w for w in res.warnings)


def test_qicore_xml_recomputes_10_and_flags_stored_13():
    xml = reference_file("questionnaires/hl7-qicore/QuestionnaireResponse-PHQ-9-example.xml").read_text(
        "utf-8"
    )
    d = parse_questionnaire_response_xml(xml)
    assert d["resourceType"] == "QuestionnaireResponse"
    res = import_questionnaire_response(d)
    assert res.instrument_id == "phq9"
    assert [res.answers[str(n)] for n in range(1, 10)] == [0, 0, 0, 1, 2, 1, 3, 2, 1]
    assert res.score.total == 10
    assert res.stored_total == 13
    assert any("13" in w and "10" in w for w in res.warnings)
    assert [
        a.code for a in __import__("kairos.clinical.rules.alerts", fromlist=["x"]).evaluate_alerts(res.score)
    ] == ["phq9_item9"]


def test_unknown_system_raises_clear_error():
    qr = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [
            {
                "linkId": "/44250-9",
                "answer": [{"valueCoding": {"system": "http://example.org/cs", "code": "x"}}],
            }
        ],
    }
    with pytest.raises(FhirImportError, match=r"http://example.org/cs.*no known mapping"):
        import_questionnaire_response(qr)


def test_unmappable_items_raise():
    qr = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [{"linkId": "phq-gad7-q01", "answer": [{"valueInteger": 1}]}],
    }
    with pytest.raises(FhirImportError, match="phq-gad7-q01"):
        import_questionnaire_response(qr)
    with pytest.raises(FhirImportError, match="resourceType"):
        import_questionnaire_response({"resourceType": "Observation"})


def test_bare_linkids_nested_groups_integers_and_duplicates():
    qr = {
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "item": [
            {
                "linkId": "grp",
                "item": [
                    {"linkId": "44250-9", "answer": [{"valueInteger": 1}]},
                    {"linkId": "x", "code": [{"system": "http://loinc.org", "code": "44255-8"}],
                     "answer": [{"valueCoding": {"code": "LA6570-1"}}]},
                    {"linkId": "/69722-7", "answer": [{"valueCoding": {"code": "LA6568-5"}}]},
                    {"linkId": "/69722-7", "answer": [{"valueCoding": {"code": "LA6573-5"}}]},
                    {"linkId": "other", "answer": [{"valueString": "free text"}]},
                ],
            }
        ],
    }  # fmt: skip
    res = import_questionnaire_response(qr, instrument_id="phq9")
    assert res.answers["1"] == 1
    assert res.answers["2"] == 2
    assert res.answers["10"] == 1  # LA6568-5 is not a difficulty answer: ignored with a warning
    assert any("LA6568-5" in w and "ignored" in w for w in res.warnings)
    assert any("other" in w for w in res.warnings)


def test_duplicate_difficulty_item_does_not_affect_total():
    # cirg-phq9-total: item 6 missing, /69722-7 twice (LA6572-7, LA6573-5) -> 12
    vals = {"/44250-9": "LA6569-3", "/44255-8": "LA6570-1", "/44259-0": "LA6571-9", "/44254-1": "LA6568-5",
            "/44251-7": "LA6569-3", "/44252-5": "LA6570-1", "/44253-3": "LA6571-9", "/44260-8": "LA6568-5"}  # fmt: skip
    items = [
        {"linkId": k, "answer": [{"valueCoding": {"system": "http://loinc.org", "code": v}}]}
        for k, v in vals.items()
    ]
    items += [
        {"linkId": "/69722-7", "answer": [{"valueCoding": {"code": c}}]} for c in ("LA6572-7", "LA6573-5")
    ]
    res = import_questionnaire_response(
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}
    )
    assert res.score.raw_total == 12
    assert res.answers["10"] == 0  # first kept
    assert any("answered twice" in w for w in res.warnings)
    assert res.score.total == 14  # prorated (item 6 blank), raw 12 as in the source


def test_conflicting_scored_duplicate_raises():
    items = [{"linkId": "/44250-9", "answer": [{"valueInteger": v}]} for v in (1, 2)]
    with pytest.raises(FhirImportError, match="answered twice"):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}
        )


def test_ordinal_only_is_read_and_a_disagreeing_ordinal_is_refused_naming_the_item():
    ext = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
    ordinal_only = {
        "linkId": "/69725-0",
        "answer": [
            {
                "valueCoding": {
                    "system": "http://example.org/x",
                    "code": "a",
                    "extension": [{"url": ext, "valueDecimal": 2}],
                }
            }
        ],
    }
    agreeing = {
        "linkId": "/68509-9",
        "answer": [{"valueCoding": {"code": "LA6571-9", "extension": [{"url": ext, "valueDecimal": 3}]}}],
    }
    disagreeing = {"linkId": "/68509-9", "answer": [{"valueCoding": {
        "code": "LA6571-9", "extension": [{"url": ext, "valueDecimal": 1}]}}]}  # fmt: skip
    res = import_questionnaire_response(
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [ordinal_only, agreeing]}
    )
    assert res.instrument_id == "gad2"  # two GAD items only: the 2-item screen is the closest fit
    assert res.answers == {"1": 2, "2": 3}
    assert res.warnings == ()
    with pytest.raises(
        AnswerDisagreement, match=r"item /68509-9: answer code LA6571-9 means 3 .* says 1"
    ) as exc:
        import_questionnaire_response(
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "item": [ordinal_only, disagreeing],
            }
        )
    assert exc.value.field == "item"


def test_synthea_phq2_greater_than_phq9_detected():
    path = reference_file("synthea/ohdsi-dbt-synthea-csv/observations.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        issues = check_same_visit_consistency(csv.DictReader(fh))
    assert len(issues) == 1
    assert issues[0].patient.startswith("bd9aaf62")
    assert issues[0].encounter.startswith("1c734106")
    assert "5 > 3" in issues[0].message


def test_consistency_ok_and_bad_values_ignored():
    rows = [
        {"patient": "p", "encounter": "e", "code": "55758-7", "value": "2"},
        {"patient": "p", "encounter": "e", "code": "44261-6", "value": "9"},
        {"patient": "p", "encounter": "e", "code": "44261-6", "value": "n/a"},
        {"patient": "p", "encounter": "e", "code": "8302-2", "value": "170"},
    ]
    assert check_same_visit_consistency(rows) == []


def test_edge_cases_of_import():
    ext = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
    items = [
        {"linkId": "/44250-9", "answer": [{"valueInteger": 1}]},
        {"linkId": "/44250-9", "answer": [{"valueInteger": 1}]},  # same value twice: warning only
        {"linkId": "/69725-0", "answer": [{"valueInteger": 1}]},  # a GAD item inside a PHQ response
        {
            "linkId": "/44255-8",
            "answer": [{"valueCoding": {"code": "LA6569-3", "extension": [{"url": "x"}]}}],
        },
        {"linkId": "/44261-6", "answer": [{"valueString": "n/a"}]},  # total without a number
    ]
    res = import_questionnaire_response(
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}, instrument_id="phq2"
    )
    assert res.answers == {"1": 1, "2": 1}
    assert res.stored_total is None
    assert any("same value" in w for w in res.warnings)
    assert any("another instrument" in w for w in res.warnings)
    assert res.to_dict()["score"]["total"] == 2
    bad = [{"linkId": "/44250-9", "answer": [{"valueString": "often"}]}]
    with pytest.raises(FhirImportError, match="unsupported answer"):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": bad}
        )
    frac = [
        {
            "linkId": "/44250-9",
            "answer": [{"valueCoding": {"code": "zz", "extension": [{"url": ext, "valueDecimal": 1.5}]}}],
        }
    ]
    with pytest.raises(FhirImportError, match="no known mapping"):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": frac}
        )


def test_xml_helper_types_and_namespace():
    xml = (
        '<QuestionnaireResponse xmlns="http://hl7.org/fhir"><status value="completed"/><item><linkId value="/44250-9"/>'
        '<answer><valueInteger value="2"/></answer></item><item><linkId value="/44255-8"/><answer><valueCoding>'
        '<extension url="http://hl7.org/fhir/StructureDefinition/ordinalValue"><valueDecimal value="1"/></extension>'
        '<code value="LA6569-3"/></valueCoding></answer></item></QuestionnaireResponse>'
    )
    d = parse_questionnaire_response_xml(xml)
    assert d["item"][0]["answer"][0]["valueInteger"] == 2
    assert d["item"][1]["answer"][0]["valueCoding"]["extension"][0]["valueDecimal"] == 1.0
    assert import_questionnaire_response(d).score.total == 3
    with pytest.raises(FhirImportError, match="namespace"):
        parse_questionnaire_response_xml("<QuestionnaireResponse/>")
