"""Generate ``docs/clinical-rules.md`` from every rule set (``python -m kairos.clinical.docs [path]``)."""

from __future__ import annotations

import sys
from pathlib import Path

from kairos.clinical.config import Param, RuleSet, Status
from kairos.clinical.rules import all_rule_sets

DEFAULT_PATH = Path("docs/clinical-rules.md")
REGENERATE = "python -m kairos.clinical.docs"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(p: Param) -> str:
    if isinstance(p.value, tuple):
        return ", ".join(str(v) for v in p.value)
    return str(p.value).lower() if isinstance(p.value, bool) else str(p.value)


def _range(p: Param) -> str:
    if p.choices is not None:
        return "one of " + ", ".join(str(c) for c in p.choices)
    if p.minimum is None and p.maximum is None:
        return ""
    lo = "" if p.minimum is None else f"{p.minimum:g}"
    hi = "" if p.maximum is None else f"{p.maximum:g}"
    return f"{lo} – {hi}"


def _table(rules: RuleSet) -> list[str]:
    lines = [
        f"## {rules.title} (`{rules.name}`)",
        "",
        "| Key | Value | Unit | Status | Source | Description | Allowed range |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in sorted(rules, key=lambda p: p.key):
        row = [f"`{p.key}`", _value(p), p.unit, p.status.value, p.source, p.description, _range(p)]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return [*lines, ""]


def _definitions() -> list[str]:
    """The named clinical definitions (kairos.clinical.definitions) with their labels and params."""
    from kairos.clinical.definitions import definitions

    lines = [
        "## Named clinical definitions (`kairos.clinical.definitions`)",
        "",
        "Each term is defined once and labelled wherever a figure uses it (the REMS form's terms are not the",
        "dashboard's).",
        "",
        "| Label | Definition | Params | Function |",
        "|---|---|---|---|",
    ]
    for d in definitions().values():
        params = ", ".join(f"`{p}`" for p in d.params)
        lines.append(f"| {_cell(d.label)} | {_cell(d.text)} | {params} | `{d.function}` |")
    return [*lines, ""]


def render_rules_markdown(rule_sets: list[RuleSet] | None = None) -> str:
    """The whole document: one table per rule set and the values a clinic must review."""
    sets = all_rule_sets() if rule_sets is None else rule_sets
    out = [
        "# Clinical rules",
        "",
        f"Generated from `kairos.clinical.rules` by `{REGENERATE}`; do not edit by hand.",
        "Every value is a clinic-configurable default with its source. Status: `confirmed` = confirmed in a cited",
        "source; `partial` = partly confirmed; `unconfirmed` = marked ⚠ or absent in the reference - a clinic",
        "must review and sign off before relying on it.",
        "",
    ]
    for rules in sets:
        out.extend(_table(rules))
    if rule_sets is None:
        out.extend(_definitions())
    out.extend(["## Values a clinic must review", ""])
    review = [(r.name, p) for r in sets for p in sorted(r.unconfirmed(), key=lambda p: p.key)]
    counts = {s: sum(1 for _, p in review if p.status is s) for s in (Status.PARTIAL, Status.UNCONFIRMED)}
    out.append(
        f"{len(review)} values ({counts[Status.UNCONFIRMED]} unconfirmed, {counts[Status.PARTIAL]} partial):"
    )
    out.append("")
    out.extend(
        f"- `{name}.{p.key}` = {_value(p)} {p.unit} ({p.status.value}; {p.source})".rstrip()
        for name, p in review
    )
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_rules_markdown(), encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
