"""Who owns an object named in a URL: the explicit interface between audit and the apps above it (#10).

audit sits at the bottom of the apps and imports none of them. Each app registers, in its
``AppConfig.ready()``, the URL kwargs that name its objects (``patient_id``, ``session_id``, …) with the model
and how to find the row's clinic and patient (:func:`register`). :mod:`kairos.audit.middleware` uses
:data:`OWNERS` to put a refused request's ``DENIED`` row on the object's clinic chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

#: (clinic id, patient id) of a stored row.
Owner = tuple[int | None, int | None]


def clinic_and_patient(obj: Any) -> Owner:
    """The default: the row's own ``clinic_id`` and ``patient_id`` (None where it has none)."""
    return getattr(obj, "clinic_id", None), getattr(obj, "patient_id", None)


@dataclass(frozen=True)
class ObjectKind:
    model: type[Model]
    owner: Callable[[Any], Owner]

    @property
    def label(self) -> str:
        return self.model._meta.label

    def owner_of(self, object_id: str) -> Owner:
        """(clinic id, patient id) of the object when it exists, else (None, None)."""
        try:
            pk = int(object_id)
        except ValueError:
            return None, None
        obj = self.model._default_manager.filter(pk=pk).first()
        return (None, None) if obj is None else self.owner(obj)


#: URL kwarg -> the kind of object it names (filled by the apps' ``ready()``).
OWNERS: dict[str, ObjectKind] = {}


def register(kwarg: str, model: type[Model], owner: Callable[[Any], Owner] = clinic_and_patient) -> None:
    """Declare that URL kwarg ``kwarg`` names a row of ``model`` owned as ``owner(row)`` says."""
    OWNERS[kwarg] = ObjectKind(model, owner)
