"""The registry of known questionnaires, mapping by canonical and by item definition, code/ordinal
disagreement, and the idempotency key (issue #12 §6).

Golden tests read the reference-data questionnaires in place (checked against MANIFEST.csv) and assert
what the files say, written out here by hand."""

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.fhir_import import (
    AnswerDisagreement,
    FhirImportError,
    import_key,
    import_questionnaire_response,
    parse_questionnaire_response_xml,
)
from kairos.clinical.fhir_questionnaires import (
    KNOWN_QUESTIONNAIRES,
    by_canonical,
    definition_loinc,
    strip_version,
)
from kairos.clinical.instruments import get
from refdata import reference_file

pytestmark = pytest.mark.db_independent

LOINC = "http://loinc.org"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
CO_VALUE = "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value"
PHQ9_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
LA = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}


def _q(rel):
    return json.loads(reference_file(rel).read_text(encoding="utf-8"))


def _walk(items):
    for it in items:
        yield it
        yield from _walk(it.get("item", []))


def _qr(items, questionnaire=None, **extra):
    d = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items, **extra}
    if questionnaire is not None:
        d["questionnaire"] = questionnaire
    return d


def _coded(link, value, *, ext=None, ordinal=None, **kw):
    coding = {"system": LOINC, "code": LA[value]}
    if ext is not None:
        coding["extension"] = [{"url": ext, "valueDecimal": ordinal}]
    return {"linkId": link, **kw, "answer": [{"valueCoding": coding}]}


# --- the registry against the reference files -----------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "key"),
    [
        ("questionnaires/lhncbc-lforms/argonaut-phq9-ish.json", "argonaut-phq9"),
        ("fhir-r4-core-examples/Questionnaire-phq-9-questionnaire.json", "fhir-r4-example-phq9"),
    ],
)
def test_registered_link_ids_name_the_items_the_questionnaire_codes(rel, key):
    """Each registered linkId maps to the instrument item whose LOINC code the Questionnaire gives it."""
    q = _q(rel)
    entry = next(k for k in KNOWN_QUESTIONNAIRES if k.key == key)
    inst = get(entry.instrument_id)
    codes = {it["linkId"]: [c["code"] for c in it.get("code", [])] for it in _walk(q["item"])}
    for link, item_id in entry.link_ids.items():
        expected = inst.loinc_total if item_id is None else inst.item(item_id).loinc
        assert codes[link] == [expected], link


def test_argonaut_canonical_is_the_files_url():
    q = _q("questionnaires/lhncbc-lforms/argonaut-phq9-ish.json")
    assert (
        q["url"] == "http://fhir.org/guides/argonaut-questionnaire/Questionnaire/questionnaire-example-phq9"
    )
    assert by_canonical(q["url"]).key == "argonaut-phq9"
    assert "text" not in q or "div" not in q["text"]  # the recorded defect: text.div is missing


def test_cirg_phq9_canonical_and_its_scored_difficulty_item():
    q = _q("questionnaires/uwcirg-asbi-screening-app/Questionnaire-CIRG-PHQ9.json")
    assert q["url"] == "http://www.cdc.gov/ncbddd/fasd/phq9"
    assert by_canonical(q["url"]).key == "cirg-phq9"
    difficulty = next(it for it in q["item"] if it["linkId"] == "/69722-7")
    ords = [
        next(e["valueDecimal"] for e in o["extension"] if e["url"] == ORDINAL)
        for o in difficulty["answerOption"]
    ]
    assert ords == [0, 1, 2, 3]  # the defect: weighted like a scored item
    # all nine items "Nearly every day" and difficulty "Extremely difficult", each coding carrying its
    # option's ordinalValue as an SDC client sends it: total 27, not 30
    items = []
    for it in q["item"]:
        if it.get("type") == "choice":
            option = it["answerOption"][3]
            ordinal = [e for e in option["extension"] if e["url"] == ORDINAL]
            items.append(
                {
                    "linkId": it["linkId"],
                    "answer": [{"valueCoding": {**option["valueCoding"], "extension": ordinal}}],
                }
            )
    res = import_questionnaire_response(_qr(items, q["url"]))
    assert res.instrument_id == "phq9"
    assert res.score.total == 27
    assert res.answers["10"] == 3
    assert any("difficulty item /69722-7" in w for w in res.warnings)


