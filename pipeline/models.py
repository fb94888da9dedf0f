"""The thesis's two networks (SPEC section 4, thesis 3.2), their catalogue-feature variants, and the
networks on observed light curves: seed 002's phase-folded 1D CNN and a 2D-CNN on Mahabal dm-dt images.

Each model is an *encoder* (the convolutional / recurrent backbone, written once) followed by the
thesis's dense head ``Linear(., 1024) ReLU Linear(1024, 512) ReLU Linear(512, C)``. The ``*_features``
variants reuse the same encoder classes and add a small dense branch for catalogue numbers (log period,
amplitudes, colour), concatenated before the head, as seed 001 does: the thesis's reconstruction
throws the period away, and an honest model needs it back.

Models return logits; softmax belongs to the loss and to :func:`pipeline.training.predict_proba`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from pipeline.errors import ConfigError

#: Width of the catalogue-feature branch's output, concatenated with the encoder's features.
FEATURE_BRANCH_WIDTH = 64


#: Choices each model makes that the thesis does not state (recorded in a run's config.json).
SHARED_CHOICES = ["dense head 1024-512-C as thesis Table 2; softmax in the loss"]
LSTM_CHOICES = [
    "LSTM initialisation: Keras's (Glorot input, orthogonal recurrent, forget-gate bias 1), not PyTorch's",
    "input scaling: one scalar standardisation fitted on the training fold (the thesis fed raw magnitudes)",
]
FAITHFUL_CHOICES = ["PyTorch's default LSTM initialisation and raw magnitudes, as the thesis code"]
IMAGE_CHOICES = [
    "'same' padding (the 11 x 22 image cannot take the thesis's 'valid' convolutions)",
    "input scaling: one scalar standardisation fitted on the training fold",
]
FOLDED_CHOICES = [
    "seed 002's network as its note's best reading: BatchNorm in all four blocks (166,918 trainable "
    "parameters for 6 classes; the paper's 166,662 is 256 fewer, i.e. BN on 128 channels only), "
    "Conv -> ReLU -> BN -> MaxPool, Flatten before the dense layers",
    "dropout rates (not given by the paper): 0.25 before block 4, 0.5 after Dense 128",
    "head Dense 128 ReLU -> dropout -> Dense C (seed 002), not the thesis's 1024-512-C; softmax in the loss",
    "input: each phase curve normalised on its own before the network (run config: folded_norm), "
    "no further scaling",
]
MAHABAL_CHOICES = [
    "the thesis's 2D-CNN encoder on a Mahabal et al. 2017 dm-dt image, one channel per band ('same' padding)",
    "input scaling: one scalar standardisation fitted on the training fold",
]
SE_RESNET_CHOICES = [
    "SE-ResNet (seed 004's ResNet50-GQS residual unit, scaled down for 11 x 22 to 26 x 26 dm-dt images): "
    "stem Conv3x3(32) stride 1 + BN + ReLU instead of the 4x4 stride-4 patchify (an 11 x 22 image already "
    "has 242 positions, the paper's 50 x 50 cut-out has 169 after its stem); 3 stages instead of 4, "
    "2 units each instead of [3, 4, 6, 3], widths 32/64/128 (a third of 96/192/384; outputs 4x: 128/256/512), "
    "strides 1/2/2 (11 x 22 -> 11 x 22 -> 6 x 11 -> 3 x 6; 26 x 26 -> 26 -> 13 -> 7): about 8,000 training "
    "images per fold instead of 25,402, trained for minutes on CPU",
    "unit as the note's best reading of Table 2 / Fig. 8: Conv3x3(C, stride s) BN, Conv1x1(4C) ReLU, "
    "Conv1x1(4C), SE; shortcut identity or Conv1x1(4C, stride s) + BN; ReLU after the addition "
    "(not stated in the paper, as in ResNet)",
    "squeeze-and-excitation: global average pool, Linear(4C, 4C/r) ReLU Linear(4C/r, 4C) sigmoid; "
    "reduction ratio r = 16 (not stated in the paper; the SE paper's default)",
    "classifier: global average pool and one Linear layer, as the paper (not the thesis's 1024-512 head)",
]
FEATURE_CHOICES = [
    "catalogue features: missing values imputed with the training fold's median, plus one missing-value "
    "indicator per feature; then standardised on the training fold",
]


def init_lstm(lstm: nn.LSTM) -> None:
    """Keras's LSTM initialisation: Glorot input weights, orthogonal recurrent weights per gate, and
    forget-gate bias 1. With PyTorch's default uniform init the last time step of the 90-step
    sequence barely depends on the input at first and the CNN-LSTM sat at chance for 15 epochs on
    a two-class sinusoid toy; with this it separates them in 3. Parameter counts are unchanged."""
    h = lstm.hidden_size
    for name, p in lstm.named_parameters():
        with torch.no_grad():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p)
            elif name.startswith("weight_hh"):
                for gate in range(4):
                    nn.init.orthogonal_(p[gate * h : (gate + 1) * h])
            elif name.startswith("bias"):
                p.zero_()
                if name.startswith("bias_ih"):
                    p[h : 2 * h] = 1.0  # gate order i, f, g, o: the forget gate starts open


class LightCurveEncoder(nn.Module):
    """Thesis Table 2, layers 1-8: four Conv1d, two max-pools, two LSTMs; returns the last time step.

    Input ``(batch, 1, L)``; the LSTMs read the pooled length ``L // 4`` as the sequence axis.
    The LSTMs start from Keras's initialisation (see :func:`init_lstm`), not PyTorch's.
    """

    out_features = 128

    def __init__(self, keras_init: bool = True) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(1, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv1d(64, 128, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(128, 256, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.Conv1d(256, 256, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
        )
        self.lstm1 = nn.LSTM(256, 64, batch_first=True)
        self.lstm2 = nn.LSTM(64, 128, batch_first=True)
        if keras_init:
            init_lstm(self.lstm1)
            init_lstm(self.lstm2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)  # (batch, 256, L//4)
        h = h.transpose(1, 2)  # (batch, L//4, 256): time steps for the LSTMs
        h, _ = self.lstm1(h)
        h, _ = self.lstm2(h)
        return h[:, -1, :]


class ImageEncoder(nn.Module):
    """Thesis Table 3, layers 1-6: four Conv2d ('same' padding), two max-pools, flattened.

    'same' padding because an 11 x 22 dm-dt image cannot survive 'valid' 5 x 5 kernels; the flattened
    size follows from the image shape (``256 * (H//2//2) * (W//2//2)``, 2560 for 11 x 22).
    """

    def __init__(self, in_channels: int, height: int, width: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=3, padding="same"),
            nn.ReLU(),
            nn.Conv2d(64, 128, kernel_size=5, padding="same"),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(128, 256, kernel_size=5, padding="same"),
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=5, padding="same"),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.out_features = 256 * (height // 2 // 2) * (width // 2 // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


#: Seed 002's dropout rates, which it does not state: before block 4, after Dense 128.
SEED002_DROPOUT = (0.25, 0.5)


class FoldedEncoder(nn.Module):
    """Seed 002 Fig. 3, blocks 1-4: [Conv1d(k3, 'same') ReLU BatchNorm MaxPool(2)] x 4 with 128, 64,
    32, 32 filters, dropout before block 4, flattened (``32 * (L // 16)``, 1024 for L = 512).

    Input ``(batch, 1, L)``: one phase-folded light curve interpolated to L phases.
    """

    FILTERS = (128, 64, 32, 32)

    def __init__(self, length: int = 512) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for block, filters in enumerate(self.FILTERS, start=1):
            if block == 4:
                layers.append(nn.Dropout(SEED002_DROPOUT[0]))
            layers += [nn.Conv1d(channels, filters, kernel_size=3, padding="same"), nn.ReLU(),
                       nn.BatchNorm1d(filters), nn.MaxPool1d(2)]
            channels = filters
        self.conv = nn.Sequential(*layers, nn.Flatten())
        self.out_features = channels * (length // 2**len(self.FILTERS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class SqueezeExcitation(nn.Module):
    """Channel attention (Hu et al. 2018): rescale each channel by a gate learned from the channel means.

    ``ratio`` is the reduction r of the bottleneck ``channels -> channels // r -> channels`` (at least 1 wide).
    """

    def __init__(self, channels: int, ratio: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // int(ratio))
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, hidden),
            nn.ReLU(),
            nn.Linear(hidden, channels),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)[:, :, None, None]


class SEResidualUnit(nn.Module):
    """Seed 004's ResNet50-GQS unit (Table 2 / Fig. 8, the note's best reading):
    ``Conv3x3(C, stride) BN -> Conv1x1(4C) ReLU -> Conv1x1(4C) -> SE``, added to the shortcut
    (identity, or ``Conv1x1(4C, stride) BN`` when the shape changes), then ReLU."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, se_ratio: int = 16) -> None:
        super().__init__()
        out = width * self.expansion
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.Conv2d(width, out, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(out, out, kernel_size=1),
            SqueezeExcitation(out, se_ratio),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_channels == out
            else nn.Sequential(nn.Conv2d(in_channels, out, kernel_size=1, stride=stride, bias=False),
                               nn.BatchNorm2d(out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual(x) + self.shortcut(x))


class SEResNetEncoder(nn.Module):
    """Seed 004's SE-ResNet scaled to dm-dt images: a stride-1 3x3 stem, then one stage per entry of
    ``widths`` (``units`` residual units each; the first unit of every stage after the first halves
    the image), then global average pooling. Any ``(channels, n_dm, n_dt)`` image with sides >= 4
    fits; the output is ``4 * widths[-1]`` numbers whatever the image size."""

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, ...] = (32, 64, 128),
        units: int = 2,
        se_ratio: int = 16,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, widths[0], kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        channels = widths[0]
        for stage, width in enumerate(widths):
            for unit in range(units):
                stride = 2 if stage > 0 and unit == 0 else 1
                layers.append(SEResidualUnit(channels, width, stride, se_ratio))
                channels = width * SEResidualUnit.expansion
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.out_features = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Standardise(nn.Module):
    """``(x - mean) / scale`` with ``mean``/``scale`` buffers set from the training split only.

    Identity until :meth:`fit` is called (``pipeline.training.fit`` does it), and saved with the
    weights, so a reloaded model scales new stars as it scaled its training stars. ``shape`` is
    ``()`` for one scalar over the whole input or ``(n,)`` for one value per feature column.
    """

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("scale", torch.ones(shape))

    @torch.no_grad()
    def fit(self, values: torch.Tensor) -> None:
        """Mean and std over every axis the buffers do not keep; a zero std keeps scale 1."""
        values = torch.as_tensor(values, dtype=torch.float32)
        flat = values.reshape(-1) if self.mean.ndim == 0 else values.reshape(-1, self.mean.shape[0])
        std = flat.std(dim=0, unbiased=False)
        self.mean.copy_(flat.mean(dim=0))
        self.scale.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.scale


class Impute(nn.Module):
    """Missing catalogue numbers -> the training fold's median, plus a 0/1 missing indicator each.

    A fixed fill (0) is a value a network can learn as a class marker (23 % of OGLE Miras have no V,
    so no colour); the median says nothing and the indicator says honestly that the value is
    missing. The medians are buffers fitted on the training split, saved with the weights.
    Output ``(batch, 2 n)``: the filled values, then the indicators.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("median", torch.zeros(n_features))

    @torch.no_grad()
    def fit(self, values: torch.Tensor) -> None:
        median = torch.nanmedian(torch.as_tensor(values, dtype=torch.float32), dim=0).values
        self.median.copy_(torch.nan_to_num(median, nan=0.0))  # a column missing everywhere: 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        missing = torch.isnan(x)
        return torch.cat([torch.where(missing, self.median, x.float()), missing.float()], dim=1)


class FeatureBranch(nn.Module):
    """Two small dense layers lifting the imputed, standardised catalogue numbers to the encoder's
    scale, so log-periods and magnitudes of different ranges weigh alike."""

    def __init__(self, n_features: int, width: int = FEATURE_BRANCH_WIDTH) -> None:
        super().__init__()
        self.impute = Impute(n_features)
        self.scaling = Standardise((2 * n_features,))
        self.net = nn.Sequential(
            nn.Linear(2 * n_features, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU()
        )
        self.n_features = n_features
        self.out_features = width

    @torch.no_grad()
    def fit(self, features: torch.Tensor) -> None:
        """Imputation, then scaling, from the training split only."""
        self.impute.fit(features)
        self.scaling.fit(self.impute(torch.as_tensor(features, dtype=torch.float32)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(self.scaling(self.impute(features)))


def dense_head(in_features: int, n_classes: int) -> nn.Sequential:
    """The thesis's classifier head, shared by both networks: 1024 -> 512 -> C logits."""
    return nn.Sequential(
        nn.Linear(in_features, 1024),
        nn.ReLU(),
        nn.Linear(1024, 512),
        nn.ReLU(),
        nn.Linear(512, n_classes),
    )


def linear_head(in_features: int, n_classes: int) -> nn.Linear:
    """Seed 004's classifier: one Linear layer on the pooled features (logits)."""
    return nn.Linear(in_features, n_classes)


def seed002_head(in_features: int, n_classes: int) -> nn.Sequential:
    """Seed 002's classifier head: Dense 128 ReLU -> Dropout -> Dense C logits."""
    return nn.Sequential(
        nn.Linear(in_features, 128),
        nn.ReLU(),
        nn.Dropout(SEED002_DROPOUT[1]),
        nn.Linear(128, n_classes),
    )


class _Classifier(nn.Module):
    """encoder [+ feature branch] -> dense head; one forward for every model."""

    uses_features: bool = False
    #: The classifier head, ``(in_features, n_classes) -> module``.
    make_head = staticmethod(dense_head)
    #: Standardise the input from the training split (``False``: raw values, as the thesis code).
    scales_input: bool = True
    choices: list[str] = []

    def __init__(self, encoder: nn.Module, n_classes: int, n_features: int = 0) -> None:
        super().__init__()
        # Light curves sit near their mean magnitude (~16 mag); one scalar standardisation from the
        # training split puts every input on the scale the thesis layers were initialised for.
        self.input_scaling = Standardise()  # identity unless fitted
        self.encoder = encoder
        self.branch = FeatureBranch(n_features) if self.uses_features else None
        width = encoder.out_features + (self.branch.out_features if self.branch is not None else 0)
        self.head = self.make_head(width, n_classes)
        self.n_classes = n_classes
        self.n_features = n_features if self.uses_features else 0

    def set_scaling(self, x: torch.Tensor, features: torch.Tensor | None = None) -> None:
        """Standardise inputs (and impute and scale catalogue features) as these training data are."""
        if self.scales_input:
            self.input_scaling.fit(x)
        if self.branch is not None and features is not None:
            self.branch.fit(features)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        h = self.encoder(self.input_scaling(x))
        if self.branch is not None:
            if features is None:
                raise ConfigError(
                    f"{type(self).__name__} needs a features tensor of shape (batch, {self.n_features}) "
                    "besides the input; got features=None"
                )
            if features.ndim != 2 or features.shape[1] != self.n_features:
                raise ConfigError(
                    f"{type(self).__name__} expected features of shape (batch, {self.n_features}), "
                    f"got {tuple(features.shape)}"
                )
            h = torch.cat([h, self.branch(features).to(h.dtype)], dim=1)
        return self.head(h)


class CnnLstm(_Classifier):
    """``cnn_lstm``: thesis CNN-LSTM on a reconstructed light curve ``(batch, 1, 360)``.

    1,360,778 parameters for 10 classes. ``features`` is accepted and ignored.
    """

    uses_features = False
    choices = LSTM_CHOICES

    def __init__(self, n_classes: int) -> None:
        super().__init__(LightCurveEncoder(), n_classes)


class CnnLstmFaithful(_Classifier):
    """``cnn_lstm_faithful``: the CNN-LSTM as the thesis code ran it, to reproduce its 74 % / 66 %:
    PyTorch's default LSTM initialisation and raw magnitudes (no input standardisation).
    Same layers and parameter count as ``cnn_lstm``."""

    uses_features = False
    scales_input = False
    choices = FAITHFUL_CHOICES

    def __init__(self, n_classes: int) -> None:
        super().__init__(LightCurveEncoder(keras_init=False), n_classes)


class Cnn2d(_Classifier):
    """``cnn2d``: thesis 2D-CNN on a dm-dt image ``(batch, c, 11, 22)``.

    5,816,650 parameters for a 2 x 11 x 22 input and 10 classes. ``features`` is accepted and ignored.
    """

    uses_features = False
    choices = IMAGE_CHOICES

    def __init__(self, n_classes: int, input_shape: tuple[int, int, int] = (2, 11, 22)) -> None:
        super().__init__(ImageEncoder(*input_shape), n_classes)


class CnnLstmFeatures(_Classifier):
    """``cnn_lstm_features``: the CNN-LSTM plus a dense branch for ``n_features`` catalogue numbers."""

    uses_features = True
    choices = LSTM_CHOICES + FEATURE_CHOICES

    def __init__(self, n_classes: int, n_features: int) -> None:
        super().__init__(LightCurveEncoder(), n_classes, n_features)


class Cnn2dFeatures(_Classifier):
    """``cnn2d_features``: the 2D-CNN plus a dense branch for ``n_features`` catalogue numbers."""

    uses_features = True
    choices = IMAGE_CHOICES + FEATURE_CHOICES

    def __init__(
        self, n_classes: int, n_features: int, input_shape: tuple[int, int, int] = (2, 11, 22)
    ) -> None:
        super().__init__(ImageEncoder(*input_shape), n_classes, n_features)


class Cnn1dFolded(_Classifier):
    """``cnn1d_folded``: seed 002's 1D CNN on a phase-folded light curve ``(batch, 1, 512)``.

    166,918 trainable parameters for 6 classes (BatchNorm in every block; see FOLDED_CHOICES).
    """

    scales_input = False  # each curve is normalised on its own before it gets here
    make_head = staticmethod(seed002_head)
    choices = FOLDED_CHOICES

    def __init__(self, n_classes: int, input_shape: tuple[int, int] = (1, 512)) -> None:
        super().__init__(FoldedEncoder(input_shape[1]), n_classes)


class Cnn2dMahabal(_Classifier):
    """``cnn2d_mahabal``: the thesis's 2D-CNN on Mahabal dm-dt images of observed light curves
    ``(batch, bands, n_dm, n_dt)`` (22 x 24 with the ``crts`` bins)."""

    choices = MAHABAL_CHOICES

    def __init__(self, n_classes: int, input_shape: tuple[int, int, int] = (1, 22, 24)) -> None:
        super().__init__(ImageEncoder(*input_shape), n_classes)


RNN_CHOICES = [
    "sequence per epoch: phase step (days, scaled by the curve's std), magnitude minus the curve's mean, error",
    "numeric features log10(period) and amplitude, standardised on the training fold (the seed's code fed raw "
    "period and amplitude)",
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
    """``bigru_features``: seed 001's RNN-based multi-input network (its note, section 3.1)::

        sequence (steps, 3) -> BiGRU(128, sequences) -> BiGRU(64) -> Dropout 0.4
                            -> Dense 128 ReLU -> Dropout 0.4 -> Dense 32 ReLU ----------+
        features (2)        -> Dense 64 ReLU -> Dense 32 ReLU ---------------------------+-> Dense C

    249,419 parameters for 11 classes and 2 features (PyTorch's GRU keeps two bias vectors per gate,
    as Keras's ``reset_after=True``, so the counts agree). Padding is masked by packing each sequence
    to its length (Keras's ``Masking(0)``); the embedding is the second BiGRU's last state of each
    direction. Input: ``pipeline.lightcurves.sequences``.
    """

    name = "bigru_features"
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

    def embed(self, x: torch.Tensor, features: torch.Tensor | None) -> torch.Tensor:
        """The RNN embedding and the feature branch's output, side by side ``(batch, 64)``."""
        if features is None or features.ndim != 2 or features.shape[1] != self.n_features:
            shape = None if features is None else tuple(features.shape)
            raise ConfigError(f"{self.name} needs features of shape (batch, {self.n_features}); got {shape}")
        return torch.cat([self.encoder(x), self.branch(self.feature_scaling(features))], dim=1)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.embed(x, features))


#: Seed 001's CNN branch (the authors' ``multi_input_model``): per block its (filters, kernel) convolutions,
#: each 'same' and ReLU, then BatchNorm, Dropout 0.2 and a 3 x 3 stride-2 max-pool.
SEED001_CNN_BLOCKS = (((4, 7), (4, 5)), ((8, 3),) * 3, ((16, 3),) * 3, ((32, 3),) * 2)
SEED001_CNN_DROPOUT = 0.2
#: The authors' Rescaling(1/255): the ``stretch`` dm-dt image's pixels are 0-255, as their greyscale image's.
IMAGE_SCALE = 255.0
COMPOUND_CHOICES = [
    "image: the star's Mahabal dm-dt image (pipeline.observed kind lc_dmdt, 22 x 24 with the crts bins), not the "
    "paper's 128 x 128 drawing of the folded curve (issue 11 asks for the dm-dt image); pixels divided by 255 "
    "as the authors' Rescaling(1/255), right for the default 'stretch' normalisation",
    "CNN branch as the authors' mix_models.py (Conv 4@7x7 + 4@5x5, 3x8, 3x16, 2x32 at 3x3, 'same', BatchNorm + "
    "Dropout 0.2 after each block, GAP, Dropout 0.2, Dense 256 -> Dropout 0.2 -> Dense 32): 38,556 trainable "
    "parameters for one channel, as the note's count at 128 x 128 (GAP makes it size-independent)",
    "max-pools 3x3 stride 2 padded by one pixel on each side (PyTorch pads with -inf, so the padding is never "
    "the max): 22 x 24 -> 11 x 12 -> 6 x 6 -> 3 x 3 -> 2 x 2; Keras's unpadded pooling would leave 1 x 2 "
    "after three blocks and nothing after the fourth",
    "no L1 penalty on the CNN's dense layers (the authors' 'l1' 0.01; the one training loop has no per-layer "
    "penalties); PyTorch's BatchNorm momentum and epsilon",
    "two stages per network (the note, section 3.3): stage 1 trains bigru_features on the same training "
    "data; stage 2 loads its sequence encoder, feature scaling and feature branch, freezes the sequence "
    "encoder (the feature branch stays trainable, as mix_models.py) and trains the whole from the CNN's "
    "random start; stage 1's last epoch is loaded (the authors picked the minimum-validation-loss epoch)",
]


def seed001_cnn_block(in_channels: int, convs: tuple[tuple[int, int], ...]) -> nn.Sequential:
    """[Conv 'same' ReLU] x n -> BatchNorm -> Dropout 0.2 -> MaxPool 3x3 stride 2 (padded by 1)."""
    layers: list[nn.Module] = []
    for filters, kernel in convs:
        layers += [nn.Conv2d(in_channels, filters, kernel, padding="same"), nn.ReLU()]
        in_channels = filters
    return nn.Sequential(*layers, nn.BatchNorm2d(in_channels), nn.Dropout(SEED001_CNN_DROPOUT),
                         nn.MaxPool2d(3, stride=2, padding=1))


class ImageBranch(nn.Module):
    """Seed 001's CNN branch (its note, section 3.2)::

        image (c, n_dm, n_dt) / 255 -> [4@7x7, 4@5x5] [8@3x3 x3] [16@3x3 x3] [32@3x3 x2]   (each block:
             BatchNorm, Dropout 0.2, MaxPool 3x3/2) -> GAP -> Dropout 0.2 -> Dense 256 ReLU -> Dropout 0.2
             -> Dense 32 ReLU
    """

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        blocks, channels = [], in_channels
        for convs in SEED001_CNN_BLOCKS:
            blocks.append(seed001_cnn_block(channels, convs))
            channels = convs[-1][0]
        self.conv = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dense = nn.Sequential(nn.Dropout(SEED001_CNN_DROPOUT), nn.Linear(channels, 256), nn.ReLU(),
                                   nn.Dropout(SEED001_CNN_DROPOUT), nn.Linear(256, 32), nn.ReLU())
        self.out_features = 32

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.dense(self.conv(images.float() / IMAGE_SCALE))


class CompoundRnnCnn(BiGruFeatures):
    """``compound_rnn_cnn``: seed 001's compound multi-input network (paper Fig. 4, its note section 3.2)::

        sequence (steps, 3)    -> SequenceEncoder: BiGRU 128 -> BiGRU 64 -> Dense 128 -> Dense 32 ---+
        features (2)           -> Dense 64 ReLU -> Dense 32 ReLU ---------------------------------+-> Dense C
        dm-dt image (c, h, w)  -> ImageBranch: 4 conv blocks -> GAP -> Dense 256 -> Dense 32 -------+

    288,327 trainable parameters for 11 classes, 2 features and one image channel (the note's 288,447
    adds the 120 BatchNorm statistics, buffers here). The sequence and feature branches are
    ``bigru_features``'s, under the same names, so :meth:`load_rnn` starts stage 2 from stage 1's network.
    """

    name = "compound_rnn_cnn"
    uses_images = True
    choices = RNN_CHOICES + COMPOUND_CHOICES
    #: What stage 2 freezes (the authors' mix_models.py: both BiGRUs and the RNN's two dense layers).
    FROZEN = ("encoder",)

    def __init__(self, n_classes: int, n_features: int = 2, channels: int = 3, image_channels: int = 1) -> None:
        super().__init__(n_classes, n_features, channels)
        self.image_branch = ImageBranch(image_channels)
        self.head = nn.Linear(self.encoder.out_features + 32 + self.image_branch.out_features, n_classes)

    def load_rnn(self, rnn: BiGruFeatures) -> None:
        """Stage 2's start: stage 1's sequence encoder, feature scaling and feature branch, the encoder frozen."""
        for part in ("encoder", "feature_scaling", "branch"):
            getattr(self, part).load_state_dict(getattr(rnn, part).state_dict())
        for part in self.FROZEN:
            getattr(self, part).requires_grad_(False)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None,
                images: torch.Tensor | None = None) -> torch.Tensor:
        if images is None or images.ndim != 4:
            raise ConfigError(f"{self.name} needs dm-dt images of shape (batch, channels, n_dm, n_dt); "
                              f"got {None if images is None else tuple(images.shape)}")
        return self.head(torch.cat([self.embed(x, features), self.image_branch(images)], dim=1))
class SEResNet(_Classifier):
    """``se_resnet``: seed 004's SE-ResNet, scaled down for dm-dt images ``(batch, c, n_dm, n_dt)``.

    2,277,493 parameters for a 2 x 11 x 22 input and 5 classes (see ``SE_RESNET_CHOICES`` for the
    scaling). ``se_ratio`` is the squeeze-and-excitation reduction. ``features`` is accepted and ignored.
    """

    uses_features = False
    make_head = staticmethod(linear_head)
    choices = IMAGE_CHOICES[1:] + SE_RESNET_CHOICES

    def __init__(
        self, n_classes: int, input_shape: tuple[int, int, int] = (2, 11, 22), se_ratio: int = 16
    ) -> None:
        super().__init__(SEResNetEncoder(input_shape[0], se_ratio=se_ratio), n_classes)


class SEResNetFeatures(_Classifier):
    """``se_resnet_features``: the SE-ResNet plus a dense branch for ``n_features`` catalogue numbers."""

    uses_features = True
    make_head = staticmethod(linear_head)
    choices = IMAGE_CHOICES[1:] + SE_RESNET_CHOICES + FEATURE_CHOICES

    def __init__(
        self,
        n_classes: int,
        n_features: int,
        input_shape: tuple[int, int, int] = (2, 11, 22),
        se_ratio: int = 16,
    ) -> None:
        super().__init__(SEResNetEncoder(input_shape[0], se_ratio=se_ratio), n_classes, n_features)


class SEResNetMahabal(SEResNet):
    """``se_resnet_mahabal``: the SE-ResNet on Mahabal dm-dt images of observed light curves
    ``(batch, bands, n_dm, n_dt)`` (22 x 24 with the ``crts`` bins: 22 x 24 -> 11 x 12 -> 6 x 6)."""

    choices = SEResNet.choices + ["input: a Mahabal et al. 2017 dm-dt image of the observed light curve, "
                                  "one channel per band"]

    def __init__(
        self, n_classes: int, input_shape: tuple[int, int, int] = (1, 22, 24), se_ratio: int = 16
    ) -> None:
        super().__init__(n_classes, input_shape, se_ratio)


MODELS: dict[str, type] = {
    "cnn_lstm": CnnLstm,
    "cnn_lstm_faithful": CnnLstmFaithful,
    "cnn2d": Cnn2d,
    "cnn_lstm_features": CnnLstmFeatures,
    "cnn2d_features": Cnn2dFeatures,
    "cnn1d_folded": Cnn1dFolded,
    "cnn2d_mahabal": Cnn2dMahabal,
    "bigru_features": BiGruFeatures,
    "compound_rnn_cnn": CompoundRnnCnn,
    "se_resnet": SEResNet,
    "se_resnet_features": SEResNetFeatures,
    "se_resnet_mahabal": SEResNetMahabal,
}

#: The representation each model reads: from catalogue rows (pipeline.representations) a reconstructed
#: light curve or a dm-dt image; from observed light curves (pipeline.observed) a phase-folded curve
#: (``folded``), a Mahabal dm-dt image (``lc_dmdt``), the sequence of epochs (``sequence``) or both of the
#: last two (``sequence_lc_dmdt``: the sequence as ``x``, the image as ``Arrays.images``).
MODEL_INPUTS: dict[str, str] = {
    "cnn_lstm": "lightcurve",
    "cnn_lstm_faithful": "lightcurve",
    "cnn2d": "dmdt",
    "cnn_lstm_features": "lightcurve",
    "cnn2d_features": "dmdt",
    "cnn1d_folded": "folded",
    "cnn2d_mahabal": "lc_dmdt",
    "bigru_features": "sequence",
    "compound_rnn_cnn": "sequence_lc_dmdt",
    "se_resnet": "dmdt",
    "se_resnet_features": "dmdt",
    "se_resnet_mahabal": "lc_dmdt",
}
#: Curves ``(1, L)`` and images ``(channels, n_dm, n_dt)``, whatever they are built from.
CURVE_INPUTS = ("lightcurve", "folded")
IMAGE_INPUTS = ("dmdt", "lc_dmdt")


def _check_input_shape(name: str, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Reject shapes the network cannot take, saying what it expected (no batch axis)."""
    shape = tuple(int(s) for s in input_shape)
    if MODEL_INPUTS[name] in ("sequence", "sequence_lc_dmdt"):
        if len(shape) != 2 or shape[0] < 1 or shape[1] != 3:
            raise ConfigError(f"model {name!r} expects sequences of shape (steps, 3) (phase step, magnitude, "
                              f"error per epoch), without the batch axis; got {shape}")
    elif MODEL_INPUTS[name] in CURVE_INPUTS:
        shortest = 16 if MODEL_INPUTS[name] == "folded" else 4  # four poolings need 16 phases
        if len(shape) != 2 or shape[0] != 1 or shape[1] < shortest:
            raise ConfigError(
                f"model {name!r} expects a light curve of shape (1, length) with length >= {shortest} "
                f"(e.g. (1, {512 if shortest == 16 else 360})), without the batch axis; got {shape}"
            )
    else:
        if len(shape) != 3 or shape[0] < 1 or shape[1] < 4 or shape[2] < 4:
            raise ConfigError(
                f"model {name!r} expects a dm-dt image of shape (channels, n_dm, n_dt) with "
                f"n_dm, n_dt >= 4 (e.g. (2, 11, 22)), without the batch axis; got {shape}"
            )
    return shape


class Ensemble(nn.Module):
    """Several networks of one kind whose class probabilities are averaged (seed 001's bagging).

    Returns log mean probabilities, so the softmax of :func:`pipeline.training.predict_proba` gives
    the mean probabilities back and the cross-entropy of a fit would see a proper distribution.
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.uses_features = getattr(members[0], "uses_features", False)
        self.uses_images = getattr(members[0], "uses_images", False)
        self.n_classes = getattr(members[0], "n_classes", None)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None,
                images: torch.Tensor | None = None) -> torch.Tensor:
        inputs = (x, features) if images is None else (x, features, images)
        proba = torch.stack([torch.softmax(m(*inputs).float(), dim=1) for m in self.members]).mean(dim=0)
        return torch.log(proba.clamp_min(1e-12))


def build_model(
    name: str, n_classes: int, input_shape: tuple[int, ...], n_features: int = 0, members: int = 1,
    image_shape: tuple[int, ...] | None = None,
) -> nn.Module:
    """Build a registered model by name, checking the input shape and feature count up front.

    Plain models ignore ``n_features``; the ``*_features`` models need ``n_features >= 1``.
    ``members > 1`` builds an :class:`Ensemble` of that many (a bagged run's saved weights).
    ``image_shape`` ``(channels, n_dm, n_dt)`` is the second input of a model on ``sequence_lc_dmdt``.
    """
    if int(members) > 1:
        return Ensemble([build_model(name, n_classes, input_shape, n_features, image_shape=image_shape)
                         for _ in range(int(members))])
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    if int(n_classes) < 2:
        raise ConfigError(f"model {name!r} needs at least 2 classes, got n_classes={n_classes}")
    shape = _check_input_shape(name, input_shape)
    cls = MODELS[name]
    kwargs: dict = {"n_classes": int(n_classes)}
    if cls.uses_features:
        if int(n_features) < 1:
            raise ConfigError(
                f"model {name!r} takes catalogue features: n_features must be >= 1, got {n_features}"
            )
        kwargs["n_features"] = int(n_features)
    if MODEL_INPUTS[name] in IMAGE_INPUTS or MODEL_INPUTS[name] == "folded":
        kwargs["input_shape"] = shape
    if getattr(cls, "uses_images", False):
        image = tuple(int(s) for s in image_shape or ())
        if len(image) != 3 or min(image) < 1:
            raise ConfigError(f"model {name!r} takes a dm-dt image beside the sequence: image_shape must be "
                              f"(channels, n_dm, n_dt), e.g. (1, 22, 24); got {image_shape}")
        kwargs["image_channels"] = image[0]
    return cls(**kwargs)


def model_choices(name: str) -> list[str]:
    """What model ``name`` does that the thesis did not say, for a run's config."""
    shared = SHARED_CHOICES if getattr(MODELS[name], "make_head", None) is dense_head else []  # seeds 001, 002, 004: own heads
    return [*shared, *MODELS[name].choices]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters, the number the thesis tables are checked against."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
