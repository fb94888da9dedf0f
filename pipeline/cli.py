"""``python -m pipeline``: the same pipeline as the app, from a terminal."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from . import labels
from .catalogs import list_sources, load_catalog
from .cleaning import CleaningConfig, clean
from .errors import CatalogError, ConfigError, RunError, TrainingError
from .representations import CONVENTIONS, DMDT_MODES, LEAK_WARNING, dmdt_images


def _cap(text: str) -> int | None:
    return None if text.lower() in {"none", "inf", "infinite", "uncapped"} else int(text)


def _optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def _range(text: str) -> tuple[str, tuple[float | None, float | None]]:
    """``COLUMN:MIN:MAX`` with either bound empty (``mag_I::18``) -> ``(column, (min, max))``."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0]:
        raise argparse.ArgumentTypeError(f"{text!r}: expected COLUMN:MIN:MAX, e.g. period:0.2:1.0 or mag_I::18")
    try:
        low, high = (float(v) if v.strip() else None for v in parts[1:])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: MIN and MAX must be numbers or empty") from None
    return parts[0], (low, high)


def _bounds(text: str) -> tuple[float | None, float | None] | None:
    """``MIN:MAX`` with either side empty; ``none`` switches the step off."""
    if text.lower() == "none":
        return None
    return _range(f"x:{text}")[1]


def _seed(text: str) -> int:
    """Seeds feed numpy and scikit-learn, which take 0 <= seed < 2**32 only."""
    seed = int(text)
    if not 0 <= seed < 2**32:
        raise argparse.ArgumentTypeError(f"{seed} is not a seed: expected a whole number from 0 to {2**32 - 1}")
    return seed


def check_out(out: Path, suffixes: tuple[str, ...], inputs: tuple[Path, ...] = ()) -> None:
    """Refuse an output file before any work: wrong type, missing folder, or one of the inputs."""
    if out.suffix.lower() not in suffixes:
        raise ConfigError(f"--out {out}: expected a {' or '.join(suffixes)} file name")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist; create it first")
    if out.is_dir():
        raise ConfigError(f"--out {out}: is a folder; expected a file name")
    target = out.resolve()
    for source in inputs:
        source = source.resolve()
        if target == source or (source.is_dir() and source in target.parents):
            raise ConfigError(f"--out {out}: is {'inside ' if target != source else ''}an input ({source}); "
                              "writing there would overwrite it: choose another file name")


def check_runs_dir(runs_dir: Path) -> None:
    """Make sure runs can be written to ``runs_dir`` before the work starts, naming what is wrong.

    Missing folders are made (``--runs-dir runs/readme`` on a fresh checkout); what cannot be made
    or written (below a file, a read-only or full disk) is refused in one line.
    """
    for parent in reversed(runs_dir.parents):
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"--runs-dir {runs_dir}: {parent} is a file, so no folder can be made below it")
    if runs_dir.exists() and not runs_dir.is_dir():
        raise ConfigError(f"--runs-dir {runs_dir}: is a file; expected a folder for the runs")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=runs_dir, prefix=".write-check-")
        probe.close()
    except OSError as err:
        raise ConfigError(f"--runs-dir {runs_dir}: cannot write there ({err.strerror.lower()})") from None


