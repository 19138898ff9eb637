"""The audit trail: append-only at the database, hash-chained per clinic, verifiable."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from kairos.audit.chain import canonical_json, compute_hash, utc_iso
from kairos.audit.keys import key_by_id
from kairos.audit.models import Action, AuditEvent, ChainHead
from kairos.audit.services import record, verify_all, verify_chain
from kairos.audit.testing import enable_guard, lift_guard
from kairos.cli.main import main as cli

pytestmark = pytest.mark.django_db


def _bypass_triggers(sql: str, params: list | None = None) -> None:
    """Tamper as an attacker with database access would: lift the guard, change rows, restore it."""
    lift_guard(connection)
    try:
        with connection.cursor() as cur:
            cur.execute(sql, params or [])
    finally:
        enable_guard(connection)


def _five_events(org, patient):
    return [
        record(Action.READ, actor=org.prescriber, patient=patient, obj=patient, summary=f"read {i}")
        for i in range(5)
    ]


def test_chain_links_each_row_to_the_previous(org, patient):
    events = _five_events(org, patient)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    for prev, cur in zip(events, events[1:], strict=False):
        assert cur.prev_hash == prev.hash
    stored = AuditEvent.objects.get(pk=events[2].pk)
    key = key_by_id(stored.key_id)  # tests run with an audit key (dev default var/audit.key)
    assert key is not None
    assert compute_hash(stored, key.secret) == stored.hash  # the database returns what was signed
    assert verify_chain(events[0].chain) is None
    assert ChainHead.objects.get(chain=events[0].chain).seq == 5


def test_chains_are_per_clinic(org, patient, south_patient):
    a = record(Action.READ, actor=org.prescriber, patient=patient)
    b = record(Action.READ, actor=org.south_prescriber, patient=south_patient)
    assert a.chain != b.chain and a.seq == b.seq == 1


def test_canonical_form_is_engine_independent():
    import datetime as dt
    from decimal import Decimal

    when = dt.datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert utc_iso(when) == "2026-03-28T23:30:00.000005Z"
    assert (
        canonical_json({"b": Decimal("1.10"), "a": [when]})
        == '{"a":["2026-03-28T23:30:00.000005Z"],"b":"1.10"}'
    )


def test_database_refuses_update_and_delete(org, patient):
    event = record(Action.READ, actor=org.prescriber, patient=patient)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(RuntimeError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).summary == ""


def test_verify_names_the_altered_row(org, patient):
    events = _five_events(org, patient)
    _bypass_triggers(
        "UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["nothing to see", events[2].pk]
    )
    problem = verify_chain(events[0].chain)
    assert problem is not None and problem.event_id == events[2].pk and "altered" in problem.problem


def test_verify_names_the_row_after_a_deletion(org, patient):
    events = _five_events(org, patient)
    _bypass_triggers("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    problem = verify_chain(events[0].chain)
    assert problem is not None and problem.event_id == events[2].pk


def test_verify_detects_reordering(org, patient):
    events = _five_events(org, patient)
    # swap the sequence numbers of rows 2 and 3 (through a temporary value: (chain, seq) is unique)
    _bypass_triggers("UPDATE audit_auditevent SET seq = 999 WHERE id = %s", [events[1].pk])
    _bypass_triggers("UPDATE audit_auditevent SET seq = 2 WHERE id = %s", [events[2].pk])
    _bypass_triggers("UPDATE audit_auditevent SET seq = 3 WHERE id = %s", [events[1].pk])
    problem = verify_chain(events[0].chain)
    assert problem is not None and problem.event_id == events[2].pk


def test_verify_detects_a_truncated_tail(org, patient):
    events = _five_events(org, patient)
    _bypass_triggers("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    problem = verify_chain(events[0].chain)
    assert problem is not None and "tail" in problem.problem


def test_cli_verify_exit_codes(org, patient, capsys):
    events = _five_events(org, patient)
    assert cli(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    _bypass_triggers("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [events[3].pk])
    assert cli(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"row id {events[3].pk}" in out
    count, problems = verify_all()
    assert count >= 1 and len(problems) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain(org, patient):
    """2 threads × 100 appends to one clinic's chain: 200 contiguous rows, one intact chain."""
    errors: list[BaseException] = []

    def writer(user):
        from django.db import connections

        try:
            for i in range(100):
                record(Action.READ, actor=user, patient=patient, summary=f"{user.username} {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(u,)) for u in (org.prescriber, org.nurse)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    chain = AuditEvent.objects.filter(patient=patient).values_list("chain", flat=True).first()
    seqs = list(AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 201))
    assert verify_chain(chain) is None