def test_fhir_r4_example_phq9_has_no_item_9_and_a_miscoded_difficulty_item():
    """The R4 spec's PHQ-9 example asks 8 symptom items: the suicide item 44260-8 is absent."""
    q = _q("fhir-r4-core-examples/Questionnaire-phq-9-questionnaire.json")
    codes = [c["code"] for it in _walk(q["item"]) for c in it.get("code", [])]
    assert "44260-8" not in codes
    assert codes[:8] == PHQ9_LOINC[:8]
    difficulty = next(it for it in q["item"] if it["linkId"] == "Difficulty")
    assert difficulty["code"][0]["code"] == "44256-6"  # not 69722-7
    assert difficulty["answerValueSet"] == "http://loinc.org/vs/LL358-3"  # the frequency list
    entry = by_canonical("http://hl7.org/fhir/Questionnaire/phq-9-questionnaire")
    assert entry.missing_items == ("9",)
    assert "Difficulty" not in entry.link_ids


def test_a_response_to_the_r4_example_is_not_a_complete_phq9_and_says_why():
    links = ["LittleInterest", "FeelingDown", "TroubleSleeping", "FeelingTired", "BadAppetite",
             "FeelingBadAboutSelf", "TroubleConcentrating", "MovingSpeaking"]  # fmt: skip
    items = [_coded(link, 1) for link in links] + [_coded("Difficulty", 1)]
    items.append({"linkId": "TotalScore", "answer": [{"valueInteger": 8}]})
    res = import_questionnaire_response(_qr(items, "http://hl7.org/fhir/Questionnaire/phq-9-questionnaire"))
    assert res.instrument_id == "phq9"
    assert [res.answers[str(n)] for n in range(1, 10)] == [1, 1, 1, 1, 1, 1, 1, 1, None]
    assert res.score.total is None  # item 9 is never prorated
    assert res.score.raw_total == 8
    assert "safety_item_unanswered" in [f.code for f in res.score.flags]
    assert any("does not ask PHQ-9 item 9" in w for w in res.warnings)
    assert any("ignored: Difficulty" in w for w in res.warnings)


def test_qicore_xml_is_matched_through_its_sdc_canonical():
    xml = reference_file("questionnaires/hl7-qicore/QuestionnaireResponse-PHQ-9-example.xml").read_text(
        "utf-8"
    )
    d = parse_questionnaire_response_xml(xml)
    assert (
        d["questionnaire"]
        == "http://hl7.org/fhir/uv/sdc/Questionnaire/questionnaire-sdc-profile-example-PHQ9"
    )
    res = import_questionnaire_response(d)
    assert [res.answers[str(n)] for n in range(1, 10)] == [0, 0, 0, 1, 2, 1, 3, 2, 1]
    assert res.score.total == 10
    assert any("stored total 13 differs from the recomputed total 10" in w for w in res.warnings)
    assert any("sdc-phq9: known defect" in w for w in res.warnings)


def test_registry_canonicals_are_unique_and_items_exist():
    seen = set()
    for entry in KNOWN_QUESTIONNAIRES:
        inst = get(entry.instrument_id)
        for url in entry.canonicals:
            assert url not in seen
            seen.add(url)
            assert by_canonical(url) is entry
            assert by_canonical(url + "|1.0.0") is entry
        for item_id in [*entry.link_ids.values(), *entry.missing_items]:
            if item_id is not None:
                inst.item(item_id)  # raises if unknown
    assert by_canonical("http://loinc.org/q/44249-1").instrument_id == "phq9"
    assert by_canonical("http://loinc.org/q/69737-5").instrument_id == "gad7"
    assert by_canonical("http://loinc.org/q/44249") is None
    assert strip_version(" http://a/b|2.1 ") == "http://a/b"


# --- mapping by canonical ------------------------------------------------------------------------


