"""Fold metrics against numbers worked out by hand from small confusion matrices."""

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.metrics import (
    FOLD_COLUMNS,
    average_confusion,
    classification_summary,
    fold_table,
    row_normalise,
)

LABELS = ["A", "B", "C"]
# true A A A B B C / predicted A A B B C C:
#            pred A  B  C
#   true A      2  1  0
#   true B      0  1  1
#   true C      0  0  1
Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 0, 1, 1, 2, 2]


def test_summary_matches_hand_computation():
    s = classification_summary(Y_TRUE, Y_PRED, LABELS)
    np.testing.assert_array_equal(s.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    assert s.accuracy == pytest.approx(4 / 6)
    # precision = diagonal / column sum, recall = diagonal / row sum
    precision = [2 / 2, 1 / 2, 1 / 2]
    recall = [2 / 3, 1 / 2, 1 / 1]
    f1 = [2 * p * r / (p + r) for p, r in zip(precision, recall)]  # 0.8, 0.5, 2/3
    assert f1 == pytest.approx([0.8, 0.5, 2 / 3])
    assert list(s.per_class.index) == LABELS
    assert list(s.per_class.columns) == ["precision", "recall", "f1", "support"]
    assert s.per_class["precision"].tolist() == pytest.approx(precision)
    assert s.per_class["recall"].tolist() == pytest.approx(recall)
    assert s.per_class["f1"].tolist() == pytest.approx(f1)
    assert s.per_class["support"].tolist() == [3, 2, 1]
    assert s.macro["precision"] == pytest.approx(2 / 3)
    assert s.macro["recall"] == pytest.approx(13 / 18)
    assert s.macro["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert s.weighted["precision"] == pytest.approx((3 * 1 + 2 * 0.5 + 1 * 0.5) / 6)
    assert s.weighted["recall"] == pytest.approx(4 / 6)  # weighted recall is the accuracy
    assert s.weighted["f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6)


def test_class_names_work_like_indices():
    names = [LABELS[i] for i in Y_TRUE], [LABELS[i] for i in Y_PRED]
    by_name = classification_summary(*names, LABELS)
    by_index = classification_summary(np.array(Y_TRUE), np.array(Y_PRED), LABELS)
    np.testing.assert_array_equal(by_name.confusion, by_index.confusion)
    assert by_name.scores() == by_index.scores()


def test_matrix_follows_labels_order_not_sorted_order():
    s = classification_summary(["B", "B", "A"], ["B", "A", "A"], ["B", "A"])
    np.testing.assert_array_equal(s.confusion, [[1, 1], [0, 1]])
    assert list(s.per_class.index) == ["B", "A"]


def test_absent_class_keeps_its_row_with_zeros():
    s = classification_summary([0, 0, 1], [0, 1, 1], ["A", "B", "C"])
    assert s.confusion.shape == (3, 3)
    assert s.per_class.loc["C"].tolist() == [0, 0, 0, 0]
    assert s.macro["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3)


def test_bad_inputs_are_refused():
    with pytest.raises(ConfigError, match="not in labels"):
        classification_summary(["A", "Z"], ["A", "A"], ["A", "B"])
    with pytest.raises(ConfigError, match="outside 0..1"):
        classification_summary([0, 2], [0, 1], ["A", "B"])
    with pytest.raises(ConfigError, match="2 entries but y_pred has 1"):
        classification_summary([0, 1], [0], ["A", "B"])


def test_to_dict_round_trips_numbers():
    d = classification_summary(Y_TRUE, Y_PRED, LABELS).to_dict()
    assert d["labels"] == LABELS and d["confusion"][0] == [2, 1, 0]
    assert d["accuracy"] == pytest.approx(4 / 6)
    assert d["per_class"][0]["class"] == "A"


def test_fold_table_rows_mean_and_std():
    perfect = classification_summary([0, 1, 2], [0, 1, 2], LABELS)
    mixed = classification_summary(Y_TRUE, Y_PRED, LABELS)
    table = fold_table([perfect, mixed])
    assert list(table.columns) == list(FOLD_COLUMNS)
    assert list(table.index) == [1, 2, "mean", "std"]
    assert table.loc[1, "accuracy"] == 1.0
    assert table.loc[2, "macro_recall"] == pytest.approx(13 / 18)
    assert table.loc["mean", "accuracy"] == pytest.approx((1 + 4 / 6) / 2)
    # sample std of two values a, b is |a - b| / sqrt(2)
    assert table.loc["std", "accuracy"] == pytest.approx((1 - 4 / 6) / np.sqrt(2))
    named = fold_table([perfect, mixed], folds=["f0", "f1"], ddof=0)
    assert list(named.index) == ["f0", "f1", "mean", "std"]
    assert named.loc["std", "accuracy"] == pytest.approx((1 - 4 / 6) / 2)
    with pytest.raises(ConfigError):
        fold_table([])


def test_average_confusion_and_row_normalisation():
    a = np.array([[2, 0, 0], [1, 3, 0], [0, 0, 0]])
    b = np.array([[4, 2, 0], [1, 1, 0], [0, 0, 0]])
    mean, norm = average_confusion([a, b])
    np.testing.assert_allclose(mean, [[3, 1, 0], [1, 2, 0], [0, 0, 0]])
    np.testing.assert_allclose(norm, [[0.75, 0.25, 0], [1 / 3, 2 / 3, 0], [0, 0, 0]])
    np.testing.assert_allclose(row_normalise(a), [[1, 0, 0], [0.25, 0.75, 0], [0, 0, 0]])
    with pytest.raises(ConfigError, match="same shape"):
        average_confusion([a, np.eye(2)])
    with pytest.raises(ConfigError):
        average_confusion([])
