"""``kairos``: one console command with lazily imported subcommands.

Each subcommand lives in its own module exposing ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Only the chosen module is imported, so the commands of the pure packages
(``score``, ``plan``, ``pk``, ``trial``) never set up Django. Exit codes: 0 success, 1 a failed check,
2 bad input (argparse's own convention for usage errors).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help). Keep the help here so ``kairos --help`` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("kairos.cli.score", "Score an instrument from its item answers."),
    "plan": ("kairos.cli.plan", "Print the dated session plan of a treatment protocol."),
    "pk": ("kairos.cli.pk", "Simulate a typical subject's ketamine/esketamine concentrations."),
    "trial": ("kairos.cli.trial", "Run a virtual trial of one protocol, or two compared."),
    "gate": (
        "kairos.cli.gate",
        "Run a session-safety gate (pre-dose, in-session, discharge) on one reading.",
    ),
    "audit": ("kairos.cli.audit", "Verify the audit trail or sign a checkpoint (needs the database)."),
    "token": ("kairos.cli.token", "Create or revoke API tokens (needs the database)."),
    "demo": ("kairos.cli.demo", "Load the demo organisation (needs the database)."),
}


class UsageError(Exception):
    """Bad input from the command line: printed and exit status 2."""


def _top_parser() -> argparse.ArgumentParser:
    epilog = "commands:\n" + "\n".join(f"  {n:<8} {h}" for n, (_, h) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="kairos",
        description="Kairos command line: scoring, simulation and administration.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command", choices=sorted(COMMANDS), metavar="COMMAND", help="one of the commands below"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not args or args[0] in ("-h", "--help"):
        top.print_help()
        return 0 if args else 2
    if args[0] not in COMMANDS:
        top.error(f"unknown command {args[0]!r} (choose from {', '.join(sorted(COMMANDS))})")
    name = args[0]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"kairos {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    ns = parser.parse_args(args[1:])  # exits 2 on a usage error
    try:
        return int(module.run(ns))
    except UsageError as exc:
        print(f"kairos {name}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
