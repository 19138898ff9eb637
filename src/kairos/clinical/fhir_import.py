"""Import FHIR R4 QuestionnaireResponses into instrument answers, and re-score them.

Items are matched by LOINC code (linkId such as ``/44250-9`` or ``44250-9``, or an item ``code``), or by a
known non-LOINC questionnaire layout (the HL7 SDC PHQ-9 example). Answers are read from the LOINC LA code
(including variant codes such as LA18938-3), a known non-LOINC code system, the ``ordinalValue`` /
``itemWeight`` extension, or a plain integer. The score is always recomputed; a disagreeing stored total
is reported as a warning naming both numbers. Also: an XML-to-dict helper (``xml.etree`` only) and a
same-visit consistency check for exported totals (PHQ-2 > PHQ-9 is impossible).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kairos.clinical.instruments import ClinicOptions, Instrument, Item, Score, all_instruments, get, score

LOINC = "http://loinc.org"
_ORDINAL_URLS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
)
SDC_PHQ9_SYSTEM = "http://hl7.org/fhir/uv/sdc/CodeSystem/CSPHQ9"
# Known non-LOINC answer systems: system -> code -> value. Source: HL7 SDC CodeSystemCSPHQ9.fsh itemWeight
# 0/1/2/3 (scoring test vectors sdc-phq9-01, qicore-phq9-01).
KNOWN_SYSTEMS: dict[str, dict[str, int]] = {
    SDC_PHQ9_SYSTEM: {
        "Not-at-all": 0,
        "Several-days": 1,
        "More than half the days": 2,
        "Nearly every day": 3,
    },
}
# Known non-LOINC layouts: linkId -> (instrument, item id); item None marks the stored total.
KNOWN_LINK_IDS: dict[str, tuple[str, str | None]] = {
    **{f"H1/T1/Q{n}": ("phq9", str(n)) for n in range(1, 10)},
    "H1/TS": ("phq9", None),
}


class FhirImportError(ValueError):
    """The resource cannot be mapped to an instrument (unknown codes, conflicting answers, wrong type)."""


@dataclass(frozen=True)
class ImportResult:
    instrument_id: str
    answers: Mapping[str, int | None]
    score: Score
    stored_total: float | None
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "answers": dict(self.answers),
            "score": self.score.to_dict(),
            "stored_total": self.stored_total,
            "warnings": list(self.warnings),
        }


def _code_index() -> dict[str, list[tuple[Instrument, Item | None]]]:
    index: dict[str, list[tuple[Instrument, Item | None]]] = {}
    for inst in all_instruments():
        if inst.loinc_total:
            index.setdefault(inst.loinc_total, []).append((inst, None))
        for item in inst.items:
            if item.loinc:
                index.setdefault(item.loinc, []).append((inst, item))
    return index


# Only finished responses are scored; in-progress, stopped and entered-in-error ones are refused.
SCORABLE_STATUSES = ("completed", "amended")
MAX_DEPTH = 32  # nested item/answer levels accepted; real questionnaires use fewer than 5
_LIST_OF_OBJECTS = ("item", "answer", "code", "extension")


def _check_shape(resource: Mapping[str, Any]) -> None:
    """Refuse structurally malformed input (wrong JSON types, absurd nesting) with the path named,
    before any mapping runs, so bad input is an import error, never a crash."""
    stack: list[tuple[Mapping[str, Any], str, int, tuple[str, ...]]] = [(resource, "", 0, _LIST_OF_OBJECTS)]
    while stack:
        node, path, depth, list_keys = stack.pop()
        if depth > MAX_DEPTH:
            raise FhirImportError(f"{path or 'resource'}: nested deeper than {MAX_DEPTH} levels")
        for key in list_keys:
            if key not in node:
                continue
            value = node[key]
            where = f"{path}.{key}" if path else key
            if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
                raise FhirImportError(f"{where}: expected a list of JSON objects")
            child_keys = _LIST_OF_OBJECTS if key in ("item", "answer") else ("extension",)
            for i, child in enumerate(value):
                stack.append((child, f"{where}[{i}]", depth + 1, child_keys))
        coding = node.get("valueCoding") if list_keys is _LIST_OF_OBJECTS else None
        if coding is not None:
            if not isinstance(coding, Mapping):
                raise FhirImportError(f"{path}.valueCoding: expected a JSON object")
            stack.append((coding, f"{path}.valueCoding", depth + 1, ("extension",)))


def _leaves(items: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for it in items:
        if it.get("answer"):
            yield it
        yield from _leaves(it.get("item", []))
        for ans in it.get("answer", []):
            yield from _leaves(ans.get("item", []))


def _keys(it: Mapping[str, Any]) -> list[str]:
    keys = [str(it.get("linkId", "")).lstrip("/")]
    keys += [c.get("code", "") for c in it.get("code", []) if c.get("system", LOINC) == LOINC]
    return [k for k in keys if k]


def _ordinal(coding: Mapping[str, Any]) -> float | None:
    for ext in coding.get("extension", []):
        if ext.get("url") in _ORDINAL_URLS:
            v = ext.get("valueDecimal", ext.get("valueInteger"))
            if isinstance(v, int | float) and not isinstance(v, bool):
                return float(v)
    return None


def _answer_value(item: Item, answer: Mapping[str, Any], where: str) -> tuple[int, list[str]]:
    warnings: list[str] = []
    if "valueCoding" in answer:
        c = answer["valueCoding"]
        system, code = c.get("system"), c.get("code")
        ordinal = _ordinal(c)
        by_code: int | None = None
        if system in (None, LOINC) and code:
            for o in item.options:
                if code == o.loinc or code in o.variant_loinc:
                    by_code = o.value
                    if code in o.variant_loinc:
                        warnings.append(
                            f"{where}: variant LOINC answer code {code} read as {o.value} ({o.label})"
                        )
        elif system in KNOWN_SYSTEMS and code in KNOWN_SYSTEMS[system]:
            by_code = KNOWN_SYSTEMS[system][code]
        if by_code is not None:
            if ordinal is not None and ordinal != by_code:
                warnings.append(
                    f"{where}: ordinalValue {ordinal:g} disagrees with code {code} = {by_code}; code used"
                )
            return by_code, warnings
        if ordinal is not None and ordinal.is_integer() and int(ordinal) in item.values:
            return int(ordinal), warnings
        raise FhirImportError(
            f"{where}: answer code {code!r} in system {system or '(none)'} has no known mapping "
            f"(expected a LOINC LA code of item {item.id}, or an ordinalValue in {list(item.values)})"
        )
    for key in ("valueInteger", "valueDecimal"):
        if key in answer:
            v = answer[key]
            if isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer():
                return int(v), warnings
    raise FhirImportError(f"{where}: unsupported answer {sorted(answer)} for item {item.id} ({item.label})")


def _stored_total(answer: Mapping[str, Any]) -> float | None:
    """The sender's own total, if it is a number; anything else is not a total to compare with."""
    for key in ("valueQuantity", "valueDecimal", "valueInteger"):
        if key in answer:
            v = (
                answer[key].get("value")
                if key == "valueQuantity" and isinstance(answer[key], Mapping)
                else answer[key]
            )
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                return float(v)
            return None
    return None


