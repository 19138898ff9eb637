"""Exact linear-compartment PK solver and the public PK API (see :mod:`kairos.pharmacology.pk.api`)."""

from __future__ import annotations

from kairos.pharmacology.pk.api import (
    PKResult,
    PKSummary,
    covariate_warnings,
    linear_system,
    sample_parameters,
    simulate,
    summarize,
)
from kairos.pharmacology.pk.linear import InputChannel, LinearSystem, Trajectory, block_diagonal

__all__ = [
    "InputChannel",
    "LinearSystem",
    "PKResult",
    "PKSummary",
    "Trajectory",
    "block_diagonal",
    "covariate_warnings",
    "linear_system",
    "sample_parameters",
    "simulate",
    "summarize",
]
