"""Models on observed light curves (issue 10): seed 002's folded 1D CNN, the Mahabal 2D-CNN and the
tree baseline on light-curve features, through the one training loop, folds, runs and the CLI.

Data: a small OGLE-III file in the real format, cleaned, then observed with the simulator.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline import CleaningConfig, ConfigError, clean
from pipeline.catalogs import read_ogle3
from pipeline.crossval import CrossValConfig, cross_validate, predict, prediction_stars
from pipeline.lightcurves import simulate
from pipeline.models import SHARED_CHOICES, build_model, count_parameters, model_choices
from pipeline.observed import catalogue_lightcurves, normalise_curves
from pipeline.runs import open_run
from pipeline.training import Arrays, fit, preset
from tests.ogle_files import star_rows, write_ogle3
from tests.test_cli import run_cli


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    path = write_ogle3(tmp_path_factory.mktemp("ogle") / "ogle3.txt.bz2", star_rows(n_per_kind=4, seed=5))
    return clean(read_ogle3(path), CleaningConfig(classes="ogle-5"))


@pytest.fixture(scope="module")
def observed(cleaned):
    return simulate(cleaned.data, survey="ogle3", seed=3)


def tiny(**overrides):
    return preset("quick", **{"epochs": 1, "batch_size": 8, "num_threads": 1, **overrides})


def test_folded_cnn_has_seed002_layers_and_parameter_count():
    model = build_model("cnn1d_folded", 6, (1, 512))
    assert count_parameters(model) == 166_918  # BN in all 4 blocks; the paper prints 166,662
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [128, 64, 32, 32] and {c.kernel_size for c in convs} == {(3,)}
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()) == 4
    assert model.encoder.out_features == 1024 and model.head[0].out_features == 128
    assert any("166,918" in c and "166,662" in c for c in model_choices("cnn1d_folded"))
    assert SHARED_CHOICES[0] not in model_choices("cnn1d_folded")  # seed 002's own head, not the thesis's


@pytest.mark.parametrize("name, shape", [("cnn1d_folded", (1, 512)), ("cnn2d_mahabal", (1, 22, 24)),
                                         ("se_resnet_mahabal", (1, 22, 24))])
def test_one_training_step_changes_the_weights(name, shape):
    torch.manual_seed(0)
    model = build_model(name, 3, shape)
    before = [p.detach().clone() for p in model.parameters()]
    rng = np.random.default_rng(0)
    data = Arrays(rng.normal(size=(8, *shape)).astype(np.float32), np.array([0, 1, 2, 0, 1, 2, 0, 1]))
    history = fit(model, data, data, tiny(batch_size=8))
    assert np.isfinite(history.train_loss[0]) and np.isfinite(history.val_loss[0])
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_curves_are_normalised_one_by_one():
    curves = np.array([[10.0, 11.0, 12.0], [15.0, 15.0, 15.0]])
    z = normalise_curves(curves, "zscore")
    np.testing.assert_allclose(z[0], [-1.2247449, 0, 1.2247449], rtol=1e-6)
    np.testing.assert_array_equal(z[1], 0)  # flat: zeros, not NaN
    np.testing.assert_allclose(normalise_curves(curves, "minmax")[0], [0, 0.5, 1])
    with pytest.raises(ConfigError, match="normalisation 'max'"):
        normalise_curves(curves, "max")


@pytest.mark.parametrize("model, extra", [("cnn1d_folded", {}), ("cnn2d_mahabal", {"dmdt_preset": "ztf"}),
                                          ("se_resnet_mahabal", {}),
                                          ("tree_baseline", {"features": "lightcurve"})])
def test_cross_validation_on_simulated_light_curves(cleaned, observed, tmp_path, model, extra):
    # one star loses its light curve and one keeps too few epochs: both dropped before the folds
    lost, short = cleaned.data["id"].iloc[0], cleaned.data["id"].iloc[1]
    data = observed.data[observed.data["id"] != lost]
    data = data[(data["id"] != short) | (data.groupby("id").cumcount() < 20)]
    lcs = dataclasses.replace(observed, data=data.reset_index(drop=True))
    config = CrossValConfig(model=model, folds=2, train=tiny(), **extra)
    result = cross_validate(cleaned.data, cleaned.classes, config, runs_dir=tmp_path, lightcurves=lcs,
                            run_info={"catalog": "generated", "label_map": "ogle-5"})
    run = open_run(result.run.path)
    assert run.state == "complete" and run.folds == [1, 2]
    kept = set(cleaned.data["id"]) - {lost, short}
    assert set(run.predictions["id"]) == kept and run.config["n_stars"] == len(kept)
    assert np.isfinite(result.fold_table.to_numpy()).all()
    record = run.config["lightcurves"]
    assert run.config["simulated"] is True and record["simulated"] is True and record["source"] == "simulated:ogle3"
    assert record["dropped"]["no_light_curve"] == 1 and record["dropped"]["too_few_points"] == 1
    if model == "cnn1d_folded":
        assert run.config["input_shape"] == [1, 512] and record["normalisation"] == "zscore"
        assert record["period_source"].startswith("catalogue") and record["bands_used"] == {"I": len(kept)}
    elif model == "cnn2d_mahabal":
        assert run.config["input_shape"] == [1, 26, 26] and record["channels"] == ["I"]
        assert record["preset"] == "ztf" and record["normalisation"] == "stretch"
    elif model == "se_resnet_mahabal":
        assert run.config["input_shape"] == [1, 22, 24] and record["preset"] == "crts"
    else:
        assert "stetson_K" in record["feature_names"] and "mean" not in record["feature_names"]
        return
    new = cleaned.data.drop(columns="label")
    probabilities = predict(run, new, lightcurves=lcs)
    assert set(probabilities["id"]) == kept and probabilities.attrs["dropped"]["no_light_curve"] == 1
    np.testing.assert_allclose(probabilities[[f"p_{c}" for c in cleaned.classes]].sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ConfigError, match="trained on observed light curves.*pass lightcurves="):
        predict(run, new)
    with pytest.raises(ConfigError, match=r"reads observed light curves, not catalogue columns"):
        prediction_stars(run, new, "new stars")


def test_light_curve_models_say_what_they_need(cleaned, observed, tmp_path):
    with pytest.raises(ConfigError, match="reads observed light curves: pass lightcurves="):
        cross_validate(cleaned.data, cleaned.classes, CrossValConfig(model="cnn1d_folded", folds=2), tmp_path)
    with pytest.raises(ConfigError, match="'cnn2d' reads catalogue rows, not light curves"):
        cross_validate(cleaned.data, cleaned.classes, CrossValConfig(model="cnn2d", folds=2), tmp_path,
                       lightcurves=observed)
    with pytest.raises(ConfigError, match="features='lightcurve' is for model 'tree_baseline'"):
        CrossValConfig(model="cnn2d", features="lightcurve")
    others = observed.data.assign(id="OTHER-" + observed.data["id"])
    with pytest.raises(ConfigError, match=r"no star has a usable light curve in simulated:ogle3 \(of 32 stars: "
                                          r"32 no light curve"):
        cross_validate(cleaned.data, cleaned.classes, CrossValConfig(model="cnn2d_mahabal", folds=2), tmp_path,
                       lightcurves=dataclasses.replace(observed, data=others))
    assert not list(tmp_path.iterdir())  # refused before any run was made
    with pytest.raises(ConfigError, match=r"unknown survey 'tess'; expected simulate: followed by one of ogle3, ztf"):
        catalogue_lightcurves("simulate:tess", cleaned.data, seed=0)
    with pytest.raises(ConfigError, match="'asas' brings its own stars and labels"):
        catalogue_lightcurves("asas", cleaned.data, seed=0)


def test_cli_trains_on_simulated_and_on_light_curve_files(tmp_path, cleaned, observed):
    catalog = tmp_path / "catalog.csv"
    cleaned.data.drop(columns="label").to_csv(catalog, index=False)
    env = {"VSE_CACHE_DIR": str(tmp_path / "cache")}
    runs = tmp_path / "runs"
    common = ("train", "--catalog", catalog, "--classes", "ogle-5", "--folds", "2", "--runs-dir", runs)
    out = run_cli(*common, "--model", "cnn1d_folded", "--lightcurves", "simulate:ogle3", "--epochs", "1",
                  "--batch-size", "8", env=env)
    assert out.returncode == 0, out.stderr
    run = open_run(sorted(runs.iterdir())[-1])
    assert run.state == "complete" and run.config["lightcurve_source"] == "simulate:ogle3"
    assert run.config["simulated"] is True and run.config["lightcurves"]["survey"] == "ogle3"
    predictions = tmp_path / "predictions.csv"
    out = run_cli("predict", run.path, "--catalog", catalog, "--out", predictions, "--lightcurves", "simulate:ogle3",
                  env=env)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(predictions)
    assert sorted(table["id"]) == sorted(cleaned.data["id"]) and "raw_label" in table
    refused = run_cli("predict", run.path, "--catalog", catalog, "--out", predictions, env=env)
    assert refused.returncode == 2 and "trained on observed light curves" in refused.stderr
    assert "add --lightcurves" in refused.stderr

    path = tmp_path / "curves.csv"  # a generic long table, joined to the catalogue by id
    observed.data[["id", "time", "mag", "err", "band"]].to_csv(path, index=False)
    out = run_cli(*common, "--model", "tree_baseline", "--lightcurves", path, env=env)
    assert out.returncode == 0, out.stderr
    run = open_run(max(runs.iterdir(), key=lambda p: p.stat().st_mtime))
    assert run.config["model"] == "tree_baseline" and run.config["features"] == "lightcurve"
    assert run.config["simulated"] is False and run.config["lightcurves"]["source"] == str(path)

    missing = run_cli(*common, "--model", "cnn2d_mahabal", env=env)
    assert missing.returncode == 2 and "reads observed light curves: add --lightcurves" in missing.stderr
