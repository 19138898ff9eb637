"""The hazard log (issue #12 §7): every named test, function and param exists; no safety default has moved in
the less safe direction from its reviewed value; docs/hazard-log.md is up to date."""

import ast
import datetime as dt
import importlib.util
import re
from pathlib import Path

import pytest

from kairos.clinical import hazards as hz
from kairos.clinical.config import Param, Status
from kairos.clinical.rules import all_rule_sets

ROOT = Path(__file__).resolve().parents[2]
PARAMS = hz.qualified(all_rule_sets())
CONTROLS = [(h.id, c) for h in hz.HAZARDS for c in h.controls]


def _defined_names(path: Path) -> set[str]:
    """Every function and class name defined anywhere in a Python file (methods included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def test_the_log_covers_the_issue_hazards():
    titles = " / ".join(h.title.lower() for h in hz.HAZARDS)
    for word in (
        "wrong dose",
        "respiratory depression",
        "hypertensive crisis",
        "suicide risk",
        "wrong patient",
        "lost alert",
        "sedation and dissociation",
        "undecided caution",
        "unbounded override",
    ):
        assert word in titles, word
    ids = [h.id for h in hz.HAZARDS]
    assert len(set(ids)) == len(ids)
    for h in hz.HAZARDS:
        assert h.causes, h.id
        assert h.controls, h.id
        assert h.residual.strip(), h.id
        assert all(c.tests for c in h.controls), h.id


@pytest.mark.parametrize(
    "test_id", sorted({t for _, c in CONTROLS for t in c.tests}), ids=lambda t: t.rsplit("::", 1)[-1]
)
def test_every_listed_test_exists(test_id):
    path, _, name = test_id.partition("::")
    file = ROOT / path
    assert file.is_file(), f"{test_id}: no file {path}"
    assert name.startswith("test_"), test_id
    assert name in _defined_names(file), f"{test_id}: no test function {name} in {path}"


@pytest.mark.parametrize("dotted", sorted({f for _, c in CONTROLS for f in c.functions}))
def test_every_listed_function_exists(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # longest module prefix that exists
        try:
            spec = importlib.util.find_spec(".".join(parts[:cut]))
        except ModuleNotFoundError:  # a prefix that names a module's attribute, not a submodule
            continue
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            names = _defined_names(Path(spec.origin))
            assert set(parts[cut:]) <= names, f"{dotted}: {parts[cut:]} not defined in {spec.origin}"
            return
    pytest.fail(f"{dotted}: no module found")


def test_every_listed_param_exists():
    listed = {p for _, c in CONTROLS for p in c.params} | set(hz.REVIEWED_DEFAULTS) | set(hz.NON_DIRECTIONAL)
    missing = sorted(k for k in listed if k not in PARAMS)
    assert missing == []


def test_each_reviewed_default_names_an_existing_hazard_and_a_directional_param():
    ids = {h.id for h in hz.HAZARDS}
    for key, (_, hid) in hz.REVIEWED_DEFAULTS.items():
        assert hid in ids, key
        assert PARAMS[key].safer in ("lower", "higher"), f"{key}: reviewed but states no safer direction"


def test_no_safety_default_moved_in_the_less_safe_direction():
    assert hz.less_safe_changes(PARAMS) == []


def test_every_numeric_safety_param_states_a_direction_or_why_not():
    undecided = sorted(
        k
        for k, p in PARAMS.items()
        if k.split(".")[0] in hz.SAFETY_RULE_SETS
        and p.safer is None
        and isinstance(p.value, int | float)
        and not isinstance(p.value, bool)
        and k not in hz.NON_DIRECTIONAL
    )
    assert undecided == []
    stale = sorted(k for k in hz.NON_DIRECTIONAL if PARAMS[k].safer is not None)
    assert stale == []


def test_required_safety_rule_sets_are_covered():
    assert {"safety", "dosing", "rems", "alerts"} <= set(hz.SAFETY_RULE_SETS)
    assert set(hz.SAFETY_RULE_SETS) <= {r.name for r in all_rule_sets()}


# --- the check itself can fail ------------------------------------------------------------------------------


def _param(value, safer):
    return Param("x.limit", value, "mmHg", "test", Status.CONFIRMED, "test", 0, 300, safer=safer)


@pytest.mark.parametrize(
    ("safer", "value", "fails"),
    [
        ("lower", 180, False),  # unchanged
        ("lower", 179, False),  # lowered: the safer direction
        ("lower", 181, True),  # raised: less safe
        ("higher", 180, False),
        ("higher", 181, False),
        ("higher", 179, True),
    ],
)
def test_less_safe_change_detected_both_directions(safer, value, fails):
    problems = hz.less_safe_changes({"s.x.limit": _param(value, safer)}, {"s.x.limit": (180, "HAZ-03")})
    assert bool(problems) is fails
    if fails:
        assert problems[0].startswith(f"s.x.limit: default {value} mmHg is less safe than the reviewed 180")
        assert "HAZ-03" in problems[0]


def test_a_new_safety_param_without_reviewed_default_fails():
    (problem,) = hz.less_safe_changes({"s.x.limit": _param(180, "lower")}, {})
    assert "has no reviewed default" in problem


def test_non_directional_params_are_not_checked():
    assert hz.less_safe_changes({"s.x.limit": _param(999, None)}, {}) == []


def test_a_clinic_override_does_not_change_the_shipped_default_check():
    """The check compares shipped defaults; a clinic override is bounded by the param's range instead."""
    from kairos.clinical.config import Override
    from kairos.clinical.rules.safety import RULES

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    key = "bp.rise_sbp"
    overridden = RULES.with_overrides([Override(key, RULES.param(key).maximum, "Dr A", at, "clinic")])
    assert overridden.param(key).overridden_by is not None
    assert hz.less_safe_changes(PARAMS) == []


# --- ratings and the document -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "likelihood", "rating"),
    [
        ("catastrophic", "very high", 5),
        ("catastrophic", "very low", 3),
        ("minor", "very low", 1),
        ("minor", "very high", 3),
        ("major", "medium", 3),
        ("considerable", "low", 2),
    ],
)
def test_risk_matrix(severity, likelihood, rating):
    assert hz.risk(severity, likelihood) == rating


def test_risk_refuses_unknown_words():
    with pytest.raises(ValueError, match="severity: 'huge' is not one of minor"):
        hz.risk("huge", "low")
    with pytest.raises(ValueError, match="likelihood: 'often' is not one of very low"):
        hz.risk("major", "often")


def test_residual_risk_never_above_initial():
    for h in hz.HAZARDS:
        assert h.residual_risk <= h.initial_risk, h.id


def test_document_is_up_to_date():
    doc = ROOT / "docs" / "hazard-log.md"
    assert doc.read_text(encoding="utf-8") == hz.render_hazard_log(), (
        f"docs/hazard-log.md is stale: run `make docs` ({hz.REGENERATE})"
    )


def test_document_lists_each_hazard_and_reviewed_default():
    text = hz.render_hazard_log()
    for h in hz.HAZARDS:
        assert f"## {h.id} {h.title}" in text
    for key in hz.REVIEWED_DEFAULTS:
        assert re.search(rf"\| `{re.escape(key)}` \| ", text), key
