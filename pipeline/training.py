"""The one training loop, shared by the CLI, the cross-validation code and the app.

Adam + cross-entropy on shuffled minibatches (thesis Table 1), or weighted MSE for a regression
(``TrainConfig.task``, seed 003), validation every epoch, optional
mixed precision on CUDA. Progress goes out through :class:`Callback` hooks (a progress bar, a Panel
widget, a log) and a ``threading.Event`` stops a run within one batch, so the app's Stop button and
Ctrl-C in the CLI behave alike. Nothing here knows about Panel.
"""

from __future__ import annotations

import dataclasses
import os
import time
import threading
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from pipeline.errors import ConfigError, TrainingError


# --------------------------------------------------------------------------------------------------
# Configuration

TASKS = ("classification", "regression")


@dataclass
class TrainConfig:
    """Hyper-parameters of one fit; presets below, any field overridable.

    ``amp`` is used only on CUDA (CPU autocast is slower for these models); ``num_threads`` caps
    torch's intra-op threads for the duration of a fit (``None`` leaves torch's default).
    ``deterministic`` makes torch use deterministic kernels only (slower on CUDA; bit-identical
    reruns of a seeded fit on the same machine). ``task`` is ``classification`` (cross-entropy on
    class indices) or ``regression`` (MSE weighted by :attr:`Arrays.weight` on float targets; the
    history's ``*_acc`` columns then hold R^2, higher is better as for accuracy).
    ``label_smoothing`` softens the training targets of a classification (seed 001 used 0.1); the
    validation loss stays the plain cross-entropy, so runs with and without it compare.
    """

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.0
    seed: int = 42
    device: str = "auto"
    amp: bool = True
    num_threads: int | None = None
    deterministic: bool = False
    task: str = "classification"
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"unknown task {self.task!r}; expected one of {list(TASKS)}")
        if int(self.epochs) < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if int(self.batch_size) < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not float(self.lr) > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")
        if float(self.weight_decay) < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= float(self.label_smoothing) < 1:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.label_smoothing and self.task == "regression":
            raise ConfigError("label_smoothing applies to classification only; the regression task has no labels")
        if self.num_threads is not None and int(self.num_threads) < 1:
            raise ConfigError(f"num_threads must be >= 1 or None, got {self.num_threads}")


