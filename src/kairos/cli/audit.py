"""``kairos audit``: verify the hash chains, or write a signed checkpoint of their heads.

- ``kairos audit verify [--checkpoint FILE]``: recompute every chain (HMAC with the audit key; SHA-256 for
  rows written before a key existed) and, with ``--checkpoint``, compare them with a signed checkpoint.
  Exit 0 intact, 1 broken (the first broken row of each chain named: chain, row id, sequence), 2 bad
  arguments, an unreadable or malformed checkpoint file, or a missing audit key.
- ``kairos audit checkpoint --out FILE``: write ``{version, created_at, key_id, chains, mac}`` to a new
  file (``-`` for standard output); an existing file is never overwritten (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kairos.cli.main import UsageError

HELP = "Verify the audit trail's hash chains, or write a signed checkpoint of them."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["verify", "checkpoint"],
        help="verify: check every chain (and a checkpoint); checkpoint: sign the current chain heads",
    )
    parser.add_argument("--checkpoint", metavar="FILE", help="verify: also compare with this checkpoint file")
    parser.add_argument(
        "--out", metavar="FILE", help="checkpoint: the new file to write ('-': standard output)"
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "verify" and args.out:
        raise UsageError("--out belongs to 'checkpoint' (verify reads a checkpoint with --checkpoint FILE)")
    if args.action == "checkpoint" and args.checkpoint:
        raise UsageError("--checkpoint belongs to 'verify' (checkpoint writes with --out FILE)")
    if args.action == "checkpoint" and not args.out:
        raise UsageError("checkpoint needs --out FILE (a new file, or '-' for standard output)")
    if args.action == "verify" and args.checkpoint is not None and not args.checkpoint.strip():
        raise UsageError("--checkpoint needs a file name")

    from kairos.cli._django import setup

    setup()
    from kairos.audit.keys import KeyFileError
    from kairos.audit.services import AuditKeyMissing

    try:
        if args.action == "checkpoint":
            return _checkpoint(args.out)
        return _verify(args.checkpoint)
    except (KeyFileError, AuditKeyMissing) as exc:
        raise UsageError(str(exc)) from None


def _checkpoint(out: str) -> int:
    from kairos.audit import checkpoint

    data = checkpoint.build()
    if out == "-":
        sys.stdout.write(checkpoint.dumps(data))
        return 0
    path = Path(out)
    try:
        checkpoint.write_new(path, data)
    except FileExistsError:
        raise UsageError(f"--out {out} exists; checkpoints are never overwritten") from None
    except OSError as exc:
        raise UsageError(f"--out {out} cannot be written ({exc.strerror or exc})") from None
    covered = ", ".join(f"{c['chain']}@{c['sequence']}" for c in data["chains"])
    print(f"Checkpoint written to {path} (key id {data['key_id']}): {covered}")
    return 0


def _verify(checkpoint_file: str | None) -> int:
    from kairos.audit import checkpoint
    from kairos.audit.models import AuditEvent
    from kairos.audit.services import verify_all

    loaded = None
    if checkpoint_file is not None:
        try:
            loaded = checkpoint.load(Path(checkpoint_file))
        except checkpoint.CheckpointError as exc:
            raise UsageError(str(exc)) from None
    count, problems = verify_all()
    if loaded is not None:
        problems += checkpoint.check(loaded)
    rows = AuditEvent.objects.count()
    legacy = AuditEvent.objects.filter(key_id="").count()
    if problems:
        for problem in problems:
            print(f"BROKEN {problem}")
        print(f"{len(problems)} problem(s) in {count} chains ({rows} rows)")
        return 1
    against = f", matching checkpoint {checkpoint_file}" if checkpoint_file else ""
    print(f"OK: {count} chains intact ({rows} rows, {legacy} unsigned legacy rows){against}")
    return 0
