"""``python -m pipeline``: the same pipeline as the app, from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
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


def cleaned(args: argparse.Namespace):
    """Load and clean as the arguments say (the first half of every command that trains)."""
    preset = args.classes or labels.DEFAULT_PRESET.get(str(args.catalog), "ztf-5")
    config = CleaningConfig(classes=preset, cap=args.cap, seed=args.seed, min_obs=args.min_obs,
                            min_obs_comparison=args.min_obs_comparison, max_log_fap=args.max_log_fap,
                            min_r2=args.min_r2)
    return clean(load_catalog(args.catalog), config)


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CatalogError, ConfigError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
