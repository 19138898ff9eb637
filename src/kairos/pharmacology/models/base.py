"""Data records of population PK models: every parameter with value, unit, source and status."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from kairos.pharmacology.pk.linear import LinearSystem
from kairos.pharmacology.types import Drug, Route, Subject

Status = Literal["published", "placeholder", "calibrated", "derived"]


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: float
    unit: str
    source: str
    status: Status = "published"
    description: str = ""


@dataclass(frozen=True, slots=True)
class IIVBlock:
    """Inter-individual variability on one or more parameters (multivariate normal etas).

    ``transform``: ``"log"`` -> P_i = P * exp(eta); ``"logit"`` -> logit(P_i) = logit(P) + eta.
    ``omega``: covariance matrix of the etas (variances on the diagonal).
    """

    parameters: tuple[str, ...]
    omega: tuple[tuple[float, ...], ...]
    source: str
    transform: Literal["log", "logit"] = "log"
    status: Status = "published"


@dataclass(frozen=True, slots=True)
class StudiedRange:
    lo: float
    hi: float
    source: str


Builder = Callable[[Mapping[str, float], Subject, Drug], LinearSystem]


@dataclass(frozen=True)
class PKModel:
    """One population PK model: parameters, supported drug/route pairs, outputs, caveats, builder."""

    name: str
    title: str
    citation: str
    support: Mapping[Drug, frozenset[Route]]
    sampling_site: str
    parent_analyte: Mapping[Drug, str]
    metabolite_analyte: str | None
    metabolite_routes: frozenset[Route]  # routes for which the metabolite output is valid
    metabolite_units: str  # how the metabolite output was converted to ng/mL
    metabolite_note: str
    parameters: Mapping[str, Parameter]
    iiv: tuple[IIVBlock, ...]
    caveats: tuple[str, ...]
    covariates_used: frozenset[str]  # Subject field names the model uses
    studied: Mapping[str, StudiedRange]  # covariate -> studied range (warnings outside)
    builder: Builder = field(repr=False)
    dose_studied_mg: Mapping[Route, StudiedRange] = field(default_factory=dict)
    #: the builder also accepts per-patient parameter arrays (shape (N,)) and then returns a LinearSystem
    #: whose K / outputs / channel fractions carry a leading patient axis (see pk.batch_linear_system)
    vectorised: bool = False

    def supports(self, drug: Drug | str, route: Route | str) -> bool:
        try:
            d, r = Drug(drug), Route(route)
        except ValueError:
            return False
        return r in self.support.get(d, frozenset())

    @property
    def drugs(self) -> tuple[Drug, ...]:
        return tuple(self.support)

    def routes(self, drug: Drug | None = None) -> tuple[Route, ...]:
        if drug is None:
            rs: set[Route] = set().union(*self.support.values())
        else:
            rs = set(self.support.get(drug, frozenset()))
        return tuple(r for r in Route if r in rs)

    def typical(self) -> dict[str, float]:
        return {k: p.value for k, p in self.parameters.items()}

    def build(
        self, subject: Subject, drug: Drug, overrides: Mapping[str, float] | None = None
    ) -> LinearSystem:
        params = self.typical()
        if overrides:
            unknown = set(overrides) - set(params)
            if unknown:
                raise KeyError(f"unknown parameter(s) for {self.name}: {sorted(unknown)}")
            params.update(overrides)
        return self.builder(params, subject, drug)


def batch_shape(p: Mapping[str, Any]) -> tuple[int, ...]:
    """Common broadcast shape of the parameter values: () for floats, (N,) for per-patient arrays."""
    return tuple(np.broadcast_shapes(*(np.shape(np.asarray(v)) for v in p.values())))


def P(
    name: str, value: float, unit: str, source: str, status: Status = "published", description: str = ""
) -> Parameter:
    return Parameter(name, value, unit, source, status, description)
