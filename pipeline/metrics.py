"""Classification metrics per fold and across folds (SPEC section 4), all computed by scikit-learn.

The thesis reports weighted averages; macro averages are kept beside them because with balanced
classes they agree and with the uncapped ("infinite") set they do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from pipeline.errors import ConfigError

#: Columns of :func:`fold_table`, in order.
FOLD_COLUMNS = (
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
)


@dataclass
class ClassificationSummary:
    """One fold's scores. ``per_class`` is indexed by class name with columns precision, recall, f1,
    support; ``confusion`` holds counts with rows = true class, columns = predicted, in ``labels``
    order; ``macro`` and ``weighted`` map precision/recall/f1 to floats."""

    labels: list[str]
    accuracy: float
    per_class: pd.DataFrame
    macro: dict[str, float]
    weighted: dict[str, float]
    confusion: np.ndarray

    def scores(self) -> dict[str, float]:
        """The fold's headline numbers, keyed as the columns of :func:`fold_table`."""
        out = {"accuracy": self.accuracy}
        for kind, avg in (("macro", self.macro), ("weighted", self.weighted)):
            for name in ("precision", "recall", "f1"):
                out[f"{kind}_{name}"] = avg[name]
        return out

    def to_dict(self) -> dict:
        """JSON-friendly form, for saving a run."""
        return {
            "labels": list(self.labels),
            **self.scores(),
            "per_class": self.per_class.reset_index().to_dict(orient="records"),
            "confusion": self.confusion.tolist(),
        }


def _encode(y: np.ndarray, labels: list[str], what: str) -> np.ndarray:
    """Class indices for ``y`` given as indices or as class names; anything else is an error."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ConfigError(f"{what} must be 1-D, got shape {y.shape}")
    if np.issubdtype(y.dtype, np.integer):
        bad = (y < 0) | (y >= len(labels))
        if bad.any():
            raise ConfigError(
                f"{what} holds class index {int(y[bad][0])} outside 0..{len(labels) - 1} "
                f"for labels {labels}"
            )
        return y.astype(np.int64)
    index = {name: i for i, name in enumerate(labels)}
    unknown = sorted({str(v) for v in y if v not in index})
    if unknown:
        raise ConfigError(f"{what} holds class(es) {unknown} not in labels {labels}")
    return np.array([index[v] for v in y], dtype=np.int64)


def classification_summary(
    y_true: Sequence | np.ndarray, y_pred: Sequence | np.ndarray, labels: list[str]
) -> ClassificationSummary:
    """Accuracy, per-class and averaged precision/recall/F1 and the confusion matrix of one fold.

    ``y_true``/``y_pred`` are class indices into ``labels`` or the class names themselves. Classes in
    ``labels`` that never occur still get a row (support 0; undefined ratios count as 0, as sklearn's
    ``zero_division=0``), so every fold's matrix has the same shape and folds can be averaged.
    """
    labels = [str(name) for name in labels]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"labels must be distinct, got {labels}")
    t = _encode(y_true, labels, "y_true")
    p = _encode(y_pred, labels, "y_pred")
    if len(t) != len(p):
        raise ConfigError(f"y_true has {len(t)} entries but y_pred has {len(p)}")
    if len(t) == 0:
        raise ConfigError("cannot score an empty fold (y_true is empty)")
    idx = list(range(len(labels)))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        t, p, labels=idx, average=None, zero_division=0
    )
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(int)},
        index=pd.Index(labels, name="class"),
    )
    averages = {}
    for kind in ("macro", "weighted"):
        pr, rc, f, _ = skm.precision_recall_fscore_support(
            t, p, labels=idx, average=kind, zero_division=0
        )
        averages[kind] = {"precision": float(pr), "recall": float(rc), "f1": float(f)}
    return ClassificationSummary(
        labels=labels,
        accuracy=float(skm.accuracy_score(t, p)),
        per_class=per_class,
        macro=averages["macro"],
        weighted=averages["weighted"],
        confusion=skm.confusion_matrix(t, p, labels=idx),
    )


def fold_table(
    summaries: Sequence[ClassificationSummary], folds: Sequence | None = None, ddof: int = 1
) -> pd.DataFrame:
    """One row per fold (indexed ``folds``, default 1..k) with :data:`FOLD_COLUMNS`, then ``mean``
    and ``std`` rows. ``std`` is the sample standard deviation (``ddof=1``) across folds, the usual
    "mean +- std" of k-fold results; it is NaN for a single fold."""
    summaries = list(summaries)
    if not summaries:
        raise ConfigError("fold_table needs at least one fold summary")
    names = list(folds) if folds is not None else list(range(1, len(summaries) + 1))
    if len(names) != len(summaries):
        raise ConfigError(f"{len(summaries)} summaries but {len(names)} fold names")
    rows = pd.DataFrame([s.scores() for s in summaries], columns=list(FOLD_COLUMNS))
    table = pd.concat(
        [
            rows,
            rows.mean().to_frame("mean").T,
            rows.std(ddof=ddof).to_frame("std").T,
        ]
    )
    table.index = pd.Index([*names, "mean", "std"], name="fold", dtype=object)
    return table


def row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (recall on the diagonal); rows summing to 0 stay 0."""
    m = np.asarray(matrix, dtype=float)
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums != 0)


def average_confusion(matrices: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean confusion counts over folds and its row-normalised form (rows = true class)."""
    mats = [np.asarray(m, dtype=float) for m in matrices]
    if not mats:
        raise ConfigError("average_confusion needs at least one confusion matrix")
    shapes = {m.shape for m in mats}
    if len(shapes) != 1 or len(mats[0].shape) != 2 or mats[0].shape[0] != mats[0].shape[1]:
        raise ConfigError(f"confusion matrices must be square and all the same shape, got {sorted(shapes)}")
    mean = np.mean(mats, axis=0)
    return mean, row_normalise(mean)
