"""Cross-validation end to end on generated stars: runs saved, stop honoured, no label leak."""

import threading

import numpy as np
import pytest

from pipeline import CleaningConfig, ConfigError, clean
from pipeline.catalogs import read_ogle3
from pipeline.crossval import CrossValConfig, cross_validate, make_folds, model_inputs, predict
from pipeline.runs import list_runs, open_run
from pipeline.training import Callback, preset
from tests.ogle_files import star_rows, write_ogle3


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    path = write_ogle3(tmp_path_factory.mktemp("ogle") / "ogle3.txt.bz2", star_rows(n_per_kind=12, seed=5))
    return clean(read_ogle3(path), CleaningConfig(classes="ogle-5"))


def quick(**overrides):
    return preset("quick", **{"epochs": 2, "batch_size": 16, "num_threads": 1, **overrides})


def test_folds_are_stratified_and_seeded(cleaned):
    labels = cleaned.data["label"]
    a, b = make_folds(labels, 3, seed=1), make_folds(labels, 3, seed=1)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    val = np.concatenate([v for _, v in a])
    assert sorted(val) == list(range(len(labels)))  # every star validated exactly once
    for _, v in a:
        assert labels.iloc[v].value_counts()["DSCT"] == 4  # 12 DSCT over 3 folds
    with pytest.raises(ConfigError, match="at least 20 stars per class"):
        make_folds(labels, 20, seed=1)


def test_reference_inputs_never_read_validation_labels(cleaned):
    stars = cleaned.data.reset_index(drop=True)
    train, val = stars.iloc[::2], stars.iloc[1::2]
    shuffled = val.assign(label=val["label"].sample(frac=1, random_state=0).to_numpy())
    for model in ("cnn2d", "cnn_lstm"):
        a = model_inputs(model, val, train, cleaned.classes, "reference")
        np.testing.assert_array_equal(a, model_inputs(model, shuffled, train, cleaned.classes, "reference"))
    thesis = model_inputs("cnn2d", val, train, cleaned.classes, "thesis")
    assert not np.array_equal(thesis, model_inputs("cnn2d", shuffled, train, cleaned.classes, "thesis"))


def test_cross_validation_saves_a_complete_run_and_predicts(cleaned, tmp_path):
    config = CrossValConfig(model="cnn2d_features", folds=3, train=quick())
    result = cross_validate(cleaned.data, cleaned.classes, config, runs_dir=tmp_path,
                            run_info={"catalog": "generated", "label_map": "ogle-5"})
    run = open_run(result.run.path)
    assert run.state == "complete" and run.folds == [1, 2, 3]
    assert sorted(run.predictions["id"]) == sorted(cleaned.data["id"])
    assert set(run.history["fold"]) == {1, 2, 3} and run.history["epoch"].max() == 2
    assert run.confusion.shape == (3, 5, 5) and run.confusion.sum() == len(cleaned.data)
    table = result.fold_table
    assert list(table.index) == [1, 2, 3, "mean", "std"]
    assert run.metrics["folds"][0]["fold"] == 1
    assert run.config["label_map"] == "ogle-5" and run.config["leaks_label"] is False
    # what the run was made with, and every choice the thesis did not make
    assert run.config["convention"] == "catalog" and run.config["phase_convention"] == "cos+"
    assert run.config["git_commit"] and run.config["packages"]["torch"] != "not installed"
    assert run.config["inputs"]["features"] == ["log_period", "amp_I", "colour"]
    assert any("median" in choice for choice in run.config["model_choices"])
    new = cleaned.data.drop(columns="label").iloc[:7]
    probabilities = predict(run, new)
    assert list(probabilities["id"]) == list(new["id"])
    np.testing.assert_allclose(probabilities[[f"p_{c}" for c in cleaned.classes]].sum(axis=1), 1, rtol=1e-5)


def test_networks_learn_the_period_classes(cleaned, tmp_path):
    config = CrossValConfig(model="cnn2d_features", folds=2, train=quick(epochs=8, lr=3e-3))
    result = cross_validate(cleaned.data, cleaned.classes, config, runs_dir=tmp_path)
    assert result.fold_table.loc["mean", "accuracy"] > 0.6  # chance is 0.2


