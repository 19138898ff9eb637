"""Public PK API: simulate a model for one subject, summarise exposure, expose linear systems and IIV.

* :func:`simulate` (model name, subject, dose events, times) -> :class:`PKResult` (typical subject unless
  ``parameters`` overrides are given, e.g. one row of :func:`sample_parameters`).
* :func:`summarize` -> :class:`PKSummary` with the continuous Cmax/Tmax over [0, last time], the exact AUC
  over [0, last time], AUC to infinity and bioavailability (AUC_inf route / AUC_inf of the same doses given
  IV, same covariates; 1 for IV).
* :func:`linear_system` -> :class:`~kairos.pharmacology.pk.linear.LinearSystem` (K, input vectors, output
  vectors) for vectorised many-subject work; :func:`sample_parameters` draws individual parameters.

Units: amounts mg free base, time minutes, concentrations ng/mL, AUC ng.h/mL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kairos.pharmacology.pk.linear import LinearSystem, Trajectory
from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route, Subject

if TYPE_CHECKING:
    from kairos.pharmacology.models.base import IIVBlock, PKModel

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PKResult:
    """Concentration time courses (ng/mL) at ``times_min`` for one subject."""

    model: str
    times_min: FloatArray
    parent: FloatArray
    parent_analyte: str
    parent_s: FloatArray | None  # racemic dosing only (S half)
    parent_r: FloatArray | None  # racemic dosing only (R half)
    metabolite: FloatArray | None
    metabolite_analyte: str | None
    metabolite_units: str
    metabolite_note: str
    sampling_site: str
    effect: FloatArray | None  # effect-site concentration when ``effect_ke0_per_min`` was given
    warnings: tuple[str, ...]
    subject: Subject
    dose_events: tuple[DoseEvent, ...]
    trajectory: Trajectory = field(repr=False, compare=False)
    parameters: Mapping[str, float] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True, slots=True)
class PKSummary:
    analyte: str
    cmax_ng_per_ml: float
    tmax_min: float
    auc_ng_h_per_ml: float  # exact, over [0, last time]
    auc_inf_ng_h_per_ml: float
    bioavailability: float | None  # parent only


def _get_model(name: str) -> PKModel:
    from kairos.pharmacology.models import get_model  # lazy: the models import pk.linear

    return get_model(name)


def _drug_of(events: Sequence[DoseEvent]) -> Drug:
    drugs = {e.drug for e in events}
    return Drug.RACEMIC if Drug.RACEMIC in drugs or len(drugs) > 1 else next(iter(drugs))


def linear_system(
    model_name: str,
    subject: Subject,
    drug: Drug | str,
    route: Route | str | None = None,
    parameters: Mapping[str, float] | None = None,
) -> LinearSystem:
    """The model's linear system for ``subject`` (typical values unless ``parameters`` overrides).

    ``system.K`` (1/min, amounts in mg), ``system.input_vector(route, drug)`` (mg reaching each state per
    mg dosed, all channels summed; zero-order lead-ins and the per-device intranasal effect are in
    ``system.inputs[route]``), ``system.outputs['parent' | 'metabolite' | ...]`` (ng/mL per mg in state).
    ``route`` (optional) is only checked against the model's supported pairs.
    """
    model = _get_model(model_name)
    d = Drug(drug)
    if route is not None and not model.supports(d, route):
        raise InputError(_unsupported(model, d, Route(route)))
    if d not in model.support:
        raise InputError(
            f"drug must be one of {', '.join(x.value for x in model.drugs)} for {model.name} (got {d.value})"
        )
    return model.build(subject, d, parameters)


def _unsupported(m: PKModel, drug: Drug, route: Route) -> str:
    pairs = "; ".join(f"{d.value}: {', '.join(r.value for r in m.routes(d))}" for d in m.drugs)
    return f"route {route.value!r} with drug {drug.value!r} is not supported by {m.name} (supported: {pairs})"


def covariate_warnings(model_name: str, subject: Subject, dose_events: Sequence[DoseEvent] = ()) -> list[str]:
    """Warnings for covariates / doses outside the model's studied ranges."""
    model = _get_model(model_name)
    out = []
    for cov, rng in model.studied.items():
        v = getattr(subject, cov)
        if not rng.lo <= v <= rng.hi:
            out.append(
                f"{cov} {v:g} outside the studied range {rng.lo:g}-{rng.hi:g} of {model.name} ({rng.source})"
            )
    by_route: dict[Route, float] = {}
    for e in dose_events:
        by_route[e.route] = by_route.get(e.route, 0.0) + e.amount_mg_base
    for route, total in by_route.items():
        drng = model.dose_studied_mg.get(route)
        if drng is not None and not drng.lo <= total <= drng.hi:
            out.append(
                f"total {route.value} dose {total:g} mg outside the studied {drng.lo:g}-{drng.hi:g} mg ({drng.source})"
            )
    return out


