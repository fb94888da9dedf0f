"""Seed 001's compound RNN+CNN (``compound_rnn_cnn``) and its two-stage training through the one loop:
generated arrays for the network, simulated OGLE-III observations of a small real-format OGLE-III file
for the folds, runs, ``predict`` and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline import CleaningConfig, ConfigError, clean
from pipeline.catalogs import read_ogle3
from pipeline.crossval import CrossValConfig, cross_validate, predict
from pipeline.lightcurves import simulate
from pipeline.models import CompoundRnnCnn, build_model, count_parameters, model_choices
from pipeline.runs import open_run
from pipeline.stages import fit_network
from pipeline.training import Arrays, Callback, fit, preset
from tests.ogle_files import star_rows, write_ogle3
from tests.test_cli import run_cli

MAX_STEPS = 60
SEQUENCE, IMAGE = (30, 3), (1, 22, 24)


def tiny(**overrides):
    return preset("quick", **{"epochs": 1, "batch_size": 8, "num_threads": 1, **overrides})


def generated(n: int = 16, n_classes: int = 3, seed: int = 0) -> Arrays:
    """Sequences (positive errors, some padding), two numbers and a 0-255 dm-dt image per sample."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *SEQUENCE)).astype(np.float32)
    x[..., 2] = np.abs(x[..., 2]) + 0.01
    x[::2, 20:] = 0  # every other sequence is shorter, zero-padded
    images = np.fix(255 * rng.random((n, *IMAGE)) ** 4).astype(np.float32)
    return Arrays(x, np.arange(n) % n_classes, rng.normal(size=(n, 2)).astype(np.float32), images=images)


def test_parameter_count_matches_the_seed_code():
    model = build_model("compound_rnn_cnn", 11, SEQUENCE, n_features=2, image_shape=IMAGE)
    assert isinstance(model, CompoundRnnCnn)
    # the note's count: BiGRU 102,144 + 123,648, dense 16,512 + 4,128, features 2,272, CNN 38,556, output 1,067
    assert count_parameters(model) == 288_327
    assert count_parameters(model.image_branch) == 38_556  # the note's trainable CNN count at 128 x 128
    batchnorm_statistics = sum(b.numel() for name, b in model.image_branch.named_buffers() if "running" in name)
    assert batchnorm_statistics == 120  # the note's 288,447 total counts them
    model.load_rnn(build_model("bigru_features", 11, SEQUENCE, n_features=2))
    assert count_parameters(model) == 41_895  # stage 2's trainable part, as the note says
    # GAP: the branch does not depend on the image size; four padded poolings keep 22 x 24 alive
    assert count_parameters(build_model("compound_rnn_cnn", 11, SEQUENCE, 2, image_shape=(1, 128, 128))) == 288_327
    h = torch.rand(1, *IMAGE)
    sizes = []
    for block in model.image_branch.conv[:4]:
        h = block(h)
        sizes.append(tuple(h.shape[2:]))
    assert sizes == [(11, 12), (6, 6), (3, 3), (2, 2)]
    assert any("128 x 128" in c and "dm-dt" in c for c in model_choices("compound_rnn_cnn"))


def test_output_needs_the_image_and_the_numbers():
    data = generated(4)
    model = build_model("compound_rnn_cnn", 3, SEQUENCE, n_features=2, image_shape=IMAGE).eval()
    x, f, images = (torch.from_numpy(a) for a in (data.x, data.features, data.images))
    with torch.no_grad():
        out = model(x, f, images)
    assert out.shape == (4, 3) and torch.isfinite(out).all()
    with pytest.raises(ConfigError, match="needs dm-dt images"):
        model(x, f)
    with pytest.raises(ConfigError, match=r"needs features of shape \(batch, 2\)"):
        model(x, None, images)
    with pytest.raises(ConfigError, match="image_shape must be"):
        build_model("compound_rnn_cnn", 3, SEQUENCE, n_features=2)
    with pytest.raises(ConfigError, match=r"Arrays.images is None"):
        fit(model, Arrays(data.x, data.y, data.features), None, tiny())


def test_one_training_step_changes_every_branch():
    torch.manual_seed(0)
    model = build_model("compound_rnn_cnn", 3, SEQUENCE, n_features=2, image_shape=IMAGE)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    data = generated()
    history = fit(model, data, data, tiny(batch_size=16))
    assert np.isfinite(history.train_loss[0]) and np.isfinite(history.val_loss[0])
    for part in ("encoder", "branch", "image_branch", "head"):
        assert any(not torch.equal(before[name], p) for name, p in model.named_parameters() if name.startswith(part))


class Stages(Callback):
    """The stage every fit announced to the run's callbacks."""

    def __init__(self):
        self.seen = []

    def on_fit_start(self, state):
        self.seen.append(state.stage)


