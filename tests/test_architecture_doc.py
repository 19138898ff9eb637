"""docs/ARCHITECTURE.md draws the layers the import linter holds (issue #10)."""

from __future__ import annotations

import archmap


def test_the_dependency_picture_is_the_layers_contract() -> None:
    text = archmap.DOC.read_text(encoding="utf-8")
    assert archmap.current_block(text) == archmap.picture(), (
        "docs/ARCHITECTURE.md's dependency picture differs from the layers contract in pyproject.toml: "
        "run `make docs` (python tests/support/archmap.py)"
    )


def test_the_picture_lists_every_app_with_models_once() -> None:
    names = [name.strip() for layer in archmap.layers() for name in layer.split("|")]
    assert len(names) == len(set(names))
    apps = {p.parent.name for p in (archmap.ROOT / "src" / "kairos").glob("*/apps.py")}
    assert apps <= set(names), f"apps missing from the layers contract: {sorted(apps - set(names))}"
