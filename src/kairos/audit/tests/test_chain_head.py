"""The chain heads are protected like the events: no delete, no move backwards (database triggers)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kairos.audit.models import Action, ChainHead
from kairos.audit.services import record, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def head(org, patient) -> ChainHead:
    for i in range(3):
        record(Action.READ, actor=org.prescriber, patient=patient, summary=f"r{i}")
    return ChainHead.objects.get(chain=f"clinic-{patient.clinic_id}")


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE audit_chainhead SET seq = seq - 1 WHERE chain = %s", []),
        ("UPDATE audit_chainhead SET seq = 0, last_hash = %s WHERE chain = %s", ["0" * 64]),
        ("UPDATE audit_chainhead SET last_hash = %s WHERE chain = %s", ["a" * 64]),
        ("UPDATE audit_chainhead SET chain = %s WHERE chain = %s", ["clinic-999999"]),
        ("DELETE FROM audit_chainhead WHERE chain = %s", []),
    ],
    ids=["seq decreased", "rewound to genesis", "hash changed in place", "renamed", "deleted"],
)
def test_database_refuses_rewinding_or_deleting_a_head(head, sql, params):
    _refused(sql, [*params, head.chain])
    after = ChainHead.objects.get(pk=head.pk)
    assert (after.chain, after.seq, after.last_hash) == (head.chain, 3, head.last_hash)
    assert verify_chain(head.chain) is None


def test_orm_bulk_operations_are_refused_too(head):
    with pytest.raises(DatabaseError), transaction.atomic():
        ChainHead.objects.filter(pk=head.pk).update(seq=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        ChainHead.objects.filter(pk=head.pk).delete()
    assert ChainHead.objects.get(pk=head.pk).seq == 3


def test_appends_still_move_the_head_forward(head, org, patient):
    event = record(Action.READ, actor=org.prescriber, patient=patient)
    after = ChainHead.objects.get(pk=head.pk)
    assert (after.seq, after.last_hash) == (4, event.hash)
    with connection.cursor() as cur:  # forward moves (and no-op updates) are allowed
        cur.execute("UPDATE audit_chainhead SET seq = seq WHERE chain = %s", [head.chain])


def test_a_fresh_sqlite_migration_installs_every_trigger(tmp_path):
    """The tests re-create the SQLite triggers before each test (kairos.audit.testing), which would hide a
    migration that lost them: migration 0004 rebuilds the events table on SQLite, dropping its triggers,
    and must put them back. So migrate a fresh file and look."""
    import sqlite3
    import subprocess
    import sys

    from kairos.audit.testing import _SQLITE_UP

    db = tmp_path / "fresh.sqlite3"
    env = {**os.environ, "KAIROS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("KAIROS_DB_OWNER_URL", None)
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        triggers = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    expected = {sql.split()[2] for sql in _SQLITE_UP}
    assert expected == {
        "audit_event_no_update",
        "audit_event_no_delete",
        "audit_head_no_delete",
        "audit_head_no_rewind",
    }
    assert triggers >= expected
