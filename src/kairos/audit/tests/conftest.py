"""Fixtures of the audit tests: a known audit key, no key (legacy rows), and tampering as an insider."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kairos.audit.keys import AuditKey, parse_key_file
from kairos.audit.testing import enable_guard, lift_guard


def write_key_file(path: Path, *secrets_: bytes) -> tuple[AuditKey, ...]:
    path.write_bytes(b"# test audit keys, newest last\n" + b"".join(s + b"\n" for s in secrets_))
    path.chmod(0o600)
    return parse_key_file(path)


@pytest.fixture
def audit_key(tmp_path, settings) -> AuditKey:
    """A fresh key file (one key) configured for this test; returns the key."""
    path = tmp_path / "audit.key"
    (key,) = write_key_file(path, secrets.token_hex(32).encode())
    settings.AUDIT_KEY_FILE = str(path)
    settings.AUDIT_KEY_AUTOCREATE = False
    return key


@pytest.fixture
def no_audit_key(settings) -> None:
    """No key file configured: rows are written unsigned (as before the key existed)."""
    settings.AUDIT_KEY_FILE = ""
    settings.AUDIT_KEY_AUTOCREATE = False


@pytest.fixture
def tamper() -> Callable[[str, Sequence[Any] | None], None]:
    """Run SQL as an insider with database access would: lift the triggers, change rows, restore them."""

    def run(sql: str, params: Sequence[Any] | None = None) -> None:
        lift_guard(connection)
        try:
            with connection.cursor() as cur:
                cur.execute(sql, list(params or []))
        finally:
            enable_guard(connection)

    return run