def add_cleaning_arguments(parser: argparse.ArgumentParser) -> None:
    """The catalogue and every cleaning threshold, shared by all commands that clean."""
    defaults = CleaningConfig()
    parser.add_argument("--catalog", default="ogle3", help="'ogle3' (built in) or a catalogue file path")
    parser.add_argument("--classes", default=None,
                        help=f"label preset: {', '.join(labels.PRESETS)} (default: ogle-5 for ogle3, ztf-5 for files)")
    parser.add_argument("--cap", "--per-class", dest="cap", type=_cap, default=defaults.cap,
                        help="at most N stars per class ('none' = uncapped)")
    parser.add_argument("--seed", type=_seed, default=defaults.seed)
    parser.add_argument("--min-obs", type=lambda t: None if t == "none" else int(t), default=defaults.min_obs)
    parser.add_argument("--min-obs-comparison", choices=[">=", ">"], default=defaults.min_obs_comparison)
    parser.add_argument("--max-log-fap", type=_optional_float, default=defaults.max_log_fap)
    parser.add_argument("--min-r2", type=_optional_float, default=defaults.min_r2)
    parser.add_argument("--max-period-rel-err", type=_optional_float, default=defaults.max_period_rel_err,
                        help="keep period_err / period below this (OGLE-III; 'none' = off)")
    parser.add_argument("--require-fourier", action="store_true", help="keep only stars with R21 and phi21")
    parser.add_argument("--mag-range", type=_bounds, default=None, metavar="MIN:MAX",
                        help="mean magnitude of the reconstruction band, either side may be empty")
    parser.add_argument("--min-amp", type=_optional_float, default=defaults.min_amp,
                        help="minimum peak-to-peak amplitude in every band, mag")
    parser.add_argument("--region", dest="regions", action="append", default=None,
                        help="keep this region (OGLE-III: LMC, SMC, BLG); repeat for several")
    parser.add_argument("--range", dest="ranges", type=_range, action="append", default=[],
                        metavar="COLUMN:MIN:MAX",
                        help="keep MIN <= COLUMN <= MAX (either side may be empty); repeat for several columns")


def cleaning_config(args: argparse.Namespace) -> CleaningConfig:
    preset = args.classes or labels.DEFAULT_PRESET.get(str(args.catalog), "ztf-5")
    return CleaningConfig(classes=preset, cap=args.cap, seed=args.seed, min_obs=args.min_obs,
                          min_obs_comparison=args.min_obs_comparison, max_log_fap=args.max_log_fap,
                          min_r2=args.min_r2, max_period_rel_err=args.max_period_rel_err,
                          require_fourier=args.require_fourier, mag_range=args.mag_range, min_amp=args.min_amp,
                          regions=args.regions, ranges=dict(args.ranges))


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
    check_out(args.out, (".npz",), (Path(args.catalog),))
    if args.mode == "thesis":
        if args.reference is not None:
            raise ConfigError("--reference is for --mode reference: thesis images pair each star with its own class")
        print(f"WARNING: {LEAK_WARNING}", file=sys.stderr)
    result = cleaned(args)
    stars, reference = result.data, None
    if args.mode == "thesis":
        against = f"thesis: each star against the other stars of its own class in {args.catalog} (leaks the label)"
    elif args.reference is None:
        reference = stars
        against = (f"all {len(stars)} cleaned stars of {args.catalog}: each star against every other star of the "
                   "file, labelled ones of its own class included; pass --reference for images against a separate "
                   "training set")
    else:
        reference = clean(load_catalog(args.reference), cleaning_config(args)).data
        against = f"the {len(reference)} labelled stars of {args.reference}, cleaned with the same options"
    images = dmdt_images(stars, mode=args.mode, reference=reference, classes=result.classes)
    np.savez_compressed(args.out, images=images, ids=np.asarray(stars["id"], dtype=str),
                        labels=np.asarray(stars["label"], dtype=str), mode=args.mode, reference=against,
                        classes=np.asarray(result.classes, dtype=str))
    print(f"wrote {images.shape} {args.mode} dm-dt images to {args.out}")
    print(f"pairs: {against}")
    return 0


def cmd_train(args) -> int:
    from .crossval import CrossValConfig, cross_validate
    from .training import preset

    overrides = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                   "device": args.device, "deterministic": args.deterministic or None,
                                   "label_smoothing": args.label_smoothing}.items()
                 if v is not None}
    features = args.features or ("lightcurve" if args.lightcurves and args.model == "tree_baseline" else "catalog")
    config = CrossValConfig(model=args.model, dmdt_mode=args.dmdt_mode, convention=args.convention,
                            folds=args.folds, seed=args.seed,
                            train=preset(args.preset, seed=args.seed, **overrides), preset=args.preset,
                            features=features, folded_norm=args.folded_norm, dmdt_preset=args.dmdt_preset,
                            dmdt_norm=args.dmdt_norm, min_points=args.min_points, max_steps=args.max_steps,
                            members=args.members, augment=args.augment, bag_per_class=args.bag_per_class,
                            pretrain_epochs=args.pretrain_epochs)
    if config.leaks_label:
        print(f"WARNING: {LEAK_WARNING}", file=sys.stderr)
    if bool(args.lightcurves) != (config.lightcurve_input is not None):
        raise ConfigError(f"--model {args.model}{' --features ' + features if args.model == 'tree_baseline' else ''} "
                          + ("reads catalogue rows: drop --lightcurves" if args.lightcurves else
                             "reads observed light curves: add --lightcurves asas, simulate:SURVEY or a PATH"))
    check_runs_dir(args.runs_dir)
    stars, classes, lightcurves, run_info = training_stars(args, config)

    def train(callbacks, stop):
        try:
            return cross_validate(stars, classes, config, runs_dir=args.runs_dir, callbacks=callbacks, stop=stop,
                                  run_info=run_info, lightcurves=lightcurves)
        except OSError as err:  # a full disk mid-run: the folds saved before it stay usable
            where = f"{err.filename}: " if err.filename else ""
            raise RunError(f"{where}{(err.strerror or str(err)).lower()}; the run keeps the folds finished "
                           f"before it (see python -m pipeline runs --runs-dir {args.runs_dir})") from None

    return run_until_done_or_stopped(config.folds, train)


