"""Bad input to every POST/PUT/PATCH operation of the OpenAPI document: always 4xx, never 500,
with the offending field named; nothing is written.

The valid starting payload of each operation comes from its permission-matrix entry
(:mod:`kairos.access.tests.matrix`), so a new operation is walked as soon as it has an entry.
Mutations are derived from the operation's request-body JSON schema.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from kairos.access.tests.matrix import World, collect_entries

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")


def _schema() -> dict[str, Any]:
    from kairos.api.main import api

    return api.get_openapi_schema()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = schema["components"]["schemas"][name]
    if len(node.get("allOf", [])) == 1:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        merged.update(_resolve(schema, node["allOf"][0]))
        return merged
    return node


def _types(schema: dict[str, Any], prop: dict[str, Any]) -> set[str]:
    prop = _resolve(schema, prop)
    if "anyOf" in prop:
        return set().union(*(_types(schema, p) for p in prop["anyOf"]))
    if "enum" in prop:
        return {"enum"}
    return {prop.get("type", "any")}


def _mutations(schema: dict[str, Any], body: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(field, description, invalid value) — ``...`` as the value means 'remove the field'."""
    for name, raw in body.get("properties", {}).items():
        prop = _resolve(schema, raw)
        types = _types(schema, raw)
        nullable = "null" in types
        if name in body.get("required", []):
            yield name, "missing", ...
        if not nullable:
            yield name, "null", None
        yield name, "list", [1, 2]
        yield name, "object", {"a": 1}
        if "string" in types or "enum" in types:
            yield name, "number instead of text", 12345
            yield name, "boolean", True
        if "enum" in types:
            yield name, "not one of the choices", "banana"
        if "integer" in types or "number" in types:
            yield name, "text instead of number", "twelve"
            yield name, "huge number", 10**30
            yield name, "negative huge number", -(10**30)
            yield name, "fraction", 1.5
        if prop.get("maxLength"):
            yield name, "too long", "A" * (prop["maxLength"] + 1)
            yield name, "far too long", "A" * 100_000
        if prop.get("minLength"):
            yield name, "empty", ""
        if prop.get("pattern"):
            yield name, "pattern", "-- DROP TABLE; <script>"
        if prop.get("format") == "date":
            for bad in ("2024-02-30", "31/12/2000", "yesterday", "2000-13-01", "", "99999-01-01"):
                yield name, f"bad date {bad!r}", bad
        if prop.get("format") == "date-time":
            yield name, "bad datetime", "2024-01-01T25:00"


def _operations() -> list[tuple[str, dict[str, Any]]]:
    schema = _schema()
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            if method in WRITE_METHODS:
                ops.append((f"{method.upper()} {path}", op))
    return ops


OPERATIONS = _operations()

# Bad input that still answers 500, found by this walker and reported to the owning app. Strict xfail:
# when fixed, the test XPASSes and fails — then delete the line.
KNOWN_500: dict[tuple[str, str], str] = {}


def _known(request: pytest.FixtureRequest, key: str, case: str) -> None:
    if (key, case) in KNOWN_500:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_500[(key, case)]))


ENTRIES = {e.route: e for e in collect_entries() if e.is_api}


def _field_named(response: Any, field: str) -> bool:
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError):
        return False
    text = json.dumps(detail)
    locs = [item.get("loc", []) for item in detail] if isinstance(detail, list) else []
    return any(field in [str(x) for x in loc] for loc in locs) or f'"{field}' in text or f"{field}:" in text


def _setup(key: str, org: Any, patient: Any) -> tuple[Client, str, dict[str, Any]]:
    from kairos.accounts.services import create_token

    entry = ENTRIES.get(key)
    assert entry is not None and entry.data is not None, (
        f"{key}: add a permission-matrix entry with a valid data()"
    )
    w = World(org, patient)
    url = key.split(" ", 1)[1].format(**entry.kwargs(w))
    persona = sorted(p for p in entry.allowed if p)[0]
    _, raw = create_token(w.user(persona), "walker")
    return Client(headers={"Authorization": f"Bearer {raw}"}), url, entry.data(w)


