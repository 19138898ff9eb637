"""Library of population PK models (data records with cited parameters, caveats and builders).

``get_model(name)``, ``all_models()``; each :class:`PKModel` has ``supports(drug, route)``,
``parameters`` (value, unit, source, status), ``iiv`` blocks, ``caveats`` and ``build(subject, drug)``.
"""

from __future__ import annotations

from kairos.pharmacology.models import fanta_otto, legacy, perez_ruixo, simons
from kairos.pharmacology.models.base import IIVBlock, Parameter, PKModel, StudiedRange
from kairos.pharmacology.types import InputError

_MODELS: dict[str, PKModel] = {
    m.name: m
    for m in (
        perez_ruixo.MODEL,
        fanta_otto.MODEL,
        simons.MODEL,
        legacy.DOMINO_MODEL,
        legacy.CLEMENTS_MODEL,
    )
}


def get_model(name: str) -> PKModel:
    """The model record called ``name``; InputError naming the known models otherwise."""
    try:
        return _MODELS[name]
    except KeyError:
        raise InputError(f"model must be one of {', '.join(_MODELS)} (got {name!r})") from None


def all_models() -> tuple[PKModel, ...]:
    return tuple(_MODELS.values())


__all__ = ["IIVBlock", "PKModel", "Parameter", "StudiedRange", "all_models", "get_model"]
