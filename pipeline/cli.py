"""``python -m pipeline``: the same pipeline as the app, from a terminal."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from . import labels
from .catalogs import list_sources, load_catalog
from .cleaning import CleaningConfig, clean
from .errors import CatalogError, ConfigError, RunError
from .representations import DMDT_MODES, LEAK_WARNING, dmdt_images


def _cap(text: str) -> int | None:
    return None if text.lower() in {"none", "inf", "infinite", "uncapped"} else int(text)


def _optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def add_cleaning_arguments(parser: argparse.ArgumentParser) -> None:
    """The catalogue and every cleaning threshold, shared by all commands that clean."""
    defaults = CleaningConfig()
    parser.add_argument("--catalog", default="ogle3", help="'ogle3' (built in) or a catalogue file path")
    parser.add_argument("--classes", default=None,
                        help=f"label preset: {', '.join(labels.PRESETS)} (default: ogle-5 for ogle3, ztf-5 for files)")
    parser.add_argument("--cap", "--per-class", dest="cap", type=_cap, default=defaults.cap,
                        help="at most N stars per class ('none' = uncapped)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--min-obs", type=lambda t: None if t == "none" else int(t), default=defaults.min_obs)
    parser.add_argument("--min-obs-comparison", choices=[">=", ">"], default=defaults.min_obs_comparison)
    parser.add_argument("--max-log-fap", type=_optional_float, default=defaults.max_log_fap)
    parser.add_argument("--min-r2", type=_optional_float, default=defaults.min_r2)


def cleaning_config(args: argparse.Namespace) -> CleaningConfig:
    preset = args.classes or labels.DEFAULT_PRESET.get(str(args.catalog), "ztf-5")
    return CleaningConfig(classes=preset, cap=args.cap, seed=args.seed, min_obs=args.min_obs,
                          min_obs_comparison=args.min_obs_comparison, max_log_fap=args.max_log_fap,
                          min_r2=args.min_r2)


def cleaned(args: argparse.Namespace):
    """Load and clean as the arguments say (the first half of every command that trains)."""
    return clean(load_catalog(args.catalog), cleaning_config(args))


def cmd_catalogs(args) -> int:
    for row in list_sources().itertuples():
        print(row.source)
        print(textwrap.fill(row.description, width=100, initial_indent="    ", subsequent_indent="    "))
    return 0


def cmd_clean(args) -> int:
    result = cleaned(args)
    if args.json:
        print(json.dumps({"report": result.report.to_dict(orient="records"), "notes": result.notes,
                          "warnings": result.warnings, "kept": result.data["label"].value_counts().to_dict()},
                         indent=2))
        return 0
    table = result.report.drop(columns="rule")
    print(table.to_string(index=False))
    print()
    for name, rule in result.report.groupby("step", sort=False)["rule"].first().items():
        print(f"{name}: {rule}")
    for line in result.notes + result.warnings:
        print(f"note: {line}")
    print(f"kept {len(result.data)} stars in {len(result.classes)} classes")
    return 0


def cmd_dmdt(args) -> int:
    if args.mode == "thesis":
        print(f"WARNING: {LEAK_WARNING}", file=sys.stderr)
    result = cleaned(args)
    images = dmdt_images(result.data, mode=args.mode)
    np.savez_compressed(args.out, images=images, ids=np.asarray(result.data["id"], dtype=str),
                        labels=np.asarray(result.data["label"], dtype=str), mode=args.mode)
    print(f"wrote {images.shape} {args.mode} dm-dt images to {args.out}")
    return 0


def cmd_train(args) -> int:
    from .crossval import CrossValConfig, cross_validate
    from .progress import progress as make_progress
    from .training import preset

    overrides = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                   "device": args.device}.items() if v is not None}
    config = CrossValConfig(model=args.model, dmdt_mode=args.dmdt_mode, folds=args.folds, seed=args.seed,
                            train=preset(args.preset, seed=args.seed, **overrides), preset=args.preset)
    if config.leaks_label:
        print(f"WARNING: {LEAK_WARNING}", file=sys.stderr)
    cleaning = cleaning_config(args)
    result = clean(load_catalog(args.catalog), cleaning)
    if result.warnings:
        raise ConfigError(" ".join(result.warnings))
    stop = threading.Event()
    received: list[int] = []

    def finish_batch(signum, _frame):
        received.append(signum)
        stop.set()

    # Ctrl-C and SIGTERM (a service manager, `kill`, a batch system's time limit) alike finish the
    # current batch, mark the run interrupted and keep the finished folds.
    previous = {sig: signal.signal(sig, finish_batch) for sig in (signal.SIGINT, signal.SIGTERM)}
    progress = make_progress(config.folds)
    try:
        outcome = cross_validate(
            result.data, result.classes, config, runs_dir=args.runs_dir, callbacks=[progress], stop=stop,
            run_info={"catalog": str(args.catalog), "label_map": cleaning.label_map_name,
                      "cleaning": cleaning.to_dict()},
        )
    finally:
        progress.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print_report(outcome.run)
    if outcome.run.status["state"] == "complete":
        return 0
    return 128 + (received[0] if received else signal.SIGINT)  # the shell's code for death by that signal


def print_report(run) -> None:
    from .crossval import summarise
    from .metrics import classification_summary

    state = run.status["state"]
    print(f"run {run.run_id} ({state}): {run.config['model']} on {run.config.get('catalog', '?')}, "
          f"{run.config.get('label_map', '')}, folds done {run.folds}")
    if run.config.get("leaks_label"):
        print(f"WARNING: {LEAK_WARNING}")
    if not run.folds:
        print("no fold finished: nothing to report")
        return
    preds = run.predictions
    summaries = [classification_summary(p["true"], p["pred"], run.classes) for _, p in preds.groupby("fold")]
    metrics = summarise(summaries, run.folds)
    table = pd.DataFrame(metrics["folds"]).set_index("fold")
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 160):
        print(table.to_string())
        per_class = pd.concat([s.per_class for s in summaries]).groupby(level=0, sort=False).mean()
        print("\nper class (mean over folds)")
        print(per_class.to_string())
        print("\nconfusion matrix, mean over folds (rows true, columns predicted)")
        print(pd.DataFrame(metrics["confusion_mean"], index=run.classes, columns=run.classes).to_string())
        print("\nrow-normalised")
        print(pd.DataFrame(metrics["confusion_normalised"], index=run.classes, columns=run.classes).to_string())
    print(f"\nrun directory: {run.path}")


def cmd_runs(args) -> int:
    from .runs import list_runs

    table = list_runs(args.runs_dir)
    print(table.to_string(index=False) if len(table) else f"no runs in {args.runs_dir}")
    return 0


def cmd_report(args) -> int:
    from .runs import open_run

    print_report(open_run(args.run, runs_dir=args.runs_dir))
    return 0


def cmd_predict(args) -> int:
    from .cleaning import usable
    from .crossval import predict
    from .runs import open_run

    suffix = args.out.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise ConfigError(f"--out {args.out}: expected a .csv or .parquet file name")
    run = open_run(args.run, runs_dir=args.runs_dir)
    catalog = load_catalog(args.catalog)
    good, rule = usable(catalog)
    if not good.all():
        print(f"skipping {int((~good).sum())} stars that fail: {rule}", file=sys.stderr)
    stars = catalog.loc[good]
    if stars.empty:
        raise ConfigError(f"{args.catalog}: no star has usable values ({rule})")
    out = predict(run, stars)
    out.insert(1, "raw_label", stars["raw_label"].to_numpy())
    from .runs import atomic_write
    atomic_write(args.out, (lambda h: out.to_parquet(h, index=False)) if suffix == ".parquet"
                 else (lambda h: h.write(out.to_csv(index=False).encode())))
    print(f"wrote {len(out)} predictions ({', '.join(run.classes)}) to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("catalogs", help="list the catalogue sources").set_defaults(func=cmd_catalogs)

    p = sub.add_parser("clean", help="per-step, per-class cleaning report")
    add_cleaning_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("dmdt", help="dm-dt images of the cleaned stars, saved as .npz",
                       epilog=f"thesis mode: {LEAK_WARNING}")
    add_cleaning_arguments(p)
    p.add_argument("--mode", choices=DMDT_MODES, default="reference")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_dmdt)

    from .crossval import MODEL_CHOICES
    from .runs import DEFAULT_RUNS_DIR
    from .training import PRESETS

    p = sub.add_parser("train", help="k-fold cross-validation of a model, saved as a run",
                       epilog=f"--dmdt-mode thesis: {LEAK_WARNING}")
    add_cleaning_arguments(p)
    p.add_argument("--model", choices=MODEL_CHOICES, required=True)
    p.add_argument("--preset", choices=list(PRESETS), default="quick")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--dmdt-mode", choices=DMDT_MODES, default="reference")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", help="list saved runs")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("report", help="metrics and averaged confusion matrix of a run")
    p.add_argument("run", help="run id or directory")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="classify a catalogue with a saved run's models")
    p.add_argument("run", help="run id or directory")
    p.add_argument("--catalog", required=True)
    p.add_argument("--out", type=Path, required=True, help="a .csv or .parquet file")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CatalogError, ConfigError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
