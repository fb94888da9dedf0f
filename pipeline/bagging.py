"""Seed 001's bagging-like ensemble with GP augmentation, inside one cross-validation fold.

Per fold: ``members`` balanced sub-datasets of the fold's *training* stars (large classes
under-sampled, small ones topped up with synthetic curves drawn fresh for each sub-dataset from
Gaussian processes fitted to the small class's own training stars; ``pipeline.lightcurves.augment``),
one network trained on each, class probabilities averaged (``pipeline.models.Ensemble``). The
validation stars are never augmented and never seed a synthetic curve: only the training stars'
light curves reach :func:`pipeline.lightcurves.augment.augment`.

Choices the paper leaves to us (recorded in the run config): a sub-dataset's size per class is the
median training-class size unless given (the paper's 1,875 sat between its small and large classes);
validation is the fold's real validation stars (the paper also augmented its validation set, which
it used to pick checkpoints; nothing is picked here); the members' histories follow one another in
``history.csv`` (member k's epochs numbered after member k-1's).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from . import observed
from .errors import ConfigError
from .lightcurves import LightCurves
from .lightcurves.augment import GP_CHOICES, augment, balanced_bags, prototype_of
from .metrics import ClassificationSummary, classification_summary
from .models import MODEL_INPUTS, Ensemble
from .stages import fit_network
from .training import Arrays, Callback, predict_proba

AUGMENT_MODES = ("gp", "duplicate")
CHOICES = [
    "bag size per class: the median training-class size of the fold unless given",
    "validation: the fold's real validation stars, never augmented (the paper augmented its validation set)",
    "members' histories one after another in history.csv",
    *GP_CHOICES,
]


@dataclass
class BagSet:
    """One sub-dataset's training arrays and where its synthetic stars came from."""

    arrays: Arrays
    synthetic: pd.DataFrame  # id, prototype (a training star), label


def bag_size(labels: Sequence[str], per_class: int | None) -> int:
    """``per_class`` or, by default, the median class size among ``labels``."""
    return int(per_class) if per_class else int(np.median(pd.Series(list(labels)).value_counts()))


def bag_sets(config, train: pd.DataFrame, x: np.ndarray, features: np.ndarray | None, y: np.ndarray,
             lightcurves: LightCurves, classes: Sequence[str], channels: Sequence[str], seed: int,
             images: np.ndarray | None = None, fitted: dict | None = None) -> list[BagSet]:
    """The fold's sub-datasets of ``train`` (the fold's training stars with ``id``, ``label``,
    ``period``; their inputs ``x``, ``features``, ``images``, class indices ``y``), topped up from their curves.

    ``config`` is the run's :class:`pipeline.crossval.CrossValConfig`; ``channels`` the run's dm-dt bands.
    ``fitted`` holds the GPs fitted so far, by (star, band): a run passes one to every fold, since a fit
    reads only its own star's curve, so a star in four folds' training sets is fitted once, not four times.
    """
    kind = MODEL_INPUTS[config.model]
    ids = train["id"].astype(str).to_numpy()
    labels = train["label"].astype(str).to_numpy()
    label_of, period_of = dict(zip(ids, labels)), dict(zip(ids, train["period"]))
    curves, _ = observed.usable_epochs(lightcurves.subset(ids), config.min_points)
    fitted = {} if fitted is None else fitted  # one GP per (star, band), shared by the bags
    sets = []
    for k, bag in enumerate(balanced_bags(ids, labels, bag_size(labels, config.bag_per_class), config.members, seed)):
        xs, fs, ys = [x[bag.real]], [None if features is None else features[bag.real]], [y[bag.real]]
        ims = [None if images is None else images[bag.real]]
        synthetic = pd.DataFrame({"id": [], "prototype": [], "label": []}, dtype=object)
        if bag.prototypes and config.augment is not None:  # without augmentation small classes stay as they are
            drawn = augment(curves, period_of, bag.prototypes, seed=seed + k, duplicate=config.augment == "duplicate",
                            fitted=fitted, tag=f"b{k + 1}-")
            made = pd.DataFrame({"id": drawn.ids})
            made["prototype"] = made["id"].map(prototype_of)
            made["label"], made["period"] = made["prototype"].map(label_of), made["prototype"].map(period_of)
            inputs = observed.observed_inputs(
                made, drawn, kind, model=config.model, min_points=config.min_points, folded_norm=config.folded_norm,
                dmdt_preset=config.dmdt_preset, dmdt_norm=config.dmdt_norm, bands=list(channels) or None,
                max_steps=config.max_steps)
            xs.append(inputs.x)
            fs.append(inputs.network_features)
            ims.append(inputs.images)
            ys.append(np.array([list(classes).index(c) for c in inputs.stars["label"]], dtype=np.int64))
            synthetic = inputs.stars[["id", "prototype", "label"]]
        if kind in observed.SEQUENCE_KINDS:  # pad every part to the longest sequence
            steps = max(part.shape[1] for part in xs)
            xs = [np.pad(part, ((0, 0), (0, steps - part.shape[1]), (0, 0))) for part in xs]
        f = None if fs[0] is None else np.concatenate(fs)
        im = None if ims[0] is None else np.concatenate(ims)
        sets.append(BagSet(Arrays(np.concatenate(xs), np.concatenate(ys), f, images=im), synthetic.assign(bag=k + 1)))
    return sets


