"""The one list-endpoint shape of /api/v1 (issue #10): ``{"count": n, "results": [...]}``.

An endpoint subclasses :class:`Page` with its item schema (``class PatientPage(Page[PatientOut])``, so the
OpenAPI component keeps its own name) and returns :func:`page_of` of its rows. ``count`` is the number of
rows returned; a ``limit`` query parameter bounds it (1 to :data:`MAX_LIMIT`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from ninja import Schema

T = TypeVar("T")

#: The largest ``limit`` any list endpoint accepts (a software bound on response size).
MAX_LIMIT = 500


class Page(Schema, Generic[T]):
    count: int
    results: list[T]


def page_of(rows: Sequence[object]) -> dict[str, object]:
    """The response body of one page of ``rows``."""
    return {"count": len(rows), "results": list(rows)}
