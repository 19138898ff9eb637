"""Signed checkpoints: the head of every chain, MACed with the audit key, kept outside the database.

A checkpoint is JSON ``{version, created_at, key_id, chains: [{chain, sequence, hash}], mac}``; ``mac`` is
HMAC-SHA256 with the audit key named by ``key_id`` over the canonical JSON (:func:`canonical_json`) of
the other fields. Shipped to write-once storage (docs/DEPLOYMENT.md), it anchors the chains: cutting a
chain's tail and rewinding its head, or rewriting it, no longer matches an earlier checkpoint, even for
an insider who holds the database and the key but not the stored checkpoints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kairos.audit.chain import GENESIS, canonical_json, utc_iso
from kairos.audit.keys import current_key, key_by_id
from kairos.audit.models import GLOBAL_CHAIN, AuditEvent, ChainHead
from kairos.audit.services import AuditKeyMissing, ChainProblem

VERSION = 1
_HASH = re.compile(r"^[0-9a-f]{64}$")
_FILE_TIME = "%Y%m%dT%H%M%S.%fZ"


class CheckpointError(Exception):
    """The checkpoint file is unreadable or malformed (the message names the file and the field)."""


def _mac(secret: bytes, body: dict[str, Any]) -> str:
    return hmac.new(secret, canonical_json(body).encode("ascii"), hashlib.sha256).hexdigest()


def build(now: dt.datetime | None = None) -> dict[str, Any]:
    """A checkpoint of every chain head (the global sign-in chain always included), signed now."""
    key = current_key()
    if key is None:
        raise AuditKeyMissing("a checkpoint needs the audit key: set KAIROS_AUDIT_KEY_FILE")
    with transaction.atomic():  # one consistent snapshot of the heads
        heads = {h.chain: (h.seq, h.last_hash) for h in ChainHead.objects.all()}
    heads.setdefault(GLOBAL_CHAIN, (0, GENESIS))
    body: dict[str, Any] = {
        "version": VERSION,
        "created_at": utc_iso(now or timezone.now()),
        "key_id": key.key_id,
        "chains": [{"chain": c, "sequence": s, "hash": h} for c, (s, h) in sorted(heads.items())],
    }
    return {**body, "mac": _mac(key.secret, body)}


def dumps(checkpoint: dict[str, Any]) -> str:
    return json.dumps(checkpoint, indent=2, sort_keys=True) + "\n"


def write_new(path: Path, checkpoint: dict[str, Any]) -> None:
    """Write to a new file (mode 0640); an existing file is never overwritten (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(dumps(checkpoint))


def load(path: Path) -> dict[str, Any]:
    """Read and validate a checkpoint file; :class:`CheckpointError` names what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint file {path} is not readable ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"checkpoint file {path} is not JSON ({exc})") from None

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint file {path}: {what}")

    if not isinstance(data, dict):
        raise bad("expected a JSON object")
    expected = {"version", "created_at", "key_id", "chains", "mac"}
    if set(data) != expected:
        raise bad(f"fields must be exactly {', '.join(sorted(expected))} (got {', '.join(sorted(data))})")
    if data["version"] != VERSION:
        raise bad(f"version must be {VERSION} (got {data['version']!r})")
    for name in ("created_at", "key_id", "mac"):
        if not isinstance(data[name], str) or not data[name]:
            raise bad(f"{name} must be a non-empty string")
    if not isinstance(data["chains"], list) or not data["chains"]:
        raise bad("chains must be a non-empty list")
    for i, entry in enumerate(data["chains"]):
        if not isinstance(entry, dict) or set(entry) != {"chain", "sequence", "hash"}:
            raise bad(f"chains[{i}] must have exactly chain, sequence and hash")
        if not isinstance(entry["chain"], str) or not entry["chain"]:
            raise bad(f"chains[{i}].chain must be a non-empty string")
        seq = entry["sequence"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise bad(f"chains[{i}].sequence must be a whole number >= 0 (got {seq!r})")
        if not isinstance(entry["hash"], str) or not _HASH.match(entry["hash"]):
            raise bad(f"chains[{i}].hash must be 64 lowercase hex characters")
    return data


def check(checkpoint: dict[str, Any]) -> list[ChainProblem]:
    """Compare the database with a (validated) checkpoint: its MAC, then every chain it covers.

    A chain that ends before the checkpoint's sequence is *shorter*; a different hash at that sequence
    *diverges*. Raises :class:`AuditKeyMissing` when the checkpoint's key is not configured.
    """
    key = key_by_id(checkpoint["key_id"])
    if key is None:
        raise AuditKeyMissing(
            f"the checkpoint is signed with audit key id {checkpoint['key_id']}, which is not in the "
            "configured key file (KAIROS_AUDIT_KEY_FILE)"
        )
    body = {k: v for k, v in checkpoint.items() if k != "mac"}
    if not hmac.compare_digest(_mac(key.secret, body), checkpoint["mac"]):
        return [
            ChainProblem(
                "checkpoint", None, None, "MAC does not match: the checkpoint file was altered (or forged)"
            )
        ]
    problems: list[ChainProblem] = []
    for entry in checkpoint["chains"]:
        chain, seq, expected = entry["chain"], entry["sequence"], entry["hash"]
        if seq == 0:
            continue
        event = AuditEvent.objects.filter(chain=chain, seq=seq).only("id", "hash").first()
        if event is None:
            last = (
                AuditEvent.objects.filter(chain=chain).order_by("-seq").values_list("seq", flat=True).first()
            )
            problems.append(
                ChainProblem(
                    chain,
                    None,
                    seq,
                    f"chain is shorter than the checkpoint of {checkpoint['created_at']}: "
                    f"it ends at seq {last or 0}, the checkpoint has seq {seq}",
                )
            )
        elif event.hash != expected:
            problems.append(
                ChainProblem(
                    chain,
                    event.pk,
                    seq,
                    f"diverges from the checkpoint of {checkpoint['created_at']}: hash at seq {seq} differs",
                )
            )
    return problems


def file_name(when: dt.datetime) -> str:
    return f"checkpoint-{when.astimezone(dt.UTC).strftime(_FILE_TIME)}.json"


def latest_time(directory: Path) -> dt.datetime | None:
    """When the newest checkpoint in ``directory`` was made (from its file name), or None."""
    newest = None
    for path in directory.glob("checkpoint-*.json"):
        try:
            stamp = path.name[len("checkpoint-") : -len(".json")]
            when = dt.datetime.strptime(stamp.removesuffix("Z") + "+0000", "%Y%m%dT%H%M%S.%f%z")
        except ValueError:
            continue
        newest = when if newest is None or when > newest else newest
    return newest


def write_scheduled(directory: Path, interval: dt.timedelta, *, force: bool = False) -> Path | None:
    """Write a checkpoint into ``directory`` unless the newest one there is younger than ``interval``.

    Files are named by time (``checkpoint-YYYYmmddTHHMMSS.ffffffZ.json``) and never overwritten.
    Returns the new file, or None when it was not yet due.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    last = latest_time(directory)
    if not force and last is not None and now - last < interval:
        return None
    path = directory / file_name(now)
    write_new(path, build(now))
    return path
