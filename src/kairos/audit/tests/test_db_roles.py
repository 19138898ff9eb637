"""PostgreSQL two roles: the application role cannot disable the audit triggers, delete or update audit
rows, or rewind a chain head; privileges are the main control, the triggers the second.

Roles are cluster-wide: each test database (one per engineer and xdist worker) gets its own role name,
and the role is dropped afterwards even when the test fails. CI part 2 runs this as the superuser.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from kairos.audit.chain import GENESIS
from kairos.audit.models import Action, ChainHead
from kairos.audit.services import record, verify_chain

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _role_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base = re.sub(r"[^a-z0-9_]", "_", f"kapp_{connection.settings_dict['NAME']}_{worker}".lower())
    return base[:63]


def _drop_role(role: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone():
            quoted = connection.ops.quote_name(role)
            cur.execute(f"DROP OWNED BY {quoted}")  # its privileges in this database
            cur.execute(f"DROP ROLE {quoted}")


@pytest.fixture
def app_role() -> Iterator[tuple[str, str]]:
    role, password = _role_name(), secrets.token_hex(16)
    _drop_role(role)  # left over by a killed run
    with connection.cursor() as cur:
        cur.execute(f"CREATE ROLE {connection.ops.quote_name(role)} LOGIN PASSWORD %s", [password])
    try:
        yield role, password
    finally:
        _drop_role(role)


def _connect_as(role: str, password: str) -> Any:
    import psycopg

    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=params["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )


def test_application_role_cannot_rewrite_the_audit_trail(org, patient, app_role):
    import psycopg
    from psycopg import errors

    events = [record(Action.READ, actor=org.prescriber, patient=patient, summary=f"r{i}") for i in range(3)]
    chain = events[0].chain
    role, password = app_role
    call_command("audit_db_grants", app_role=role, verbosity=0)

    with _connect_as(role, password) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user")
        assert cur.fetchone() == (role, False)

        def refused(
            sql: str, params: list[Any] | None = None, error: type[Exception] = errors.InsufficientPrivilege
        ) -> str:
            with pytest.raises(error) as exc:
                cur.execute(sql, params or [])
            return str(exc.value)

        # privileges, the main control: no DDL, no UPDATE/DELETE/TRUNCATE of events, no trigger switch
        assert "owner" in refused("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL")
        refused("ALTER TABLE audit_chainhead DISABLE TRIGGER ALL")
        refused("DROP TRIGGER audit_event_no_update_delete ON audit_auditevent")
        refused("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
        refused("UPDATE audit_auditevent SET summary = 'rewritten' WHERE id = %s", [events[1].pk])
        refused("TRUNCATE audit_auditevent")
        refused("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
        refused("SET session_replication_role = replica")
        refused("CREATE TABLE kairos_probe (id int)")
        # the trigger, the second control: UPDATE on heads is granted (appends) but never backwards
        assert "only move forward" in refused(
            "UPDATE audit_chainhead SET seq = 1, last_hash = %s WHERE chain = %s",
            [events[0].hash, chain],
            errors.RaiseException,
        )

        # what the application needs still works: read, append, move a head forward, normal tables
        cur.execute("SELECT count(*) FROM audit_auditevent WHERE chain = %s", [chain])
        assert cur.fetchone() == (3,)
        cur.execute("SELECT seq FROM audit_chainhead WHERE chain = %s FOR UPDATE", [chain])
        assert cur.fetchone() == (3,)
        cur.execute("INSERT INTO audit_chainhead (chain, seq, last_hash) VALUES ('probe', 0, %s)", [GENESIS])
        cur.execute("UPDATE audit_chainhead SET seq = 1, last_hash = %s WHERE chain = 'probe'", ["b" * 64])
        cur.execute(
            "INSERT INTO audit_auditevent (chain, seq, occurred_at, actor_username, action, object_type,"
            " object_id, summary, reason, request_id, prev_hash, hash, key_id)"
            " VALUES ('probe', 1, now(), '', 'read', '', '', '', '', '', %s, %s, '')",
            [GENESIS, "b" * 64],
        )
        cur.execute("UPDATE accounts_organisation SET name = name WHERE id = %s", [org.org.pk])
        assert isinstance(conn, psycopg.Connection)

    # nothing the application role tried changed the real chain
    assert verify_chain(chain) is None
    assert ChainHead.objects.get(chain=chain).seq == 3


def test_grant_sql_can_be_printed(capsys, app_role):
    role, _ = app_role
    call_command("audit_db_grants", app_role=role, print=True)
    out = capsys.readouterr().out
    assert f'REVOKE UPDATE, DELETE, TRUNCATE ON "public"."audit_auditevent" FROM "{role}";' in out
    assert f'REVOKE DELETE, TRUNCATE ON "public"."audit_chainhead" FROM "{role}";' in out