def run_until_done_or_stopped(folds: int, train) -> int:
    """``train(callbacks, stop)`` with a progress display, then its report; the exit status.

    Ctrl-C and SIGTERM (a service manager, `kill`, a batch system's time limit) alike finish the
    current batch, mark the run interrupted and keep the finished folds; a second Ctrl-C stops at once.
    """
    from .progress import progress as make_progress

    stop = threading.Event()
    received: list[int] = []
    previous = {sig: signal.signal(sig, _interrupt(stop, received)) for sig in (signal.SIGINT, signal.SIGTERM)}
    progress = make_progress(folds)
    try:
        outcome = train([progress], stop)
    finally:
        progress.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print_report(outcome.run)
    if outcome.run.status["state"] == "complete":
        return 0
    return 128 + (received[0] if received else signal.SIGINT)  # the shell's code for death by that signal


def training_stars(args: argparse.Namespace, config):
    """``(stars, classes, lightcurves, run_info)`` that ``train`` cross-validates, as the arguments say.

    Without ``--lightcurves``: the cleaned catalogue. ``asas``: the built-in ASAS training set with its
    own labels (``--classes`` asas-8 or asas-28), classes with fewer stars than folds left out.
    ``simulate:SURVEY``: the cleaned catalogue observed with SURVEY's cadence and noise (seed
    ``--seed``). A PATH: light curves read from a file or folder, joined to the cleaned catalogue by id.
    Folded curves take the catalogue's period, or Lomb-Scargle's with ``--find-periods`` (always for
    ``asas``, which has none).
    """
    from . import observed

    source = args.lightcurves
    if source == "asas":
        from .lightcurves.asas import CITATION, asas_stars

        label_map = args.classes or "asas-8"
        lightcurves, stars, classes, small = asas_stars(label_map, min_stars=args.folds)
        if small:
            print(f"note: {len(small)} classes with fewer than {args.folds} stars left out: {small}", file=sys.stderr)
        run_info = {"catalog": "asas", "label_map": label_map, "source": CITATION,
                    "classes_left_out": {"rule": f"fewer stars than the {args.folds} folds", "counts": small}}
    else:
        cleaning = cleaning_config(args)
        result = clean(load_catalog(args.catalog), cleaning)
        if result.warnings:
            raise ConfigError(" ".join(result.warnings))
        stars, classes = result.data, result.classes
        run_info = {"catalog": str(args.catalog), "label_map": cleaning.label_map_name, "cleaning": cleaning.to_dict()}
        if source is None:
            return stars, classes, None, run_info
        lightcurves = observed.catalogue_lightcurves(source, stars, args.seed)
    run_info["lightcurve_source"] = source
    if config.lightcurve_input in observed.PERIOD_KINDS and (args.find_periods or source == "asas"):
        stars, run_info["period_source"] = observed.found_periods(stars, lightcurves)
    return stars, classes, lightcurves, run_info


