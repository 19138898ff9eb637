"""The audit chain's canonical form and verification messages, pinned exactly (issue #17 §3).

Mutation testing showed that renaming or dropping a field of the canonical form, or letting non-ASCII
through, passed every test: writer and verifier share the function, so a self-consistent change went
unnoticed, although it would break every stored chain and any outside verifier. The canonical text is
written out here by hand from the documented form (sorted keys, no whitespace, ASCII escapes, UTC times
with microseconds, decimals as strings) and hashed with hashlib/hmac directly, not with the code's own
helpers. Verification problems are compared whole: chain, row, seq and message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from kairos.audit.chain import canonical_json, compute_hash, row_fields, utc_iso
from kairos.audit.keys import AuditKey
from kairos.audit.models import Action, AuditEvent, ChainHead
from kairos.audit.services import AuditKeyMissing, ChainProblem, record, verify_all, verify_chain

KEY = b"k" * 32
PREV = "ab" * 32


def _event(**kw: Any) -> SimpleNamespace:
    fields: dict[str, Any] = dict(
        chain="clinic-7",
        seq=42,
        occurred_at=dt.datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        clinic_id=7,
        actor_id=3,
        actor_username="nurse",
        patient_id=11,
        action="read",
        object_type="patients.patient",
        object_id="11",
        summary="Zoë opened the chart",
        old=None,
        new={"dose": Decimal("1.10"), "day": dt.date(2026, 3, 28)},
        reason="",
        request_id="r-1",
        ip="10.0.0.1",
        prev_hash=PREV,
        key_id="",
    )
    fields.update(kw)
    return SimpleNamespace(**fields)


# written by hand from the documented canonical form (not produced by canonical_json)
LEGACY = (
    '{"action":"read","actor":3,"actor_username":"nurse","chain":"clinic-7","clinic":7,"ip":"10.0.0.1",'
    '"new":{"day":"2026-03-28","dose":"1.10"},"object_id":"11","object_type":"patients.patient",'
    '"occurred_at":"2026-03-28T23:30:00.000005Z","old":null,"patient":11,"prev_hash":"' + PREV + '",'
    '"reason":"","request_id":"r-1","seq":42,"summary":"Zo\\u00eb opened the chart"}'
)
KEYED = LEGACY.replace('"ip":"10.0.0.1",', '"ip":"10.0.0.1","key_id":"k1",')


@pytest.mark.db_independent
def test_legacy_canonical_form_and_hash_are_pinned():
    event = _event()
    assert canonical_json(row_fields(event)) == LEGACY
    assert compute_hash(event) == hashlib.sha256(LEGACY.encode("ascii")).hexdigest()


@pytest.mark.db_independent
def test_keyed_canonical_form_holds_the_key_id_and_is_an_hmac():
    event = _event(key_id="k1")
    assert canonical_json(row_fields(event)) == KEYED
    assert compute_hash(event, KEY) == hmac.new(KEY, KEYED.encode("ascii"), hashlib.sha256).hexdigest()
    assert compute_hash(event, KEY) != compute_hash(event, b"x" * 32)


@pytest.mark.db_independent
def test_keyed_row_without_its_key_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^row signed with audit key k1 needs that key to be hashed$"):
        compute_hash(_event(key_id="k1"))


@pytest.mark.db_independent
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain", "clinic-8"),
        ("seq", 43),
        ("occurred_at", dt.datetime(2026, 3, 28, 23, 30, 0, 6, tzinfo=dt.UTC)),
        ("clinic_id", 8),
        ("actor_id", 4),
        ("actor_username", "nurse2"),
        ("patient_id", 12),
        ("action", "update"),
        ("object_type", "patients.note"),
        ("object_id", "12"),
        ("summary", "Zoe opened the chart"),
        ("old", {"a": 1}),
        ("new", {"dose": "1.1"}),
        ("reason", "typo"),
        ("request_id", "r-2"),
        ("ip", "10.0.0.2"),
        ("prev_hash", "cd" * 32),
    ],
)
def test_every_field_is_covered_by_the_hash(field, value):
    assert compute_hash(_event(**{field: value})) != compute_hash(_event())
    assert compute_hash(_event(key_id="k1", **{field: value}), KEY) != compute_hash(_event(key_id="k1"), KEY)


@pytest.mark.db_independent
def test_same_instant_in_any_zone_is_the_same_text():
    a = dt.datetime(2026, 3, 28, 23, 30, 0, 5, tzinfo=dt.UTC)
    b = dt.datetime(2026, 3, 28, 19, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    assert utc_iso(a) == utc_iso(b) == "2026-03-28T23:30:00.000005Z"


@pytest.mark.db_independent
def test_naive_times_and_unknown_types_are_refused_by_name():
    with pytest.raises(ValueError, match=r"^audit times must be timezone-aware$"):
        utc_iso(dt.datetime(2026, 3, 28, 23, 30))
    with pytest.raises(TypeError, match=r"^cannot canonicalise set$"):
        canonical_json({"x": {1, 2}})
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert canonical_json([u, dt.date(2026, 1, 2)]) == '["12345678-1234-5678-1234-567812345678","2026-01-02"]'


# --- verification: the whole problem, not just "some problem" -------------------------------------------


def _five(org: Any, patient: Any) -> list[AuditEvent]:
    return [record(Action.READ, actor=org.prescriber, patient=patient, summary=f"read {i}") for i in range(5)]


@pytest.mark.django_db
def test_sequence_gap_problem_is_exact(org, patient, tamper):
    events = _five(org, patient)
    chain = events[0].chain
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    problem = verify_chain(chain)
    assert problem == ChainProblem(chain, events[2].pk, 3, "sequence gap: expected seq 2 (row deleted?)")
    assert (
        str(problem) == f"{chain}: row id {events[2].pk} (seq 3): sequence gap: expected seq 2 (row deleted?)"
    )


@pytest.mark.django_db
def test_broken_link_problem_is_exact(org, patient, no_audit_key, tamper):
    events = _five(org, patient)
    chain = events[0].chain
    tamper("UPDATE audit_auditevent SET prev_hash = %s WHERE id = %s", ["f" * 64, events[2].pk])
    row = AuditEvent.objects.get(pk=events[2].pk)
    tamper("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [compute_hash(row), events[2].pk])
    assert verify_chain(chain) == ChainProblem(
        chain, events[2].pk, 3, "previous-hash link broken (rows reordered or removed)"
    )


@pytest.mark.django_db
def test_row_signed_with_an_unknown_key_is_named(org, patient, audit_key: AuditKey):
    events = _five(org, patient)
    chain = events[0].chain
    assert verify_chain(chain, {"other": b"o" * 32}) == ChainProblem(
        chain,
        events[0].pk,
        1,
        f"signed with audit key id {audit_key.key_id}, which is not in the key file (key removed, or row forged)",
    )


@pytest.mark.django_db
def test_keyed_rows_without_any_key_configured_raise(org, patient, audit_key: AuditKey):
    events = _five(org, patient)
    with pytest.raises(AuditKeyMissing) as exc:
        verify_chain(events[0].chain, {})
    assert str(exc.value) == (
        f"row id {events[0].pk} of chain {events[0].chain} is signed with audit key id {audit_key.key_id}, "
        "but no audit key is configured (set KAIROS_AUDIT_KEY_FILE)"
    )


@pytest.mark.django_db
def test_unsigned_row_after_signed_rows_is_named(org, patient, audit_key: AuditKey, settings):
    signed = _five(org, patient)
    settings.AUDIT_KEY_FILE = ""
    unsigned = record(Action.READ, actor=org.prescriber, patient=patient, summary="no key")
    assert unsigned.key_id == ""
    assert verify_chain(signed[0].chain, {audit_key.key_id: audit_key.secret}) == ChainProblem(
        signed[0].chain,
        unsigned.pk,
        6,
        "unsigned row after signed rows (chain rewritten without the audit key)",
    )


@pytest.mark.django_db
def test_head_with_a_rewritten_last_hash_is_named(org, patient, tamper):
    events = _five(org, patient)
    chain = events[0].chain
    tamper("UPDATE audit_chainhead SET last_hash = %s WHERE chain = %s", ["f" * 64, chain])
    assert ChainHead.objects.get(chain=chain).seq == 5  # the seq still matches: only the hash is wrong
    problem = verify_chain(chain)
    assert problem == ChainProblem(
        chain, None, None, "head says seq 5 but the chain ends at 5 (tail rows deleted?)"
    )
    assert (
        str(problem) == f"{chain}: chain head: head says seq 5 but the chain ends at 5 (tail rows deleted?)"
    )


@pytest.mark.django_db
def test_a_chain_whose_rows_are_all_deleted_is_reported_by_verify_all(org, patient, tamper):
    events = _five(org, patient)
    chain = events[0].chain
    tamper("DELETE FROM audit_auditevent WHERE chain = %s", [chain])
    expected = ChainProblem(chain, None, None, "head says seq 5 but the chain ends at 0 (tail rows deleted?)")
    assert verify_chain(chain) == expected
    count, problems = verify_all()
    assert expected in problems
    assert count >= 1


@pytest.mark.django_db
def test_a_chain_whose_head_is_deleted_is_still_verified_by_verify_all(org, patient, tamper):
    events = _five(org, patient)
    chain = events[0].chain
    tamper("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
    tamper("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["changed", events[3].pk])
    _, problems = verify_all()
    assert ChainProblem(chain, events[3].pk, 4, "content does not match its hash (row altered)") in problems
