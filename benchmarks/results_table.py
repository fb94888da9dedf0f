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
    minutes = (pd.Timestamp(run.status["ended"]) - pd.Timestamp(run.status["started"])).total_seconds() / 60
    return {
        "classes": config.get("label_map"),
        "model": NAMES.get(kind, kind),
        "preset": budget(config) if config["model"] != "tree_baseline" else "-",
        "accuracy": f"{folds.loc['mean', 'accuracy']:.4f} ± {folds.loc['std', 'accuracy']:.4f}",
        "weighted F1": f"{folds.loc['mean', 'weighted_f1']:.4f}",
        "macro F1": f"{folds.loc['mean', 'macro_f1']:.4f}",
        "minutes": f"{minutes:.0f}" if minutes >= 1 else "<1",
        "run": run.run_id,
        "_order": (PRESET_ORDER.index(config.get("label_map")) if config.get("label_map") in PRESET_ORDER
                   else len(PRESET_ORDER), list(NAMES).index(kind) if kind in NAMES else len(NAMES)),
    }


def main(folder: str) -> None:
    listing = list_runs(folder)
    complete = listing[listing["status"] == "complete"]
    rows = [row(open_run(path)) for path in complete["path"]]
    table = pd.DataFrame(rows).sort_values("_order").drop(columns="_order")
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for values in table.itertuples(index=False):
        print("| " + " | ".join(map(str, values)) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/readme")
