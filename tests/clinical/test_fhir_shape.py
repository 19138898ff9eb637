"""Malformed FHIR structures are import errors naming the path, never crashes."""

import pytest

from kairos.clinical.fhir_import import MAX_DEPTH, FhirImportError, import_questionnaire_response


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"item": None}, "item"),
        ({"item": "x"}, "item"),
        ({"item": [1, 2]}, "item"),
        ({"item": [{"linkId": "/44250-9", "answer": {"valueCoding": {}}}]}, "item[0].answer"),
        (
            {"item": [{"linkId": "/44250-9", "answer": [{"valueCoding": "LA6568-5"}]}]},
            "item[0].answer[0].valueCoding",
        ),
        ({"item": [{"linkId": "a", "code": [None]}]}, "item[0].code"),
    ],
)
def test_wrong_json_types_name_the_path(resource, path):
    with pytest.raises(FhirImportError, match=path.replace("[", r"\[").replace("]", r"\]")):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", **resource}
        )


def test_absurd_nesting_is_refused():
    node: dict = {"linkId": "leaf"}
    for _ in range(MAX_DEPTH + 2):
        node = {"linkId": "g", "item": [node]}
    with pytest.raises(FhirImportError, match="nested deeper"):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [node]}
        )


@pytest.mark.parametrize("status", [None, "in-progress", "stopped", "entered-in-error", 3])
def test_unfinished_or_missing_status_is_refused(status):
    resource = {
        "resourceType": "QuestionnaireResponse",
        "item": [{"linkId": "/69725-0", "answer": [{"valueInteger": 1}]}],
    }
    if status is not None:
        resource["status"] = status
    with pytest.raises(FhirImportError, match="status"):
        import_questionnaire_response(resource)


def _phq9_items(total_answer):
    from kairos.clinical.instruments import get

    items = [
        {"linkId": f"/{it.loinc}", "answer": [{"valueInteger": 1}]} for it in get("phq9").items if it.loinc
    ]
    return [*items, {"linkId": "/44261-6", "answer": [total_answer]}]


@pytest.mark.parametrize(
    "total_answer",
    [
        {"valueQuantity": "13"},
        {"valueQuantity": {"value": "13"}},
        {"valueDecimal": "NaN"},
        {"valueInteger": True},
    ],
)
def test_a_malformed_stored_total_is_ignored_not_a_crash(total_answer):
    res = import_questionnaire_response(
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": _phq9_items(total_answer)}
    )
    assert res.score.total is not None
    assert not any("disagree" in w for w in res.warnings)


def test_a_numeric_stored_total_that_disagrees_is_reported():
    res = import_questionnaire_response(
        {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "item": _phq9_items({"valueQuantity": {"value": 99}}),
        }
    )
    assert any("99" in w for w in res.warnings)


def test_no_items_is_refused_naming_item():
    with pytest.raises(FhirImportError, match="item"):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": []}
        )


def test_non_numeric_ordinal_is_not_used():
    item = {
        "linkId": "/44250-9",
        "answer": [
            {
                "valueCoding": {
                    "code": "XX",
                    "extension": [
                        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": "2"}
                    ],
                }
            }
        ],
    }
    with pytest.raises(FhirImportError, match="44250-9|item"):
        import_questionnaire_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [item]}
        )


def test_a_text_stored_total_is_not_compared():
    res = import_questionnaire_response(
        {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "item": _phq9_items({"valueString": "13"}),
        }
    )
    assert res.score.total == 9


def test_other_extensions_beside_the_ordinal_are_skipped():
    coding = {
        "code": "XX",
        "extension": [
            {"url": "http://example.org/other", "valueDecimal": 3},
            {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 2},
        ],
    }
    items = [
        {"linkId": "/44250-9", "answer": [{"valueCoding": coding}]},
        {"linkId": "/44255-8", "answer": [{"valueInteger": 1}]},
    ]
    res = import_questionnaire_response(
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}
    )
    assert res.answers["1"] == 2


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ({"resourceType": "Observation"}, "resourceType"),
        ({"resourceType": "QuestionnaireResponse", "status": "in-progress"}, "status"),
        ({"resourceType": "QuestionnaireResponse", "status": "completed", "item": []}, "item"),
        ({"resourceType": "QuestionnaireResponse", "status": "completed", "item": "x"}, "resource"),
        (
            {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": 1, "item": []},
            "questionnaire",
        ),
    ],
)
def test_each_refusal_names_the_field_it_is_about(resource, field):
    """The API reports ``FhirImportError.field`` as the error's location (422 ["body", field])."""
    with pytest.raises(FhirImportError) as exc:
        import_questionnaire_response(resource)
    assert exc.value.field == field
