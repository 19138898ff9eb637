"""Summarise a mutmut run: the mutation score per module and every surviving mutant (``make mutate``).

Run from the folder mutmut ran in (it holds ``mutants/``)::

    python tests/support/mutation_report.py [--diffs] > report.md

Score = killed / (mutants checked), where killed includes timeouts and mutants caught by the type check,
and "no tests" (no test reaches the mutated line) counts as a survivor: a line no test runs is not
protected by the suite. Mutants not checked yet (an interrupted or restricted run) are listed apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check"}
NOT_COUNTED = {"not checked", "skipped", "check was interrupted by user"}


def _status(exit_code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return str(status_by_exit_code[exit_code])


def collect(root: Path) -> dict[str, dict[str, str]]:
    """{module path: {mutant name: status}} from mutmut's ``.meta`` files under ``root/mutants``."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        module = str(meta.relative_to(root / "mutants"))[: -len(".meta")]
        out[module] = {name: _status(code) for name, code in data.get("exit_code_by_key", {}).items()}
    return out


def score(statuses: dict[str, str]) -> tuple[int, int, float | None]:
    """(killed, counted, percent) of one module."""
    counted = [s for s in statuses.values() if s not in NOT_COUNTED]
    killed = sum(1 for s in counted if s in KILLED)
    return killed, len(counted), (100.0 * killed / len(counted) if counted else None)


def render(results: dict[str, dict[str, str]], diffs: bool, mutmut: str) -> str:
    lines = [f"# Mutation report ({dt.date.today().isoformat()})", ""]
    lines += ["| module | killed | checked | score | not checked |", "|---|---:|---:|---:|---:|"]
    for module, statuses in results.items():
        killed, counted, pct = score(statuses)
        pending = sum(1 for s in statuses.values() if s in NOT_COUNTED)
        shown = "—" if pct is None else f"{pct:.1f} %"
        lines.append(f"| `{module}` | {killed} | {counted} | {shown} | {pending} |")
    lines.append("")
    for module, statuses in results.items():
        survivors = sorted(
            (n for n, s in statuses.items() if s not in KILLED | NOT_COUNTED),
            key=lambda n: (n.rsplit("_", 1)[0], int(n.rsplit("_", 1)[1]) if n[-1].isdigit() else 0),
        )
        if not survivors:
            continue
        lines += [f"## Survivors in `{module}` ({len(survivors)})", ""]
        for name in survivors:
            lines.append(f"- `{name}` ({statuses[name]})")
            if diffs:
                diff = subprocess.run([mutmut, "show", name], capture_output=True, text=True, check=False)
                lines += ["", "```diff", diff.stdout.strip(), "```", ""]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--diffs", action="store_true", help="include each survivor's diff (mutmut show)")
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    args = parser.parse_args(argv)
    results = collect(Path.cwd())
    if not results:
        sys.stderr.write("no mutmut results under ./mutants (run `make mutate` first)\n")
        return 2
    sys.stdout.write(render(results, args.diffs, args.mutmut) + "\n")
    totals = Counter(s for statuses in results.values() for s in statuses.values())
    sys.stderr.write(f"statuses: {dict(sorted(totals.items()))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