def simulate(
    model_name: str,
    subject: Subject,
    dose_events: Sequence[DoseEvent],
    times_min: Sequence[float] | FloatArray,
    *,
    parameters: Mapping[str, float] | None = None,
    effect_ke0_per_min: float | None = None,
) -> PKResult:
    """Exact concentrations of ``model_name`` for ``subject`` under ``dose_events`` at ``times_min``.

    Every event's (drug, route) must be supported by the model. Racemic events feed S and R halves; the
    parent series is then S + R and ``parent_s`` / ``parent_r`` are filled. ``effect_ke0_per_min`` adds an
    effect compartment driven by the S-ketamine concentration (``parent_S`` block when racemic).
    """
    model = _get_model(model_name)
    if not dose_events:
        raise InputError("dose_events must contain at least one dose event")
    for e in dose_events:
        if not model.supports(e.drug, e.route):
            raise InputError(_unsupported(model, e.drug, e.route))
    times = np.asarray(times_min, dtype=float)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise InputError("times_min must be a non-empty list of finite, non-negative minutes")
    drug = _drug_of(dose_events)
    system = model.build(subject, drug, parameters)
    racemic = "parent_S" in system.outputs
    if effect_ke0_per_min is not None:
        system = system.with_effect_site(effect_ke0_per_min, "parent_S" if racemic else "parent")
    traj = Trajectory(system, dose_events)
    states = traj.states(times)
    out = {name: states @ vec for name, vec in system.outputs.items()}
    met_ok = model.metabolite_analyte is not None and all(
        e.route in model.metabolite_routes for e in dose_events
    )
    warnings = covariate_warnings(model_name, subject, dose_events)
    if model.metabolite_analyte is not None and not met_ok:
        warnings.append(f"no {model.metabolite_analyte} output for these routes: {model.metabolite_note}")
    params = model.typical()
    if parameters:
        params.update(parameters)
    for arr in out.values():
        np.maximum(arr, 0.0, out=arr)  # exact solutions are >= 0; clip round-off (~1e-16) below zero
        if not np.all(np.isfinite(arr)):  # pragma: no cover - defensive
            raise ArithmeticError("non-finite concentration")
    return PKResult(
        model=model.name,
        times_min=times,
        parent=out["parent"],
        parent_analyte=model.parent_analyte[drug],
        parent_s=out.get("parent_S") if racemic else None,
        parent_r=out.get("parent_R") if racemic else None,
        metabolite=out["metabolite"] if met_ok else None,
        metabolite_analyte=model.metabolite_analyte if met_ok else None,
        metabolite_units=model.metabolite_units if met_ok else "",
        metabolite_note=model.metabolite_note,
        sampling_site=model.sampling_site,
        effect=out.get("effect"),
        warnings=tuple(warnings),
        subject=subject,
        dose_events=tuple(dose_events),
        trajectory=traj,
        parameters=params,
    )


