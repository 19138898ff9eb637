"""Helpers for audit rows that are bounded per minute (denied access, failed sign-ins, polled reads).

The decision whether to write is a query on ``AuditEvent`` made while holding the chain head's row lock
(:func:`lock_chain`), so it holds across processes. What is *not* written is counted in the cache
(``CACHES["default"]``: the database cache, shared by every process) and reported in the next row of the
same key as ``new["suppressed"]`` (:func:`count_suppressed`, :func:`take_suppressed`). The count is
best-effort (the database cache has no atomic increment, and an attacker who stops leaves the last
minute's count in the cache until the next row); the bound on rows written is exact.
"""

from __future__ import annotations

from django.core.cache import cache

from kairos.audit.models import ChainHead

SUPPRESSED_TTL_S = 24 * 3600


def lock_chain(chain: str) -> None:
    """Take the chain head's row lock (no-op when the chain has no head yet). Call inside a transaction."""
    list(ChainHead.objects.select_for_update().filter(chain=chain).values_list("pk", flat=True))


def _key(key: str) -> str:
    return f"kairos:audit:suppressed:{key}"[:250]


def count_suppressed(key: str) -> None:
    if not cache.add(_key(key), 1, timeout=SUPPRESSED_TTL_S):
        try:
            cache.incr(_key(key))
        except ValueError:  # expired between add and incr
            cache.set(_key(key), 1, timeout=SUPPRESSED_TTL_S)


def take_suppressed(key: str) -> int:
    """How many were suppressed under ``key`` since the last row; resets the count."""
    value = cache.get(_key(key)) or 0
    if value:
        cache.delete(_key(key))
    return int(value)
