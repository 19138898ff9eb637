"""docs/clinical-rules.md is generated from the rule sets and must not be stale."""

import importlib
import importlib.machinery
import pkgutil
from pathlib import Path

import pytest

import kairos.clinical.rules as rules_pkg
from kairos.clinical.config import Param, RuleSet, Status
from kairos.clinical.docs import main, render_rules_markdown
from kairos.clinical.rules import all_rule_sets
from refdata import REPO_ROOT

DOC = REPO_ROOT / "docs" / "clinical-rules.md"


def test_doc_is_up_to_date():
    expected = render_rules_markdown()
    actual = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert actual == expected, (
        "docs/clinical-rules.md is stale: regenerate it with `.venv/bin/python -m kairos.clinical.docs` "
        "from the repository root and commit the result"
    )


def test_registry_finds_every_submodule_sorted():
    names = [r.name for r in all_rule_sets()]
    modules = [m.name for m in pkgutil.iter_modules(rules_pkg.__path__)]
    assert len(names) == len(modules)
    assert names == sorted(names)
    assert {"safety", "rems"} <= set(names)
    for m in modules:
        assert isinstance(importlib.import_module(f"kairos.clinical.rules.{m}").RULES, RuleSet)


def test_every_param_cited_and_unconfirmed_listed():
    doc = render_rules_markdown()
    for rules in all_rule_sets():
        assert f"(`{rules.name}`)" in doc
        for p in rules:
            assert p.source.strip(), f"{rules.name}.{p.key} has no source"
            if p.status is not Status.CONFIRMED:
                assert f"- `{rules.name}.{p.key}`" in doc


def test_render_escapes_and_ranges(tmp_path: Path):
    rs = RuleSet.of(
        "demo",
        "Demo",
        [
            Param("a", 1, "mmHg", "x | y", Status.CONFIRMED, "d", 0, 2),
            Param("b", "p", "", "s", Status.UNCONFIRMED, "line\nbreak", choices=("p", "q")),
            Param("c", True, "", "s", Status.PARTIAL, "flag", maximum=1),
        ],
    )
    doc = render_rules_markdown([rs])
    assert "x \\| y" in doc
    assert "one of p, q" in doc
    assert "| `c` | true |" in doc
    assert " – 1 |" in doc
    assert "2 values (1 unconfirmed, 1 partial)" in doc
    out = tmp_path / "sub" / "rules.md"
    assert main([str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_rules_markdown()


def _module_info(name: str) -> pkgutil.ModuleInfo:
    """What ``pkgutil.iter_modules`` yields for a plain module ``name`` of the rules package."""
    return pkgutil.ModuleInfo(importlib.machinery.FileFinder(rules_pkg.__path__[0]), name, False)


def test_registry_rejects_bad_module(monkeypatch: pytest.MonkeyPatch):
    import types

    fake = types.ModuleType("kairos.clinical.rules.zz_fake")
    monkeypatch.setitem(__import__("sys").modules, "kairos.clinical.rules.zz_fake", fake)
    monkeypatch.setattr(pkgutil, "iter_modules", lambda path: [_module_info("zz_fake")])
    with pytest.raises(TypeError, match="zz_fake"):
        all_rule_sets()
    vars(fake)["RULES"] = RuleSet.of("dup", "x", [])  # a module attribute (ModuleType declares none)
    other = types.ModuleType("kairos.clinical.rules.zz_other")
    vars(other)["RULES"] = RuleSet.of("dup", "y", [])
    monkeypatch.setitem(__import__("sys").modules, "kairos.clinical.rules.zz_other", other)
    monkeypatch.setattr(
        pkgutil,
        "iter_modules",
        lambda path: [
            _module_info("zz_fake"),
            _module_info("zz_other"),
        ],
    )
    with pytest.raises(ValueError, match="dup"):
        all_rule_sets()
