"""ROC/AUC and calibration of saved predictions, against hand-worked numbers and scikit-learn."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from pipeline.errors import ConfigError
from pipeline.probability_metrics import calibration, roc_summary


def two_class(true, p_a, fold=None):
    """A predictions table for classes A and B, ``p_a`` the probability of A, ``pred`` its argmax."""
    p_a = np.asarray(p_a, dtype=float)
    return pd.DataFrame({"id": [f"s{i}" for i in range(len(true))], "fold": fold or [1] * len(true),
                         "true": true, "pred": np.where(p_a >= 0.5, "A", "B"), "p_A": p_a, "p_B": 1 - p_a})


def test_perfect_classifier_has_auc_one():
    roc = roc_summary(two_class(["A", "A", "B", "B"], [0.9, 0.7, 0.2, 0.4]), ["A", "B"])
    assert roc.auc == {"A": 1.0, "B": 1.0} and roc.macro_auc == 1.0
    curve = roc.curves["A"]
    assert (curve["fpr"].iloc[0], curve["tpr"].iloc[0]) == (0.0, 0.0)
    assert (curve["fpr"].iloc[-1], curve["tpr"].iloc[-1]) == (1.0, 1.0)
    assert ((curve["fpr"] == 0) & (curve["tpr"] == 1)).any()  # the corner
    assert np.isfinite(curve.to_numpy()).all()


def test_small_example_auc_by_hand():
    # p_A of the two A stars {0.9, 0.4} against the two B stars {0.6, 0.2}: 3 of the 4 pairs ranked right
    roc = roc_summary(two_class(["A", "A", "B", "B"], [0.9, 0.4, 0.6, 0.2]), ["A", "B"])
    assert roc.auc == pytest.approx({"A": 0.75, "B": 0.75})
    assert roc.macro_auc == pytest.approx(0.75)


def test_three_classes_agree_with_sklearn_one_vs_rest():
    rng = np.random.default_rng(3)
    classes = ["Cep", "Mira", "RRab"]  # sklearn wants labels sorted
    true = np.array(classes * 20)
    probs = rng.dirichlet([1, 1, 1], size=len(true))
    probs[np.arange(len(true)), np.tile([0, 1, 2], 20)] += 0.5  # better than chance
    probs /= probs.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"true": true, "pred": np.array(classes)[probs.argmax(1)], "fold": np.repeat([1, 2], 30),
                          **{f"p_{c}": probs[:, i] for i, c in enumerate(classes)}})
    roc = roc_summary(frame, classes)
    assert roc.macro_auc == pytest.approx(roc_auc_score(true, probs, multi_class="ovr", labels=classes))
    for i, c in enumerate(classes):
        assert roc.auc[c] == pytest.approx(roc_auc_score(true == c, probs[:, i]))
    first = frame["fold"] == 1
    assert roc.fold_macro_auc[1] == pytest.approx(
        roc_auc_score(true[first], probs[first], multi_class="ovr", labels=classes))
    assert roc.undefined == {}


def test_class_absent_from_a_fold_and_from_the_run():
    # C never validated; fold 2 holds only A and B's one star: B is undefined in fold 2 alone
    frame = pd.concat([two_class(["A", "B", "A", "B"], [0.8, 0.3, 0.6, 0.4], fold=[1] * 4),
                       two_class(["A", "A"], [0.9, 0.7], fold=[2, 2])], ignore_index=True)
    frame["p_C"] = 0.0
    roc = roc_summary(frame, ["A", "B", "C"])
    assert set(roc.auc) == {"A", "B"} and roc.undefined == {"C": "no validated star"}
    assert roc.fold_macro_auc == {1: 1.0}  # fold 2 has no class with both positives and negatives
    assert roc.macro_auc == pytest.approx(1.0)
    assert "C" not in roc.curves


def test_one_class_only_gives_no_auc_and_no_nan():
    roc = roc_summary(two_class(["A", "A", "A"], [0.9, 0.8, 0.3]), ["A", "B"])
    assert roc.auc == {} and roc.macro_auc is None and roc.curves == {}
    assert roc.undefined == {"A": "every validated star is of this class", "B": "no validated star"}


def test_calibrated_toy_has_zero_ece():
    # 4 stars at confidence 0.75 with 3 right, 2 stars at confidence 0.5 with 1 right
    frame = two_class(["A", "A", "A", "B", "A", "B"], [0.75, 0.75, 0.75, 0.75, 0.5, 0.5])
    cal = calibration(frame, ["A", "B"])
    assert cal.ece == pytest.approx(0.0)
    assert cal.bins["count"].tolist() == [2, 4]
    assert cal.bins["low"].tolist() == pytest.approx([0.4, 0.7])
    assert cal.bins["accuracy"].tolist() == pytest.approx([0.5, 0.75])


def test_overconfident_toy_ece_by_hand():
    # 4 stars at 0.95, half right (gap 0.45); 4 stars at 0.65 (prediction B, p_B = 0.65), all right (gap 0.35)
    frame = two_class(["A", "B", "A", "B", "B", "B", "B", "B"], [0.95] * 4 + [0.35] * 4)
    cal = calibration(frame, ["A", "B"])
    assert cal.bins["confidence"].tolist() == pytest.approx([0.65, 0.95])
    assert cal.ece == pytest.approx(0.5 * 0.35 + 0.5 * 0.45)
    assert np.isfinite(cal.bins.to_numpy(dtype=float)).all()


def test_bad_probabilities_name_the_column():
    frame = two_class(["A", "B"], [0.9, 0.2])
    frame.loc[1, "p_B"] = np.nan
    with pytest.raises(ConfigError, match="p_B row 1"):
        roc_summary(frame, ["A", "B"])
    with pytest.raises(ConfigError, match=r"lack column\(s\) \['p_C'\]"):
        calibration(two_class(["A", "B"], [0.9, 0.2]), ["A", "B", "C"])
    with pytest.raises(ConfigError, match="empty"):
        calibration(two_class([], []), ["A", "B"])
