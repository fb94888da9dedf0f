"""What a hostile but realistic user does: absurd values, reordered or foreign columns, bad files and
bad arguments. Every case must end in a clear error or a correct result, never a silent wrong one
or a traceback. The catalogue and argument cases are tables (``CATALOGUE_CASES``, ``ARGUMENT_CASES``)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipeline import CleaningConfig, ConfigError, TrainingError, clean, load_catalog
from pipeline.crossval import CrossValConfig, cross_validate, predict
from pipeline.runs import list_runs, open_run
from pipeline.training import preset
from tests.ztf_files import write_csv, ztf_table


def quick(**overrides):
    return preset("quick", **{"epochs": 1, "batch_size": 16, "num_threads": 1, **overrides})


@pytest.fixture(scope="module")
def ztf_csv(tmp_path_factory):
    """A small two-band (g, r) ZTF CSV export."""
    return write_csv(ztf_table(400, seed=3), tmp_path_factory.mktemp("ztf") / "ztf.csv")


@pytest.fixture(scope="module")
def stars(ztf_csv):
    result = clean(load_catalog(ztf_csv), CleaningConfig(classes="ztf-5", cap=None))
    return result.data.reset_index(drop=True), result.classes


@pytest.fixture(scope="module")
def features_run(stars, tmp_path_factory):
    """A complete cnn2d_features run on the g/r stars (its inputs: 2 bands x 5 classes, 4 features)."""
    data, classes = stars
    runs_dir = tmp_path_factory.mktemp("runs")
    return cross_validate(data, classes, CrossValConfig(model="cnn2d_features", folds=2, train=quick()),
                          runs_dir=runs_dir).run


# -------------------------------------------------------------------------------- silent wrong results

@pytest.mark.parametrize("model, column, named", [
    ("cnn_lstm", "amp_r", r"amp_r=1e\+308"),  # the light curve overflows to inf in float32
    ("cnn2d_features", "amp_g", "feature amp_g"),  # the feature overflows
])
def test_an_absurd_value_is_refused_before_training(stars, tmp_path, model, column, named):
    data, classes = stars
    data = data.copy()
    data.loc[7, column] = 1e308
    with pytest.raises(TrainingError, match=named) as caught:
        cross_validate(data, classes, CrossValConfig(model=model, folds=2, train=quick()), runs_dir=tmp_path)
    assert repr(str(data.loc[7, "id"])) in str(caught.value)
    assert list_runs(tmp_path).empty  # refused before a run directory exists


def test_a_non_finite_loss_fails_the_fold_naming_epoch_and_batch(stars, tmp_path):
    data, classes = stars
    config = CrossValConfig(model="cnn_lstm", folds=2, train=quick(lr=1e30))  # the first step blows the weights up
    with pytest.raises(TrainingError, match=r"fold 1, epoch 1, batch \d+"):
        cross_validate(data, classes, config, runs_dir=tmp_path)
    run = open_run(list_runs(tmp_path).loc[0, "path"])
    assert run.state == "failed" and run.folds == []
    assert "epoch 1, batch" in run.status["error"]


def test_a_run_records_its_inputs_in_order(features_run):
    inputs = features_run.config["inputs"]
    assert inputs["amp_bands"] == ["g", "r"] and inputs["band"] == "r"
    assert inputs["channels"][:2] == [f"{features_run.classes[0]}/g", f"{features_run.classes[0]}/r"]
    assert len(inputs["channels"]) == features_run.config["input_shape"][0]
    assert inputs["features"] == ["log_period", "amp_g", "amp_r", "colour"]


def test_predict_builds_inputs_in_the_recorded_order(features_run, stars):
    data, _ = stars
    new = data.drop(columns="label").iloc[:20]
    swapped = new[["id", "raw_label", "period", "r21", "phi21", "r31", "phi31", "amp_r", "amp_g", "mag_r",
                   "mag_g"]]
    a, b = predict(features_run, new), predict(features_run, swapped)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("renamed, missing", [
    ({"amp_g": "amp_V", "amp_r": "amp_I", "mag_g": "mag_V", "mag_r": "mag_I"}, "amp_g, amp_r, mag_r, mag_g"),
    ({"amp_g": "amp_x", "mag_g": "mag_x"}, "amp_g, mag_g"),  # one band short: the channel count would differ
])
def test_predict_refuses_a_catalogue_without_the_trained_bands(features_run, stars, renamed, missing):
    data, _ = stars
    foreign = data.drop(columns="label").iloc[:20].rename(columns=renamed)
    with pytest.raises(ConfigError, match=f"lacks column\\(s\\) {missing} "):
        predict(features_run, foreign)
