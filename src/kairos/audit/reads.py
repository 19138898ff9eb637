"""Audited PHI reads: the one helper every page, htmx partial and API operation showing patient data calls.

Conventions (docs/ARCHITECTURE.md "Audit"):

* one patient shown → one ``READ`` row naming the patient (:func:`record_read`);
* a list → one ``READ`` row per clinic shown, with the count (:func:`record_list_read`), as
  :func:`kairos.patients.selectors.search_patients` does;
* a *polled* partial (``hx-trigger="every 10s"``: the today board, the alert board) passes
  ``throttle=True``: one row per user and object per ``KAIROS_AUDIT_READ_THROTTLE_MINUTES`` instead of
  one per poll.

Throttling is opt-in, for polled partials only: a poll is the browser refreshing what the user already
opened, not a new decision to look; a page or API read is a deliberate access and each one is recorded
(an accounting of disclosures must show every deliberate look, e.g. a chart opened ten times in a minute
by a curious insider). The throttle is decided by a query on :class:`AuditEvent` (a recent ``READ`` by the
same actor on the same object in the same chain) made while holding the chain head's row lock, so it holds
across processes and workers (the lock serialises writers on PostgreSQL; SQLite serialises all writers).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kairos.audit.bounded import lock_chain
from kairos.audit.models import Action, AuditEvent
from kairos.audit.services import chain_for, record
from kairos.core.actor import Viewer


def throttle_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.KAIROS_AUDIT_READ_THROTTLE_MINUTES)


def _recently_read(
    user: Viewer, chain: str, object_type: str, object_id: str, now: dt.datetime | None
) -> bool:
    since = (now or timezone.now()) - throttle_window()
    return AuditEvent.objects.filter(
        chain=chain,
        action=Action.READ,
        actor_id=getattr(user, "pk", None),
        object_type=object_type,
        object_id=object_id,
        occurred_at__gte=since,
    ).exists()


def record_read(
    user: Viewer,
    *,
    summary: str,
    patient: Any = None,
    clinic: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    new: Any = None,
    reason: str = "",
    throttle: bool = False,
    now: dt.datetime | None = None,
) -> AuditEvent | None:
    """Record one PHI read; with ``throttle``, nothing when the same user read the same object lately.

    Returns the row written, or None when throttled.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    clinic_id = getattr(clinic, "pk", clinic)
    if clinic_id is None and patient is not None:
        clinic_id = getattr(patient, "clinic_id", None)
    if not throttle:
        return record(
            Action.READ,
            actor=user,
            clinic=clinic_id,
            patient=patient,
            object_type=object_type,
            object_id=object_id,
            summary=summary,
            new=new,
            reason=reason,
        )
    chain = chain_for(clinic_id)
    with transaction.atomic():
        # Serialise with every other writer of this chain, then look for a recent read.
        lock_chain(chain)
        if _recently_read(user, chain, object_type, str(object_id), now):
            return None
        return record(
            Action.READ,
            actor=user,
            clinic=clinic_id,
            patient=patient,
            object_type=object_type,
            object_id=object_id,
            summary=summary,
            new=new,
            reason=reason,
        )


def clinic_counts(clinic_ids: Iterable[int | None]) -> Counter[int]:
    """How many rows of a list each clinic contributes (``None`` ignored)."""
    return Counter(c for c in clinic_ids if c is not None)


def record_list_read(
    user: Viewer,
    counts: Mapping[int, int],
    *,
    object_type: str,
    summary: str,
    new: Any = None,
    throttle: bool = False,
    now: dt.datetime | None = None,
) -> list[AuditEvent]:
    """One ``READ`` row per clinic with rows shown: ``"<summary> (<n> shown)"``, object id = the clinic.

    The object is (object_type, clinic): with ``throttle`` a polled list is recorded once per user, clinic
    and window, whatever the count (and not again after the page itself was read within the window).
    """
    written: list[AuditEvent] = []
    for clinic_id in sorted(c for c, n in counts.items() if n):
        event = record_read(
            user,
            clinic=clinic_id,
            object_type=object_type,
            object_id=clinic_id,
            summary=f"{summary} ({counts[clinic_id]} shown)",
            new=new,
            throttle=throttle,
            now=now,
        )
        if event is not None:
            written.append(event)
    return written
