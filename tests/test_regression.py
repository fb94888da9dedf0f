"""Seed 003's regression: the [Fe/H] target and its phase convention, the GRU, the weighted loss in the
one training loop, and cross-validation saved as a run (SPEC section 7)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

import pipeline
from pipeline import regression as R
from pipeline.cli import main
from pipeline.errors import ConfigError
from pipeline.runs import open_run
from pipeline.training import Arrays, TrainConfig, evaluate, fit, seed_everything, weighted_mse


def test_seed_gru_has_the_3897_parameters_of_table_2():
    model = R.SeedGRU(channels=2)
    per_layer = [sum(p.numel() for p in layer.parameters()) for layer in (model.gru1, model.gru2, model.gru3, model.dense)]
    assert per_layer == [1440, 1824, 624, 9]
    assert sum(p.numel() for p in model.parameters()) == 3897
    out = model(torch.zeros(5, 30, 2))
    assert out.shape == (5,)


def _series(phase, coefficients):
    """Least-squares sine and cosine Fourier phases (k = 1..3) of one curve sampled at ``phase``."""
    x = 2 * np.pi * phase
    design = np.column_stack([np.ones_like(x)] + [f(k * x) for k in (1, 2, 3) for f in (np.sin, np.cos)])
    fit_ = np.linalg.lstsq(design, coefficients, rcond=None)[0]
    s, c = fit_[1::2], fit_[2::2]  # coefficients of sin(kx) and cos(kx)
    # A sin(kx + p) = A cos p sin kx + A sin p cos kx; A cos(kx + p) = A cos p cos kx - A sin p sin kx
    sine, cosine = np.arctan2(c, s), np.arctan2(-s, c)
    return sine[2] - 3 * sine[0], cosine[2] - 3 * cosine[0]


@pytest.mark.parametrize("shift", [0.0, 0.3, 0.71])
def test_phi31_sine_is_cosine_minus_pi_for_the_same_curve(shift):
    phase = np.linspace(0, 1, 400, endpoint=False)
    # An RRab-like curve that is neither series by construction: fast rise over 20 % of the cycle.
    u = (phase + shift) % 1.0
    mag = np.where(u < 0.2, -u / 0.2, -1 + (u - 0.2) / 0.8) + 0.05 * np.cos(6 * np.pi * u)
    phi31_sin, phi31_cos = _series(phase, mag)
    stars = pd.DataFrame({"phi31": [np.mod(phi31_cos, 2 * np.pi)], "phase_convention": ["cos+"]})
    converted = R.phi31_sine(stars)[0]
    assert np.pi <= converted < 3 * np.pi
    assert np.isclose(np.mod(converted - phi31_sin, 2 * np.pi), 0, atol=1e-6) or \
        np.isclose(np.mod(converted - phi31_sin, 2 * np.pi), 2 * np.pi, atol=1e-6)
    # A cos- catalogue writes the opposite phases for the same curve, and must reach the same value.
    flipped = pd.DataFrame({"phi31": [np.mod(-phi31_cos, 2 * np.pi)], "phase_convention": ["cos-"]})
    assert np.isclose(R.phi31_sine(flipped)[0], converted)


@pytest.fixture(scope="module")
def ogle3() -> pd.DataFrame:
    return pipeline.load_catalog("ogle3")


def test_smolec_feh_of_real_ogle3_rrab_matches_the_known_metallicities(ogle3):
    stars, notes = R.regression_stars(ogle3, cap=None)
    assert notes["with_label"] == (ogle3["raw_label"] == "RRLyr/RRab").sum()
    assert set(stars["raw_label"]) == {"RRLyr/RRab"} and (stars["sigma"] == 0.18).all()
    median = stars.groupby("region")["target"].median()
    # Pietrukowicz et al. 2012 (this relation on OGLE-III bulge RRab): [Fe/H]_J95 peaks at -1.02 +- 0.18;
    # the LMC RRab are more metal-poor (about -1.2 to -1.5 on the scales in use).
    assert -1.12 < median["BLG"] < -0.92
    assert -1.5 < median["LMC"] < -1.15
    assert median["LMC"] < median["BLG"]
    # The converted phases sit well inside [pi, 3 pi): a wrong sign or offset would move the bulk to an edge.
    phi = R.phi31_sine(stars)
    assert ((phi > 4.0) & (phi < 8.0)).mean() > 0.98


def catalogue(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """OGLE-III-like RRab rows in the canonical schema, with a target column that follows phi31."""
    rng = np.random.default_rng(seed)
    phi31 = rng.uniform(1.8, 3.2, n)
    return pd.DataFrame({
        "id": [f"OGLE-TEST-RRLYR-{i:03d}" for i in range(n)], "ra": rng.uniform(0, 360, n), "dec": -30.0,
        "period": rng.uniform(0.45, 0.7, n), "r21": rng.uniform(0.4, 0.5, n), "phi21": rng.uniform(4.0, 4.4, n),
        "r31": rng.uniform(0.25, 0.35, n), "phi31": phi31, "amp_I": rng.uniform(0.4, 0.8, n),
        "mag_I": rng.uniform(15.0, 16.0, n), "raw_label": "RRLyr/RRab", "phase_convention": "cos+",
        "feh_spec": 0.8 * phi31 - 3.0 + rng.normal(0, 0.05, n), "feh_err": rng.uniform(0.1, 0.3, n),
    })


def test_one_training_step_lowers_the_weighted_loss():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 12, 2)).astype(np.float32)
    y = (x[:, :, 1].mean(axis=1) - 1.3).astype(np.float32)
    data = Arrays(x, y, weight=rng.uniform(1, 30, 64))
    seed_everything(0)
    model = R.SeedGRU()
    before, _ = evaluate(model, data)
    fit(model, data, None, TrainConfig(epochs=1, batch_size=64, lr=1e-2, task="regression", device="cpu"))
    after, _ = evaluate(model, data)
    assert after < before
    # The loss is the weighted mean of squared errors.
    pred, target, w = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0]), torch.tensor([3.0, 1.0])
    assert float(weighted_mse(pred, target, w)) == pytest.approx(3 / 4)


def test_classification_labels_are_refused_by_a_regression_fit():
    data = Arrays(np.zeros((4, 5, 2), np.float32), np.array([0, 1, 0, 1]))
    with pytest.raises(ConfigError, match="regression fit needs float targets"):
        fit(R.SeedGRU(), data, None, TrainConfig(epochs=1, batch_size=4, lr=1e-2, task="regression"))


def test_metrics_on_a_hand_checked_case():
    scores = R.regression_metrics([0, 1, 2, 3], [0, 1, 2, 5], weight=[1, 1, 1, 3])
    assert scores["mae"] == pytest.approx(0.5) and scores["rmse"] == pytest.approx(1.0)
    assert scores["wmae"] == pytest.approx(1.0) and scores["wrmse"] == pytest.approx(np.sqrt(2))
    assert scores["r2"] == pytest.approx(1 - 4 / 5)
    table = R.fold_table({1: scores, 2: {**scores, "mae": 1.5}})
    assert table.loc["mean", "mae"] == pytest.approx(1.0) and table.loc["std", "mae"] == pytest.approx(0.5)


@pytest.mark.parametrize("model", ["gru", "trees"])
def test_cross_validation_saves_a_regression_run(tmp_path, model, capsys):
    stars, notes = R.regression_stars(catalogue(), target="feh_spec", sigma="feh_err", cap=None)
    config = R.RegressionConfig(model=model, target="feh_spec", sigma="feh_err", folds=2, n_points=16,
                                train=dataclasses.replace(R.SEED003_TRAINING, epochs=2, batch_size=16, device="cpu"))
    result = R.cross_validate(stars, config, runs_dir=tmp_path, run_info={"catalog": "generated"})
    run = open_run(result.run.path)
    assert run.state == "complete" and run.folds == [1, 2]
    assert run.config["task"] == "regression" and run.config["target"] == "feh_spec"
    assert run.config["weights"] == "1/sigma^2"
    if model == "gru":
        assert run.config["inputs"]["simulated"] is True and run.config["parameters"] == 3897
        assert isinstance(run.load_model(1), R.SeedGRU)
        assert len(run.history) == 4 and np.isfinite(run.history[["train_loss", "val_loss", "val_acc"]]).all().all()
    preds = run.predictions
    assert sorted(preds["id"]) == sorted(stars["id"]) and {"true", "pred", "sigma", "weight"} <= set(preds.columns)
    assert np.allclose(preds["weight"], 1 / preds["sigma"] ** 2)
    metrics = json.loads((run.path / "metrics.json").read_text())
    fold1 = preds[preds["fold"] == 1]
    expected = R.regression_metrics(fold1["true"], fold1["pred"], fold1["weight"])
    assert metrics["folds"][0]["fold"] == "1"
    assert metrics["folds"][0]["wrmse"] == pytest.approx(expected["wrmse"])
    assert all(np.isfinite(v) for row in metrics["folds"] for k, v in row.items() if k != "fold")
    table = R.prediction_table(run)
    assert np.allclose(table["residual"], table["pred"] - table["true"]) and table["period"].notna().all()
    worst = R.worst_predicted(run, n=3)
    assert len(worst) == 3 and worst["residual"].abs().iloc[0] == pytest.approx(table["residual"].abs().max())
    assert main(["report", str(run.path)]) == 0
    out = capsys.readouterr().out
    assert "wrmse" in out and "pooled out-of-fold" in out and "accuracy" not in out


def test_bad_target_columns_are_refused_by_name():
    stars = catalogue()
    with pytest.raises(ConfigError, match="target column 'feh_missing' is not in the catalogue"):
        R.regression_stars(stars, target="feh_missing")
    with pytest.raises(ConfigError, match="target column 'raw_label' holds .* values; expected numbers"):
        R.regression_stars(stars, target="raw_label")
    with pytest.raises(ConfigError, match="uncertainty column 'feh_err' has 1 value"):
        R.regression_stars(stars.assign(feh_err=np.r_[0.0, stars["feh_err"].to_numpy()[1:]]),
                           target="feh_spec", sigma="feh_err")
    with pytest.raises(ConfigError, match="needs catalogue column 'phi31'"):
        R.regression_stars(stars.drop(columns="phi31"))


def test_regress_command_saves_a_run_and_names_a_bad_target(tmp_path, capsys):
    path = tmp_path / "rrab.csv"
    catalogue().to_csv(path, index=False)
    runs_dir = tmp_path / "runs"
    assert main(["regress", "--catalog", str(path), "--model", "trees", "--folds", "2", "--runs-dir", str(runs_dir)]) == 0
    (run_dir,) = runs_dir.iterdir()
    run = open_run(run_dir)
    assert run.config["relation"]["formula"] == "[Fe/H] = -3.142 - 4.902 P + 0.824 phi31"
    assert run.config["catalog"] == str(path) and run.config["n_stars"] == 40
    assert "pooled out-of-fold" in capsys.readouterr().out
    assert main(["regress", "--catalog", str(path), "--target", "feh_nowhere", "--runs-dir", str(runs_dir)]) == 2
    assert "target column 'feh_nowhere' is not in the catalogue" in capsys.readouterr().err
