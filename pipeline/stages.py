"""One network's training inside a fold (or a bag): one fit, or seed 001's two stages for its compound model.

The compound RNN+CNN (``compound_rnn_cnn``, its note section 3.3) is trained as the paper does: stage 1
fits the RNN-based multi-input network (``bigru_features``) on the same training data; stage 2 builds the
compound network, loads stage 1's sequence encoder and feature branch, freezes the encoder, and fits the
rest. Both stages go through the one loop (:func:`pipeline.training.fit`) with the run's callbacks, which
see the stage in :attr:`pipeline.training.FitState.stage`; the history's ``stage`` column says which
epochs were which (stage 2's numbered after stage 1's).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from torch import nn

from .models import MODELS, build_model
from .training import Arrays, Callback, fit, seed_everything

COMPOUND_MODEL = "compound_rnn_cnn"
STAGE1_MODEL = "bigru_features"


@dataclass
class Fitted:
    model: nn.Module
    history: pd.DataFrame  # as History.to_frame(), plus ``stage`` for a two-stage model
    stopped: bool
    pretrained: nn.Module | None = None  # a two-stage model's stage-1 network


def stage1_epochs(config) -> int:
    """Stage 1's epochs: ``config.pretrain_epochs``, or the run's epochs when not given."""
    return int(config.pretrain_epochs or config.train.epochs)


def stages_record(config) -> list[dict] | None:
    """What the run config says about the stages of ``config.model`` (None for a one-stage model)."""
    if config.model != COMPOUND_MODEL:
        return None
    return [{"stage": 1, "model": STAGE1_MODEL, "epochs": stage1_epochs(config), "frozen": [],
             "data": "the fold's (or bag's) training stars, without the images"},
            {"stage": 2, "model": COMPOUND_MODEL, "epochs": int(config.train.epochs),
             "loaded_from_stage_1": ["encoder", "feature_scaling", "branch"],
             "frozen": [f"{part} (SequenceEncoder: both BiGRUs and the RNN's two dense layers)"
                        for part in MODELS[COMPOUND_MODEL].FROZEN],
             "trainable": ["branch (numeric features)", "image_branch (CNN)", "head"],
             "data": "the same training stars, with their dm-dt images"}]


def fit_network(config, train: Arrays, val: Arrays, input_shape, n_features: int, n_classes: int,
                callbacks: Sequence[Callback], stop: threading.Event | None, fold: int, seed: int,
                image_shape=None) -> Fitted:
    """Seed, build and train ``config.model`` (``config``: a :class:`pipeline.crossval.CrossValConfig`)."""
    seed_everything(seed)
    if config.model != COMPOUND_MODEL:
        model = build_model(config.model, n_classes, input_shape, n_features=n_features, image_shape=image_shape)
        history = fit(model, train, val, config.train, callbacks, stop, fold=fold)
        return Fitted(model, history.to_frame(), history.stopped)

    rnn = build_model(STAGE1_MODEL, n_classes, input_shape, n_features=n_features)
    first = fit(rnn, dataclasses.replace(train, images=None), dataclasses.replace(val, images=None),
                dataclasses.replace(config.train, epochs=stage1_epochs(config)), callbacks, stop, fold=fold,
                stage=f"stage 1/2 ({STAGE1_MODEL})")
    frames = [first.to_frame().assign(stage=1)]
    if first.stopped:
        return Fitted(rnn, frames[0], True, rnn)
    seed_everything(seed)
    model = build_model(COMPOUND_MODEL, n_classes, input_shape, n_features=n_features, image_shape=image_shape)
    model.load_rnn(rnn)
    second = fit(model, train, val, config.train, callbacks, stop, fold=fold,
                 stage=f"stage 2/2 ({COMPOUND_MODEL}, sequence encoder frozen)")
    frames.append(second.to_frame().assign(stage=2, epoch=lambda f: f["epoch"] + stage1_epochs(config)))
    return Fitted(model, pd.concat(frames, ignore_index=True), second.stopped, rnn)
