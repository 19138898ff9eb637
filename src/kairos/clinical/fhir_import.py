"""Import FHIR R4 QuestionnaireResponses into instrument answers, and re-score them.

Items are matched, in this order, by the questionnaire's canonical URL in the registry of known
questionnaires (:mod:`kairos.clinical.fhir_questionnaires`: LOINC's own ``14363``-style linkIds, the HL7 SDC
``H1/T1/Q1`` layout, Argonaut ``g1.q1``, the FHIR R4 example's ``LittleInterest``), by a LOINC-based item
``definition``, and by LOINC code (linkId such as ``/44250-9`` or ``44250-9``, or an item ``code``). A
known canonical fixes the instrument (a PHQ-9 with two answers is a PHQ-9, not a PHQ-2); without one the
instrument with most matched items wins. One item mapped to two different items is refused.

Answers are read from the LOINC LA code (including variant codes such as LA18938-3), a known non-LOINC code
system, the ``ordinalValue`` / ``itemWeight`` extension (or the STU3 ``iso21090-CO-value``), or a plain
integer. An answer whose code and ordinal extension disagree is refused, naming the item: the importer does
not guess which of the two the sender meant. The score is always recomputed; a disagreeing stored total is
reported as a warning naming both numbers.

:func:`import_key` gives the idempotency key of a resource: its ``identifier`` (system + value) when it has
one, else a SHA-256 of subject, questionnaire, authored and the canonical JSON of the answers.

Also: an XML-to-dict helper (``xml.etree`` only) and a same-visit consistency check for exported totals
(PHQ-2 > PHQ-9 is impossible).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kairos.clinical.fhir_questionnaires import (
    KnownQuestionnaire,
    by_canonical,
    definition_loinc,
    layout_without_canonical,
)
from kairos.clinical.instruments import ClinicOptions, Instrument, Item, Score, all_instruments, get, score

LOINC = "http://loinc.org"
_ORDINAL_URLS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",  # R4
    "http://hl7.org/fhir/StructureDefinition/itemWeight",  # R5 / SDC
    "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value",  # STU3 name of ordinalValue
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


class FhirImportError(ValueError):
    """The resource cannot be mapped to an instrument (unknown codes, conflicting answers, wrong type).

    ``field`` names the part of the resource at fault (the API reports it as the error's location)."""

    def __init__(self, message: str, *, field: str = "resource") -> None:
        super().__init__(message)
        self.field = field


class AnswerDisagreement(FhirImportError):
    """An answer's code and its ordinal value extension (or two ordinal extensions) disagree."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="item")


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


def _ordinals(*nodes: Mapping[str, Any]) -> list[float]:
    """The numeric ordinal extensions (ordinalValue, itemWeight, iso21090-CO-value) on the answer's coding
    and on the answer itself, in order; a non-numeric value is not an ordinal."""
    out: list[float] = []
    for node in nodes:
        for ext in node.get("extension", []):
            if ext.get("url") in _ORDINAL_URLS:
                v = ext.get("valueDecimal", ext.get("valueInteger"))
                if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                    out.append(float(v))
    return out


def _answer_value(item: Item, answer: Mapping[str, Any], where: str) -> tuple[int, list[str]]:
    warnings: list[str] = []
    if "valueCoding" in answer:
        c = answer["valueCoding"]
        system, code = c.get("system"), c.get("code")
        ordinals = _ordinals(c, answer)
        if len(set(ordinals)) > 1:
            raise AnswerDisagreement(
                f"{where}: the answer carries disagreeing ordinal values "
                f"({', '.join(f'{o:g}' for o in ordinals)}); refused rather than guessing which is meant"
            )
        ordinal = ordinals[0] if ordinals else None
        by_code: int | None = None
        label = ""
        if system in (None, LOINC) and code:
            for o in item.options:
                if code == o.loinc or code in o.variant_loinc:
                    by_code, label = o.value, o.label
                    if code in o.variant_loinc:
                        warnings.append(
                            f"{where}: variant LOINC answer code {code} read as {o.value} ({o.label})"
                        )
        elif system in KNOWN_SYSTEMS and code in KNOWN_SYSTEMS[system]:
            by_code, label = KNOWN_SYSTEMS[system][code], str(code)
        if by_code is not None:
            if ordinal is not None and ordinal != by_code:
                raise AnswerDisagreement(
                    f"{where}: answer code {code} means {by_code} ({label}) but its ordinal value extension "
                    f"says {ordinal:g}; refused rather than guessing which is meant (correct the code or the "
                    "extension and send it again)"
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


def _questionnaire(resource: Mapping[str, Any]) -> tuple[str | None, KnownQuestionnaire | None]:
    canonical = resource.get("questionnaire")
    if canonical is None:
        return None, None
    if not isinstance(canonical, str) or not canonical.strip():
        raise FhirImportError(
            f"questionnaire: expected the Questionnaire's canonical URL as a string (FHIR R4 "
            f"QuestionnaireResponse.questionnaire), got {type(canonical).__name__}",
            field="questionnaire",
        )
    return canonical, by_canonical(canonical)


def _candidates(
    leaf: Mapping[str, Any],
    known: KnownQuestionnaire | None,
    named: bool,
    index: Mapping[str, list[tuple[Instrument, Item | None]]],
) -> list[tuple[str, Item | None, str]]:
    """(instrument id, item or None for the stored total, how it was matched) for one answered item."""
    cands: list[tuple[str, Item | None, str]] = []
    link = str(leaf.get("linkId", ""))
    layout: tuple[KnownQuestionnaire, str | None] | None = None
    if known is not None and link in known.link_ids:
        layout = known, known.link_ids[link]
    elif not named:
        layout = layout_without_canonical(link)
    if layout is not None:
        q, item_id = layout
        cands.append(
            (q.instrument_id, None if item_id is None else get(q.instrument_id).item(item_id), q.key)
        )
    code = definition_loinc(leaf.get("definition"))
    if code is not None:
        cands += [(inst.id, item, "definition") for inst, item in index.get(code, [])]
    for key in _keys(leaf):
        cands += [(inst.id, item, "LOINC code") for inst, item in index.get(key, [])]
    return cands


def import_questionnaire_response(
    resource: Mapping[str, Any],
    *,
    instrument_id: str | None = None,
    clinic_options: ClinicOptions | None = None,
) -> ImportResult:
    """Map a QuestionnaireResponse to an instrument's answers and recompute its score."""
    if resource.get("resourceType") != "QuestionnaireResponse":
        raise FhirImportError(
            f"resourceType: expected 'QuestionnaireResponse', got {resource.get('resourceType')!r}",
            field="resourceType",
        )
    status = resource.get("status")
    if status not in SCORABLE_STATUSES:
        raise FhirImportError(
            f"status: {status!r} cannot be scored; a QuestionnaireResponse needs status "
            f"{' or '.join(SCORABLE_STATUSES)} (FHIR R4 QuestionnaireResponse.status, required)",
            field="status",
        )
    _check_shape(resource)
    canonical, known = _questionnaire(resource)
    if not resource.get("item"):
        raise FhirImportError("item: the response has no answered items to score", field="item")
    index = _code_index()
    leaves = list(_leaves(resource.get("item", [])))
    # candidate matches per leaf: (instrument id, item or None for total, how matched)
    matches: list[tuple[Mapping[str, Any], list[tuple[str, Item | None, str]]]] = []
    unknown: list[str] = []
    for leaf in leaves:
        cands = _candidates(leaf, known, canonical is not None, index)
        if cands:
            matches.append((leaf, cands))
        else:
            unknown.append(str(leaf.get("linkId", "")) or "(no linkId)")
    warnings: list[str] = []
    if canonical is not None and known is None:
        warnings.append(
            f"questionnaire {canonical} is not a registered questionnaire; its items were matched by LOINC "
            "code and definition only"
        )
    counts: dict[str, int] = {}
    for _, cands in matches:
        for iid in {c[0] for c in cands if c[1] is not None and c[1].scored}:
            counts[iid] = counts.get(iid, 0) + 1
    if instrument_id is None and known is not None:
        instrument_id = known.instrument_id
        if not counts.get(instrument_id):
            raise FhirImportError(
                f"questionnaire: {canonical} is the {get(instrument_id).name} questionnaire "
                f"({known.key}), but none of the response's scored items maps to a {get(instrument_id).name} "
                f"item (linkIds: {', '.join(str(leaf.get('linkId')) for leaf in leaves) or 'none'})",
                field="questionnaire",
            )
    if instrument_id is None:
        if not counts:
            raise FhirImportError(
                "no item of this QuestionnaireResponse maps to a known instrument "
                f"(linkIds: {', '.join(unknown) or 'none'}); expected LOINC item codes, a LOINC item "
                "definition or a registered questionnaire canonical"
            )
        # Most matched items wins; ties go to the instrument with fewer items (PHQ-2 over PHQ-9), then to
        # the one with a recall that is not modified (PHQ-9 over its 24-hour variant).
        instrument_id = min(counts, key=lambda i: (-counts[i], len(get(i).items), get(i).recall.modified, i))
    inst = get(instrument_id)
    if known is not None and known.instrument_id == inst.id:
        warnings += [f"{known.key}: known defect: {d}" for d in known.defects]
        for item_id in known.missing_items:
            warnings.append(
                f"questionnaire {canonical} does not ask {inst.name} item {item_id} "
                f"({inst.item(item_id).label}); it cannot be scored as a complete {inst.name}"
            )
    if unknown:
        warnings.append(f"items not mapped to {inst.name} and ignored: {', '.join(unknown)}")
    answers: dict[str, int | None] = {}
    stored: float | None = None
    for leaf, cands in matches:
        link = str(leaf.get("linkId"))
        mine = [(item, how) for iid, item, how in cands if iid == inst.id]
        if not mine:
            warnings.append(f"item {link} belongs to another instrument and was ignored")
            continue
        targets = {"total" if item is None else item.id for item, _ in mine}
        if len(targets) > 1:
            described = "; ".join(
                f"{how}: {'the total' if item is None else f'item {item.id} ({item.label})'}"
                for item, how in mine
            )
            raise FhirImportError(
                f"item {link}: maps to more than one {inst.name} item ({described}); refused rather than "
                "guessing which is meant",
                field="item",
            )
        target = mine[0][0]
        if target is None:
            stored = _stored_total(leaf["answer"][0])
            continue
        try:
            value, notes = _answer_value(target, leaf["answer"][0], f"item {link}")
        except AnswerDisagreement:
            raise
        except FhirImportError as exc:
            if target.scored:
                raise
            warnings.append(f"unscored {exc}; ignored")
            continue
        warnings += notes
        if target.id in answers and answers[target.id] != value:
            if target.scored:
                raise FhirImportError(
                    f"item {link}: answered twice with different values ({answers[target.id]} and {value})",
                    field="item",
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


# --- idempotency --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportKey:
    """How a re-sent resource is recognised. ``key`` is unique per clinic (64 hex digits); ``content`` is
    the SHA-256 of what was said (subject, questionnaire, authored, answers), so that a re-used identifier
    with different content can be told from a plain repeat."""

    key: str
    content: str
    kind: str  # "identifier" or "content"
    note: str = ""


def _sha256(parts: Mapping[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _answers_only(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The item tree reduced to what was answered: linkIds, answers and nested items (no display text)."""
    out: list[dict[str, Any]] = []
    for it in items:
        node: dict[str, Any] = {"linkId": it.get("linkId")}
        answers = []
        for ans in it.get("answer", []):
            a = {k: v for k, v in ans.items() if k != "item"}
            if ans.get("item"):
                a["item"] = _answers_only(ans["item"])
            answers.append(a)
        if answers:
            node["answer"] = answers
        if it.get("item"):
            node["item"] = _answers_only(it["item"])
        out.append(node)
    return out


def _authored(value: Any) -> Any:
    """``authored`` as a UTC instant when it parses, so that ``Z`` and ``+00:00`` spellings are one key."""
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if when.tzinfo is not None:
            try:
                return when.astimezone(dt.UTC).isoformat()
            except OverflowError:  # year 1 with a +14:00 offset has no UTC instant
                return value
    return value


def _identifier(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    ident = resource.get("identifier")
    if ident is None:
        return None
    if isinstance(ident, list):  # the XML helper (and R5) give a list; R4 allows one identifier
        if len(ident) != 1:
            raise FhirImportError(
                f"identifier: expected one Identifier (FHIR R4 QuestionnaireResponse.identifier 0..1), "
                f"got {len(ident)}",
                field="identifier",
            )
        ident = ident[0]
    if not isinstance(ident, Mapping):
        raise FhirImportError(
            "identifier: expected an Identifier object with system and value", field="identifier"
        )
    system, value = ident.get("system"), ident.get("value")
    for name, v in (("system", system), ("value", value)):
        if v is not None and not isinstance(v, str):
            raise FhirImportError(f"identifier.{name}: expected a string", field="identifier")
    if not value or not str(value).strip():
        return None
    return (str(system or "").strip(), str(value).strip())


def import_key(resource: Mapping[str, Any]) -> ImportKey:
    """The idempotency key of a QuestionnaireResponse (see :class:`ImportKey`).

    With an ``identifier`` that has both system and value, the key is that identifier; an identifier without
    a system is not globally unique, so the content hash is used instead (with a note saying so)."""
    raw = resource.get("item")
    items: list[Mapping[str, Any]] = raw if isinstance(raw, list) else []
    subject = resource.get("subject")
    content = _sha256(
        {
            "subject": subject.get("reference") if isinstance(subject, Mapping) else None,
            "questionnaire": resource.get("questionnaire"),
            "authored": _authored(resource.get("authored")),
            "answers": _answers_only(items),
        }
    )
    ident = _identifier(resource)
    if ident is not None and ident[0]:
        return ImportKey(_sha256({"identifier": list(ident)}), content, "identifier")
    note = (
        f"identifier {ident[1]!r} has no system, so a repeat is recognised by its content instead"
        if ident is not None
        else ""
    )
    return ImportKey(content, content, "content", note)


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
