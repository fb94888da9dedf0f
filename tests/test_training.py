"""The shared training loop: learns a separable toy problem, repeats itself, stops when told."""

import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline.errors import ConfigError
from pipeline.models import build_model
from pipeline.training import (
    PRESETS,
    Arrays,
    Callback,
    FitState,
    History,
    TrainConfig,
    fit,
    predict_proba,
    preset,
    seed_everything,
    select_device,
)

CPU = dict(device="cpu", num_threads=1)


def sinusoids(n: int, seed: int) -> Arrays:
    """Two classes of noisy 1 x 360 sinusoids: one cycle vs three cycles over the phase grid."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    phi = np.linspace(0, 1, 360, endpoint=False)
    cycles = np.where(y == 0, 1.0, 3.0)[:, None]
    shift = rng.uniform(0, 1, (n, 1))
    x = np.sin(2 * np.pi * (cycles * phi + shift)) + 0.2 * rng.normal(size=(n, 360))
    return Arrays(x[:, None, :].astype(np.float32), y, rng.normal(size=(n, 3)))


def images(n: int, seed: int, channels: int = 2) -> Arrays:
    """Two classes of 11 x 22 images: mass in the left half vs the right half."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.uniform(0, 0.3, (n, channels, 11, 22)).astype(np.float32)
    x[y == 0, :, :, :11] += 1.0
    x[y == 1, :, :, 11:] += 1.0
    return Arrays(x, y, rng.normal(size=(n, 3)))


def _fit(name, train, val, n_features=0, callbacks=(), stop=None, fold=0, **cfg):
    seed_everything(0)
    model = build_model(name, 2, train.x.shape[1:], n_features=n_features)
    config = TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 1e-3, **CPU, **cfg})
    return model, fit(model, train, val, config, callbacks=callbacks, stop=stop, fold=fold)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, state):
        self.events.append(("fit_start", state.fold, state.epochs, state.batches))

    def on_epoch_start(self, state):
        self.events.append(("epoch_start", state.epoch))

    def on_batch_end(self, state):
        self.events.append(("batch", state.epoch, state.batch))

    def on_epoch_end(self, state):
        self.events.append(("epoch_end", state.epoch, state.val_acc))

    def on_fit_end(self, state):
        self.events.append(("fit_end", state.stopped, len(state.history)))


def test_cnn_lstm_learns_separable_sinusoids():
    start = time.perf_counter()
    model, history = _fit("cnn_lstm", sinusoids(96, 1), sinusoids(32, 2), epochs=5)
    assert time.perf_counter() - start < 25
    assert not history.stopped and len(history) == 5
    # small batches of a toy problem wobble from epoch to epoch; it must get there, then stay above chance
    assert max(history.val_acc) > 0.9
    assert history.val_acc[-1] > 0.7
    assert history.train_loss[-1] < history.train_loss[0]
    proba = predict_proba(model, sinusoids(20, 3))
    assert proba.shape == (20, 2) and proba.dtype == np.float32
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_cnn2d_features_learns_separable_images():
    train, val = images(48, 1), images(24, 2)
    model, history = _fit("cnn2d_features", train, val, n_features=3, epochs=2)
    assert history.val_acc[-1] > 0.9
    # the branch's scaling came from the training split
    assert np.allclose(model.branch.scaling.mean.numpy()[:3], train.features.mean(axis=0), atol=1e-5)
    lower_median = np.sort(train.features, axis=0)[(len(train.features) - 1) // 2]  # torch.nanmedian's
    assert np.array_equal(model.branch.impute.median.numpy(), lower_median)
    x_only = predict_proba(model, val.x, features=val.features)
    assert np.array_equal(x_only, predict_proba(model, val))
    with pytest.raises(ConfigError, match="features"):
        predict_proba(model, val.x)


def test_same_seed_gives_identical_history():
    train, val = sinusoids(32, 1), sinusoids(16, 2)
    _, first = _fit("cnn_lstm", train, val, epochs=2)
    _, second = _fit("cnn_lstm", train, val, epochs=2)
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame(), check_exact=True)
    _, other = _fit("cnn_lstm", train, val, epochs=2, seed=7)
    assert other.train_loss != first.train_loss