def _interrupt(stop: threading.Event, received: list[int]):
    """SIGINT/SIGTERM handler: the first signal asks the run to stop after the current batch (or
    input) and is recorded in ``received``; a second Ctrl-C stops at once (KeyboardInterrupt: the run
    is saved as interrupted with its finished folds)."""

    def handler(signum, _frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()
        print("\nstopping after the current step (finished folds are kept); Ctrl-C again to stop now",
              file=sys.stderr)

    return handler


def cmd_regress(args) -> int:
    """Cross-validated regression of a catalogue number (seed 003), saved as a run."""
    import dataclasses

    from . import regression

    overrides = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                   "device": args.device}.items() if v is not None}
    config = regression.RegressionConfig(
        model=args.model, target=args.target, sigma=args.sigma, folds=args.folds, seed=args.seed,
        n_points=args.n_points, train=dataclasses.replace(regression.SEED003_TRAINING, seed=args.seed, **overrides))
    check_runs_dir(args.runs_dir)
    labels_kept = (list(regression.RRAB_LABELS) if args.raw_label is None
                   else None if args.raw_label == ["all"] else args.raw_label)
    stars, notes = regression.regression_stars(load_catalog(args.catalog), args.target, args.sigma, labels_kept,
                                               args.cap, args.seed)
    print(f"{notes['stars']} stars ({notes})", file=sys.stderr)
    return run_until_done_or_stopped(config.folds, lambda callbacks, stop: regression.cross_validate(
        stars, config, runs_dir=args.runs_dir, callbacks=callbacks, stop=stop,
        run_info={"catalog": str(args.catalog), "raw_labels": labels_kept, "cap": args.cap, "selection": notes}))


def print_report(run) -> None:
    from .crossval import summarise
    from .metrics import classification_summary
    from .regression import is_regression, report_lines

    if is_regression(run):
        print("\n".join(report_lines(run)))
        return
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
    print_probability_scores(preds, run.classes)
    print(f"\nrun directory: {run.path}")


def print_probability_scores(predictions: pd.DataFrame, classes: list[str]) -> None:
    """One-vs-rest AUC per class and macro, and the expected calibration error, of the pooled
    out-of-fold probabilities."""
    from .probability_metrics import N_CALIBRATION_BINS, calibration, roc_summary

    roc, cal = roc_summary(predictions, classes), calibration(predictions, classes)
    print("\none-vs-rest ROC AUC (all validated stars pooled)")
    for name in classes:
        print(f"  {name:<24} {roc.auc[name]:.4f}" if name in roc.auc else f"  {name:<24} -  ({roc.undefined[name]})")
    if roc.macro_auc is None:
        print(f"  {'macro':<24} -  (no class has both positives and negatives)")
    else:
        folds = list(roc.fold_macro_auc.values())
        spread = f" ± {np.std(folds, ddof=1):.4f}" if len(folds) > 1 else ""
        print(f"  {'macro':<24} {roc.macro_auc:.4f}  (per fold {np.mean(folds):.4f}{spread}, {len(folds)} fold{'s' if len(folds) != 1 else ''})")
    print(f"expected calibration error ({len(cal.bins)} of {N_CALIBRATION_BINS} confidence bins occupied): "
          f"{cal.ece:.4f}")


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
    from . import observed
    from .crossval import predict, prediction_stars, reads_lightcurves
    from .runs import open_run

    run = open_run(args.run, runs_dir=args.runs_dir)
    catalog_path = Path(args.catalog)
    check_out(args.out, (".csv", ".parquet"), (catalog_path, catalog_path.parent / "ReadMe", run.path))
    suffix = args.out.suffix.lower()
    if reads_lightcurves(run):
        if not args.lightcurves:
            raise ConfigError(f"run {run.run_id} ({run.config['model']}) was trained on observed light curves "
                              f"({run.config['lightcurves']['source']}); add --lightcurves simulate:SURVEY or a PATH "
                              "with the catalogue stars' light curves")
        stars = load_catalog(args.catalog)
        lightcurves = observed.catalogue_lightcurves(args.lightcurves, stars, args.seed)
        if args.find_periods and run.config["inputs"]["kind"] in observed.PERIOD_KINDS:
            stars, _ = observed.found_periods(stars, lightcurves)
        out = predict(run, stars, lightcurves=lightcurves)
        dropped = {k: v for k, v in out.attrs["dropped"].items() if v}
        if dropped:
            print(f"skipping stars without a usable light curve: {dropped}", file=sys.stderr)
        stars = stars.set_index(stars["id"].astype(str)).loc[out["id"]]
    else:
        if args.lightcurves:
            raise ConfigError(f"run {run.run_id} ({run.config['model']}) reads catalogue rows; drop --lightcurves")
        catalog = prediction_stars(run, load_catalog(args.catalog), str(args.catalog))
        good, rule = usable(catalog)
        if not good.all():
            print(f"skipping {int((~good).sum())} stars that fail: {rule}", file=sys.stderr)
        stars = catalog.loc[good]
        if stars.empty:
            raise ConfigError(f"{args.catalog}: no star has usable values ({rule})")
        out = predict(run, stars)
    out.insert(1, "raw_label", stars["raw_label"].to_numpy())
    from .runs import atomic_write, write_json
    provenance = {"run_id": run.run_id, "run_state": run.state, "folds_averaged": run.folds,
                  "folds_planned": run.config.get("folds"), "classes": run.classes}
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(out, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"variable_star_explorer": json.dumps(provenance).encode()})
        atomic_write(args.out, lambda h: pq.write_table(table, h))
        where = "the file's metadata (key variable_star_explorer)"
    else:  # CSV has no metadata of its own: the same record sits beside it
        atomic_write(args.out, lambda h: h.write(out.to_csv(index=False).encode()))
        where = args.out.with_name(args.out.name + ".json")
        write_json(where, provenance)
    print(f"wrote {len(out)} predictions ({', '.join(run.classes)}) to {args.out}")
    planned = run.config.get("folds")
    if run.state != "complete" or (planned and len(run.folds) < planned):
        print(f"note: run {run.run_id} is {run.state}: the probabilities average only its {len(run.folds)} "
              f"finished fold model(s) (folds {', '.join(map(str, run.folds))}) of {planned or '?'} planned; "
              f"recorded in {where}", file=sys.stderr)
    return 0


