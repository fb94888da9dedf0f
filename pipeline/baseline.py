"""The gradient-boosted-tree baseline on catalogue numbers (SPEC section 5).

A network that cannot beat trees on log P, amplitude and Fourier shape has learnt nothing the
catalogue did not already say, so the baseline runs on the *same folds* as the networks and is
saved as a run like any other (model ``tree_baseline``, no weights).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from .errors import ConfigError
from .metrics import ClassificationSummary, classification_summary
from .representations import catalog_features

if TYPE_CHECKING:  # saving a result needs the writer; computing one needs no torch
    from .runs import RunWriter

MODEL_NAME = "tree_baseline"
#: Fourier shape only: the baseline that asks how much the light-curve shape alone says.
SHAPE_COLUMNS = ("r21", "phi21")


@dataclass
class BaselineResult:
    """Out-of-fold predictions (id, fold, true, pred, p_<class>), per-fold confusion counts (k, C, C)
    and per-fold scores (``summaries[k - 1]`` for fold k); folds are numbered from 1."""

    predictions: pd.DataFrame
    confusion: np.ndarray
    summaries: list[ClassificationSummary]
    classes: list[str]
    columns: list[str]

    def save(self, writer: RunWriter) -> None:
        """Store every fold in a run (metrics are the caller's, via ``writer.finish``)."""
        for fold, counts in enumerate(self.confusion, start=1):
            fold_rows = self.predictions[self.predictions["fold"] == fold]
            writer.save_fold(fold, None, fold_rows, counts)


def tree_baseline(
    stars: pd.DataFrame,
    labels: Sequence[str] | pd.Series,
    classes: Sequence[str],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    columns: Sequence[str] | None = None,
    random_state: int = 0,
    callbacks: Sequence = (),
    stop: threading.Event | None = None,
    features: pd.DataFrame | None = None,
) -> BaselineResult:
    """Fit ``HistGradientBoostingClassifier`` (default settings; NaN handled natively) per fold.

    ``labels`` are class names in the order of ``stars``; ``folds`` are (train, validation) positional
    index arrays into ``stars``, the ones the networks use; ``columns`` picks a subset of
    :func:`catalog_features` (all of them by default). ``callbacks`` hear ``on_fold_start`` and
    ``on_fold_end`` as for the networks; ``stop`` ends it between folds, keeping the finished ones.
    ``features`` replaces the catalogue features with numbers of the caller's, one row per star in the
    order of ``stars`` (e.g. ``pipeline.lightcurves.features.lightcurve_features`` of observed curves),
    so the same trees and folds score what the light curves themselves say.
    """
    if not folds:
        raise ConfigError("the tree baseline needs at least one (train, validation) fold")
    classes = [str(c) for c in classes]
    if features is None:
        features, kind = catalog_features(stars), "catalogue features"
    else:
        kind = "columns of the given features"
        if len(features) != len(stars):
            raise ConfigError(f"got {len(features)} feature rows for {len(stars)} stars; expected one row per star")
    columns = list(features.select_dtypes("number").columns if columns is None else columns)
    unknown = [c for c in columns if c not in features.columns]
    if unknown or not columns:
        raise ConfigError(
            f"baseline columns {unknown or columns} are not {kind}; available: "
            f"{list(features.columns)}"
        )
    x = features[columns].to_numpy(np.float64)
    names = np.asarray(labels, dtype=object).astype(str)
    if len(names) != len(stars):
        raise ConfigError(f"got {len(names)} labels for {len(stars)} stars")
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise ConfigError(f"labels {unknown} are not among the classes {classes}")
    code = {name: k for k, name in enumerate(classes)}
    y = np.array([code[name] for name in names], dtype=np.int64)
    ids = stars["id"].to_numpy() if "id" in stars else stars.index.to_numpy()

    class_names = np.array(classes, dtype=object)
    frames, summaries = [], []
    for fold, (train, val) in enumerate(folds, start=1):
        if stop is not None and stop.is_set():
            break
        for callback in callbacks:
            callback.on_fold_start(fold, len(folds))
        train, val = np.asarray(train, dtype=np.intp), np.asarray(val, dtype=np.intp)
        # A column with no value in the training fold (a band the catalogue lacks) says nothing, and
        # sklearn cannot bin it: leave it out of this fold.
        known = np.isfinite(x[train]).any(axis=0)
        model = HistGradientBoostingClassifier(random_state=random_state).fit(x[train][:, known], y[train])
        # A class absent from a training fold gets no column from sklearn: give it probability 0.
        proba = np.zeros((len(val), len(classes)))
        proba[:, model.classes_] = model.predict_proba(x[val][:, known])
        pred = proba.argmax(axis=1)
        frame = pd.DataFrame({
            "id": ids[val],
            "fold": fold,
            "true": class_names[y[val]],
            "pred": class_names[pred],
        })
        for k, name in enumerate(classes):
            frame[f"p_{name}"] = proba[:, k]
        frames.append(frame)
        summaries.append(classification_summary(y[val], pred, classes))
        for callback in callbacks:
            callback.on_fold_end(fold, summaries[-1])
    if not summaries:
        return BaselineResult(pd.DataFrame(), np.zeros((0, len(classes), len(classes)), np.int64), [], classes,
                              columns)
    confusion = np.stack([s.confusion for s in summaries])
    return BaselineResult(pd.concat(frames, ignore_index=True), confusion, summaries, classes, columns)
