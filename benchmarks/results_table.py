"""Markdown results table of the saved runs in a folder: ``python -m benchmarks.results_table runs/readme``."""

from __future__ import annotations

import sys

import pandas as pd

from pipeline.runs import list_runs, open_run
from pipeline.training import PRESETS

#: Row names, in the table's order within each class preset.
NAMES = {
    "tree_baseline": "gradient-boosted trees (catalogue features)",
    "tree_baseline_lightcurves": "gradient-boosted trees (light-curve features)",
    "cnn2d": "2D-CNN, reference dm-dt",
    "cnn2d_features": "2D-CNN + catalogue branch, reference dm-dt",
    "cnn_lstm": "CNN-LSTM (thesis), light curve",
    "cnn_lstm_features": "CNN-LSTM + catalogue branch",
    "se_resnet": "SE-ResNet (seed 004), reference dm-dt",
    "leak": "2D-CNN, **thesis dm-dt (leaks the label)**",
    "cnn1d_folded": "1D CNN (seed 002), folded light curve",
    "cnn2d_mahabal": "2D-CNN, Mahabal dm-dt of the light curve",
    "se_resnet_mahabal": "SE-ResNet (seed 004), Mahabal dm-dt of the light curve",
    "bigru_features": "BiGRU + period/amplitude branch (seed 001), light-curve sequence",
}
PRESET_ORDER = ("ogle-5", "ogle-10", "ztf-5", "ztf-10", "asas-8", "asas-28")


def budget(config: dict) -> str:
    """The training preset, with the settings the run changed from it (``seed002, 40 epochs``)."""
    name = config.get("preset", "-")
    train, base = config.get("train", {}), PRESETS.get(name)
    if base is None:
        return name
    changed = [text.format(train[k]) for k, text in (("epochs", "{:g} epochs"), ("batch_size", "batch {:g}"),
                                                   ("lr", "lr {:g}")) if k in train and train[k] != getattr(base, k)]
    if int(config.get("members") or 1) > 1:  # seed 001's bagging: the epochs are per member
        changed.append(f"{config['members']} members")
    if config.get("augment"):
        changed.append(f"{config['augment']} augmentation")
    return ", ".join([name, *changed])


def row(run) -> dict:
    config = run.config
    folds = pd.DataFrame(run.metrics["folds"]).set_index("fold")
    kind = "leak" if config.get("leaks_label") else config["model"]
    # light-curve features: config "features" (cross_validate), or the "inputs" text of older benchmarks.asas runs
    if config.get("features") == "lightcurve" or str(config.get("inputs", "")).startswith("light-curve features"):
        kind += "_lightcurves"
    return {
        "classes": config.get("label_map"),
        "model": NAMES.get(kind, kind),
        "preset": budget(config) if config["model"] != "tree_baseline" else "-",
        "accuracy": f"{folds.loc['mean', 'accuracy']:.4f} ± {folds.loc['std', 'accuracy']:.4f}",
        "weighted F1": f"{folds.loc['mean', 'weighted_f1']:.4f}",
        "macro F1": f"{folds.loc['mean', 'macro_f1']:.4f}",
        "minutes": _minutes(run),
        "run": run.run_id,
        "_order": (PRESET_ORDER.index(config.get("label_map")) if config.get("label_map") in PRESET_ORDER
                   else len(PRESET_ORDER), list(NAMES).index(kind) if kind in NAMES else len(NAMES)),
    }


#: Regression rows (seed 003), by model.
REGRESSION_NAMES = {
    "gru": "seed 003 GRU 20-16-8, simulated OGLE-III I-band light curves",
    "gru_reconstruction": "seed 003 GRU 20-16-8, catalogue reconstruction (3 harmonics)",
    "trees": "gradient-boosted trees (catalogue features)",
}


def _minutes(run) -> str:
    minutes = (pd.Timestamp(run.status["ended"]) - pd.Timestamp(run.status["started"])).total_seconds() / 60
    return f"{minutes:.0f}" if minutes >= 1 else "<1"


def regression_row(run) -> dict:
    folds = pd.DataFrame(run.metrics["folds"]).set_index("fold")
    score = {k: f"{folds.loc['mean', k]:.4f} ± {folds.loc['std', k]:.4f}" for k in ("mae", "rmse", "wrmse", "r2")}
    config = run.config
    return {"target": config["target"], "stars": config["n_stars"], "model": REGRESSION_NAMES.get(config["model"], config["model"]),
            "epochs": config["train"]["epochs"] if config["model"] != "trees" else "-",
            "MAE": score["mae"], "RMSE": score["rmse"], "wRMSE": score["wrmse"], "R^2": score["r2"],
            "minutes": _minutes(run), "run": run.run_id,
            "_order": list(REGRESSION_NAMES).index(config["model"]) if config["model"] in REGRESSION_NAMES else 9}


def _print(rows: list[dict]) -> None:
    table = pd.DataFrame(rows).sort_values("_order").drop(columns="_order")
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for values in table.itertuples(index=False):
        print("| " + " | ".join(map(str, values)) + " |")


def main(folder: str) -> None:
    listing = list_runs(folder)
    complete = [open_run(path) for path in listing.loc[listing["status"] == "complete", "path"]]
    regression = [run for run in complete if run.config.get("task") == "regression"]
    classification = [row(run) for run in complete if run not in regression]
    if classification:
        _print(classification)
    if regression:
        print()
        _print([regression_row(run) for run in regression])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/readme")
