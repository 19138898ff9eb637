"""An insider with database access but without the audit key (and without the stored checkpoints)
cannot rewrite the trail silently: rewrites fail against the key, truncations against a checkpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

import pytest
from django.core.management import call_command

from kairos.audit import checkpoint
from kairos.audit.chain import compute_hash
from kairos.audit.models import GLOBAL_CHAIN, Action, AuditEvent, ChainHead
from kairos.audit.services import record, verify_all, verify_chain
from kairos.cli.main import main as cli

pytestmark = pytest.mark.django_db


def _five(org, patient) -> list[AuditEvent]:
    return [record(Action.READ, actor=org.prescriber, patient=patient, summary=f"read {i}") for i in range(5)]


def _checkpoint_file(tmp_path, name: str = "cp.json"):
    path = tmp_path / name
    assert cli(["audit", "checkpoint", "--out", str(path)]) == 0
    return path


def _delete_middle_and_rehash(tamper, events: list[AuditEvent], how: str) -> None:
    """Delete row 2 and re-hash rows 3..5 with the project's own chain code, as an insider without the
    key can: plain SHA-256 (stripping the key id), or HMAC under a key of their own."""
    wrong_key = secrets.token_bytes(32)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    prev = AuditEvent.objects.get(pk=events[0].pk)
    for original in events[2:]:
        row = AuditEvent.objects.get(pk=original.pk)
        row.seq -= 1
        row.prev_hash = prev.hash
        if how == "sha256":
            row.key_id = ""
            row.hash = compute_hash(row)
        else:
            row.hash = compute_hash(row, wrong_key)
        tamper(
            "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
            [row.seq, row.prev_hash, row.hash, row.key_id, row.pk],
        )
        prev = row
    tamper(
        "UPDATE audit_chainhead SET seq = %s, last_hash = %s WHERE chain = %s",
        [prev.seq, prev.hash, prev.chain],
    )


@pytest.mark.parametrize("how", ["sha256", "wrong key"])
def test_deleting_a_middle_row_and_rehashing_fails_against_the_key_and_the_checkpoint(
    org, patient, audit_key, tamper, tmp_path, capsys, how
):
    events = _five(org, patient)
    chain = events[0].chain
    saved = _checkpoint_file(tmp_path)
    capsys.readouterr()
    _delete_middle_and_rehash(tamper, events, how)
    # the chain's own links and sequence are consistent again ...
    assert list(AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True)) == [
        1,
        2,
        3,
        4,
    ]
    # ... but the rewritten rows do not carry a valid signature
    problem = verify_chain(chain)
    assert problem is not None and problem.event_id == events[2].pk and problem.seq == 2
    expected = "unsigned row after signed rows" if how == "sha256" else "does not match its hash"
    assert expected in problem.problem
    # and the checkpoint no longer matches: its seq 5 is gone
    problems = checkpoint.check(checkpoint.load(saved))
    assert [(p.chain, p.seq) for p in problems] == [(chain, 5)] and "shorter" in problems[0].problem
    assert cli(["audit", "verify", "--checkpoint", str(saved)]) == 1
    out = capsys.readouterr().out
    assert f"{chain}: row id {events[2].pk} (seq 2)" in out and f"{chain}: seq 5: chain is shorter" in out


def test_truncating_the_tail_and_rewinding_the_head_fails_against_the_checkpoint(
    org, patient, audit_key, tamper, tmp_path, capsys
):
    events = _five(org, patient)
    chain = events[0].chain
    saved = _checkpoint_file(tmp_path)
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [events[3].pk, events[4].pk])
    tamper("UPDATE audit_chainhead SET seq = 3, last_hash = %s WHERE chain = %s", [events[2].hash, chain])
    # what is left is a perfectly valid chain: the key alone cannot tell
    assert verify_chain(chain) is None
    capsys.readouterr()
    assert cli(["audit", "verify"]) == 0
    # the checkpoint can: the chain is shorter than what was signed
    assert cli(["audit", "verify", "--checkpoint", str(saved)]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN {chain}: seq 5: chain is shorter than the checkpoint" in out
    assert "it ends at seq 3, the checkpoint has seq 5" in out


def test_truncating_and_regrowing_diverges_from_the_checkpoint(org, patient, audit_key, tamper, tmp_path):
    """Cut the tail, rewind the head, then let new rows fill the same sequence numbers."""
    events = _five(org, patient)
    chain = events[0].chain
    saved = checkpoint.load(_checkpoint_file(tmp_path))
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [events[3].pk, events[4].pk])
    tamper("UPDATE audit_chainhead SET seq = 3, last_hash = %s WHERE chain = %s", [events[2].hash, chain])
    new = [record(Action.READ, actor=org.nurse, patient=patient, summary="innocent") for _ in range(3)]
    assert verify_chain(chain) is None
    problems = checkpoint.check(saved)
    assert [(p.chain, p.event_id, p.seq) for p in problems] == [(chain, new[1].pk, 5)]
    assert "diverges" in problems[0].problem


def test_plain_tampering_names_the_row(org, patient, audit_key, tamper, capsys):
    events = _five(org, patient)
    tamper("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["nothing to see", events[3].pk])
    assert cli(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN {events[0].chain}: row id {events[3].pk} (seq 4): content does not match its hash" in out


def test_checkpoint_covers_every_chain_and_is_signed(org, patient, south_patient, audit_key, tmp_path):
    a = record(Action.READ, actor=org.prescriber, patient=patient)
    b = record(Action.READ, actor=org.south_prescriber, patient=south_patient)
    data = checkpoint.load(_checkpoint_file(tmp_path))
    assert data["version"] == 1 and data["key_id"] == audit_key.key_id
    by_chain = {c["chain"]: (c["sequence"], c["hash"]) for c in data["chains"]}
    assert by_chain[a.chain] == (1, a.hash) and by_chain[b.chain] == (1, b.hash)
    assert GLOBAL_CHAIN in by_chain  # the sign-in chain, even before anyone signed in
    body = {k: v for k, v in data.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert data["mac"] == hmac.new(audit_key.secret, canonical, hashlib.sha256).hexdigest()
    assert checkpoint.check(data) == []


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["chains"][0].update(sequence=d["chains"][0]["sequence"] - 1),
        lambda d: d["chains"][0].update(hash="f" * 64),
        lambda d: d.update(created_at="2020-01-01T00:00:00.000000Z"),
        lambda d: d["chains"].pop(0),
    ],
    ids=["sequence lowered", "hash replaced", "date changed", "chain dropped"],
)
def test_a_tampered_checkpoint_fails_its_mac(org, patient, audit_key, tmp_path, capsys, edit):
    _five(org, patient)
    path = _checkpoint_file(tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    capsys.readouterr()
    assert cli(["audit", "verify", "--checkpoint", str(path)]) == 1
    assert "BROKEN checkpoint: chain head: MAC does not match" in capsys.readouterr().out


def test_cli_exit_codes(org, patient, audit_key, tmp_path, settings, capsys):
    _five(org, patient)
    path = _checkpoint_file(tmp_path)
    assert cli(["audit", "verify"]) == 0
    assert cli(["audit", "verify", "--checkpoint", str(path)]) == 0
    assert "matching checkpoint" in capsys.readouterr().out

    def usage(argv: list[str], needle: str) -> None:
        assert cli(argv) == 2, argv
        assert needle in capsys.readouterr().err

    usage(["audit", "checkpoint", "--out", str(path)], "never overwritten")
    usage(["audit", "checkpoint"], "checkpoint needs --out FILE")
    usage(["audit", "verify", "--out", str(tmp_path / "x")], "--out belongs to 'checkpoint'")
    usage(
        ["audit", "checkpoint", "--out", str(tmp_path / "y"), "--checkpoint", str(path)],
        "--checkpoint belongs",
    )
    usage(["audit", "verify", "--checkpoint", str(tmp_path / "missing.json")], "is not readable")
    usage(["audit", "checkpoint", "--out", str(tmp_path / "no-dir" / "cp.json")], "cannot be written")
    (tmp_path / "bad.json").write_text("{not json")
    usage(["audit", "verify", "--checkpoint", str(tmp_path / "bad.json")], "is not JSON")
    malformed = json.loads(path.read_text())
    del malformed["mac"]
    (tmp_path / "nomac.json").write_text(json.dumps(malformed))
    usage(["audit", "verify", "--checkpoint", str(tmp_path / "nomac.json")], "fields must be exactly")
    malformed = json.loads(path.read_text())
    malformed["chains"][0]["sequence"] = -3
    (tmp_path / "neg.json").write_text(json.dumps(malformed))
    usage(
        ["audit", "verify", "--checkpoint", str(tmp_path / "neg.json")],
        "chains[0].sequence must be a whole number >= 0",
    )
    # a checkpoint signed with a key this installation does not have
    (tmp_path / "other.key").write_text(secrets.token_hex(32) + "\n")
    settings.AUDIT_KEY_FILE = str(tmp_path / "other.key")
    usage(["audit", "verify", "--checkpoint", str(path)], f"audit key id {audit_key.key_id}")
    # no key at all
    settings.AUDIT_KEY_FILE = ""
    usage(["audit", "checkpoint", "--out", str(tmp_path / "z.json")], "KAIROS_AUDIT_KEY_FILE")
    with pytest.raises(SystemExit) as exc:
        cli(["audit", "nonsense"])
    assert exc.value.code == 2


def test_checkpoint_to_standard_output(org, patient, audit_key, capsys):
    _five(org, patient)
    assert cli(["audit", "checkpoint", "--out", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert checkpoint.check(data) == []


def test_scheduled_checkpoints_are_named_by_time_and_never_overwritten(
    org, patient, audit_key, tmp_path, settings
):
    settings.AUDIT_CHECKPOINT_MINUTES = 60
    record(Action.READ, actor=org.prescriber, patient=patient)
    directory = tmp_path / "checkpoints"
    call_command("audit_checkpoint", dir=str(directory), verbosity=0)
    call_command("audit_checkpoint", dir=str(directory), verbosity=0)  # not due yet
    files = sorted(directory.glob("checkpoint-*.json"))
    assert len(files) == 1 and checkpoint.latest_time(directory) is not None
    first = files[0].read_text()
    record(Action.READ, actor=org.prescriber, patient=patient)
    call_command("audit_checkpoint", dir=str(directory), force=True, verbosity=0)
    files = sorted(directory.glob("checkpoint-*.json"))
    assert len(files) == 2 and files[0].read_text() == first
    assert [checkpoint.check(checkpoint.load(f)) for f in files] == [[], []]
    seqs = [{c["chain"]: c["sequence"] for c in checkpoint.load(f)["chains"]} for f in files]
    chain = next(c for c in seqs[1] if c.startswith("clinic-"))
    assert (seqs[0][chain], seqs[1][chain]) == (1, 2)


def test_scheduled_checkpoint_is_due_after_the_interval(audit_key, tmp_path, settings):
    import datetime as dt

    settings.AUDIT_CHECKPOINT_MINUTES = 60
    directory = tmp_path / "cp"
    directory.mkdir()
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61)
    (directory / checkpoint.file_name(old)).write_text("{}")
    assert checkpoint.write_scheduled(directory, dt.timedelta(minutes=60)) is not None
    assert checkpoint.write_scheduled(directory, dt.timedelta(minutes=60)) is None


def test_verify_all_still_reports_every_broken_chain(org, patient, south_patient, audit_key, tamper):
    a = record(Action.READ, actor=org.prescriber, patient=patient)
    b = record(Action.READ, actor=org.south_prescriber, patient=south_patient)
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE id IN (%s, %s)", [a.pk, b.pk])
    count, problems = verify_all()
    assert count >= 2 and {p.event_id for p in problems} == {a.pk, b.pk}
    assert ChainHead.objects.filter(chain__in=[a.chain, b.chain]).count() == 2


def test_stripping_every_signature_and_rehashing_the_whole_chain_fails_against_the_checkpoint(
    org, patient, audit_key, tamper, tmp_path, capsys
):
    """The one rewrite the key alone cannot see: every row turned into an unsigned "legacy" row and the
    whole chain re-hashed with SHA-256. The verify summary shows the legacy count growing, and the
    checkpoint names the chain."""
    events = _five(org, patient)
    chain = events[0].chain
    saved = _checkpoint_file(tmp_path)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[4].pk])
    prev_hash = "0" * 64
    for original in events[:4]:
        row = AuditEvent.objects.get(pk=original.pk)
        row.key_id, row.prev_hash = "", prev_hash
        row.hash = compute_hash(row)
        tamper(
            "UPDATE audit_auditevent SET key_id = '', prev_hash = %s, hash = %s WHERE id = %s",
            [row.prev_hash, row.hash, row.pk],
        )
        prev_hash = row.hash
    tamper("UPDATE audit_chainhead SET seq = 4, last_hash = %s WHERE chain = %s", [prev_hash, chain])
    assert verify_chain(chain) is None
    capsys.readouterr()
    assert cli(["audit", "verify"]) == 0
    assert "4 unsigned legacy rows" in capsys.readouterr().out
    assert cli(["audit", "verify", "--checkpoint", str(saved)]) == 1
    assert f"BROKEN {chain}: seq 5: chain is shorter" in capsys.readouterr().out
