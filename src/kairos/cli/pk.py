"""``kairos pk``: typical-subject ketamine/esketamine concentrations from a published PK model.

Doses are free-base milligrams (``--salt hcl`` converts an HCl-salt amount with the molar-mass ratio of
:mod:`kairos.pharmacology.molar_mass`, reference pharmacology.md unit reminder). Racemic doses are
split 50:50 S/R. Intranasal doses must be multiples of the 28 mg device; one dose event per device,
``--device-interval`` minutes apart (default 5). Exit 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np

from kairos.cli.main import UsageError

HELP = "Simulate a typical subject's ketamine/esketamine concentrations."

DEVICE_MG = 28.0  # esketamine base per nasal device, reference §1.1 (clinical rule esketamine.device_mg)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="PK model name (e.g. perez-ruixo-2021)")
    parser.add_argument("--drug", choices=["esketamine", "racemic"], help="required where the model has both")
    parser.add_argument("--route", required=True, choices=["iv", "intranasal", "oral", "sublingual"])
    parser.add_argument("--dose", required=True, type=float, metavar="MG", help="free-base mg (see --salt)")
    parser.add_argument(
        "--salt", choices=["hcl"], help="--dose is mg of the HCl salt; converted to free base"
    )
    parser.add_argument(
        "--duration", type=float, metavar="MIN", help="IV infusion minutes (default 40; 0 = bolus)"
    )
    parser.add_argument(
        "--device-interval", type=float, metavar="MIN", help="minutes between nasal devices (default 5)"
    )
    parser.add_argument("--weight", type=float, default=70.0, metavar="KG", help="body weight (default 70)")
    parser.add_argument("--age", type=float, default=40.0, metavar="Y", help="age in years (default 40)")
    parser.add_argument(
        "--times", metavar="MIN,...", help="output times from first administration (default 0-1440/5)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="write a PNG plot (matplotlib)")


def _times(text: str | None) -> list[float]:
    if text is None:
        return [float(t) for t in range(0, 1441, 5)]
    try:
        vals = [float(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        raise UsageError("--times: comma-separated non-negative minutes, strictly increasing") from None
    if not vals or any(not math.isfinite(v) or v < 0 for v in vals):
        raise UsageError("--times: comma-separated non-negative minutes, strictly increasing")
    if any(b <= a for a, b in zip(vals, vals[1:], strict=False)):
        raise UsageError("--times: values must be strictly increasing (non-negative minutes)")
    if vals[-1] > 60 * 24 * 60:
        raise UsageError("--times: at most 86400 minutes (60 days)")
    return vals


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    """Validate CLI arguments -> model, drug, subject, dose events, times (raises UsageError)."""
    from kairos.pharmacology.models import all_models, get_model
    from kairos.pharmacology.molar_mass import MW_KETAMINE_BASE, MW_KETAMINE_HCL
    from kairos.pharmacology.types import DoseEvent, Drug, InputError, Route, Subject

    names = [m.name for m in all_models()]
    if args.model not in names:
        raise UsageError(f"--model: must be one of {', '.join(names)} (got {args.model!r})")
    model = get_model(args.model)
    route = Route(args.route)
    if args.drug is None:
        if len(model.drugs) > 1:
            raise UsageError(
                f"--drug: required for {model.name} (one of {', '.join(d.value for d in model.drugs)})"
            )
        drug = model.drugs[0]
    else:
        drug = Drug(args.drug)
        if drug not in model.support:
            raise UsageError(
                f"--drug: {model.name} supports only {', '.join(d.value for d in model.drugs)} (got {drug.value})"
            )
    if not model.supports(drug, route):
        raise UsageError(
            f"--route: {model.name} supports {', '.join(r.value for r in model.routes(drug))} for {drug.value} "
            f"(got {route.value})"
        )
    if not (math.isfinite(args.dose) and args.dose > 0):
        raise UsageError(f"--dose: must be a positive number of mg (got {args.dose:g})")
    dose = args.dose * (MW_KETAMINE_BASE / MW_KETAMINE_HCL if args.salt == "hcl" else 1.0)
    if dose > 1000.0:
        raise UsageError(f"--dose: at most 1000 mg free base (got {dose:g})")
    if not (math.isfinite(args.weight) and 30.0 <= args.weight <= 250.0):
        raise UsageError(f"--weight: must be between 30 and 250 kg (got {args.weight:g})")
    if not (math.isfinite(args.age) and 18.0 <= args.age <= 100.0):
        raise UsageError(f"--age: must be between 18 and 100 years (got {args.age:g})")
    if args.duration is not None and route is not Route.IV:
        raise UsageError("--duration: only for --route iv (infusion minutes, 0 = bolus)")
    if args.device_interval is not None and route is not Route.INTRANASAL:
        raise UsageError("--device-interval: only for --route intranasal")
    times = _times(args.times)
    events: list[DoseEvent] = []
    if route is Route.INTRANASAL:
        n_dev = dose / DEVICE_MG
        if abs(n_dev - round(n_dev)) > 0.005 * max(1.0, n_dev) or round(n_dev) < 1:
            raise UsageError(
                f"--dose: intranasal doses must be multiples of the 28 mg device (got {dose:g} mg)"
            )
        interval = 5.0 if args.device_interval is None else args.device_interval
        if not (math.isfinite(interval) and 0.0 <= interval <= 30.0):
            raise UsageError(f"--device-interval: must be between 0 and 30 minutes (got {interval:g})")
        n = int(round(n_dev))
        events = [DoseEvent(i * interval, drug, route, dose / n) for i in range(n)]
    else:
        duration = 0.0
        if route is Route.IV:
            duration = 40.0 if args.duration is None else args.duration
            if not (math.isfinite(duration) and 0.0 <= duration <= 1440.0):
                raise UsageError(f"--duration: must be between 0 and 1440 minutes (got {duration:g})")
        events = [DoseEvent(0.0, drug, route, dose, duration)]
    try:
        subject = Subject(weight_kg=args.weight, age_y=args.age)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    return {
        "model": model,
        "drug": drug,
        "route": route,
        "dose": dose,
        "events": events,
        "subject": subject,
        "times": times,
    }


def _finite(values: Any) -> list[float]:
    arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr)):  # pragma: no cover - defensive: the engine never returns NaN
        raise RuntimeError("non-finite concentration")
    return [float(v) for v in arr]


def compute(args: argparse.Namespace) -> dict[str, Any]:
    from kairos.pharmacology.pk import simulate, summarize

    req = build_request(args)
    model = req["model"]
    res = simulate(model.name, req["subject"], req["events"], req["times"])
    summ = summarize(res)
    ignored = sorted({"weight_kg", "age_y"} - set(model.covariates_used))
    out: dict[str, Any] = {
        "model": model.name,
        "drug": req["drug"].value,
        "route": req["route"].value,
        "dose_mg_base": req["dose"],
        "dose_events": [
            {"start_min": e.start_min, "amount_mg_base": e.amount_mg_base, "duration_min": e.duration_min}
            for e in req["events"]
        ],
        "times_min": _finite(res.times_min),
        "parent_analyte": res.parent_analyte,
        "parent_ng_per_ml": _finite(res.parent),
    }
    if res.parent_s is not None and res.parent_r is not None:
        out["parent_s_ng_per_ml"] = _finite(res.parent_s)
        out["parent_r_ng_per_ml"] = _finite(res.parent_r)
    out["metabolite_analyte"] = res.metabolite_analyte
    out["metabolite_ng_per_ml"] = None if res.metabolite is None else _finite(res.metabolite)
    out["metabolite_units"] = res.metabolite_units or None
    out["metabolite_note"] = res.metabolite_note
    out.update(
        {
            "cmax_ng_per_ml": summ.cmax_ng_per_ml,
            "tmax_min": summ.tmax_min,
            "auc_ng_h_per_ml": summ.auc_ng_h_per_ml,
            "auc_inf_ng_h_per_ml": summ.auc_inf_ng_h_per_ml,
            "bioavailability": summ.bioavailability,
            "sampling_site": res.sampling_site,
            "covariates": {"weight_kg": args.weight, "age_y": args.age},
            "covariates_ignored": ignored,
            "warnings": list(res.warnings),
        }
    )
    return out


def _plot(path: str, out: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.asarray(out["times_min"]) / 60.0
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(t, out["parent_ng_per_ml"], label=out["parent_analyte"])
    if "parent_s_ng_per_ml" in out:
        ax.plot(t, out["parent_s_ng_per_ml"], "--", label="S-ketamine")
        ax.plot(t, out["parent_r_ng_per_ml"], ":", label="R-ketamine")
    if out["metabolite_ng_per_ml"] is not None:
        ax.plot(t, out["metabolite_ng_per_ml"], label=str(out["metabolite_analyte"]))
    ax.set_xlabel("time since first administration (h)")
    ax.set_ylabel("concentration (ng/mL)")
    ax.set_title(
        f"{out['model']}: {out['drug']} {out['route']} {out['dose_mg_base']:g} mg ({out['sampling_site']})"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    out = compute(args)
    if args.plot:
        try:
            _plot(args.plot, out)
        except OSError as exc:
            raise UsageError(f"--plot: cannot write {args.plot!r} ({exc.strerror})") from None
        except ValueError as exc:  # matplotlib: an unsupported file extension
            raise UsageError(f"--plot: {exc}") from None
    if args.json:
        print(json.dumps(out, allow_nan=False, indent=1))
        return 0
    print(
        f"model {out['model']}  {out['drug']} {out['route']} {out['dose_mg_base']:g} mg  ({out['sampling_site']})"
    )
    print(f"parent: {out['parent_analyte']}; metabolite: {out['metabolite_analyte'] or 'none'}")
    print(
        f"Cmax {out['cmax_ng_per_ml']:.4g} ng/mL at {out['tmax_min']:.4g} min; AUC {out['auc_ng_h_per_ml']:.4g} "
        f"ng.h/mL (to {out['times_min'][-1]:g} min), AUCinf {out['auc_inf_ng_h_per_ml']:.4g}; "
        f"F {out['bioavailability']:.3g}"
    )
    for w in out["warnings"]:
        print(f"warning: {w}")
    print("time_min  parent_ng_per_ml  metabolite_ng_per_ml")
    met = out["metabolite_ng_per_ml"]
    for i, t in enumerate(out["times_min"]):
        m = "-" if met is None else f"{met[i]:.4g}"
        print(f"{t:8g}  {out['parent_ng_per_ml'][i]:16.4g}  {m:>20}")
    return 0
