"""Shared reference data for tests: paths, and files checked against MANIFEST.csv before use.

Import as ``from refdata import reference_file, REPO_ROOT`` (pytest puts ``tests/support`` on the path).
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# CI clones the repository with a copy of shared/ beside it; KAIROS_SHARED overrides for other layouts.
SHARED = Path(os.environ.get("KAIROS_SHARED", REPO_ROOT.parent / "shared")).resolve()
REFERENCE_DATA = SHARED / "reference-data"


def _manifest() -> dict[str, str]:
    with (REFERENCE_DATA / "MANIFEST.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    path_key = next(k for k in rows[0] if "path" in k.lower() and "source" not in k.lower())
    return {row[path_key]: row["sha256"] for row in rows}


def reference_file(relative: str) -> Path:
    """Path of a file in shared/reference-data, after checking its sha256 against MANIFEST.csv."""
    path = REFERENCE_DATA / relative
    if not path.exists():
        pytest.fail(f"reference data missing: {path} (set KAIROS_SHARED to the shared/ folder)")
    expected = _manifest().get(relative)
    if expected is None:
        pytest.fail(f"{relative} is not listed in MANIFEST.csv")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        pytest.fail(f"{relative}: sha256 {digest} does not match MANIFEST.csv {expected}")
    return path
