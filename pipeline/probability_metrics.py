"""Scores of a run's class probabilities, not just its labels: one-vs-rest ROC curves and AUC, and
calibration (reliability diagram, expected calibration error), all from the saved predictions table
(columns ``true``, ``pred``, ``fold``, ``p_<class>``), so runs saved before these scores existed get
them too.

Every star of a run is validated by exactly one fold, so the pooled table is the run's out-of-fold
predictions; the curves and the headline AUC and ECE are computed on it, and the macro AUC is also
given per fold (its spread is the "± std" of the other scores). A class with no validated star (or
with nothing but) has no ROC curve: it is listed in ``undefined`` with the reason, never as NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from pipeline.errors import ConfigError

#: Equal-width confidence bins of the reliability diagram.
N_CALIBRATION_BINS = 10


@dataclass
class RocSummary:
    """One-vs-rest ROC of each class over the pooled predictions.

    ``curves[c]`` has columns ``fpr``, ``tpr``, ``threshold``; ``auc[c]`` is its area. ``macro_auc``
    is the unweighted mean over the classes in ``auc`` (None when no class has one). ``fold_macro_auc``
    maps each fold to its own macro AUC (the classes defined in that fold); ``undefined`` names the
    classes without a curve and why.
    """

    auc: dict[str, float]
    macro_auc: float | None
    curves: dict[str, pd.DataFrame]
    fold_macro_auc: dict[int, float]
    undefined: dict[str, str]


@dataclass
class Calibration:
    """Reliability of the predicted class's probability.

    ``bins`` has one row per occupied confidence bin: ``low``, ``high`` (the bin is ``(low, high]``),
    ``count``, ``confidence`` (mean predicted probability) and ``accuracy`` (fraction predicted
    right). ``ece`` is the count-weighted mean of ``|accuracy - confidence|`` over the bins.
    """

    bins: pd.DataFrame
    ece: float


def probability_matrix(predictions: pd.DataFrame, classes: Sequence[str]) -> np.ndarray:
    """The ``(n, C)`` probabilities of ``predictions`` in ``classes`` order, checked finite and in [0, 1]."""
    columns = [f"p_{c}" for c in classes]
    missing = [c for c in ["true", "pred", *columns] if c not in predictions.columns]
    if missing:
        raise ConfigError(f"predictions lack column(s) {missing}; expected true, pred and p_<class> for "
                          f"classes {list(classes)}")
    if len(predictions) == 0:
        raise ConfigError("cannot score probabilities of an empty predictions table")
    probs = predictions[columns].to_numpy(dtype=float)
    bad = ~np.isfinite(probs) | (probs < 0) | (probs > 1)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ConfigError(f"predictions column {columns[col]} row {row} holds {probs[row, col]!r}; "
                          "expected a probability in [0, 1]")
    unknown = sorted(set(predictions["true"].astype(str)) - set(map(str, classes)))
    if unknown:
        raise ConfigError(f"predictions column 'true' holds class(es) {unknown} not in {list(classes)}")
    return probs


def _one_vs_rest(true: np.ndarray, probs: np.ndarray, classes: Sequence[str]) -> tuple[dict, dict]:
    """sklearn's ROC curve ``(fpr, tpr, thresholds)`` of each class that has both positives and negatives,
    and the reason for the others."""
    curves, undefined = {}, {}
    for i, name in enumerate(classes):
        positive = true == name
        if positive.all() or not positive.any():
            undefined[name] = "every validated star is of this class" if positive.any() else "no validated star"
            continue
        curves[name] = skm.roc_curve(positive, probs[:, i])
    return curves, undefined


def _aucs(curves: dict) -> dict[str, float]:
    """Area under each curve: what ``roc_auc_score`` returns, without its validating the labels again
    (half its time; a run's Results page scores 10 classes pooled and in each of 5 folds)."""
    return {name: float(skm.auc(fpr, tpr)) for name, (fpr, tpr, _) in curves.items()}


def roc_summary(predictions: pd.DataFrame, classes: Sequence[str]) -> RocSummary:
    """One-vs-rest ROC curves and AUC per class (sklearn ``roc_curve``, ``auc``), macro AUC pooled and per
    fold."""
    classes = [str(c) for c in classes]
    predictions = predictions.reset_index(drop=True)  # row labels = positions in probs
    probs = probability_matrix(predictions, classes)
    true = predictions["true"].astype(str).to_numpy()
    roc, undefined = _one_vs_rest(true, probs, classes)
    aucs = _aucs(roc)
    # sklearn's first threshold is +inf (the point (0, 0)): keep the point, clip the number
    curves = {name: pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(threshold, 1.0)})
              for name, (fpr, tpr, threshold) in roc.items()}
    fold_macro = {}
    if "fold" in predictions.columns:
        for fold, rows in predictions.groupby("fold", sort=True):
            fold_aucs = _aucs(_one_vs_rest(true[rows.index], probs[rows.index], classes)[0])
            if fold_aucs:
                fold_macro[int(fold)] = float(np.mean(list(fold_aucs.values())))
    macro = float(np.mean(list(aucs.values()))) if aucs else None
    return RocSummary(auc=aucs, macro_auc=macro, curves=curves, fold_macro_auc=fold_macro, undefined=undefined)


def calibration(predictions: pd.DataFrame, classes: Sequence[str], n_bins: int = N_CALIBRATION_BINS) -> Calibration:
    """Reliability diagram and expected calibration error of the predicted class's probability.

    The confidence of a star is its probability of the class in ``pred`` (the class the run
    predicted), binned into ``n_bins`` equal-width bins ``(low, high]`` of [0, 1].
    """
    if int(n_bins) < 1:
        raise ConfigError(f"calibration needs at least 1 bin, got n_bins={n_bins}")
    classes = [str(c) for c in classes]
    probs = probability_matrix(predictions, classes)
    pred = predictions["pred"].astype(str).to_numpy()
    unknown = sorted(set(pred) - set(classes))
    if unknown:
        raise ConfigError(f"predictions column 'pred' holds class(es) {unknown} not in {classes}")
    index = {name: i for i, name in enumerate(classes)}
    confidence = probs[np.arange(len(pred)), [index[p] for p in pred]]
    correct = pred == predictions["true"].astype(str).to_numpy()
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    which = np.digitize(confidence, edges[1:-1], right=True)  # bin b holds (edges[b], edges[b + 1]]
    frame = pd.DataFrame({"bin": which, "confidence": confidence, "correct": correct.astype(float)})
    bins = frame.groupby("bin").agg(count=("correct", "size"), confidence=("confidence", "mean"),
                                    accuracy=("correct", "mean"))
    bins.insert(0, "high", edges[bins.index + 1])
    bins.insert(0, "low", edges[bins.index])
    bins = bins.reset_index(drop=True)
    ece = float((bins["count"] * (bins["accuracy"] - bins["confidence"]).abs()).sum() / len(frame))
    return Calibration(bins=bins, ece=ece)
