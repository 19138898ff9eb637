"""The previous-hash link is checked on its own (issue #17 §1).

Every other tamper test also breaks a row's own hash, so removing the link check from ``verify_chain``
went unnoticed. Here the tampered row is re-hashed so that its content hash is valid: only the link to
its predecessor is wrong, and verification must name that row for that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from kairos.audit.chain import compute_hash
from kairos.audit.keys import AuditKey
from kairos.audit.models import Action, AuditEvent
from kairos.audit.services import record, verify_chain

pytestmark = pytest.mark.django_db

Tamper = Callable[[str, Sequence[Any] | None], None]
FORGED_PREV = "f" * 64


def _five(org: Any, patient: Any) -> list[AuditEvent]:
    return [
        record(Action.READ, actor=org.prescriber, patient=patient, obj=patient, summary=f"read {i}")
        for i in range(5)
    ]


def _relink(tamper: Tamper, event: AuditEvent, prev_hash: str, key: bytes | None) -> str:
    """Give ``event`` a new ``prev_hash`` and a hash that is valid for its new content."""
    tamper("UPDATE audit_auditevent SET prev_hash = %s WHERE id = %s", [prev_hash, event.pk])
    row = AuditEvent.objects.get(pk=event.pk)
    new_hash = compute_hash(row, key)
    tamper("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [new_hash, event.pk])
    row = AuditEvent.objects.get(pk=event.pk)
    assert compute_hash(row, key) == row.hash  # the row's own content hash is intact
    return new_hash


def test_unsigned_row_with_a_broken_link_is_named(org, patient, no_audit_key, tamper):
    events = _five(org, patient)
    assert all(e.key_id == "" for e in events)
    _relink(tamper, events[2], FORGED_PREV, None)
    problem = verify_chain(events[0].chain)
    assert problem is not None
    assert (problem.event_id, problem.seq) == (events[2].pk, 3)
    assert problem.problem == "previous-hash link broken (rows reordered or removed)"


def test_signed_row_relinked_by_a_key_holder_is_named(org, patient, audit_key: AuditKey, tamper):
    events = _five(org, patient)
    assert {e.key_id for e in events} == {audit_key.key_id}
    _relink(tamper, events[3], events[1].hash, audit_key.secret)  # skip row 3 in the link
    problem = verify_chain(events[0].chain, {audit_key.key_id: audit_key.secret})
    assert problem is not None
    assert (problem.event_id, problem.seq) == (events[3].pk, 4)
    assert "previous-hash link broken" in problem.problem


def test_first_row_must_link_to_genesis(org, patient, no_audit_key, tamper):
    events = _five(org, patient)
    _relink(tamper, events[0], FORGED_PREV, None)
    problem = verify_chain(events[0].chain)
    assert problem is not None
    assert (problem.event_id, problem.seq) == (events[0].pk, 1)
    assert "previous-hash link broken" in problem.problem


def test_intact_chain_has_no_problem(org, patient, no_audit_key):
    events = _five(org, patient)
    assert verify_chain(events[0].chain) is None
