"""The dependency picture of docs/ARCHITECTURE.md, generated from the import-linter layers contract.

``python tests/support/archmap.py`` rewrites the block between the ``<!-- layers:begin -->`` and
``<!-- layers:end -->`` markers (``make docs`` runs it); ``tests/test_architecture_doc.py`` fails when the
document and the contract disagree, so the map cannot drift from what the linter holds.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
BEGIN, END = "<!-- layers:begin -->", "<!-- layers:end -->"
PURE_NOTE = "      (pure; no Django; independent of each other)"


def layers() -> list[str]:
    """The layers of the contract whose type is ``layers``, top first, ``kairos.`` dropped."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("type") == "layers"]
    return [
        " | ".join(part.strip().removeprefix("kairos.") for part in layer.split("|"))
        for layer in contract["layers"]
    ]


def picture() -> str:
    lines = layers()
    lines[-1] += PURE_NOTE if lines[-1] == "clinical | pharmacology" else ""
    return "```\n" + "\n".join(lines) + "\n```"


def current_block(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + picture() + "\n" + text[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