def summarize(result: PKResult, analyte: str = "parent", until_min: float | None = None) -> PKSummary:
    """Exposure metrics of ``analyte`` ('parent', 'parent_S', 'parent_R', 'metabolite', 'effect', ...).

    Cmax/Tmax: continuous maximum over [0, T] (T = ``until_min`` or the last requested time), not the grid.
    AUC: exact over [0, T]; AUC_inf: exact to infinity. Bioavailability (parent only): AUC_inf of these
    doses / AUC_inf of the same doses given as IV (same subject and parameters); 1 when all doses are IV.
    """
    traj = result.trajectory
    if analyte not in traj.system.outputs:
        raise InputError(f"analyte must be one of {', '.join(traj.system.outputs)} (got {analyte!r})")
    if analyte == "metabolite" and result.metabolite is None:
        raise InputError("metabolite output is not available for these routes in this model")
    T = float(result.times_min.max()) if until_min is None else float(until_min)
    cmax, tmax = traj.cmax(analyte, T)
    auc = traj.auc(analyte, T) / 60.0
    auc_inf = traj.auc_inf(analyte) / 60.0
    f: float | None = None
    if analyte.startswith("parent"):
        if all(e.route is Route.IV for e in result.dose_events):
            f = 1.0
        else:
            iv_events = [replace(e, route=Route.IV, duration_min=0.0) for e in result.dose_events]
            iv_traj = Trajectory(traj.system, iv_events)
            ref = iv_traj.auc_inf(analyte)
            f = auc_inf * 60.0 / ref if ref > 0 else 0.0
    vals = [cmax, tmax, auc, auc_inf] + ([f] if f is not None else [])
    if not all(math.isfinite(v) for v in vals):  # pragma: no cover - defensive
        raise ArithmeticError("non-finite exposure metric")
    return PKSummary(analyte, max(cmax, 0.0), tmax, max(auc, 0.0), max(auc_inf, 0.0), f)


def sample_parameters(
    model_name: str,
    rng: np.random.Generator,
    n: int,
    subject: Subject | None = None,
    *,
    include_placeholder_iiv: bool = False,
) -> dict[str, FloatArray]:
    """Draw ``n`` individual parameter sets: typical values with the model's published IIV.

    Returns ``{parameter name: array of n values}`` for every model parameter (those without IIV are
    constant). Each row ``{k: v[i]}`` can be passed as ``parameters=`` to :func:`simulate` or
    :func:`linear_system`; covariates (weight, age) are applied by the builder from ``subject``, so the
    draws are covariate-free (``subject`` is accepted for API symmetry and future covariate-on-IIV models).
    Log-normal blocks: P_i = P exp(eta); logit blocks: logit(P_i) = logit(P) + eta; eta ~ N(0, Omega),
    correlated within a block (Otto's V-CL blocks). IIV marked placeholder (Perez-Ruixo kmet, whose value is
    blank in the paper) is skipped unless ``include_placeholder_iiv``.
    """
    del subject
    model = _get_model(model_name)
    if n < 1:
        raise InputError(f"n must be >= 1 (got {n})")
    out = {k: np.full(n, p.value, dtype=float) for k, p in model.parameters.items()}
    for block in model.iiv:
        if block.status == "placeholder" and not include_placeholder_iiv:
            continue
        omega = np.asarray(block.omega, dtype=float)
        eta = rng.multivariate_normal(np.zeros(len(block.parameters)), omega, size=n)
        for j, name in enumerate(block.parameters):
            typical = model.parameters[name].value
            if block.transform == "log":
                out[name] = typical * np.exp(eta[:, j])
            else:
                logit = math.log(typical / (1.0 - typical))
                out[name] = 1.0 / (1.0 + np.exp(-(logit + eta[:, j])))
    return out


def iiv_blocks(model_name: str, *, include_placeholder_iiv: bool = False) -> tuple[IIVBlock, ...]:
    """The IIV blocks :func:`sample_parameters` / :func:`parameters_from_normals` use (same filter)."""
    model = _get_model(model_name)
    return tuple(b for b in model.iiv if include_placeholder_iiv or b.status != "placeholder")


