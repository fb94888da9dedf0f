"""The tree baseline: learns what the catalogue numbers say, on the given folds, saved as a run."""

import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from pipeline.baseline import MODEL_NAME, SHAPE_COLUMNS, tree_baseline
from pipeline.errors import ConfigError
from pipeline.runs import create, open_run
from pipeline.training import Callback

CLASSES = ["DSCT", "RR", "LPV"]
LOG_PERIODS = {"DSCT": -0.5, "RR": 0.5, "LPV": 2.0}


def catalogue(per_class=60, seed=0):
    """OGLE-like stars whose classes differ by period only: Fourier shape is the same noise for all,
    and LPVs lack it (NaN), as in OGLE-III."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(CLASSES, per_class)
    n = len(labels)
    stars = pd.DataFrame({
        "id": [f"OGLE-{i:04d}" for i in range(n)],
        "period": 10 ** (np.array([LOG_PERIODS[c] for c in labels]) + rng.normal(0, 0.15, n)),
        "amp_I": rng.uniform(0.1, 1.0, n),
        "mag_I": rng.uniform(14, 18, n),
        "mag_V": rng.uniform(15, 19, n),
        "r21": rng.uniform(0, 0.6, n),
        "phi21": rng.uniform(0, 2 * np.pi, n),
        "r31": rng.uniform(0, 0.3, n),
        "phi31": rng.uniform(0, 2 * np.pi, n),
    })
    stars.loc[labels == "LPV", ["r21", "phi21", "r31", "phi31"]] = np.nan
    shuffle = rng.permutation(n)
    return stars.iloc[shuffle].reset_index(drop=True), pd.Series(labels[shuffle])


def folds(labels, k=3):
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(labels)), labels))


def accuracy(result):
    return np.mean([s.accuracy for s in result.summaries])


@pytest.fixture(autouse=True)
def one_thread():
    """A few hundred stars fit in a fraction of a second on one thread; OpenMP's threads on a busy
    test machine make each fit ten times slower."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data():
    stars, labels = catalogue()
    return stars, labels, folds(labels)


@pytest.fixture(scope="module")
def result(data):
    stars, labels, splits = data
    with threadpool_limits(1):
        return tree_baseline(stars, labels, CLASSES, splits)


def test_period_separates_classes(data, result):
    stars, _, _ = data
    assert accuracy(result) > 0.9
    assert result.columns == ["log_period", "amp_I", "mag_I", "mag_V", "colour", "r21", "phi21", "r31", "phi31"]
    assert result.confusion.shape == (3, 3, 3) and result.confusion.sum() == len(stars)


def test_predictions_cover_every_star_once_on_the_given_folds(data, result):
    stars, labels, splits = data
    predictions = result.predictions
    assert sorted(predictions["id"]) == sorted(stars["id"])
    for fold, (_, val) in enumerate(splits, start=1):
        assert set(predictions.loc[predictions["fold"] == fold, "id"]) == set(stars["id"].iloc[val])
    truth = dict(zip(stars["id"], labels))
    assert (predictions["true"] == predictions["id"].map(truth)).all()
    proba = predictions[[f"p_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (np.array(CLASSES)[proba.argmax(axis=1)] == predictions["pred"]).all()


def test_uninformative_shape_scores_lower(data, result):
    stars, labels, splits = data
    shape_only = tree_baseline(stars, labels, CLASSES, splits, columns=SHAPE_COLUMNS)
    assert shape_only.columns == list(SHAPE_COLUMNS)
    assert accuracy(shape_only) < accuracy(result) - 0.2


def test_a_column_without_any_value_is_left_out(data, result):
    """A catalogue without colours (one magnitude band missing for every star) still trains."""
    stars, labels, splits = data
    no_v = tree_baseline(stars.assign(mag_V=np.nan), labels, CLASSES, splits)
    assert no_v.columns == result.columns  # the feature list is the catalogue's; a fold skips empty ones
    assert accuracy(no_v) > 0.9


def test_callbacks_hear_each_fold_and_stop_keeps_the_finished_ones(data):
    stars, labels, splits = data
    heard = []

    class StopAfterFirstFold(Callback):
        def on_fold_start(self, fold, folds):
            heard.append(("start", fold, folds))

        def on_fold_end(self, fold, summary):
            heard.append(("end", fold, round(summary.accuracy, 6)))
            stop.set()

    stop = threading.Event()
    partial = tree_baseline(stars, labels, CLASSES, splits, callbacks=[StopAfterFirstFold()], stop=stop)
    assert heard == [("start", 1, 3), ("end", 1, round(partial.summaries[0].accuracy, 6))]
    assert len(partial.summaries) == 1 and set(partial.predictions["fold"]) == {1}
    stop.set()
    assert tree_baseline(stars, labels, CLASSES, splits, stop=stop).summaries == []


def test_deterministic(data, result):
    stars, labels, splits = data
    pd.testing.assert_frame_equal(result.predictions, tree_baseline(stars, labels, CLASSES, splits).predictions)


def test_saved_as_a_run(tmp_path, result):
    writer = create(tmp_path, {"model": MODEL_NAME, "classes": CLASSES, "label_map": "custom", "folds": 3})
    result.save(writer)
    writer.finish({"accuracy": accuracy(result)})
    run = open_run(writer.path)
    assert run.state == "complete" and run.folds == [1, 2, 3]
    pd.testing.assert_frame_equal(run.predictions, result.predictions)
    np.testing.assert_array_equal(run.confusion, result.confusion)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"columns": ["r21", "nonsense"]}, "nonsense"),
        ({"classes": ["DSCT", "RR"]}, "LPV"),
        ({"folds": []}, "at least one"),
    ],
)
def test_unusable_arguments_raise_config_error(kwargs, match):
    stars, labels = catalogue(per_class=10)
    arguments = {"classes": CLASSES, "folds": folds(labels), **kwargs}
    with pytest.raises(ConfigError, match=match):
        tree_baseline(stars, labels, **arguments)
