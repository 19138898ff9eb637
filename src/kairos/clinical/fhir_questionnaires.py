"""A small registry of known FHIR Questionnaires for PHQ-9 and GAD-7, by canonical URL.

A QuestionnaireResponse names its Questionnaire by canonical (``QuestionnaireResponse.questionnaire``) and
its items by ``linkId``. Only some implementation guides use LOINC codes as linkIds (LHC-Forms: ``/44250-9``);
others use their own (LOINC's own Questionnaire: ``14363``; the HL7 SDC example: ``H1/T1/Q1``; Argonaut:
``g1.q1``; the FHIR R4 spec example: ``LittleInterest``). Each entry maps one Questionnaire's linkIds to
instrument items and records the defects known in that Questionnaire (tested against the files in
``shared/reference-data`` where a copy is held there).

Items may also name their data element in ``definition``; :func:`definition_loinc` reads a LOINC code from
a LOINC-based definition URI.

Pure Python: no Django, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "KNOWN_QUESTIONNAIRES",
    "KnownQuestionnaire",
    "by_canonical",
    "definition_loinc",
    "layout_without_canonical",
    "strip_version",
]


@dataclass(frozen=True, slots=True)
class KnownQuestionnaire:
    """One published Questionnaire: its canonical URL(s) and how its linkIds map to instrument items."""

    key: str
    instrument_id: str
    canonicals: tuple[str, ...]
    source: str
    # linkId -> item id of the instrument; None marks the sender's stored total
    link_ids: Mapping[str, str | None] = field(default_factory=dict)
    # linkIds that are matched by their LOINC code (``/44250-9``): nothing to list, the LOINC index maps them
    loinc_link_ids: bool = False
    # items of the instrument this Questionnaire does not ask at all (a defect when an item is scored)
    missing_items: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    # the linkIds are distinctive enough to be recognised when the response names no questionnaire
    match_without_canonical: bool = False


KNOWN_QUESTIONNAIRES: tuple[KnownQuestionnaire, ...] = (
    KnownQuestionnaire(
        key="loinc-phq9",
        instrument_id="phq9",
        canonicals=("http://loinc.org/q/44249-1",),
        source="LOINC Questionnaire 44249-1 (Regenstrief Institute), url http://loinc.org/q/44249-1 as served by "
        "the LOINC FHIR server (copy seen on gw.interop.community/cmspqrs/open, lastUpdated 2025-05-28): "
        "linkIds 14363-14371 = items 1-9, 57492 = difficulty (69722-7), 14372 = total",
        link_ids={
            **{str(14362 + n): str(n) for n in range(1, 10)},
            "57492": "10",
            "14372": None,
        },
    ),
    KnownQuestionnaire(
        key="loinc-gad7",
        instrument_id="gad7",
        canonicals=("http://loinc.org/q/69737-5",),
        source="LOINC panel 69737-5 (GAD-7); canonical http://loinc.org/q/<panel> as for 44249-1; LHC-Forms "
        "GAD-7 items are LOINC linkIds (/69725-0 ... /69736-7, total /70274-6; CIRG GAD-7 reference file)",
        loinc_link_ids=True,
    ),
    KnownQuestionnaire(
        key="sdc-phq9",
        instrument_id="phq9",
        canonicals=("http://hl7.org/fhir/uv/sdc/Questionnaire/questionnaire-sdc-profile-example-PHQ9",),
        source="HL7 SDC example PHQ-9 (HL7/sdc questionnaire-sdc-profile-example-PHQ9.fsh @4032ec6), reused by "
        "QI-Core (reference-data questionnaires/hl7-qicore/QuestionnaireResponse-PHQ-9-example.xml): "
        "H1/T1/Q1-Q9 = items 1-9, H1/TS = total; answers in CodeSystem CSPHQ9 (itemWeight 0-3)",
        link_ids={**{f"H1/T1/Q{n}": str(n) for n in range(1, 10)}, "H1/TS": None},
        defects=(
            "the example response stores a total of 13 where its answers weigh 10 (reference-data README, "
            "qicore-phq9-01): the total is always recomputed",
        ),
        match_without_canonical=True,
    ),
    KnownQuestionnaire(
        key="argonaut-phq9",
        instrument_id="phq9",
        canonicals=(
            "http://fhir.org/guides/argonaut-questionnaire/Questionnaire/questionnaire-example-phq9",
        ),
        source="Argonaut Questionnaire IG example PHQ-9 (reference-data questionnaires/lhncbc-lforms/"
        "argonaut-phq9-ish.json): g1.q1-g1.q9 = items 1-9 (LOINC 44250-9 ... 44260-8), g2.q1 = difficulty "
        "(69722-7); the total g1.s is a display item",
        link_ids={**{f"g1.q{n}": str(n) for n in range(1, 10)}, "g2.q1": "10"},
        defects=("not valid R4 as published: text.div is missing (reference-data README)",),
    ),
    KnownQuestionnaire(
        key="cirg-phq9",
        instrument_id="phq9",
        canonicals=("http://www.cdc.gov/ncbddd/fasd/phq9",),
        source="uwcirg/asbi-screening-app Questionnaire CIRG-PHQ9 (reference-data questionnaires/"
        "uwcirg-asbi-screening-app/Questionnaire-CIRG-PHQ9.json): LHC-derived, LOINC linkIds /44250-9 ...",
        loinc_link_ids=True,
        defects=(
            "the difficulty item /69722-7 carries ordinalValues 0-3 like a scored item; it is never added "
            "to the 0-27 total",
            "its canonical is a CDC FASD web address, not a PHQ-9 publisher's: accepted only because its "
            "items are LOINC-coded",
        ),
    ),
    KnownQuestionnaire(
        key="fhir-r4-example-phq9",
        instrument_id="phq9",
        canonicals=("http://hl7.org/fhir/Questionnaire/phq-9-questionnaire",),
        source="FHIR R4 specification example Questionnaire phq-9-questionnaire (hl7.fhir.r4.examples@4.0.1; "
        "reference-data fhir-r4-core-examples/Questionnaire-phq-9-questionnaire.json), base "
        "http://hl7.org/fhir; linkIds LittleInterest ... MovingSpeaking = items 1-8, TotalScore = total",
        link_ids={
            "LittleInterest": "1",
            "FeelingDown": "2",
            "TroubleSleeping": "3",
            "FeelingTired": "4",
            "BadAppetite": "5",
            "FeelingBadAboutSelf": "6",
            "TroubleConcentrating": "7",
            "MovingSpeaking": "8",
            "TotalScore": None,
        },
        missing_items=("9",),
        defects=(
            "it has no item 9 (44260-8, thoughts of death or self-harm): a response to it is never a complete "
            "PHQ-9 and the suicide item was not asked",
            "its Difficulty item is coded 44256-6, not 69722-7, and offers the frequency answer list LL358-3: "
            "it is not imported",
        ),
    ),
)

_VERSION = re.compile(r"\|[^|]*$")


def strip_version(canonical: str) -> str:
    """``url|version`` -> ``url`` (FHIR canonical references may pin a version)."""
    return _VERSION.sub("", canonical.strip())


def _build_index() -> dict[str, KnownQuestionnaire]:
    index: dict[str, KnownQuestionnaire] = {}
    for q in KNOWN_QUESTIONNAIRES:
        for url in q.canonicals:
            if url in index:
                raise ValueError(f"canonical {url} is registered twice ({index[url].key}, {q.key})")
            index[url] = q
    return index


_BY_CANONICAL = _build_index()


def by_canonical(canonical: str) -> KnownQuestionnaire | None:
    """The registered Questionnaire with this canonical (any ``|version`` ignored), or None."""
    return _BY_CANONICAL.get(strip_version(canonical))


def layout_without_canonical(link_id: str) -> tuple[KnownQuestionnaire, str | None] | None:
    """For a response that names no questionnaire: a linkId of a distinctive registered layout."""
    for q in KNOWN_QUESTIONNAIRES:
        if q.match_without_canonical and link_id in q.link_ids:
            return q, q.link_ids[link_id]
    return None


# A LOINC code: up to 7 digits, a hyphen and a check digit.
_LOINC_TAIL = re.compile(r"(?:^|[/#.:=])(\d{1,7}-\d)$")
# http(s)://loinc.org followed by "/", "#" or the mis-joined "fhir/" (not loinc.org.example.com)
_LOINC_BASE = re.compile(r"^https?://loinc\.org(?:[/#]|fhir/)")


def definition_loinc(definition: object) -> str | None:
    """The LOINC code named by a LOINC-based item ``definition``, else None.

    Forms seen in the wild: ``http://loinc.org/fhir/DataElement/44250-9`` (the STU3 DataElement form) and
    its mis-joined variant ``http://loinc.org`` + ``fhir/DataElement/44250-9``; ``http://loinc.org/q/44249-1#
    /44250-9``; ``http://loinc.org/rdf#44250-9``. Only the trailing code counts, and only under a LOINC base,
    so a definition that merely mentions a LOINC-like number elsewhere is not read as one.
    """
    if not isinstance(definition, str):
        return None
    text = definition.strip()
    if not _LOINC_BASE.match(text):
        return None
    m = _LOINC_TAIL.search(text)
    return m.group(1) if m else None
