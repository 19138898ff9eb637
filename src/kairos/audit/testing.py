"""Test-database support for the append-only triggers.

Transactional tests (live server, concurrency) end with a flush that empties every table, which the
append-only triggers rightly refuse. The root conftest lifts the guard just for that flush and
restores it before every database test. The trigger SQL is the migrations' own (one definition): the
append-only events (0002) and the forward-only chain heads (0005). On PostgreSQL
``session_replication_role = replica`` silences every trigger of the session. Never used outside tests.
"""

from __future__ import annotations

import importlib
from typing import Any

_TRIGGERS = importlib.import_module("kairos.audit.migrations.0002_append_only_triggers")
_HEAD_TRIGGERS = importlib.import_module("kairos.audit.migrations.0005_chain_head_triggers")
_SQLITE_UP = [*_TRIGGERS.SQLITE_UP, *_HEAD_TRIGGERS.SQLITE_UP]
_SQLITE_DOWN = [*_TRIGGERS.SQLITE_DOWN, *_HEAD_TRIGGERS.SQLITE_DOWN]


def enable_guard(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = origin")
        else:
            for sql in _SQLITE_UP:
                cur.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))


def lift_guard(connection: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        else:
            for sql in _SQLITE_DOWN:
                cur.execute(sql)
