"""``kairos trial``: a virtual trial of one protocol, or two compared (population bands only)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from kairos.cli.main import UsageError

HELP = "Run a virtual trial of one protocol, or two compared."

_ARM = {"esketamine-trd": "ad_placebo_spray", "esketamine-mdsi": "ad_placebo_spray"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kairos.cli.adapters import PROTOCOLS

    parser.add_argument("--protocol", required=True, help=f"protocol id ({', '.join(PROTOCOLS)})")
    parser.add_argument("--compare", default=None, help="second protocol id (paired comparison)")
    parser.add_argument("--n", type=int, required=True, help="virtual patients (2-10000000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--weight", type=float, default=70.0, help="body weight in kg (default 70)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--plot", default=None, metavar="FILE.png", help="write a PNG of outcome distributions"
    )
    parser.add_argument("--progress", action="store_true", help="progress bar on stderr even without a TTY")


def _regimen(protocol: str, weight: float, field: str = "protocol") -> Any:
    from kairos.cli.adapters import PROTOCOLS, plan_dose_events
    from kairos.pharmacology.trials import Regimen

    if protocol not in PROTOCOLS:
        raise UsageError(f"{field}: must be one of {', '.join(PROTOCOLS)} (got {protocol!r})")
    events = plan_dose_events(protocol, weight_kg=weight)
    return Regimen(name=protocol, events=events, arm=_ARM.get(protocol, "open_label"), weight_kg=weight)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    from kairos.pharmacology.trials import Comparison, run_trial
    from kairos.pharmacology.types import InputError

    if not 2 <= args.n <= 10_000_000:  # a confidence interval needs two patients (n = 1 gave NaN)
        raise UsageError(f"n: must be between 2 and 10000000 (got {args.n})")
    if not 0 <= args.seed < 2**63:
        raise UsageError(f"seed: must be between 0 and 2**63-1 (got {args.seed})")
    if not 30 <= args.weight <= 250:
        raise UsageError(f"weight: must be between 30 and 250 kg (got {args.weight})")
    if args.plot is not None and not str(args.plot).lower().endswith(".png"):
        raise UsageError(f"plot: must be a .png file name (got {args.plot!r})")
    if args.plot is not None:
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            raise UsageError(f"plot: {args.plot!r} must be in an existing writable folder")
    show = args.progress or sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            bar = "#" * int(30 * done / total)
            print(f"\r[{bar:<30}] {done}/{total} chunks", end="" if done < total else "\n", file=sys.stderr)

    try:
        a = _regimen(args.protocol, args.weight)
        b = _regimen(args.compare, args.weight, "compare") if args.compare is not None else None
        ra = run_trial(a, args.n, args.seed, progress=progress)
        rb = run_trial(b, args.n, args.seed, progress=progress) if b is not None else None
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    out: dict[str, object] = Comparison(ra, rb).to_dict() if rb is not None else ra.summary()
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for res in (ra, rb):
            if res is None:
                continue
            s = res.summary()
            ch = s["madrs_change_endpoint"]
            rr = s["response_rate"]
            cm = s["cmax_s_ng_ml"]
            assert isinstance(ch, dict) and isinstance(rr, dict) and isinstance(cm, dict)
            print(f"{res.regimen}: n={res.n} seed={res.seed}")
            print(
                f"  S-ketamine Cmax {cm['mean']:.1f} ng/mL (5-95% {cm['band_5_95'][0]:.1f}-{cm['band_5_95'][1]:.1f})"
            )
            print(
                f"  MADRS change at endpoint {ch['mean']:.1f} (95% CI {ch['ci95'][0]:.1f} to {ch['ci95'][1]:.1f})"
            )
            print(
                f"  response rate {100 * rr['rate']:.1f}% (95% CI {100 * rr['ci95'][0]:.1f}-{100 * rr['ci95'][1]:.1f})"
            )
        if rb is not None:
            d = out["madrs_change_difference_a_minus_b"]
            assert isinstance(d, dict)
            print(
                f"difference A-B in MADRS change {d['mean']:.2f} (95% CI {d['ci95'][0]:.2f} to {d['ci95'][1]:.2f})"
            )
        print("Population bands only; hypothesis-generating, not individual predictions.")
    if args.plot:
        try:
            _plot(args.plot, ra, rb)
        except OSError as exc:
            raise UsageError(f"plot: cannot write {args.plot!r} ({exc.strerror})") from None
    return 0


def _plot(path: str, ra: Any, rb: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    for res in (ra, rb):
        if res is None:
            continue
        ax[0].hist(res.outcomes["cmax_s_ng_ml"], bins=40, alpha=0.5, label=res.regimen)
        ax[1].hist(res.outcomes["madrs_change"], bins=40, alpha=0.5, label=res.regimen)
    ax[0].set_xlabel("S-ketamine Cmax (ng/mL)")
    ax[1].set_xlabel("MADRS change at endpoint (population band)")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
