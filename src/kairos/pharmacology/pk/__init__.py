"""Exact linear-compartment PK solver and the public PK API (see :mod:`kairos.pharmacology.pk.api`)."""

from __future__ import annotations

from kairos.pharmacology.pk.api import (
    PKResult,
    PKSummary,
    batch_linear_system,
    covariate_warnings,
    iiv_blocks,
    iiv_dimension,
    linear_system,
    parameters_from_normals,
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
    "batch_linear_system",
    "block_diagonal",
    "covariate_warnings",
    "iiv_blocks",
    "iiv_dimension",
    "linear_system",
    "parameters_from_normals",
    "sample_parameters",
    "simulate",
    "summarize",
]
