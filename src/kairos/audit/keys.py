"""The audit trail's HMAC key(s): read from the file named by ``KAIROS_AUDIT_KEY_FILE``, never stored
in the database.

File format: one key per line; blank lines and lines starting with ``#`` are ignored. A key is the
line's text as bytes (e.g. the 64 hex characters of ``openssl rand -hex 32``), at least
:data:`MIN_KEY_BYTES` long. **The last key writes new rows; every listed key verifies.** Rotation: append
a new line and restart; keep the old lines for as long as rows signed with them exist (i.e. forever,
unless the old rows are archived with their key).

Each row stores the id of the key that signed it: ``key_id_for(key)``, the first 16 hex characters of
a SHA-256 of the key with a fixed prefix. It names the key without revealing anything about it.

This module imports Django only inside :func:`configured_keys`, so settings can validate a key file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MIN_KEY_BYTES = 32
_ID_PREFIX = b"kairos-audit-key-id\x00"


class KeyFileError(Exception):
    """The key file is missing, unreadable or malformed (the message names the file and the problem)."""


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes = field(repr=False)


def key_id_for(secret: bytes) -> str:
    return hashlib.sha256(_ID_PREFIX + secret).hexdigest()[:16]


def parse_key_file(path: str | Path) -> tuple[AuditKey, ...]:
    """Every key in the file, oldest first; refuses an unreadable file, no key, or a key under 32 bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"audit key file {path} is not readable ({exc.strerror or exc})") from None
    keys: list[AuditKey] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        secret = line.strip()
        if not secret or secret.startswith(b"#"):
            continue
        if len(secret) < MIN_KEY_BYTES:
            raise KeyFileError(
                f"audit key file {path}, line {number}: a key needs at least {MIN_KEY_BYTES} bytes "
                f"(got {len(secret)}); generate one with `openssl rand -hex 32`"
            )
        keys.append(AuditKey(key_id_for(secret), secret))
    if not keys:
        raise KeyFileError(f"audit key file {path} holds no key (one key of {MIN_KEY_BYTES}+ bytes per line)")
    return tuple(keys)


def create_key_file(path: str | Path) -> None:
    """Write a fresh random key (mode 0600) unless the file exists; safe when several processes race."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(
                "# Kairos audit HMAC key (development). Newest key last. Back it up apart from the database.\n"
            )
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic; fails if another process created the file first
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


_cache: dict[tuple[str, int, int], tuple[AuditKey, ...]] = {}


def configured_keys() -> tuple[AuditKey, ...]:
    """The keys of ``settings.AUDIT_KEY_FILE`` (empty when unset: rows are then written unkeyed).

    In development (``settings.AUDIT_KEY_AUTOCREATE``) a missing file is created first. Re-read when the
    file changes (size or modification time), so a rotated key is picked up without a restart.
    """
    from django.conf import settings

    name = getattr(settings, "AUDIT_KEY_FILE", "")
    if not name:
        return ()
    path = Path(name)
    if not path.exists() and getattr(settings, "AUDIT_KEY_AUTOCREATE", False):
        create_key_file(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise KeyFileError(f"audit key file {path} is not readable ({exc.strerror or exc})") from None
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    keys = _cache.get(cache_key)
    if keys is None:
        keys = parse_key_file(path)
        _cache.clear()
        _cache[cache_key] = keys
    return keys


def current_key() -> AuditKey | None:
    """The key that signs new rows (the file's last), or None when no key file is configured."""
    keys = configured_keys()
    return keys[-1] if keys else None


def key_by_id(key_id: str) -> AuditKey | None:
    return next((k for k in configured_keys() if k.key_id == key_id), None)