def test_loinc_questionnaire_numeric_link_ids_map_by_canonical_only():
    """LOINC's own Questionnaire 44249-1 numbers its items 14363-14371 (difficulty 57492, total 14372)."""
    values = [1, 2, 3, 0, 1, 0, 2, 3, 0]  # the README's fhirpathpy oracle: 12
    items = [_coded(str(14362 + n), v) for n, v in zip(range(1, 10), values, strict=True)]
    items.append({"linkId": "57492", "answer": [{"valueCoding": {"system": LOINC, "code": "LA6573-5"}}]})
    items.append({"linkId": "14372", "answer": [{"valueDecimal": 12}]})
    res = import_questionnaire_response(_qr(items, "http://loinc.org/q/44249-1|2.72"))
    assert res.instrument_id == "phq9"
    assert res.score.total == 12
    assert res.answers["10"] == 1
    assert res.stored_total == 12
    assert res.warnings == ()
    with pytest.raises(FhirImportError, match="14363"):  # the same items with no canonical: not matched
        import_questionnaire_response(_qr(items))


def test_a_known_canonical_fixes_the_instrument():
    """Two PHQ-9 items answered under the PHQ-9 canonical are an incomplete PHQ-9, not a PHQ-2."""
    items = [_coded("/44250-9", 1), _coded("/44255-8", 1)]
    assert import_questionnaire_response(_qr(items)).instrument_id == "phq2"
    res = import_questionnaire_response(_qr(items, "http://loinc.org/q/44249-1"))
    assert res.instrument_id == "phq9"
    assert res.score.total is None


def test_argonaut_link_ids_map_by_canonical():
    url = "http://fhir.org/guides/argonaut-questionnaire/Questionnaire/questionnaire-example-phq9"
    items = [{"linkId": "g1", "item": [_coded(f"g1.q{n}", 2) for n in range(1, 10)]}]
    res = import_questionnaire_response(_qr(items, url))
    assert res.score.total == 18
    assert res.score.severity == "moderately severe"


def test_a_known_canonical_whose_items_are_another_instruments_is_refused():
    gad_items = [_coded(f"/{it.loinc}", 1) for it in get("gad7").items]
    with pytest.raises(
        FhirImportError, match=r"questionnaire: http://loinc.org/q/44249-1 is the PHQ-9"
    ) as exc:
        import_questionnaire_response(_qr(gad_items, "http://loinc.org/q/44249-1"))
    assert exc.value.field == "questionnaire"


def test_an_unregistered_canonical_is_matched_by_loinc_with_a_warning():
    items = [_coded(f"/{it.loinc}", 2) for it in get("gad7").items]
    res = import_questionnaire_response(_qr(items, "https://example.org/Questionnaire/my-gad7"))
    assert res.instrument_id == "gad7" and res.score.total == 14
    assert any(
        "https://example.org/Questionnaire/my-gad7 is not a registered questionnaire" in w
        for w in res.warnings
    )


@pytest.mark.parametrize(
    "value", [{"reference": "Questionnaire/1"}, 7, "", "   ", ["http://loinc.org/q/44249-1"]]
)
def test_a_questionnaire_that_is_not_a_canonical_string_is_refused_naming_it(value):
    with pytest.raises(FhirImportError, match="questionnaire: expected") as exc:
        import_questionnaire_response(_qr([_coded("/44250-9", 1)], value))
    assert exc.value.field == "questionnaire"


# --- mapping by definition ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        ("http://loinc.org/fhir/DataElement/44250-9", "44250-9"),
        ("http://loinc.orgfhir/DataElement/44260-8", "44260-8"),  # mis-joined base, seen in the wild
        ("http://loinc.org/q/44249-1#/44255-8", "44255-8"),
        ("https://loinc.org/rdf#69725-0", "69725-0"),
        ("http://loinc.org/44261-6", "44261-6"),
        ("http://loinc.org.example.com/44250-9", None),
        ("http://example.org/fhir/DataElement/44250-9", None),
        ("http://loinc.org/fhir/DataElement/44250-9x", None),
        ("http://loinc.org/q/44249-1", "44249-1"),  # a code, but a panel: no item has it
        (44250, None),
        (None, None),
    ],
)
def test_definition_loinc(definition, code):
    assert definition_loinc(definition) == code