#: Named presets. ``thesis`` is thesis Table 1 exactly. ``quick`` is sized from timings on 2 CPU cores
#: (AVX2, torch 2.13): either model trains at ~6.5 ms per sample (~5.5 s per epoch of 800 training +
#: 200 validation samples, batch 64), so a 5-class x 1000, 5-fold run costs ~27 s per epoch per fold,
#: ~2.3 min per epoch of the whole CV. Three epochs at batch 64 and a 5x learning rate (the loss
#: falls within the first epoch) keep that to ~7 min per model; fewer stars per class scale it down
#: linearly. Data-bound, not loop-bound: these networks are ~100-185 M multiply-adds per sample.
PRESETS: dict[str, TrainConfig] = {
    "thesis": TrainConfig(epochs=100, batch_size=32, lr=2e-4, amp=False),  # the thesis trained in fp32
    "quick": TrainConfig(epochs=3, batch_size=64, lr=1e-3),
    # Seed 002 (phase-folded 1D CNN, section 4 of its note): Adam lr 1e-4, batch 16, 100 epochs.
    "seed002": TrainConfig(epochs=100, batch_size=16, lr=1e-4, amp=False),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A copy of preset ``name`` with ``overrides`` applied (the preset itself is left untouched)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown training preset {name!r}; known presets: {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(
            f"unknown training setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}"
        )
    return dataclasses.replace(PRESETS[name], **overrides)


def select_device(preference: str = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then CPU. ``cpu``, ``cuda``, ``cuda:N``, ``mps`` explicitly."""
    pref = str(preference).strip().lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref == "cpu":
        return torch.device("cpu")
    if pref == "cuda" or pref.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {preference!r} was asked for but CUDA is not available in this torch "
                f"({torch.__version__}); use device='auto' or 'cpu'"
            )
        device = torch.device(pref)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {preference!r} does not exist; {torch.cuda.device_count()} CUDA device(s) found"
            )
        return device
    if pref == "mps":
        if not _mps_available():
            raise ConfigError("device 'mps' was asked for but Apple MPS is not available; use 'auto' or 'cpu'")
        return torch.device("mps")
    raise ConfigError(f"unknown device {preference!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def seed_everything(seed: int) -> None:
    """Seed torch and numpy; call before building a model so its initial weights repeat too."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


# --------------------------------------------------------------------------------------------------
# Data, history and callbacks


@dataclass
class Arrays:
    """One split: inputs ``x`` (float32, batch first), labels ``y`` (int64 class indices, or float32
    targets when ``y`` is floating: a regression), the optional catalogue ``features`` (float32,
    ``(n, n_features)``) for the ``*_features`` models, optional per-sample ``weight`` of a
    regression's loss (float32, ``1 / sigma^2``; equal weights when None), and the optional second
    input ``images`` (float32, batch first) of a model that reads two arrays per star (seed 001's
    compound network: the sequence as ``x``, the dm-dt image here), batched beside ``x``."""

    x: np.ndarray
    y: np.ndarray
    features: np.ndarray | None = None
    weight: np.ndarray | None = None
    images: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        floating = np.issubdtype(np.asarray(self.y).dtype, np.floating)
        self.y = np.ascontiguousarray(self.y, dtype=np.float32 if floating else np.int64)
        if self.weight is not None:
            self.weight = np.ascontiguousarray(self.weight, dtype=np.float32)
            if self.weight.shape != (len(self.x),):
                raise ConfigError(f"weight must be 1-D with one entry per sample: x has {len(self.x)} samples, "
                                  f"weight has shape {self.weight.shape}")
        if self.y.ndim != 1 or len(self.y) != len(self.x):
            raise ConfigError(
                f"labels y must be 1-D with one entry per sample: x has {len(self.x)} samples, "
                f"y has shape {self.y.shape}"
            )
        if self.images is not None:
            self.images = np.ascontiguousarray(self.images, dtype=np.float32)
            if len(self.images) != len(self.x):
                raise ConfigError(f"images must have one entry per sample: x has {len(self.x)} samples, "
                                  f"images has shape {self.images.shape}")
        if self.features is not None:
            self.features = np.ascontiguousarray(self.features, dtype=np.float32)
            if self.features.ndim != 2 or len(self.features) != len(self.x):
                raise ConfigError(
                    f"features must be (n_samples, n_features) with n_samples={len(self.x)}, "
                    f"got shape {self.features.shape}"
                )

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class History:
    """Per-epoch curves of one fit (epochs numbered from 1); ``stopped`` if a stop event ended it early.

    An epoch interrupted by a stop is not recorded: every row is a complete epoch.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stopped: bool = False

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "epoch": self.epoch,
                "train_loss": self.train_loss,
                "train_acc": self.train_acc,
                "val_loss": self.val_loss,
                "val_acc": self.val_acc,
            }
        )

    def __len__(self) -> int:
        return len(self.epoch)


@dataclass
class FitState:
    """What callbacks see. ``epoch`` and ``batch`` count from 1 (0 before the first one starts);
    ``train_loss``/``train_acc`` are running means over the current epoch's batches so far, the
    ``val_*`` values those of the last completed epoch (NaN before). ``stage`` names the part of a
    several-stage training this fit is (seed 001's compound network), empty otherwise."""

    fold: int
    epochs: int
    batches: int
    device: str
    n_train: int
    n_val: int
    epoch: int = 0
    batch: int = 0
    train_loss: float = float("nan")
    train_acc: float = float("nan")
    val_loss: float = float("nan")
    val_acc: float = float("nan")
    elapsed: float = 0.0
    stopped: bool = False
    history: History = field(default_factory=History)
    stage: str = ""


class Callback:
    """No-op hooks; subclass and override what you need. Hooks run on the training thread.

    ``on_fold_start``/``on_fold_end`` come from :func:`pipeline.crossval.cross_validate`, around
    the fold's inputs being built and its model being trained and scored.
    """

    def on_fold_start(self, fold: int, folds: int) -> None: ...

    def on_fold_end(self, fold: int, summary) -> None: ...

    def on_fit_start(self, state: FitState) -> None: ...

    def on_epoch_start(self, state: FitState) -> None: ...

    def on_batch_end(self, state: FitState) -> None: ...

    def on_epoch_end(self, state: FitState) -> None: ...

    def on_fit_end(self, state: FitState) -> None: ...


# --------------------------------------------------------------------------------------------------
# Training


@contextmanager
def _threads(n: int | None):
    """Cap torch's intra-op threads for the duration of a fit, then put the old value back."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextmanager
def _deterministic(on: bool):
    """Deterministic kernels for the duration of a fit (cuBLAS needs its workspace setting for it)."""
    if not on:
        yield
        return
    old = torch.are_deterministic_algorithms_enabled()
    old_benchmark = torch.backends.cudnn.benchmark
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old)
        torch.backends.cudnn.benchmark = old_benchmark


def _check_arrays(model: nn.Module, data: Arrays, what: str, task: str = "classification") -> None:
    if len(data) == 0:
        raise ConfigError(f"the {what} split is empty")
    regression = _is_regression(data)
    if regression != (task == "regression"):
        raise ConfigError(f"a {task} fit needs {'float targets' if task == 'regression' else 'integer class indices'} "
                          f"as the {what} y; got {data.y.dtype}")
    if regression:
        for name, values in (("targets y", data.y), ("weights", data.weight)):
            if values is not None and not np.isfinite(values).all():
                sample = int(np.flatnonzero(~np.isfinite(values))[0])
                raise TrainingError(f"the {what} {name} hold {int((~np.isfinite(values)).sum())} non-finite "
                                    f"value(s), first in sample {sample}; expected finite numbers")
        if data.weight is not None and not (data.weight > 0).all():
            raise ConfigError(f"the {what} weights must be > 0 (1 / sigma^2); found {float(data.weight.min())}")
    if getattr(model, "uses_images", False) and data.images is None:
        raise ConfigError(f"model {type(model).__name__} reads a dm-dt image beside its input but the {what} "
                          "split has none (Arrays.images is None)")
    if getattr(model, "uses_features", False) and data.features is None:
        raise ConfigError(
            f"model {type(model).__name__} uses catalogue features but the {what} split has none "
            "(Arrays.features is None)"
        )
    # NaN features are missing catalogue values, imputed inside the model (pipeline.models.Impute);
    # an infinity there, or anything non-finite in x, is a broken value.
    for name, values, broken in (("inputs x", data.x, lambda v: ~np.isfinite(v)), ("features", data.features, np.isinf),
                                 ("images", data.images, lambda v: ~np.isfinite(v))):
        if values is None:
            continue
        finite = ~broken(values.reshape(len(values), -1))
        if not finite.all():
            sample = int(np.flatnonzero(~finite.all(axis=1))[0])
            raise TrainingError(
                f"the {what} {name} hold {int((~finite).sum())} non-finite value(s) (inf{'' if name == 'features' else ' or NaN'} in float32), "
                f"first in sample {sample}; a model trained on them gives NaN: check the catalogue values"
            )
    n_classes = getattr(model, "n_classes", None)
    if n_classes is not None and (data.y.min() < 0 or data.y.max() >= n_classes):
        raise ConfigError(
            f"{what} labels must be class indices in [0, {n_classes}); found values "
            f"{int(data.y.min())}..{int(data.y.max())}"
        )


def _is_regression(data: Arrays) -> bool:
    return data.y.dtype == np.float32


def _to_tensors(data: Arrays) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    f = torch.from_numpy(data.features) if data.features is not None else None
    images = torch.from_numpy(data.images) if data.images is not None else None
    return torch.from_numpy(data.x), torch.from_numpy(data.y), f, images


def _forward(model: nn.Module, x: torch.Tensor, features: torch.Tensor | None,
             images: torch.Tensor | None) -> torch.Tensor:
    """The model's logits; the second input array goes along only to a model that takes one."""
    return model(x, features) if images is None else model(x, features, images)


def _weights(data: Arrays) -> torch.Tensor:
    return torch.from_numpy(data.weight) if data.weight is not None else torch.ones(len(data))


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum w (pred - y)^2 / sum w``: the weighted mean squared error, plain MSE for equal weights."""
    return (weight * (pred.reshape(target.shape) - target) ** 2).sum() / weight.sum()


def fit(
    model: nn.Module,
    train: Arrays,
    val: Arrays | None,
    config: TrainConfig,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    fold: int = 0,
    stage: str = "",
) -> History:
    """Train ``model`` in place on ``train`` and evaluate on ``val`` after every epoch.

    Deterministic on CPU for a given ``config.seed`` and initial weights (seed before building the
    model, e.g. with :func:`seed_everything`). The data stay on the CPU and move to the device one
    batch at a time, so large catalogues fit. A ``*_features`` model's feature scaling is set from the
    training split here. ``stop`` is checked after every batch; when set, the current epoch is
    abandoned and the history of the complete epochs comes back with ``stopped=True``. ``stage``
    names this fit in the callbacks' :class:`FitState` when a model trains in several stages.
    """
    _check_arrays(model, train, "training", config.task)
    if val is not None:
        _check_arrays(model, val, "validation", config.task)
    regression = config.task == "regression"
    device = select_device(config.device)
    use_amp = bool(config.amp) and device.type == "cuda"
    callbacks = list(callbacks)

    with _threads(config.num_threads), _deterministic(config.deterministic):
        torch.manual_seed(config.seed)  # anything stochastic inside the model (dropout) repeats too
        generator = torch.Generator().manual_seed(config.seed)
        x, y, f, im = _to_tensors(train)
        w = _weights(train)
        spread = float(y.var(correction=0)) if regression else 1.0  # R^2's denominator per sample
        if hasattr(model, "set_scaling"):
            model.set_scaling(x, f)
        model.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        autocast = (
            (lambda: torch.autocast(device_type="cuda", dtype=torch.float16))
            if use_amp
            else nullcontext
        )
        loss_fn = nn.CrossEntropyLoss(label_smoothing=float(config.label_smoothing))
        n = len(train)
        batches = (n + config.batch_size - 1) // config.batch_size
        state = FitState(
            fold=fold,
            epochs=int(config.epochs),
            batches=batches,
            device=str(device),
            n_train=n,
            n_val=len(val) if val is not None else 0,
            stage=stage,
        )
        history = state.history
        start = time.perf_counter()
        non_blocking = device.type == "cuda"

        for cb in callbacks:
            cb.on_fit_start(state)
        for epoch in range(1, int(config.epochs) + 1):
            epoch_start = time.perf_counter()
            state.epoch, state.batch = epoch, 0
            state.train_loss = state.train_acc = float("nan")
            for cb in callbacks:
                cb.on_epoch_start(state)
            model.train()
            order = torch.randperm(n, generator=generator)
            loss_sum = torch.zeros((), device=device)
            # Correct predictions (classification) or squared errors (regression), for the epoch's score.
            correct = torch.zeros((), device=device, dtype=torch.float32 if regression else torch.long)
            # First batch (1-based) whose loss was not finite, 0 while none: tracked on the device, so
            # catching a NaN costs no GPU sync per batch; read whenever the loop syncs anyway.
            bad_batch = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for b in range(batches):
                if stop is not None and stop.is_set():
                    break
                idx = order[b * config.batch_size : (b + 1) * config.batch_size]
                xb = x[idx].to(device, non_blocking=non_blocking)
                yb = y[idx].to(device, non_blocking=non_blocking)
                fb = f[idx].to(device, non_blocking=non_blocking) if f is not None else None
                ib = im[idx].to(device, non_blocking=non_blocking) if im is not None else None
                optimizer.zero_grad(set_to_none=True)
                with autocast():
                    logits = _forward(model, xb, fb, ib)
                    if regression:
                        wb = w[idx].to(device, non_blocking=non_blocking)
                        loss = weighted_mse(logits.float(), yb, wb)
                    else:
                        loss = loss_fn(logits.float(), yb)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                # .item() would sync the GPU every batch; accumulate on the device instead.
                loss_sum += loss.detach() * len(idx)
                if regression:
                    correct += ((logits.detach().float().reshape(yb.shape) - yb) ** 2).sum()
                else:
                    correct += (logits.detach().argmax(dim=1) == yb).sum()
                bad_batch = torch.where((bad_batch == 0) & ~torch.isfinite(loss.detach()), b + 1, bad_batch)
                seen += len(idx)
                state.batch = b + 1
                if callbacks:
                    _check_loss(bad_batch, fold, epoch)
                    state.train_loss = float(loss_sum) / seen
                    state.train_acc = _score(float(correct), seen, regression, spread)
                    state.elapsed = time.perf_counter() - start
                    for cb in callbacks:
                        cb.on_batch_end(state)
            _check_loss(bad_batch, fold, epoch)
            if stop is not None and stop.is_set():
                state.stopped = history.stopped = True
                break
            state.train_loss = float(loss_sum) / seen
            state.train_acc = _score(float(correct), seen, regression, spread)
            if val is not None:
                state.val_loss, state.val_acc = evaluate(model, val, device, config.batch_size * 4, use_amp)
            history.epoch.append(epoch)
            history.train_loss.append(state.train_loss)
            history.train_acc.append(state.train_acc)
            history.val_loss.append(state.val_loss)
            history.val_acc.append(state.val_acc)
            history.seconds.append(time.perf_counter() - epoch_start)
            state.elapsed = time.perf_counter() - start
            for cb in callbacks:
                cb.on_epoch_end(state)
        state.elapsed = time.perf_counter() - start
        for cb in callbacks:
            cb.on_fit_end(state)
    return history


def _score(total: float, seen: int, regression: bool, spread: float) -> float:
    """Accuracy from the count of correct predictions, or R^2 from the sum of squared errors."""
    if regression:
        return 1.0 - total / seen / spread if spread > 0 else float("nan")
    return total / seen


def _check_loss(bad_batch: torch.Tensor, fold: int, epoch: int) -> None:
    """Stop the fit at the first non-finite loss: the weights are ruined and every later score is NaN."""
    batch = int(bad_batch)
    if batch:
        where = f"fold {fold}, " if fold else ""
        raise TrainingError(
            f"the training loss is not finite (NaN or inf) at {where}epoch {epoch}, batch {batch}: the inputs "
            "hold values too large for float32 or the learning rate is too high; the fold is abandoned"
        )


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Arrays,
    device: torch.device | None = None,
    batch_size: int = 512,
    amp: bool = False,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``data``, in eval mode, batched; for float
    targets (a regression) the weighted MSE and R^2."""
    logits = _logits(model, data.x, data.features, device, batch_size, amp, data.images)
    y = torch.from_numpy(data.y)
    if _is_regression(data):
        pred = logits.reshape(y.shape)
        spread = float(y.var(correction=0))
        r2 = 1.0 - float(((pred - y) ** 2).mean()) / spread if spread > 0 else float("nan")
        return weighted_mse(pred, y, _weights(data)).item(), r2
    loss = nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, acc


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


@torch.no_grad()
def _logits(
    model: nn.Module,
    x: np.ndarray,
    features: np.ndarray | None,
    device: torch.device | None,
    batch_size: int,
    amp: bool = False,
    images: np.ndarray | None = None,
) -> torch.Tensor:
    """Float32 logits on the CPU for all of ``x`` (and its ``images``); the model's train/eval mode is
    restored after."""
    device = _model_device(model) if device is None else torch.device(device)
    if _model_device(model) != device:
        model.to(device)
    x_t = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
    f_t = None if features is None else torch.as_tensor(np.ascontiguousarray(features, dtype=np.float32))
    i_t = None if images is None else torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))
    was_training = model.training
    model.eval()
    use_amp = amp and device.type == "cuda"
    out = []
    try:
        for start in range(0, len(x_t), batch_size):
            xb = x_t[start : start + batch_size].to(device)
            fb = f_t[start : start + batch_size].to(device) if f_t is not None else None
            ib = i_t[start : start + batch_size].to(device) if i_t is not None else None
            with torch.autocast(device_type="cuda", dtype=torch.float16) if use_amp else nullcontext():
                out.append(_forward(model, xb, fb, ib).float().cpu())
    finally:
        model.train(was_training)
    if not out:
        n_out = getattr(model, "n_classes", 0)
        return torch.zeros((0, n_out))
    return torch.cat(out)


def predict_proba(
    model: nn.Module,
    arrays_or_x: Arrays | np.ndarray,
    features: np.ndarray | None = None,
    device: torch.device | str | None = None,
    batch_size: int = 512,
    images: np.ndarray | None = None,
) -> np.ndarray:
    """Softmax class probabilities, ``(n_samples, n_classes)`` float32, for an :class:`Arrays` or a
    bare input array (then pass ``features`` for a ``*_features`` model and ``images`` for a model
    with a second input). ``device`` defaults to where the model's weights are."""
    if isinstance(arrays_or_x, Arrays):
        x = arrays_or_x.x
        features = arrays_or_x.features if features is None else features
        images = arrays_or_x.images if images is None else images
    else:
        x = arrays_or_x
    if getattr(model, "uses_features", False) and features is None:
        raise ConfigError(f"model {type(model).__name__} uses catalogue features; pass features=")
    if getattr(model, "uses_images", False) and images is None:
        raise ConfigError(f"model {type(model).__name__} reads a dm-dt image beside its input; pass images=")
    logits = _logits(model, x, features, None if device is None else torch.device(device), batch_size,
                     images=images)
    return torch.softmax(logits, dim=1).numpy()


def predict_values(model: nn.Module, arrays_or_x: Arrays | np.ndarray, device: torch.device | str | None = None,
                   batch_size: int = 512) -> np.ndarray:
    """A regression model's predictions, float32 ``(n_samples,)``, for an :class:`Arrays` or bare inputs."""
    x = arrays_or_x.x if isinstance(arrays_or_x, Arrays) else arrays_or_x
    features = arrays_or_x.features if isinstance(arrays_or_x, Arrays) else None
    out = _logits(model, x, features, None if device is None else torch.device(device), batch_size)
    return out.reshape(len(x)).numpy()