def _rows() -> dict[str, int]:
    from django.apps import apps

    from kairos.audit.models import AuditEvent

    return {
        m._meta.label: (
            m.objects.exclude(action__in=("login", "token")) if m is AuditEvent else m._default_manager
        ).count()
        for m in apps.get_models()
        if m.__module__.startswith("kairos.")
        # the chain head moves with every event; rate limits count refused requests too (kairos.web.ratelimit)
        and m._meta.label not in ("audit.ChainHead", "web.RateCounter")
    }


def test_there_are_write_operations_to_walk():
    assert OPERATIONS, "no POST/PUT/PATCH operation in the OpenAPI document"


@pytest.mark.parametrize(("key", "op"), OPERATIONS, ids=[k for k, _ in OPERATIONS])
def test_invalid_field_values_are_refused_naming_the_field(key, op, org, patient, request):
    _known(request, key, "fields")
    schema = _schema()
    client, url, valid = _setup(key, org, patient)
    body = _resolve(schema, op["requestBody"]["content"]["application/json"]["schema"])
    method = key.split(" ", 1)[0]
    mutations = list(_mutations(schema, body))
    if not body.get("properties"):
        # a free-form document (e.g. a FHIR resource validated by the endpoint): drop each top-level key
        mutations = [(key, "missing", ...) for key in valid] + [(key, "null", None) for key in valid]
    assert mutations, f"{key}: nothing to mutate (empty valid payload?)"
    before = _rows()
    failures = []
    for field, what, value in mutations:
        payload = copy.deepcopy(valid)
        if value is ...:
            payload.pop(field, None)
        else:
            payload[field] = value
        r = client.generic(method, url, json.dumps(payload), content_type="application/json")
        if not (400 <= r.status_code < 500):
            failures.append(f"{field} {what}: {r.status_code} {r.content[:200]!r}")
        elif r.status_code in (400, 422) and not _field_named(r, field):
            failures.append(f"{field} {what}: {r.status_code} does not name {field!r}: {r.content[:300]!r}")
        elif r.status_code not in (400, 422):
            # 403/404 are acceptable only for a reference to an object (e.g. an unknown clinic id)
            if not field.endswith("_id"):
                failures.append(f"{field} {what}: unexpected {r.status_code}")
    assert not failures, f"{key}:\n" + "\n".join(failures)
    assert _rows() == before, "a refused payload wrote rows"


@pytest.mark.parametrize(("key", "op"), OPERATIONS, ids=[k for k, _ in OPERATIONS])
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("this is not json", "application/json"),
        ('{"mrn": ', "application/json"),
        ("", "application/json"),
        ("[]", "application/json"),
        ('"a string"', "application/json"),
        ("12", "application/json"),
        ("null", "application/json"),
        ('{"a": NaN}', "application/json"),
        ("mrn=A&given_name=B", "application/x-www-form-urlencoded"),
        ("\xff\xfe\x00garbage", "application/json"),
        ('{"x": ' * 2000 + "1" + "}" * 2000, "application/json"),
    ],
    ids=["text", "truncated", "empty", "array", "string", "number", "null", "nan", "form", "bytes", "deep"],
)
def test_non_json_bodies_are_refused(key, op, content, content_type, org, patient, request):
    if content.startswith('{"x": ' * 3):
        _known(request, key, "deep")
    client, url, _ = _setup(key, org, patient)
    before = _rows()
    r = client.generic(key.split(" ", 1)[0], url, content, content_type=content_type)
    assert 400 <= r.status_code < 500, (r.status_code, r.content[:300])
    assert _rows() == before


@pytest.mark.parametrize(("key", "op"), OPERATIONS, ids=[k for k, _ in OPERATIONS])
def test_the_valid_payload_is_accepted(key, op, org, patient):
    """The walker's starting point is valid, so each refusal above is due to the mutation."""
    client, url, valid = _setup(key, org, patient)
    r = client.generic(key.split(" ", 1)[0], url, json.dumps(valid), content_type="application/json")
    assert 200 <= r.status_code < 300, r.content