def import_questionnaire_response(
    resource: Mapping[str, Any],
    *,
    instrument_id: str | None = None,
    clinic_options: ClinicOptions | None = None,
) -> ImportResult:
    """Map a QuestionnaireResponse to an instrument's answers and recompute its score."""
    if resource.get("resourceType") != "QuestionnaireResponse":
        raise FhirImportError(
            f"resourceType: expected 'QuestionnaireResponse', got {resource.get('resourceType')!r}"
        )
    status = resource.get("status")
    if status not in SCORABLE_STATUSES:
        raise FhirImportError(
            f"status: {status!r} cannot be scored; a QuestionnaireResponse needs status "
            f"{' or '.join(SCORABLE_STATUSES)} (FHIR R4 QuestionnaireResponse.status, required)"
        )
    _check_shape(resource)
    if not resource.get("item"):
        raise FhirImportError("item: the response has no answered items to score")
    index = _code_index()
    leaves = list(_leaves(resource.get("item", [])))
    # candidate matches per leaf: (instrument id, item or None for total)
    matches: list[tuple[Mapping[str, Any], list[tuple[str, Item | None]]]] = []
    unknown: list[str] = []
    for leaf in leaves:
        cands: list[tuple[str, Item | None]] = []
        link = str(leaf.get("linkId", ""))
        if link in KNOWN_LINK_IDS:
            iid, item_id = KNOWN_LINK_IDS[link]
            cands.append((iid, None if item_id is None else get(iid).item(item_id)))
        for key in _keys(leaf):
            cands += [(inst.id, item) for inst, item in index.get(key, [])]
        if cands:
            matches.append((leaf, cands))
        else:
            unknown.append(link or "(no linkId)")
    if instrument_id is None:
        counts: dict[str, int] = {}
        for _, cands in matches:
            for iid in {c[0] for c in cands if c[1] is not None}:
                counts[iid] = counts.get(iid, 0) + 1
        if not counts:
            raise FhirImportError(
                "no item of this QuestionnaireResponse maps to a known instrument "
                f"(linkIds: {', '.join(unknown) or 'none'}); expected LOINC item codes or a known layout"
            )
        # Most matched items wins; ties go to the instrument with fewer items (PHQ-2 over PHQ-9), then to
        # the one with a recall that is not modified (PHQ-9 over its 24-hour variant).
        instrument_id = min(counts, key=lambda i: (-counts[i], len(get(i).items), get(i).recall.modified, i))
    inst = get(instrument_id)
    warnings: list[str] = []
    if unknown:
        warnings.append(f"items not mapped to {inst.name} and ignored: {', '.join(unknown)}")
    answers: dict[str, int | None] = {}
    stored: float | None = None
    for leaf, cands in matches:
        mine = [item for iid, item in cands if iid == inst.id]
        link = str(leaf.get("linkId"))
        if not mine:
            warnings.append(f"item {link} belongs to another instrument and was ignored")
            continue
        target = mine[0]
        if target is None:
            stored = _stored_total(leaf["answer"][0])
            continue
        try:
            value, notes = _answer_value(target, leaf["answer"][0], f"item {link}")
        except FhirImportError as exc:
            if target.scored:
                raise
            warnings.append(f"unscored {exc}; ignored")
            continue
        warnings += notes
        if target.id in answers and answers[target.id] != value:
            if target.scored:
                raise FhirImportError(
                    f"item {link}: answered twice with different values ({answers[target.id]} and {value})"
                )
            warnings.append(
                f"unscored item {link} answered twice ({answers[target.id]}, {value}); first kept"
            )
            continue
        if target.id in answers:
            warnings.append(f"item {link} answered twice with the same value")
        answers[target.id] = value
    result = score(inst.id, answers, clinic_options=clinic_options)
    if stored is not None:
        mine_total = result.total if result.total is not None else result.raw_total
        if stored != mine_total:
            warnings.append(
                f"stored total {stored:g} differs from the recomputed total {mine_total} "
                f"({inst.name}); the recomputed total is used"
            )
    return ImportResult(inst.id, result.answers, result, stored, tuple(warnings))


