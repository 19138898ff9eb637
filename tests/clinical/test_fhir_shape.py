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