def cmd_survey(args) -> int:
    from .lightcurves import survey

    common = {"partition_size": args.partition_size, "overwrite": args.overwrite, "scheduler": args.scheduler,
              "workers": args.workers, "memory_limit": args.memory_limit}
    if args.step == "simulate":
        manifest = survey.simulate_survey(load_catalog(args.catalog), args.out, survey=args.survey, seed=args.seed,
                                          catalog_name=str(args.catalog), **common)
    else:
        options = ({"per_band": args.per_band, "min_period": args.min_period} if args.step == "periods" else
                   {"preset": args.preset, "norm": args.norm, "bands": args.bands} if args.step == "dmdt" else {})
        manifest = survey.survey_step(args.step, args.store, args.out, options=options, **common)
    done = manifest["partitions"] - manifest["partitions_this_run"]
    print(f"survey {args.step}: {manifest['partitions']} partitions in {args.out}"
          + (f" ({done} already done by an earlier run, resumed)" if done else ""))
    print(json.dumps({k: v for k, v in manifest.items() if k != "settings"}, sort_keys=True))
    return 0


def add_survey_parser(sub) -> None:
    """``survey simulate|periods|features|dmdt``: per-star work over a whole survey with Dask."""
    from .lightcurves import DMDT_PRESETS, SURVEYS
    from .lightcurves.dmdt import NORMS
    from .lightcurves.periods import MIN_PERIOD
    from .lightcurves.survey import DEFAULT_MEMORY_LIMIT, DEFAULT_PARTITION_SIZE

    p = sub.add_parser("survey", help="simulate, period search, features or dm-dt of every star, with Dask",
                       description="Per-star light-curve work partition by partition on a Dask cluster (a local "
                                   "one by default). Output folders resume when rerun with the same settings.")
    steps = p.add_subparsers(dest="step", required=True)
    parsers = {
        "simulate": steps.add_parser("simulate", help="simulated light curves of a catalogue's stars, as a store"),
        "periods": steps.add_parser("periods", help="Lomb-Scargle period, power and FAP per star"),
        "features": steps.add_parser("features", help="light-curve features per star and band"),
        "dmdt": steps.add_parser("dmdt", help="Mahabal dm-dt images per star, .npz per partition"),
    }
    for step, q in parsers.items():
        if step == "simulate":
            q.add_argument("--catalog", default="ogle3", help="'ogle3' (built in) or a catalogue file path")
            q.add_argument("--survey", choices=list(SURVEYS), default="ogle3", help="cadence and noise to simulate")
            q.add_argument("--seed", type=_seed, default=0)
        else:
            q.add_argument("store", type=Path, help="a light-curve store (e.g. written by `survey simulate`)")
        q.add_argument("--out", type=Path, required=True, help="output folder (resumed if it holds the same run)")
        q.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a running dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
        q.add_argument("--workers", type=int, default=None,
                       help="local cluster: worker processes (default: the local cores)")
        q.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="local cluster: memory per worker")
        q.add_argument("--partition-size", type=int, default=DEFAULT_PARTITION_SIZE, metavar="N",
                       help="stars per partition (a store written per partition keeps its own)")
        q.add_argument("--overwrite", action="store_true", help="replace an output folder holding another run")
        q.set_defaults(func=cmd_survey)
    parsers["periods"].add_argument("--per-band", action="store_true", help="one row per star and band")
    parsers["periods"].add_argument("--min-period", type=float, default=MIN_PERIOD, help="shortest period, days")
    parsers["dmdt"].add_argument("--preset", choices=list(DMDT_PRESETS), default="crts")
    parsers["dmdt"].add_argument("--norm", choices=list(NORMS), default="stretch")
    parsers["dmdt"].add_argument("--bands", nargs="+", default=None,
                                 help="bands stacked as channels (default: the store's survey's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("catalogs", help="list the catalogue sources").set_defaults(func=cmd_catalogs)

    p = sub.add_parser("clean", help="per-step, per-class cleaning report")
    add_cleaning_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("dmdt", help="dm-dt images of the cleaned stars, saved as .npz",
                       description="dm-dt images of the cleaned stars, saved as .npz (images, ids, labels, "
                                   "mode, classes, and 'reference': what the stars were paired with).",
                       epilog=f"reference mode without --reference compares each star with all the other "
                              f"stars of --catalog, labels included; thesis mode: {LEAK_WARNING}")
    add_cleaning_arguments(p)
    p.add_argument("--mode", choices=DMDT_MODES, default="reference")
    p.add_argument("--reference", type=Path, default=None,
                   help="reference mode: a catalogue file of labelled stars (a training set), cleaned with the "
                        "same options, to pair the stars with (default: all the stars of --catalog)")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_dmdt)

    from .bagging import AUGMENT_MODES
    from .crossval import LIGHTCURVE_MODEL_CHOICES, MODEL_CHOICES
    from .lightcurves import DMDT_PRESETS, SURVEYS
    from .lightcurves.dmdt import NORMS as DMDT_NORMS
    from .observed import FEATURE_SOURCES, FOLDED_NORMS
    from .runs import DEFAULT_RUNS_DIR
    from .training import PRESETS

    p = sub.add_parser("train", help="k-fold cross-validation of a model, saved as a run",
                       epilog=f"--dmdt-mode thesis: {LEAK_WARNING}")
    add_cleaning_arguments(p)
    p.add_argument("--model", choices=MODEL_CHOICES + LIGHTCURVE_MODEL_CHOICES, required=True)
    p.add_argument("--preset", choices=list(PRESETS), default="quick")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--dmdt-mode", choices=DMDT_MODES, default="reference")
    p.add_argument("--convention", choices=CONVENTIONS, default="catalog",
                   help="light-curve phases: the catalogue's convention, or 'thesis' (its printed -phi formula, "
                        "reversed in time for OGLE-III and ZTF) to reproduce the thesis")
    p.add_argument("--deterministic", action="store_true", help="deterministic torch kernels (slower on CUDA)")
    p.add_argument("--label-smoothing", type=float, metavar="ALPHA",
                   help="soften the training targets by ALPHA (seed 001 used 0.1; default 0: none)")
    lc = p.add_argument_group("observed light curves (models cnn1d_folded, cnn2d_mahabal, se_resnet_mahabal, bigru_features, "
                              "compound_rnn_cnn; "
                              "tree_baseline on light-curve features)")
    lc.add_argument("--lightcurves", metavar="SOURCE",
                    help="'asas' (the built-in ASAS training set with its own labels: --classes asas-8 (default) "
                         "or asas-28; --catalog and the cleaning options are not used), 'simulate:SURVEY' (the "
                         f"cleaned catalogue observed with SURVEY's cadence and noise, seeded by --seed; SURVEY one of "
                         f"{', '.join(SURVEYS)}; marked simulated in the run), or a PATH (a light-curve file, folder or "
                         "store, joined to the cleaned catalogue by id)")
    lc.add_argument("--find-periods", action="store_true",
                    help="fold at Lomb-Scargle periods found in the light curves, not the catalogue's (always for asas)")
    lc.add_argument("--features", choices=FEATURE_SOURCES, default=None,
                    help="tree_baseline: catalogue numbers or light-curve features (default: lightcurve with "
                         "--lightcurves, else catalog)")
    lc.add_argument("--folded-norm", choices=FOLDED_NORMS, default="zscore",
                    help="cnn1d_folded: per-curve normalisation of the folded curves")
    lc.add_argument("--dmdt-preset", choices=list(DMDT_PRESETS), default="crts", help="cnn2d_mahabal, se_resnet_mahabal: dm-dt bins")
    lc.add_argument("--dmdt-norm", choices=DMDT_NORMS, default="stretch", help="cnn2d_mahabal, se_resnet_mahabal: image normalisation")
    lc.add_argument("--min-points", type=int, default=50,
                    help="fewest usable epochs a band needs (seed 002: 50); stars with none are left out and counted")
    lc.add_argument("--max-steps", type=int, default=None,
                    help="bigru_features, compound_rnn_cnn: sequences longer than this keep every k-th epoch in phase "
                         "order (counted)")
    lc.add_argument("--pretrain-epochs", type=int, default=None,
                    help="compound_rnn_cnn: epochs of stage 1 (bigru_features; default --epochs); stage 2 trains "
                         "--epochs with the sequence encoder frozen")
    lc.add_argument("--members", type=int, default=1,
                    help="seed 001's bagging: networks per fold, each on a sub-dataset with the large classes "
                         "under-sampled (small ones topped up with --augment); probabilities averaged")
    lc.add_argument("--augment", choices=AUGMENT_MODES, default=None,
                    help="top up small classes in each sub-dataset with GP draws from the fold's training stars "
                         "('gp', seed 001's paper) or copies of them ('duplicate', its public code)")
    lc.add_argument("--bag-per-class", type=int, default=None,
                    help="stars per class in each sub-dataset (default: the median training-class size)")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_train)

    from . import regression

    p = sub.add_parser("regress", help="k-fold regression of a catalogue number (seed 003), saved as a run",
                       description="Cross-validated regression, by default of RRab photometric [Fe/H] from the "
                                   "Smolec (2005) I-band period-phi31 relation, with seed 003's GRU on simulated "
                                   "OGLE-III light curves, the GRU on the catalogue reconstruction, or trees.")
    p.add_argument("--catalog", default="ogle3", help="'ogle3' (built in) or a catalogue file path")
    p.add_argument("--target", default=regression.FEH_TARGET,
                   help=f"'{regression.FEH_TARGET}' (built in) or a numeric catalogue column")
    p.add_argument("--sigma", default=None, help="a column with the target's uncertainty (weights 1/sigma^2)")
    p.add_argument("--raw-label", action="append", default=None,
                   help=f"keep stars with this raw_label (repeat; default {', '.join(regression.RRAB_LABELS)}; 'all' keeps every star)")
    p.add_argument("--model", choices=regression.MODELS, default="gru")
    p.add_argument("--cap", type=_cap, default=5000, help="at most N stars, drawn with --seed ('none' = all)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=_seed, default=42)
    p.add_argument("--n-points", type=int, default=regression.N_POINTS, help="phases per folded light curve")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_regress)

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
    p.add_argument("--lightcurves", metavar="SOURCE",
                   help="runs on observed light curves: 'simulate:SURVEY' or a PATH, as for train")
    p.add_argument("--find-periods", action="store_true", help="fold at Lomb-Scargle periods, not the catalogue's")
    p.add_argument("--seed", type=_seed, default=42, help="seed of simulate:SURVEY")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    p.set_defaults(func=cmd_predict)

    add_survey_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CatalogError, ConfigError, RunError, TrainingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # full disk, permissions, a folder gone: the file and the reason, in one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{(exc.strerror or str(exc)).lower()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