def test_two_stages_load_stage_one_and_freeze_the_sequence_encoder():
    train, val = generated(16, seed=1), generated(8, seed=2)
    config = CrossValConfig(model="compound_rnn_cnn", train=tiny(epochs=2), pretrain_epochs=1)
    stages = Stages()
    fitted = fit_network(config, train, val, SEQUENCE, 2, 3, [stages], None, fold=1, seed=5, image_shape=IMAGE)
    rnn, model = fitted.pretrained, fitted.model
    assert type(rnn).__name__ == "BiGruFeatures" and isinstance(model, CompoundRnnCnn)
    assert stages.seen == ["stage 1/2 (bigru_features)", "stage 2/2 (compound_rnn_cnn, sequence encoder frozen)"]
    assert fitted.history["stage"].tolist() == [1, 2, 2] and fitted.history["epoch"].tolist() == [1, 2, 3]
    # stage 2 trained for two epochs and left every frozen parameter exactly as stage 1 ended
    for (name, frozen), trained in zip(model.encoder.named_parameters(), rnn.encoder.parameters()):
        assert not frozen.requires_grad and torch.equal(frozen, trained), name
    # while the CNN branch moved away from the start it was built with (the same seed, before any step)
    torch.manual_seed(5)
    start = build_model("compound_rnn_cnn", 3, SEQUENCE, n_features=2, image_shape=IMAGE)
    assert any(not torch.equal(a, b) for a, b in zip(start.image_branch.parameters(), model.image_branch.parameters()))


def test_stage_two_starts_from_the_stage_one_embedding():
    data = generated(8)
    torch.manual_seed(3)
    rnn = build_model("bigru_features", 3, SEQUENCE, n_features=2)
    fit(rnn, Arrays(data.x, data.y, data.features), None, tiny())
    model = build_model("compound_rnn_cnn", 3, SEQUENCE, n_features=2, image_shape=IMAGE)
    x, f = torch.from_numpy(data.x), torch.from_numpy(data.features)
    with torch.no_grad():
        assert not torch.equal(model.eval().embed(x, f), rnn.eval().embed(x, f))
        model.load_rnn(rnn)
        torch.testing.assert_close(model.embed(x, f), rnn.embed(x, f), rtol=0, atol=0)
    assert all(p.requires_grad for p in model.branch.parameters())  # the feature branch stays trainable


@pytest.fixture(scope="module")
def stars(tmp_path_factory):
    path = write_ogle3(tmp_path_factory.mktemp("ogle") / "ogle3.txt.bz2", star_rows(n_per_kind=4, seed=8))
    cleaned = clean(read_ogle3(path), CleaningConfig(classes="ogle-5"))
    return cleaned.data, cleaned.classes


@pytest.fixture(scope="module")
def observed(stars):
    return simulate(stars[0], survey="ogle3", seed=2)


def test_bagged_two_stage_run_is_saved_and_predicts(stars, observed, tmp_path):
    data, classes = stars
    config = CrossValConfig(model="compound_rnn_cnn", folds=2, members=2, augment="gp", bag_per_class=6,
                            max_steps=MAX_STEPS, train=tiny(), pretrain_epochs=2)
    result = cross_validate(data, classes, config, runs_dir=tmp_path, lightcurves=observed,
                            run_info={"catalog": "generated", "label_map": "ogle-5"})
    run = open_run(result.run.path)
    assert run.state == "complete" and run.folds == [1, 2]
    assert run.config["inputs"]["kind"] == "sequence_lc_dmdt" and run.config["inputs"]["channels"] == ["I"]
    assert run.config["image_shape"] == [1, 22, 24] and run.config["input_shape"][1] == 3
    assert run.config["lightcurves"]["preset"] == "crts" and run.config["lightcurves"]["max_steps"] == MAX_STEPS
    first, second = run.config["stages"]
    assert (first["model"], first["epochs"], second["model"], second["epochs"]) == ("bigru_features", 2,
                                                                                      "compound_rnn_cnn", 1)
    assert second["frozen"][0].startswith("encoder") and first["frozen"] == []
    history = pd.read_csv(run.path / "history.csv")
    # per fold: member 1's stages 1, 1, 2 then member 2's, numbered on
    assert history[history["fold"] == 1]["stage"].tolist() == [1, 1, 2, 1, 1, 2]
    assert history[history["fold"] == 1]["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert [len(metrics["members"][str(f)]) for f in (1, 2)] == [2, 2]
    probabilities = predict(run, data.drop(columns="label"), lightcurves=observed)
    assert len(probabilities) == len(data)
    np.testing.assert_allclose(probabilities[[f"p_{c}" for c in classes]].sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ConfigError, match="pretrain_epochs 3: stage 1's epochs of 'compound_rnn_cnn'"):
        CrossValConfig(model="bigru_features", pretrain_epochs=3)


def test_cli_trains_the_compound_model_in_two_stages(stars, tmp_path):
    data, _ = stars
    catalog = tmp_path / "catalog.csv"
    data.drop(columns="label").to_csv(catalog, index=False)
    runs = tmp_path / "runs"
    out = run_cli("train", "--catalog", catalog, "--classes", "ogle-5", "--folds", "2", "--runs-dir", runs,
                  "--model", "compound_rnn_cnn", "--lightcurves", "simulate:ogle3", "--epochs", "1",
                  "--pretrain-epochs", "1", "--batch-size", "8", "--max-steps", str(MAX_STEPS),
                  env={"VSE_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert "stage 1/2 (bigru_features) epoch 1/1" in out.stderr and "stage 2/2" in out.stderr
    run = open_run(sorted(runs.iterdir())[-1])
    assert run.state == "complete" and [s["epochs"] for s in run.config["stages"]] == [1, 1]
    predictions = tmp_path / "predictions.csv"
    out = run_cli("predict", run.path, "--catalog", catalog, "--out", predictions, "--lightcurves", "simulate:ogle3",
                  env={"VSE_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert sorted(pd.read_csv(predictions)["id"]) == sorted(data["id"])