def test_items_map_by_definition_when_link_ids_say_nothing():
    values = [3, 3, 3, 3, 3, 3, 3, 3, 1]
    items = [
        _coded(str(n), v, definition=f"http://loinc.org/fhir/DataElement/{code}")
        for n, (code, v) in enumerate(zip(PHQ9_LOINC, values, strict=True), start=1)
    ]
    res = import_questionnaire_response(_qr(items))
    assert res.instrument_id == "phq9"
    assert res.score.total == 25
    assert res.answers["9"] == 1


def test_an_item_mapped_to_two_different_items_is_refused():
    """linkId says item 1 (LOINC questionnaire layout) but the definition says item 2: no guessing."""
    item = _coded("14363", 1, definition="http://loinc.org/fhir/DataElement/44255-8")
    with pytest.raises(FhirImportError, match=r"item 14363: maps to more than one PHQ-9 item") as exc:
        import_questionnaire_response(_qr([item], "http://loinc.org/q/44249-1"))
    assert exc.value.field == "item"
    same = _coded("14363", 1, definition="http://loinc.org/fhir/DataElement/44250-9")
    assert import_questionnaire_response(_qr([same], "http://loinc.org/q/44249-1")).answers["1"] == 1


# --- code and ordinal value disagree ------------------------------------------------------------


@pytest.mark.parametrize("ext", [ORDINAL, ITEM_WEIGHT, CO_VALUE])
def test_code_and_ordinal_disagreeing_is_refused_naming_the_link_id(ext):
    """The pattern seen in a real export: LA6568-5 ("Not at all" = 0) sent with an ordinal of 2."""
    items = [_coded(f"/{c}", 0, ext=ext, ordinal=0) for c in PHQ9_LOINC]
    items[2] = _coded("/44259-0", 0, ext=ext, ordinal=2)
    with pytest.raises(AnswerDisagreement, match=r"item /44259-0: answer code LA6568-5 means 0 .* says 2"):
        import_questionnaire_response(_qr(items))


@pytest.mark.parametrize(("code_value", "ordinal"), [(0, 1), (3, 2), (1, 0), (2, 3)])
def test_neighbouring_ordinals_disagree(code_value, ordinal):
    with pytest.raises(AnswerDisagreement, match=r"/44260-8"):
        import_questionnaire_response(_qr([_coded("/44260-8", code_value, ext=ORDINAL, ordinal=ordinal)]))


def test_disagreement_on_an_unscored_item_is_refused_too():
    """The difficulty item is not scored, but a sender whose codes and weights disagree is not trusted."""
    items = [_coded(f"/{c}", 1) for c in PHQ9_LOINC]
    items.append({"linkId": "/69722-7", "answer": [{"valueCoding": {
        "system": LOINC, "code": "LA6574-3", "extension": [{"url": ORDINAL, "valueDecimal": 1}]}}]})  # fmt: skip
    with pytest.raises(AnswerDisagreement, match=r"item /69722-7: answer code LA6574-3 means 3"):
        import_questionnaire_response(_qr(items))


def test_sdc_item_weight_disagreeing_with_its_code_is_refused():
    coding = {"system": "http://hl7.org/fhir/uv/sdc/CodeSystem/CSPHQ9", "code": "Nearly every day",
              "extension": [{"url": ITEM_WEIGHT, "valueDecimal": 0}]}  # fmt: skip
    qr = _qr([{"linkId": "H1/T1/Q9", "answer": [{"valueCoding": coding}]}])
    with pytest.raises(AnswerDisagreement, match=r"item H1/T1/Q9: answer code Nearly every day means 3"):
        import_questionnaire_response(qr)


def test_two_ordinal_extensions_that_disagree_are_refused():
    coding = {"code": "zz", "extension": [{"url": ORDINAL, "valueDecimal": 1}]}
    answer = {"valueCoding": coding, "extension": [{"url": ITEM_WEIGHT, "valueDecimal": 2}]}
    with pytest.raises(
        AnswerDisagreement, match=r"item /44250-9: the answer carries disagreeing ordinal values \(1, 2\)"
    ):
        import_questionnaire_response(_qr([{"linkId": "/44250-9", "answer": [answer]}]))