# --- XML -----------------------------------------------------------------------------------------
_FHIR_NS = "{http://hl7.org/fhir}"
_LISTS = {"item", "answer", "extension", "coding", "code", "profile", "identifier", "author", "contained"}
_INTEGERS = {"valueInteger"}
_DECIMALS = {"valueDecimal"}


def _convert(el: ET.Element) -> Any:
    children = list(el)
    if not children and "value" in el.attrib:
        return el.attrib["value"]
    out: dict[str, Any] = {}
    if "url" in el.attrib:
        out["url"] = el.attrib["url"]
    for child in children:
        name = child.tag.replace(_FHIR_NS, "")
        value = _convert(child)
        if name in _INTEGERS:
            value = int(value)
        elif name in _DECIMALS or (name == "value" and el.tag == _FHIR_NS + "valueQuantity"):
            value = float(value)
        if name in _LISTS and not isinstance(value, str):  # Coding.code is a primitive, Item.code a list
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def parse_questionnaire_response_xml(text: str) -> dict[str, Any]:
    """FHIR R4 XML QuestionnaireResponse -> the JSON dict shape :func:`import_questionnaire_response` reads."""
    root = ET.fromstring(text)
    name = root.tag.replace(_FHIR_NS, "")
    if not root.tag.startswith(_FHIR_NS):
        raise FhirImportError(f"root element {root.tag!r} is not in the FHIR namespace")
    data = _convert(root)
    data["resourceType"] = name
    return dict(data)


# --- same-visit consistency ---------------------------------------------------------------------
# (part total LOINC, whole total LOINC): the part's items are a subset of the whole's, so part <= whole.
SUBSET_TOTALS: tuple[tuple[str, str, str], ...] = (("55758-7", "44261-6", "PHQ-2 total > PHQ-9 total"),)


@dataclass(frozen=True, slots=True)
class ConsistencyIssue:
    patient: str
    encounter: str
    code: str
    message: str


def check_same_visit_consistency(rows: Iterable[Mapping[str, Any]]) -> list[ConsistencyIssue]:
    """Impossible pairs of totals in one visit, e.g. Synthea CSV rows with PHQ-2 = 5 but PHQ-9 = 3.

    ``rows`` are mappings with PATIENT, ENCOUNTER, CODE and VALUE (Synthea observations.csv columns; keys
    are matched case-insensitively).
    """
    totals: dict[tuple[str, str], dict[str, float]] = {}
    for row in rows:
        r = {str(k).upper(): v for k, v in row.items()}
        code = str(r.get("CODE", ""))
        if code not in {c for pair in SUBSET_TOTALS for c in pair[:2]}:
            continue
        try:
            value = float(r["VALUE"])
        except (KeyError, TypeError, ValueError):
            continue
        visit = (str(r.get("PATIENT", "")), str(r.get("ENCOUNTER", "")))
        totals.setdefault(visit, {})[code] = max(value, totals.get(visit, {}).get(code, value))
    issues: list[ConsistencyIssue] = []
    for (patient, encounter), codes in sorted(totals.items()):
        for part, whole, what in SUBSET_TOTALS:
            if part in codes and whole in codes and codes[part] > codes[whole]:
                issues.append(
                    ConsistencyIssue(
                        patient,
                        encounter,
                        part,
                        f"{what} in the same visit ({codes[part]:g} > {codes[whole]:g}): impossible, "
                        "the PHQ-2 items are PHQ-9 items 1-2",
                    )
                )
    return issues
