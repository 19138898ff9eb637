"""Writing the audit trail. Called by other apps' services inside their own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kairos.audit import context
from kairos.audit.chain import GENESIS, compute_hash, normalise
from kairos.audit.models import GLOBAL_CHAIN, Action, AuditEvent, ChainHead


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
    actor: Any = None,
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
    """Append one event to the clinic's chain, serialised by a row lock on the chain head."""
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
        actor=actor if getattr(actor, "is_authenticated", False) else None,
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
    )
    # Truncate to microseconds explicitly (already the case) so every engine stores what we hashed.
    event.hash = compute_hash(event)
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
        where = f"row id {self.event_id} (seq {self.seq})" if self.event_id else "chain head"
        return f"{self.chain}: {where}: {self.problem}"


def verify_chain(chain: str) -> ChainProblem | None:
    """Recompute one chain; return its first problem, or None when intact."""
    expected_prev = GENESIS
    expected_seq = 1
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
        if compute_hash(event) != event.hash:
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
    chains = set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    chains |= set(ChainHead.objects.values_list("chain", flat=True))
    problems = [p for c in sorted(chains) if (p := verify_chain(c)) is not None]
    return len(chains), problems