def test_history_frame_columns():
    _, history = _fit("cnn_lstm", sinusoids(16, 1), sinusoids(8, 2), epochs=2)
    frame = history.to_frame()
    assert list(frame.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert frame["epoch"].tolist() == [1, 2]
    assert frame.notna().all().all()


def test_stop_from_callback_after_second_batch():
    stop = threading.Event()
    batches_run = []

    class StopAfterTwo(Callback):
        def on_batch_end(self, state):
            batches_run.append((state.epoch, state.batch))
            if state.batch == 2:
                stop.set()

    recorder = Recorder()
    # 64 samples / batch 16 = 4 batches per epoch; stopping after the 2nd leaves the epoch unfinished.
    _, history = _fit(
        "cnn_lstm", sinusoids(64, 1), sinusoids(16, 2), epochs=5,
        callbacks=[StopAfterTwo(), recorder], stop=stop,
    )
    assert history.stopped
    assert batches_run == [(1, 1), (1, 2)]
    assert len(history) == 0  # the interrupted epoch is not recorded
    assert recorder.events[-1] == ("fit_end", True, 0)
    assert not any(e[0] == "epoch_end" for e in recorder.events)


def test_stop_in_second_epoch_keeps_first_epoch():
    stop = threading.Event()

    class StopInEpochTwo(Callback):
        def on_batch_end(self, state):
            if state.epoch == 2 and state.batch == 1:
                stop.set()

    _, history = _fit(
        "cnn_lstm", sinusoids(32, 1), sinusoids(8, 2), epochs=5, callbacks=[StopInEpochTwo()], stop=stop
    )
    assert history.stopped and history.epoch == [1]


def test_callbacks_see_every_epoch_and_batch():
    recorder = Recorder()
    # 40 samples / batch 16 -> batches of 16, 16, 8
    _, history = _fit("cnn_lstm", sinusoids(40, 1), sinusoids(8, 2), epochs=2, callbacks=[recorder], fold=3)
    ev = recorder.events
    assert ev[0] == ("fit_start", 3, 2, 3)
    assert [e[1:] for e in ev if e[0] == "batch"] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    assert [e[0] for e in ev if e[0] != "batch"] == [
        "fit_start", "epoch_start", "epoch_end", "epoch_start", "epoch_end", "fit_end",
    ]
    assert [e[2] for e in ev if e[0] == "epoch_end"] == history.val_acc
    assert ev[-1] == ("fit_end", False, 2)


def test_fit_state_is_a_dataclass_with_progress_fields():
    seen: list[FitState] = []

    class Keep(Callback):
        def on_epoch_end(self, state):
            seen.append(state)

    _fit("cnn_lstm", sinusoids(16, 1), sinusoids(8, 2), epochs=1, callbacks=[Keep()], fold=2)
    state = seen[0]
    assert (state.fold, state.epoch, state.epochs, state.batch, state.batches) == (2, 1, 1, 1, 1)
    assert state.device == "cpu" and state.elapsed > 0
    assert 0 <= state.train_acc <= 1 and 0 <= state.val_acc <= 1
    assert isinstance(state.history, History)


def test_feature_model_without_features_is_refused():
    data = sinusoids(8, 1)
    data.features = None
    with pytest.raises(ConfigError, match="uses catalogue features"):
        _fit("cnn_lstm_features", data, data, n_features=3)


def test_labels_outside_the_model_are_refused():
    data = sinusoids(8, 1)
    data.y[0] = 5
    with pytest.raises(ConfigError, match=r"class indices in \[0, 2\)"):
        _fit("cnn_lstm", data, None)


def test_arrays_check_lengths():
    with pytest.raises(ConfigError, match="one entry per sample"):
        Arrays(np.zeros((3, 1, 360)), np.zeros(2))
    a = Arrays(np.zeros((2, 1, 360), dtype=np.float64), [0, 1])
    assert a.x.dtype == np.float32 and a.y.dtype == np.int64


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            select_device("cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        select_device("tpu")


def test_presets():
    thesis = PRESETS["thesis"]
    assert (thesis.epochs, thesis.batch_size, thesis.lr) == (100, 32, 2e-4)
    quick = preset("quick", epochs=1)
    assert quick.epochs == 1 and PRESETS["quick"].epochs > 1  # overrides copy, never edit the preset
    assert preset("thesis").seed == 42
    with pytest.raises(ConfigError, match="unknown training preset 'slow'.*thesis.*quick"):
        preset("slow")
    with pytest.raises(ConfigError, match="unknown training setting.*epoch_count"):
        preset("quick", epoch_count=3)
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        preset("quick", epochs=0)


def test_num_threads_is_restored():
    before = torch.get_num_threads()
    _fit("cnn_lstm", sinusoids(8, 1), None, epochs=1, num_threads=1)
    assert torch.get_num_threads() == before


def test_deterministic_option_is_on_during_the_fit_only():
    seen = []

    class Watch(Callback):
        def on_batch_end(self, state):
            seen.append(torch.are_deterministic_algorithms_enabled())

    train = images(16, 1)
    _fit("cnn2d", train, None, callbacks=[Watch()], epochs=1, deterministic=True)
    assert seen and all(seen)
    assert not torch.are_deterministic_algorithms_enabled()
    assert preset("thesis").amp is False and preset("quick").deterministic is False


def test_import_pipeline_leaves_torch_for_the_training_names():
    code = ("import sys, pipeline; assert 'torch' not in sys.modules; "
            "m = pipeline.build_model('cnn2d', 3, (2, 11, 22)); assert 'torch' in sys.modules; "
            "print(type(m).__name__, pipeline.count_parameters(m) > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Cnn2d True"


def test_label_smoothing_softens_training_targets_only():
    """Seed 001's label smoothing: the training loss cannot fall below the smoothed targets' entropy
    (about 0.199 for two classes at 0.1), while the validation loss stays the plain cross-entropy."""
    train, val = images(96, 0), images(48, 1)
    floor = -(0.95 * np.log(0.95) + 0.05 * np.log(0.05))
    _, plain = _fit("cnn2d", train, val, epochs=4)
    model, smoothed = _fit("cnn2d", train, val, epochs=4, label_smoothing=0.1)
    assert min(plain.train_loss) < floor  # separable: the plain loss goes below the floor
    assert min(smoothed.train_loss) > floor
    proba = predict_proba(model, val.x, device="cpu")
    plain_ce = -np.mean(np.log(proba[np.arange(len(val)), val.y]))
    assert smoothed.val_loss[-1] == pytest.approx(plain_ce, rel=1e-4)
    with pytest.raises(ConfigError, match=r"label_smoothing must be in \[0, 1\), got 1.0"):
        TrainConfig(epochs=1, batch_size=8, lr=1e-3, label_smoothing=1.0)
    with pytest.raises(ConfigError, match="classification only"):
        TrainConfig(epochs=1, batch_size=8, lr=1e-3, label_smoothing=0.1, task="regression")
