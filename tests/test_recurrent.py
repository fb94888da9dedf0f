"""Seed 001's sequence inputs and multi-input BiGRU."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline.errors import ConfigError
from pipeline.lightcurves import LightCurves
from pipeline.lightcurves.sequences import sequence_inputs
from pipeline.models import count_parameters
from pipeline.models import BiGruFeatures, sequence_lengths
from pipeline.training import Arrays, TrainConfig, fit


def _curves(n_epochs: dict[str, int], seed: int = 0) -> LightCurves:
    rng = np.random.default_rng(seed)
    rows = []
    for star_id, n in n_epochs.items():
        time = np.sort(rng.uniform(0, 100, n))
        rows.append(pd.DataFrame({"id": star_id, "time": time, "mag": 14 + 0.3 * np.sin(2 * np.pi * time / 0.7),
                                  "err": rng.uniform(0.01, 0.03, n), "band": "V"}))
    return LightCurves(pd.concat(rows, ignore_index=True), "MJD", "generated")


def test_parameter_count_matches_the_seed_code():
    assert count_parameters(BiGruFeatures(n_classes=11, n_features=2)) == 249_419


def test_sequences_are_phase_sorted_padded_and_never_silently_cut():
    lcs = _curves({"a": 40, "b": 25})
    seqs = sequence_inputs(lcs, {"a": 0.7, "b": 0.7}, ["b", "a"])
    assert seqs.ids == ["b", "a"] and seqs.x.shape == (2, 40, 3)
    np.testing.assert_array_equal(seqs.lengths, [25, 40])
    assert not seqs.x[0, 25:].any() and (seqs.x[0, :25, 2] > 0).all()  # padding only after the curve
    assert (seqs.x[1, 1:, 0] >= 0).all()  # phase steps of a phase-sorted curve
    assert abs(seqs.x[1, :, 1].mean()) < 1e-6  # magnitudes about the curve's mean
    thinned = sequence_inputs(lcs, {"a": 0.7, "b": 0.7}, ["a", "b"], max_steps=30)
    assert thinned.report["thinned"] == 1 and thinned.lengths[0] == 20
    with pytest.raises(ConfigError, match="no period"):
        sequence_inputs(lcs, {"a": 0.7}, ["a", "b"])
    with pytest.raises(ConfigError, match="no finite epochs"):
        sequence_inputs(lcs, {"a": 0.7, "c": 1.0}, ["a", "c"])


def test_padding_does_not_change_the_output():
    model = BiGruFeatures(n_classes=3).eval()
    x = torch.randn(1, 12, 3)
    x[..., 2] = x[..., 2].abs() + 0.01
    padded = torch.cat([x, torch.zeros(1, 8, 3)], dim=1)
    features = torch.tensor([[0.5, 0.3]])
    np.testing.assert_array_equal(sequence_lengths(padded).numpy(), [12])
    torch.testing.assert_close(model(x, features), model(padded, features))


def test_one_training_run_learns_two_shapes():
    """Sine vs square-wave curves of the same period: only the sequence tells them apart."""
    rng = np.random.default_rng(1)
    frames, labels = [], []
    for k in range(64):
        time = np.sort(rng.uniform(0, 30, 40))
        wave = np.sin(2 * np.pi * time / 0.5)
        frames.append(pd.DataFrame({"id": f"s{k}", "time": time, "mag": np.sign(wave) if k % 2 else wave,
                                    "err": 0.02, "band": "V"}))
        labels.append(k % 2)
    data = pd.concat(frames, ignore_index=True)
    curves = [f"s{k}" for k in range(64)]
    seqs = sequence_inputs(LightCurves(data, "MJD", "generated"), dict.fromkeys(curves, 0.5), list(curves))
    features = np.tile([[0.5, 1.0]], (len(curves), 1)).astype(np.float32)
    arrays = Arrays(seqs.x, np.array(labels), features)
    torch.manual_seed(0)
    model = BiGruFeatures(n_classes=2)
    history = fit(model, arrays, arrays, TrainConfig(epochs=12, batch_size=16, lr=3e-3, device="cpu"))
    frame = history.to_frame()
    assert frame["train_loss"].iloc[-1] < frame["train_loss"].iloc[0]
    assert frame["val_acc"].iloc[-1] >= 0.8
