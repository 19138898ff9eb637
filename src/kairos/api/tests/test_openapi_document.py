"""The committed docs/openapi.json must match the API: an API change is reviewed with its schema diff."""

from __future__ import annotations

import difflib
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from kairos.api.management.commands.openapi import render_schema

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def test_committed_openapi_document_is_current():
    assert COMMITTED.exists(), "docs/openapi.json is missing: run `make openapi` to generate it"
    current = render_schema()
    committed = COMMITTED.read_text(encoding="utf-8")
    if committed != current:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(True),
                current.splitlines(True),
                "docs/openapi.json (committed)",
                "API now",
                n=1,
            )
        )
        pytest.fail(
            "The API changed but docs/openapi.json was not updated. Run `make openapi` "
            "(python manage.py openapi) to regenerate it, review the diff and commit it.\n" + diff[:4000]
        )


def test_document_is_sorted_and_indented():
    text = render_schema()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    doc = json.loads(text)
    assert doc["info"]["title"] == "Kairos API"
    assert "BearerToken" in doc["components"]["securitySchemes"]


def test_every_operation_requires_a_bearer_token():
    doc = json.loads(render_schema())
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("security") == [{"BearerToken": []}], (
                f"{method.upper()} {path} is not token-protected"
            )


def test_command_writes_and_checks(tmp_path):
    out = tmp_path / "openapi.json"
    call_command("openapi", output=str(out))
    assert out.read_text(encoding="utf-8") == render_schema()
    call_command("openapi", output=str(out), check=True)
    out.write_text("{}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="make openapi"):
        call_command("openapi", output=str(out), check=True)
    buffer = io.StringIO()
    call_command("openapi", output="-", stdout=buffer)
    assert json.loads(buffer.getvalue())["openapi"].startswith("3.")