@given(st.integers(0, 3), st.integers(0, 3), st.sampled_from([ORDINAL, ITEM_WEIGHT, CO_VALUE]))
def test_property_an_ordinal_is_accepted_exactly_when_it_equals_the_codes_value(code_value, ordinal, ext):
    qr = _qr([_coded("/69725-0", code_value, ext=ext, ordinal=ordinal)])
    if code_value == ordinal:
        assert import_questionnaire_response(qr, instrument_id="gad7").answers["1"] == code_value
    else:
        with pytest.raises(AnswerDisagreement):
            import_questionnaire_response(qr, instrument_id="gad7")


# --- the idempotency key --------------------------------------------------------------------------


def _gad_resource(**extra):
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": "Patient/7"},
        "questionnaire": "http://loinc.org/q/69737-5",
        "authored": "2024-01-02T10:00:00Z",
        "item": [{"linkId": "/69725-0", "text": "Feeling nervous", "answer": [{"valueInteger": 1}]}],
        **extra,
    }


def test_content_key_is_the_sha256_of_subject_questionnaire_authored_and_answers():
    canonical = (
        '{"answers":[{"answer":[{"valueInteger":1}],"linkId":"/69725-0"}],'
        '"authored":"2024-01-02T10:00:00+00:00","questionnaire":"http://loinc.org/q/69737-5",'
        '"subject":"Patient/7"}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    key = import_key(_gad_resource())
    assert (key.kind, key.key, key.content, key.note) == ("content", expected, expected, "")


def test_identifier_key_is_the_sha256_of_system_and_value():
    ident = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0b2a"}
    expected = hashlib.sha256(b'{"identifier":["urn:ietf:rfc:3986","urn:uuid:0b2a"]}').hexdigest()
    key = import_key(_gad_resource(identifier=ident))
    assert key.kind == "identifier" and key.key == expected
    assert key.content == import_key(_gad_resource()).key
    assert import_key(_gad_resource(identifier=[ident])).key == expected  # the XML helper's list form


def test_content_key_ignores_display_text_and_time_zone_spelling_but_not_answers():
    base = import_key(_gad_resource()).key
    assert import_key(_gad_resource(authored="2024-01-02T11:00:00+01:00")).key == base
    quiet = _gad_resource()
    quiet["item"][0]["text"] = "Nervous?"
    assert import_key(quiet).key == base
    changed = _gad_resource()
    changed["item"][0]["answer"] = [{"valueInteger": 2}]
    assert import_key(changed).key != base
    assert import_key(_gad_resource(subject={"reference": "Patient/8"})).key != base
    assert import_key(_gad_resource(authored="2024-01-02T10:00:01Z")).key != base
    assert import_key(_gad_resource(questionnaire="http://loinc.org/q/69737-5|2")).key != base


def test_an_identifier_without_system_falls_back_to_content_with_a_note():
    key = import_key(_gad_resource(identifier={"value": "42"}))
    assert key.kind == "content" and key.key == import_key(_gad_resource()).key
    assert "identifier '42' has no system" in key.note


@pytest.mark.parametrize(
    ("identifier", "fragment"),
    [
        ([{"system": "a", "value": "1"}, {"system": "a", "value": "2"}], "expected one Identifier"),
        ("urn:uuid:1", "expected an Identifier object"),
        ({"system": 3, "value": "1"}, "identifier.system: expected a string"),
        ({"system": "a", "value": 1}, "identifier.value: expected a string"),
    ],
)
def test_a_malformed_identifier_is_refused_naming_it(identifier, fragment):
    with pytest.raises(FhirImportError, match=fragment) as exc:
        import_key(_gad_resource(identifier=identifier))
    assert exc.value.field == "identifier"


@given(st.permutations(["resourceType", "status", "subject", "questionnaire", "authored", "item"]))
def test_property_content_key_does_not_depend_on_json_key_order(order):
    resource = _gad_resource()
    assert import_key({k: resource[k] for k in order}).key == import_key(resource).key
