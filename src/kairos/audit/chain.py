"""Canonical form and hashing of audit rows - identical on SQLite and PostgreSQL.

Canonical form: sorted-key JSON (no whitespace, ASCII) of the row's fields, times as UTC ISO-8601 with
microseconds, decimals as strings, foreign keys as their ids. The canonical form includes ``prev_hash``,
which links the chain.

Two kinds of row (see :mod:`kairos.audit.keys`):

- **keyed** (``key_id`` set): ``hash = HMAC-SHA256(key, canonical)``; the canonical form also holds
  ``key_id``. Without the key nobody can recompute it, so a rewritten chain no longer verifies.
- **legacy** (``key_id`` empty, written before a key existed): ``hash = sha256(canonical)``, canonical
  form as it always was. Such rows are never re-hashed. A keyed row may follow a legacy one (linked by
  ``prev_hash`` as usual); a legacy row after a keyed one is a downgrade and fails verification.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
import uuid
from typing import Any

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted-key, whitespace-free JSON; used for the hash and for normalising old/new values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_default)


def normalise(value: Any) -> Any:
    """Round-trip through canonical JSON so what is stored equals what was hashed, on any engine."""
    if value is None:
        return None
    return json.loads(canonical_json(value))


def row_fields(event: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chain": event.chain,
        "seq": event.seq,
        "occurred_at": utc_iso(event.occurred_at),
        "clinic": event.clinic_id,
        "actor": event.actor_id,
        "actor_username": event.actor_username,
        "patient": event.patient_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "summary": event.summary,
        "old": event.old,
        "new": event.new,
        "reason": event.reason,
        "request_id": event.request_id,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    key_id = getattr(event, "key_id", "")
    if key_id:  # legacy rows keep their original canonical form
        fields["key_id"] = key_id
    return fields


def compute_hash(event: Any, key: bytes | None = None) -> str:
    """SHA-256 of a legacy row; HMAC-SHA256 with ``key`` of a keyed row (``key`` required then)."""
    message = canonical_json(row_fields(event)).encode("ascii")
    if getattr(event, "key_id", ""):
        if key is None:
            raise ValueError(f"row signed with audit key {event.key_id} needs that key to be hashed")
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()