def iiv_dimension(model_name: str, *, include_placeholder_iiv: bool = False) -> int:
    """Number of standard normals :func:`parameters_from_normals` consumes per subject."""
    return sum(
        len(b.parameters) for b in iiv_blocks(model_name, include_placeholder_iiv=include_placeholder_iiv)
    )


def parameters_from_normals(
    model_name: str, z: FloatArray, *, include_placeholder_iiv: bool = False
) -> dict[str, FloatArray]:
    """Individual parameters from given standard normals ``z[n, >= iiv_dimension]`` (same IIV as
    :func:`sample_parameters`: eta = L z per block with Omega = L L^T, then the block's log/logit transform).

    For callers that own their random streams (e.g. chunk-size-invariant virtual trials); columns of ``z``
    are consumed block by block in the model's IIV order, extra columns are ignored.
    """
    model = _get_model(model_name)
    z = np.asarray(z, dtype=float)
    blocks = iiv_blocks(model_name, include_placeholder_iiv=include_placeholder_iiv)
    need = sum(len(b.parameters) for b in blocks)
    if z.ndim != 2 or z.shape[1] < need:
        raise InputError(
            f"z must be a 2-D array with at least {need} columns for {model.name} (got {z.shape})"
        )
    n = z.shape[0]
    out = {k: np.full(n, p.value, dtype=float) for k, p in model.parameters.items()}
    col = 0
    for block in blocks:
        k = len(block.parameters)
        chol = np.linalg.cholesky(np.asarray(block.omega, dtype=float))
        eta = z[:, col : col + k] @ chol.T
        col += k
        for j, name in enumerate(block.parameters):
            typical = model.parameters[name].value
            if block.transform == "log":
                out[name] = typical * np.exp(eta[:, j])
            else:
                logit = math.log(typical / (1.0 - typical))
                out[name] = 1.0 / (1.0 + np.exp(-(logit + eta[:, j])))
    return out


def batch_linear_system(
    model_name: str, subject: Subject, drug: Drug | str, parameters: Mapping[str, FloatArray]
) -> LinearSystem:
    """The model's linear system for N subjects at once: ``K[N, s, s]``, ``outputs[name][N, s]`` and input
    channel fractions that are floats or ``[N]`` arrays (patient axis first).

    ``parameters``: ``{name: array of N values}`` as returned by :func:`sample_parameters` /
    :func:`parameters_from_normals` (missing names take typical values). Models whose builder is written
    for arrays (``PKModel.vectorised``) are built in one call; others are built subject by subject and
    stacked (same numbers, slower).
    """
    model = _get_model(model_name)
    d = Drug(drug)
    if d not in model.support:
        raise InputError(
            f"drug must be one of {', '.join(x.value for x in model.drugs)} for {model.name} (got {d.value})"
        )
    unknown = set(parameters) - set(model.parameters)
    if unknown:
        raise InputError(f"unknown parameter(s) for {model.name}: {sorted(unknown)}")
    sizes = {np.shape(v) for v in parameters.values()}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise InputError("parameters must be 1-D arrays of one common length N")
    n = next(iter(sizes))[0]
    p: dict[str, FloatArray] = {k: np.full(n, v.value) for k, v in model.parameters.items()}
    p.update({k: np.asarray(v, dtype=float) for k, v in parameters.items()})
    if model.vectorised:
        return model.builder(p, subject, d)  # type: ignore[arg-type]  # array-capable builder
    systems = [model.builder({k: float(v[i]) for k, v in p.items()}, subject, d) for i in range(n)]
    first = systems[0]
    inputs = {
        r: tuple(
            replace(ch, fraction=np.array([s.inputs[r][j].fraction for s in systems]))  # type: ignore[arg-type]
            for j, ch in enumerate(chans)
        )
        for r, chans in first.inputs.items()
    }
    return LinearSystem(
        np.stack([s.K for s in systems]),
        first.state_names,
        inputs,
        {k: np.stack([s.outputs[k] for s in systems]) for k in first.outputs},
        first.enantiomers,
    )
