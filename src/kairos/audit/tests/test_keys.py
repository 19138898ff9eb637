"""The HMAC audit key: rows are signed with it and carry its id; legacy rows keep SHA-256; rotation."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import subprocess
import sys

import pytest

from kairos.audit.chain import canonical_json, compute_hash, row_fields
from kairos.audit.keys import KeyFileError, configured_keys, current_key, key_id_for, parse_key_file
from kairos.audit.models import Action, AuditEvent
from kairos.audit.services import AuditKeyMissing, record, verify_all, verify_chain
from kairos.audit.tests.conftest import write_key_file
from kairos.cli.main import main as cli

pytestmark = pytest.mark.django_db


def _read(org, patient, n: int = 3) -> list[AuditEvent]:
    return [record(Action.READ, actor=org.prescriber, patient=patient, summary=f"r{i}") for i in range(n)]


def test_rows_are_hmac_signed_and_name_their_key(org, patient, audit_key):
    events = _read(org, patient)
    for event in events:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.key_id == audit_key.key_id == key_id_for(audit_key.secret)
        message = canonical_json(row_fields(stored)).encode("ascii")
        assert stored.hash == hmac.new(audit_key.secret, message, hashlib.sha256).hexdigest()
        assert stored.hash != hashlib.sha256(message).hexdigest()  # not recomputable without the key
    assert audit_key.key_id not in audit_key.secret.decode() and len(audit_key.key_id) == 16
    assert verify_chain(events[0].chain) is None


def test_legacy_rows_keep_sha256_and_signed_rows_follow_them(org, patient, no_audit_key, tmp_path, settings):
    legacy = _read(org, patient, 2)
    assert all(e.key_id == "" for e in legacy)
    legacy_hashes = [e.hash for e in legacy]
    assert legacy[1].hash == hashlib.sha256(canonical_json(row_fields(legacy[1])).encode()).hexdigest()

    (key,) = write_key_file(tmp_path / "k", secrets.token_hex(32).encode())
    settings.AUDIT_KEY_FILE = str(tmp_path / "k")
    signed = _read(org, patient, 2)
    assert [e.key_id for e in signed] == [key.key_id] * 2
    assert signed[0].prev_hash == legacy[1].hash  # linked by prev_hash as usual
    # never re-hashed: the stored legacy rows are untouched
    assert (
        list(
            AuditEvent.objects.filter(pk__in=[e.pk for e in legacy])
            .order_by("seq")
            .values_list("hash", flat=True)
        )
        == legacy_hashes
    )
    assert verify_chain(legacy[0].chain) is None


def test_rotation_newest_key_signs_and_every_listed_key_verifies(org, patient, tmp_path, settings):
    old_secret, new_secret = secrets.token_hex(32).encode(), secrets.token_hex(32).encode()
    path = tmp_path / "keys"
    write_key_file(path, old_secret)
    settings.AUDIT_KEY_FILE = str(path)
    settings.AUDIT_KEY_AUTOCREATE = False
    before = _read(org, patient, 2)
    write_key_file(path, old_secret, new_secret)  # rotation: append the new key
    after = _read(org, patient, 2)
    assert {e.key_id for e in before} == {key_id_for(old_secret)}
    assert {e.key_id for e in after} == {key_id_for(new_secret)}
    assert current_key() is not None and current_key().key_id == key_id_for(new_secret)
    assert verify_chain(before[0].chain) is None
    # dropping the old key from the file: its rows can no longer be verified, and verify says why
    write_key_file(path, new_secret)
    problem = verify_chain(before[0].chain)
    assert problem is not None and problem.event_id == before[0].pk
    assert key_id_for(old_secret) in problem.problem and "not in the key file" in problem.problem


def test_signed_rows_without_any_key_are_a_configuration_error(org, patient, audit_key, settings, capsys):
    _read(org, patient, 1)
    settings.AUDIT_KEY_FILE = ""
    with pytest.raises(AuditKeyMissing, match="KAIROS_AUDIT_KEY_FILE"):
        verify_all()
    assert cli(["audit", "verify"]) == 2
    assert "KAIROS_AUDIT_KEY_FILE" in capsys.readouterr().err


def test_compute_hash_of_a_signed_row_needs_the_key(org, patient, audit_key):
    (event,) = _read(org, patient, 1)
    with pytest.raises(ValueError, match=audit_key.key_id):
        compute_hash(event)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "holds no key"),
        (b"# only a comment\n\n", "holds no key"),
        (b"short-key\n", "line 1: a key needs at least 32 bytes (got 9)"),
        (b"# c\n" + b"a" * 64 + b"\n" + b"b" * 31 + b"\n", "line 3: a key needs at least 32 bytes (got 31)"),
    ],
)
def test_bad_key_files_are_refused_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "audit.key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_key_file(path)


def test_missing_key_file_is_refused(tmp_path, settings):
    with pytest.raises(KeyFileError, match="not readable"):
        parse_key_file(tmp_path / "nope")
    settings.AUDIT_KEY_FILE = str(tmp_path / "nope")
    settings.AUDIT_KEY_AUTOCREATE = False
    with pytest.raises(KeyFileError, match="not readable"):
        configured_keys()


def test_dev_mode_creates_a_private_key_file(tmp_path, settings):
    path = tmp_path / "var" / "audit.key"
    settings.AUDIT_KEY_FILE = str(path)
    settings.AUDIT_KEY_AUTOCREATE = True
    key = current_key()
    assert key is not None and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_key_file(path) == (key,)
    assert current_key() == key  # created once, then reused


def _settings_in_production(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "KAIROS_AUDIT_KEY_FILE"},
        "KAIROS_MODE": "production",
        "SECRET_KEY": "p" * 60,
        "ALLOWED_HOSTS": "kairos.example.org",
        "KAIROS_BASE_URL": "https://kairos.example.org",
        "KAIROS_TESTING": "0",
        **env_extra,
    }
    code = "import kairos.config.settings"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("key_content", "expected"),
    [
        (None, "needs KAIROS_AUDIT_KEY_FILE"),
        (b"x" * 20, "at least 32 bytes"),
        (b"", "holds no key"),
    ],
)
def test_production_refuses_to_start_without_a_good_key_file(tmp_path, key_content, expected):
    extra = {}
    if key_content is not None:
        (tmp_path / "k").write_bytes(key_content)
        extra["KAIROS_AUDIT_KEY_FILE"] = str(tmp_path / "k")
    result = _settings_in_production(extra)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and expected in result.stderr


def test_production_accepts_a_readable_32_byte_key_file(tmp_path):
    (tmp_path / "k").write_bytes(b"k" * 32 + b"\n")
    result = _settings_in_production({"KAIROS_AUDIT_KEY_FILE": str(tmp_path / "k")})
    assert result.returncode == 0, result.stderr