class StopAfter(Callback):
    def __init__(self, stop, fold, batch):
        self.stop, self.fold, self.batch, self.seen = stop, fold, batch, []

    def on_batch_end(self, state):
        self.seen.append((state.fold, state.epoch, state.batch))
        if (state.fold, state.batch) == (self.fold, self.batch):
            self.stop.set()


def test_stop_keeps_finished_folds_and_marks_the_run_interrupted(cleaned, tmp_path):
    stop = threading.Event()
    watcher = StopAfter(stop, fold=2, batch=1)
    config = CrossValConfig(model="cnn_lstm", folds=3, train=quick())
    result = cross_validate(cleaned.data, cleaned.classes, config, runs_dir=tmp_path, callbacks=[watcher], stop=stop)
    assert watcher.seen[-1] == (2, 1, 1)  # nothing ran after the batch that asked to stop
    run = open_run(result.run.path)
    assert run.state == "interrupted" and run.folds == [1]
    assert "stopped after 1 of 3 folds" in run.status["message"]
    listing = list_runs(tmp_path)
    assert listing.loc[0, "status"] == "interrupted"


def test_tree_baseline_and_thesis_mode_runs(cleaned, tmp_path):
    tree = cross_validate(cleaned.data, cleaned.classes, CrossValConfig(model="tree_baseline", folds=3),
                          runs_dir=tmp_path)
    assert tree.run.state == "complete" and tree.run.folds == [1, 2, 3]
    with pytest.raises(ConfigError, match="keeps no weights"):
        predict(tree.run, cleaned.data)
    leaky = cross_validate(cleaned.data, cleaned.classes,
                           CrossValConfig(model="cnn2d", dmdt_mode="thesis", folds=3, train=quick(epochs=1)),
                           runs_dir=tmp_path)
    assert leaky.run.config["leaks_label"] and "leaks the label" in leaky.run.config["warning"]
    with pytest.raises(ConfigError, match="cannot classify new stars"):
        predict(leaky.run, cleaned.data)


def test_thesis_reproduction_settings_are_recorded(cleaned, tmp_path):
    stars = cleaned.data.reset_index(drop=True)
    catalog_curves = model_inputs("cnn_lstm", stars, stars, cleaned.classes, "reference")
    thesis_curves = model_inputs("cnn_lstm", stars, stars, cleaned.classes, "reference", convention="thesis")
    rr = np.flatnonzero(stars["label"].to_numpy() == "RR")
    assert not np.allclose(catalog_curves[rr], thesis_curves[rr])  # reversed in time
    np.testing.assert_allclose(catalog_curves[rr, :, 1:][..., ::-1], thesis_curves[rr, :, 1:], atol=1e-5)
    config = CrossValConfig(model="cnn_lstm_faithful", convention="thesis", folds=2,
                            train=preset("thesis", epochs=1, batch_size=32, num_threads=1))
    assert config.train.amp is False  # the thesis trained in fp32
    run = cross_validate(cleaned.data, cleaned.classes, config, runs_dir=tmp_path).run
    assert run.state == "complete"
    assert run.config["convention"] == "thesis" and run.config["phase_convention"].startswith("thesis")
    assert any("raw magnitudes" in choice for choice in run.config["model_choices"])
    with pytest.raises(ConfigError, match="unknown phase convention"):
        CrossValConfig(convention="sine")


def test_missing_catalogue_features_are_imputed_not_refused(cleaned, tmp_path):
    stars = cleaned.data.copy()
    stars.loc[stars["label"] == "LPV", "mag_V"] = np.nan  # as 23 % of OGLE Miras: no V, so no colour
    config = CrossValConfig(model="cnn2d_features", folds=2, train=quick(epochs=1))
    run = cross_validate(stars, cleaned.classes, config, runs_dir=tmp_path).run
    assert run.state == "complete"
    model = run.load_model(1)
    colour = run.config["inputs"]["features"].index("colour")
    assert np.isfinite(model.branch.impute.median[colour].item())
    probabilities = predict(run, stars.drop(columns="label").iloc[:5])
    assert np.isfinite(probabilities.filter(like="p_").to_numpy()).all()
