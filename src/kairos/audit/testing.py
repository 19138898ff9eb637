"""Test-database support for the append-only triggers.

Transactional tests (live server, concurrency) end with a flush that empties every table, which the
append-only triggers rightly refuse. The root conftest lifts the guard just for that flush and
restores it before every database test. Never used outside tests.
"""

from __future__ import annotations

from typing import Any

SQLITE_TRIGGERS = {
    "audit_event_no_update": "UPDATE",
    "audit_event_no_delete": "DELETE",
}


def enable_guard(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = origin")
        else:
            for name, event in SQLITE_TRIGGERS.items():
                cur.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON audit_auditevent "
                    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
                )


def lift_guard(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        else:
            for name in SQLITE_TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
