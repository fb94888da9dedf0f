"""Seed 001's multi-input recurrent network (its note, section 3.1), as the paper's code builds it.

::

    sequence (steps, 3) -> BiGRU(128, sequences) -> BiGRU(64) -> Dropout 0.4
                        -> Dense 128 ReLU -> Dropout 0.4 -> Dense 32 ReLU ----------+
    features (2)        -> Dense 64 ReLU -> Dense 32 ReLU ---------------------------+-> Dense C

249,419 parameters for 11 classes and 2 features (PyTorch's GRU keeps two bias vectors per gate, as
Keras's ``reset_after=True``, so the counts agree). Padding is masked by packing each sequence to its
length (``Masking(0)``); the embedding is the second BiGRU's last state of each direction.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from pipeline.errors import ConfigError

from .models import Standardise

RNN_CHOICES = [
    "sequence per epoch: phase step (days, scaled by the curve's std), magnitude minus the curve's mean, error",
    "numeric features standardised on the training fold (the seed's code fed raw period and amplitude)",
    "padding masked by packed sequences; embedding = last state of each direction of the second BiGRU",
]


def sequence_lengths(x: torch.Tensor) -> torch.Tensor:
    """Steps before the zero padding of each ``(batch, steps, channels)`` sequence (at least 1)."""
    real = (x != 0).any(dim=2)
    return real.sum(dim=1).clamp(min=1)


class SequenceEncoder(nn.Module):
    """BiGRU 128 -> BiGRU 64 -> Dropout -> Dense 128 -> Dropout -> Dense 32: the RNN embedding."""

    def __init__(self, channels: int = 3, dropout: float = 0.4) -> None:
        super().__init__()
        self.gru1 = nn.GRU(channels, 128, batch_first=True, bidirectional=True)
        self.gru2 = nn.GRU(256, 64, batch_first=True, bidirectional=True)
        self.dense = nn.Sequential(nn.Dropout(dropout), nn.Linear(128, 128), nn.ReLU(), nn.Dropout(dropout),
                                   nn.Linear(128, 32), nn.ReLU())
        self.out_features = 32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x.float(), sequence_lengths(x).cpu(), batch_first=True, enforce_sorted=False)
        sequences, _ = self.gru1(packed)
        _, last = self.gru2(sequences)  # (2 directions, batch, 64)
        return self.dense(torch.cat([last[0], last[1]], dim=1))


class BiGruFeatures(nn.Module):
    """``bigru_features``: seed 001's RNN-based multi-input classifier (sequence + period, amplitude)."""

    uses_features = True
    choices = RNN_CHOICES

    def __init__(self, n_classes: int, n_features: int = 2, channels: int = 3) -> None:
        super().__init__()
        if n_features < 1:
            raise ConfigError(f"bigru_features takes numeric features: n_features must be >= 1, got {n_features}")
        self.encoder = SequenceEncoder(channels)
        self.feature_scaling = Standardise((n_features,))
        self.branch = nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(self.encoder.out_features + 32, n_classes)
        self.n_classes, self.n_features = n_classes, n_features

    def set_scaling(self, x: torch.Tensor, features: torch.Tensor | None = None) -> None:
        """Standardise the numeric features as the training fold's are (sequences are scaled per curve)."""
        if features is not None:
            self.feature_scaling.fit(features)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        if features is None or features.ndim != 2 or features.shape[1] != self.n_features:
            shape = None if features is None else tuple(features.shape)
            raise ConfigError(f"bigru_features needs features of shape (batch, {self.n_features}); got {shape}")
        h = torch.cat([self.encoder(x), self.branch(self.feature_scaling(features))], dim=1)
        return self.head(h)
