"""Writing the audit trail. Called by other apps' services inside their own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.audit import context
from kairos.audit.chain import GENESIS, compute_hash, normalise
from kairos.audit.keys import configured_keys, current_key
from kairos.audit.models import GLOBAL_CHAIN, Action, AuditEvent, ChainHead
from kairos.core.actor import Viewer


class AuditKeyMissing(Exception):
    """Keyed rows (or a checkpoint) need an audit key that is not configured; the message names it."""


def chain_for(clinic_id: int | None) -> str:
    return GLOBAL_CHAIN if clinic_id is None else f"clinic-{clinic_id}"


def _locked_head(chain: str) -> ChainHead:
    try:
        return ChainHead.objects.select_for_update().get(chain=chain)
    except ChainHead.DoesNotExist:
        try:
            with transaction.atomic():
                ChainHead.objects.create(chain=chain, seq=0, last_hash=GENESIS)
        except IntegrityError:
            pass  # another writer created it first; lock theirs
        return ChainHead.objects.select_for_update().get(chain=chain)


@transaction.atomic
def record(
    action: Action | str,
    *,
    actor: Viewer | None = None,
    clinic: Any = None,
    patient: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    old: Any = None,
    new: Any = None,
    reason: str = "",
    actor_username: str | None = None,
) -> AuditEvent:
    """Append one event to the clinic's chain, serialised by a row lock on the chain head.

    Signed with the current audit key (HMAC-SHA256, ``key_id`` on the row) when a key file is
    configured; an unreadable key file fails the write (and so the caller's transaction) rather than
    writing an unsigned row.
    """
    key = current_key()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    clinic_id = getattr(clinic, "pk", clinic)
    if clinic_id is None and patient is not None:
        clinic_id = patient.clinic_id
    ctx = context.current()
    head = _locked_head(chain_for(clinic_id))
    event = AuditEvent(
        chain=head.chain,
        seq=head.seq + 1,
        occurred_at=timezone.now(),
        clinic_id=clinic_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=actor_username if actor_username is not None else getattr(actor, "username", "") or "",
        patient_id=getattr(patient, "pk", patient),
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:200],
        old=normalise(old),
        new=normalise(new),
        reason=reason,
        request_id=ctx.request_id,
        ip=ctx.ip,
        prev_hash=head.last_hash,
        key_id=key.key_id if key else "",
    )
    # Truncate to microseconds explicitly (already the case) so every engine stores what we hashed.
    event.hash = compute_hash(event, key.secret if key else None)
    event.save(force_insert=True)
    head.seq = event.seq
    head.last_hash = event.hash
    head.save(update_fields=["seq", "last_hash"])
    return event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed fields only, as (old, new)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    event_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        if self.event_id:
            where = f"row id {self.event_id} (seq {self.seq})"
        elif self.seq is not None:
            where = f"seq {self.seq}"
        else:
            where = "chain head"
        return f"{self.chain}: {where}: {self.problem}"


def key_secrets() -> dict[str, bytes]:
    """Every configured audit key by id (empty when no key file is configured)."""
    return {key.key_id: key.secret for key in configured_keys()}


def verify_chain(chain: str, keys: Mapping[str, bytes] | None = None) -> ChainProblem | None:
    """Recompute one chain; return its first problem, or None when intact.

    Keyed rows are checked with the HMAC key their ``key_id`` names (``keys``: id -> secret, default the
    configured key file), legacy rows with SHA-256. A legacy row after a keyed one is refused: that is
    what rewriting a chain without the key looks like. Raises :class:`AuditKeyMissing` when keyed rows
    exist but no key at all is configured (a configuration problem, not evidence of tampering).
    """
    if keys is None:
        keys = key_secrets()
    expected_prev = GENESIS
    expected_seq = 1
    keyed_seen = False
    last = None
    for event in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainProblem(
                chain, event.pk, event.seq, f"sequence gap: expected seq {expected_seq} (row deleted?)"
            )
        if event.prev_hash != expected_prev:
            return ChainProblem(
                chain, event.pk, event.seq, "previous-hash link broken (rows reordered or removed)"
            )
        secret = None
        if event.key_id:
            secret = keys.get(event.key_id)
            if secret is None:
                if not keys:
                    raise AuditKeyMissing(
                        f"row id {event.pk} of chain {chain} is signed with audit key id {event.key_id}, "
                        "but no audit key is configured (set KAIROS_AUDIT_KEY_FILE)"
                    )
                return ChainProblem(
                    chain,
                    event.pk,
                    event.seq,
                    f"signed with audit key id {event.key_id}, which is not in the key file "
                    "(key removed, or row forged)",
                )
            keyed_seen = True
        elif keyed_seen:
            return ChainProblem(
                chain,
                event.pk,
                event.seq,
                "unsigned row after signed rows (chain rewritten without the audit key)",
            )
        if compute_hash(event, secret) != event.hash:
            return ChainProblem(chain, event.pk, event.seq, "content does not match its hash (row altered)")
        expected_prev = event.hash
        expected_seq += 1
        last = event
    head = ChainHead.objects.filter(chain=chain).first()
    if head is not None and (head.seq != (last.seq if last else 0) or head.last_hash != expected_prev):
        return ChainProblem(
            chain,
            None,
            None,
            f"head says seq {head.seq} but the chain ends at {expected_seq - 1} (tail rows deleted?)",
        )
    return None


def verify_all() -> tuple[int, list[ChainProblem]]:
    keys = key_secrets()
    chains = set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    chains |= set(ChainHead.objects.values_list("chain", flat=True))
    problems = [p for c in sorted(chains) if (p := verify_chain(c, keys)) is not None]
    return len(chains), problems
