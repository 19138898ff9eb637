"""Clinic scoping shared by every app (issue #10): the policy-scoped queryset and the 404/403 lookup.

These work on any model with a clinic; the :class:`~kairos.accounts.models.Clinic` lookup itself is
:func:`kairos.accounts.selectors.get_clinic` (core imports no app).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from kairos.core import policies
from kairos.core.actor import Viewer

_M = TypeVar("_M", bound=Model)


def scoped(user: Viewer, action: str, qs: QuerySet[_M], *, clinic_field: str = "clinic_id") -> QuerySet[_M]:
    """``qs`` limited to the clinics in which ``user`` may perform ``action``."""
    return qs.filter(**{f"{clinic_field}__in": policies.clinic_ids_for(user, action)})


MAX_PK = 2**63 - 1  # BigAutoField / SQLite INTEGER upper bound


def parse_pk(value: Any) -> int:
    """An integer primary key from a URL or form value; anything else, or a number no 64-bit key can hold
    (the database driver would raise OverflowError, a 500), is *not found* (404)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404("not found") from None
    if not 0 < pk <= MAX_PK:
        raise Http404("not found")
    return pk


def get_in_clinic(
    user: Viewer, qs: QuerySet[_M], pk: Any, action: str, *, clinic_attr: str = "clinic_id"
) -> _M:
    """The row ``pk`` of ``qs``: 404 if missing or outside the user's clinics, 403 inside them without the
    permission (:func:`kairos.core.policies.require`). ``clinic_attr`` names the row's clinic id
    (``"pk"`` for a clinic itself)."""
    row = qs.filter(pk=parse_pk(pk)).first()
    if row is None:
        raise Http404("not found")
    policies.require(user, action, getattr(row, clinic_attr))
    return row
