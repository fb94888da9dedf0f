"""Seed 001's bagging with GP augmentation inside the folds: simulated OGLE-III observations of a
small OGLE-III file in the real format, one class made small so that it needs synthetic curves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline import CleaningConfig, ConfigError, clean
from pipeline.bagging import bag_sets
from pipeline.catalogs import read_ogle3
from pipeline.crossval import SYNTHETIC_FILE, CrossValConfig, cross_validate, make_folds, observed_inputs, predict
from pipeline.labels import encode
from pipeline.lightcurves import simulate
from pipeline.runs import open_run
from pipeline.training import preset
from tests.ogle_files import star_rows, write_ogle3

MAX_STEPS = 60


@pytest.fixture(scope="module")
def stars(tmp_path_factory):
    path = write_ogle3(tmp_path_factory.mktemp("ogle") / "ogle3.txt.bz2", star_rows(n_per_kind=4, seed=8))
    cleaned = clean(read_ogle3(path), CleaningConfig(classes="ogle-5"))
    counts = cleaned.data["label"].value_counts()
    small = counts.index[-1]
    data = cleaned.data.drop(cleaned.data.index[cleaned.data["label"] == small][: counts[small] - 4])
    return data.reset_index(drop=True), cleaned.classes, small


@pytest.fixture(scope="module")
def observed(stars):
    return simulate(stars[0], survey="ogle3", seed=2)


def tiny():
    return preset("quick", epochs=1, batch_size=16, num_threads=1)


def test_bagged_gp_ensemble_trains_and_predicts_on_training_stars_only(stars, observed, tmp_path):
    data, classes, small = stars
    config = CrossValConfig(model="bigru_features", folds=2, members=2, augment="gp", bag_per_class=6,
                            max_steps=MAX_STEPS, train=tiny())
    result = cross_validate(data, classes, config, runs_dir=tmp_path, lightcurves=observed,
                            run_info={"catalog": "generated", "label_map": "ogle-5"})
    run = open_run(result.run.path)
    assert run.state == "complete" and run.config["members"] == 2 and run.config["augment"] == "gp"
    assert any("posterior" in choice for choice in run.config["model_choices"])
    assert run.config["inputs"]["features"] == ["log10_period", "amplitude"] and run.config["n_features"] == 2

    made = pd.read_parquet(run.path / SYNTHETIC_FILE)
    folds = pd.read_parquet(run.path / "stars.parquet").set_index("id")
    assert set(made["bag"]) == {1, 2} and set(made["fold"]) == {1, 2}
    assert (made["label"] == small).any()  # the small class (4 stars, 2 per training fold) was topped up
    for fold, part in made.groupby("fold"):
        training = set(folds.index[folds["fold"] != fold])
        assert set(part["prototype"]) <= training  # no synthetic curve derives from a validation star
        assert (part["label"].to_numpy() == folds.loc[part["prototype"], "label"].to_numpy()).all()
        assert part["id"].is_unique

    metrics = json.loads((run.path / "metrics.json").read_text())
    assert [len(metrics["members"][str(f)]) for f in (1, 2)] == [2, 2]
    probabilities = predict(run, data.drop(columns="label"), lightcurves=observed)
    assert len(probabilities) == len(data)
    np.testing.assert_allclose(probabilities[[f"p_{c}" for c in classes]].sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("mode", ["gp", "duplicate"])
def test_synthetic_inputs_are_draws_not_copies_unless_asked(stars, observed, mode):
    data, classes, small = stars
    config = CrossValConfig(model="bigru_features", folds=2, augment=mode, bag_per_class=6, max_steps=MAX_STEPS)
    inputs = observed_inputs(config, data, observed)
    train_idx, _ = make_folds(inputs.stars["label"], 2, 0)[0]
    train = inputs.stars.iloc[train_idx]
    y = encode(train["label"], classes)
    (bag,) = bag_sets(config, train, inputs.x[train_idx], inputs.network_features[train_idx], y, observed,
                      classes, [], seed=1)
    n_real = len(bag.arrays.x) - len(bag.synthetic)
    assert len(bag.synthetic) > 0 and np.bincount(bag.arrays.y, minlength=len(classes)).max() == 6
    row_of = {star: k for k, star in enumerate(train["id"])}
    for k, prototype in enumerate(bag.synthetic["prototype"]):
        real = inputs.x[train_idx][row_of[prototype]]
        same = np.array_equal(bag.arrays.x[n_real + k][: len(real)], real)
        assert same == (mode == "duplicate")


def test_a_stars_gp_is_fitted_once_for_every_fold_that_trains_on_it(stars, observed):
    data, classes, _ = stars
    config = CrossValConfig(model="bigru_features", folds=3, augment="gp", bag_per_class=6, max_steps=MAX_STEPS)
    inputs = observed_inputs(config, data, observed)
    y = encode(inputs.stars["label"], classes)
    shared, reused = {}, set()
    for number, (train_idx, _) in enumerate(make_folds(inputs.stars["label"], 3, 0), start=1):
        args = (config, inputs.stars.iloc[train_idx], inputs.x[train_idx], inputs.network_features[train_idx],
                y[train_idx], observed, classes, [])
        before = dict(shared)
        (bag,) = bag_sets(*args, seed=number, fitted=shared)
        (alone,) = bag_sets(*args, seed=number)  # every GP fitted afresh, with this fold's seed
        np.testing.assert_allclose(bag.arrays.x, alone.arrays.x, rtol=1e-6)  # a fit reused draws the same curves
        assert all(shared[key] is gp for key, gp in before.items())  # kept, not fitted again
        reused |= {key for key in before if key[0] in set(bag.synthetic["prototype"])}
    assert reused  # the small class's stars train in two of the three folds


def test_bags_without_augmentation_only_undersample(stars, observed):
    data, classes, _ = stars
    config = CrossValConfig(model="bigru_features", folds=2, members=2, bag_per_class=6, max_steps=MAX_STEPS)
    inputs = observed_inputs(config, data, observed)
    y = encode(inputs.stars["label"], classes)
    bags = bag_sets(config, inputs.stars, inputs.x, inputs.network_features, y, observed, classes, [], seed=1)
    for bag in bags:
        assert bag.synthetic.empty and len(bag.arrays.x) == np.minimum(np.bincount(y), 6).sum()


def test_bagging_settings_are_checked():
    with pytest.raises(ConfigError, match="need a model on observed light curves"):
        CrossValConfig(model="cnn2d", members=3)
    with pytest.raises(ConfigError, match="unknown augmentation 'smote'"):
        CrossValConfig(model="bigru_features", augment="smote")
    with pytest.raises(ConfigError, match="members 0"):
        CrossValConfig(model="bigru_features", members=0)