@dataclass
class EnsembleFit:
    model: nn.Module
    history: pd.DataFrame  # as History.to_frame(), the members one after another
    stopped: bool
    members: list[ClassificationSummary]  # each member on the validation stars
    synthetic: pd.DataFrame  # bag, id, prototype, label of every synthetic star


def fit_ensemble(config, sets: list[BagSet], val: Arrays, input_shape, n_features: int, classes: Sequence[str],
                 callbacks: Sequence[Callback], stop: threading.Event | None, fold: int, seed: int,
                 image_shape=None) -> EnsembleFit:
    """One network per sub-dataset, trained with the run's one loop (in two stages for the compound
    model, each on the same sub-dataset); the ensemble averages them."""
    members, histories, scores = [], [], []
    stopped = False
    epochs = 0  # of the members before this one
    for k, bag in enumerate(sets):
        fitted = fit_network(config, bag.arrays, val, input_shape, n_features, len(classes), callbacks, stop, fold,
                             seed + k, image_shape=image_shape)
        member, frame = fitted.model, fitted.history
        frame["epoch"] += epochs
        epochs = int(frame["epoch"].max()) if len(frame) else epochs
        histories.append(frame)
        if fitted.stopped:
            stopped = True
            break
        members.append(member)
        scores.append(classification_summary(val.y, predict_proba(member, val).argmax(axis=1), list(classes)))
    model = Ensemble(members) if len(members) > 1 else (members[0] if members else None)
    return EnsembleFit(model, pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(), stopped,
                       scores, pd.concat([b.synthetic for b in sets], ignore_index=True))


def check_config(config) -> None:
    """Refuse bagging or augmentation settings the model cannot use, saying what would work."""
    if config.augment is not None and config.augment not in AUGMENT_MODES:
        raise ConfigError(f"unknown augmentation {config.augment!r}; expected one of {list(AUGMENT_MODES)} or None")
    if int(config.members) < 1:
        raise ConfigError(f"members {config.members}; expected at least 1 network per fold")
    if config.bag_per_class is not None and int(config.bag_per_class) < 1:
        raise ConfigError(f"bag_per_class {config.bag_per_class}; expected at least 1 star per class")
    bagged = int(config.members) > 1 or config.augment is not None
    if bagged and MODEL_INPUTS.get(config.model) not in observed.NETWORK_KINDS:
        raise ConfigError(f"bagging and augmentation draw new light curves: they need a model on observed light "
                          f"curves ({', '.join(m for m, k in MODEL_INPUTS.items() if k in observed.NETWORK_KINDS)}); "
                          f"got {config.model!r}")
