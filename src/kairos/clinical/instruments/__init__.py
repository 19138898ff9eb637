"""Versioned outcome and safety instruments (PHQ-9, GAD-7, QIDS-SR16, MADRS, C-SSRS …) and their scoring.

Public API: :func:`get`, :func:`all_instruments`, :func:`score`, :func:`overlapping`; the frozen
definitions (:class:`Instrument`, :class:`Item`, :class:`AnswerOption`) and results (:class:`Score`,
:class:`Flag`). Configurable cut-offs live in :mod:`kairos.clinical.rules.instruments`; safety alerts in
:mod:`kairos.clinical.rules.alerts`.
"""

from __future__ import annotations

from .model import (
    SEXES,
    AnswerError,
    AnswerOption,
    Band,
    ClinicOptions,
    Flag,
    Instrument,
    Item,
    Licence,
    LicenceError,
    MissingRule,
    Rater,
    RecallPeriod,
    Score,
    ScoringRule,
    SexError,
    UnknownInstrumentError,
)
from .scoring import SCORER_VERSION, all_instruments, get, overlapping, score

__all__ = [
    "SCORER_VERSION",
    "SEXES",
    "AnswerError",
    "AnswerOption",
    "Band",
    "ClinicOptions",
    "Flag",
    "Instrument",
    "Item",
    "Licence",
    "LicenceError",
    "MissingRule",
    "Rater",
    "RecallPeriod",
    "Score",
    "ScoringRule",
    "SexError",
    "UnknownInstrumentError",
    "all_instruments",
    "get",
    "overlapping",
    "score",
]
