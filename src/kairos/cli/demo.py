"""``kairos demo``: load (or top up) the demo organisation. Idempotent."""

from __future__ import annotations

import argparse

HELP = "Load the demo organisation (dev mode only)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from kairos.cli._django import setup

    setup()
    from kairos.cli.demo_loader import load_demo

    summary = load_demo()
    if not args.quiet:
        print(summary)
    return 0
