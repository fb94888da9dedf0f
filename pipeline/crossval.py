"""k-fold cross-validation of one model on cleaned stars, saved as a run (SPEC section 4).

Representations are built per fold: a ``reference`` dm-dt image of a validation star uses only
that fold's training stars, and nothing here reads a validation label before scoring. The tree
baseline runs on the same folds. Folds are numbered from 1, as the thesis's tables do.

Models on observed light curves (``cnn1d_folded``, ``cnn2d_mahabal``, ``bigru_features``, ``compound_rnn_cnn``
(two stages, ``pipeline.stages``), and the tree
baseline with ``features="lightcurve"``) take ``lightcurves=``: their inputs come from the stars' own epochs
(``pipeline.observed``), and stars without a usable curve are dropped, and counted, before the folds.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from . import bagging, baseline, observed, runs, stages
from .lightcurves import DMDT_PRESETS, LightCurves
from .lightcurves.dmdt import NORMS as DMDT_NORMS
from .errors import ConfigError, RunError, TrainingError
from .labels import encode
from .metrics import average_confusion, classification_summary, fold_table
from .models import MODEL_INPUTS, MODELS, model_choices
from .provenance import provenance
from .representations import (CONVENTIONS, DM_EDGES, DMDT_MODES, DT_EDGES, LEAK_WARNING, N_PHASE,
                              dense_features, dmdt_images, reconstruct)
from .schema import bands, phase_convention, primary_band
from .training import Arrays, Callback, TrainConfig, predict_proba, preset, select_device

STARS_FILE = "stars.parquet"  # the cleaned stars with their fold: the reference sets of `predict`
SYNTHETIC_FILE = "synthetic.parquet"  # a bagged run's synthetic stars: fold, bag, id, prototype, label
#: Models that train on catalogue rows (what the app's Training view offers), and those that read
#: observed light curves (``cross_validate(..., lightcurves=)``; the tree baseline does either).
MODEL_CHOICES = (*(m for m in MODELS if MODEL_INPUTS[m] not in observed.KINDS), baseline.MODEL_NAME)
LIGHTCURVE_MODEL_CHOICES = tuple(m for m in MODELS if MODEL_INPUTS[m] in observed.KINDS)
#: Stars whose inputs are checked at once before training (bounds the memory the check takes).
CHECK_CHUNK = 20_000


@dataclass
class CrossValConfig:
    """What to train and how; every field is recorded in the run's config.json."""

    model: str = "cnn2d_features"
    dmdt_mode: str = "reference"
    #: How light curves are reconstructed: the catalogue's phase convention, or the thesis's printed
    #: formula (reversed in time for OGLE-III and ZTF; SPEC section 3), to reproduce the thesis.
    convention: str = "catalog"
    folds: int = 5
    seed: int = 42
    train: TrainConfig = field(default_factory=lambda: preset("quick"))
    preset: str = "quick"
    #: The tree baseline's numbers: the catalogue's (``catalog``) or light-curve features (``lightcurve``).
    features: str = "catalog"
    #: Light-curve models: per-curve normalisation of folded curves, Mahabal dm-dt bins and
    #: normalisation, and the fewest usable epochs a band needs (seed 002's 50).
    folded_norm: str = "zscore"
    dmdt_preset: str = "crts"
    dmdt_norm: str = "stretch"
    min_points: int = 50
    #: Seed 001 (``pipeline.bagging``): networks per fold, each on a balanced sub-dataset of
    #: ``bag_per_class`` stars per class (median class size if None), small classes topped up with
    #: synthetic curves (``augment``: ``gp`` draws, or ``duplicate`` copies as the seed's code did).
    members: int = 1
    augment: str | None = None
    bag_per_class: int | None = None
    #: Sequences (``bigru_features``, ``compound_rnn_cnn``) longer than this keep every k-th epoch in phase order.
    max_steps: int | None = None
    #: ``compound_rnn_cnn``'s stage 1 (``bigru_features``) epochs; None: ``train.epochs``, as stage 2's.
    pretrain_epochs: int | None = None

    def __post_init__(self):
        if self.model not in MODEL_CHOICES + LIGHTCURVE_MODEL_CHOICES:
            raise ConfigError(f"unknown model {self.model!r}; expected one of "
                              f"{list(MODEL_CHOICES + LIGHTCURVE_MODEL_CHOICES)}")
        if self.dmdt_mode not in DMDT_MODES:
            raise ConfigError(f"unknown dm-dt mode {self.dmdt_mode!r}; expected one of {list(DMDT_MODES)}")
        if self.convention not in CONVENTIONS:
            raise ConfigError(f"unknown phase convention {self.convention!r}; expected one of {list(CONVENTIONS)}")
        if self.folds < 2:
            raise ConfigError(f"cross-validation needs at least 2 folds, got {self.folds}")
        for name, value, allowed in (("features", self.features, observed.FEATURE_SOURCES),
                                     ("folded_norm", self.folded_norm, observed.FOLDED_NORMS),
                                     ("dmdt_preset", self.dmdt_preset, tuple(DMDT_PRESETS)),
                                     ("dmdt_norm", self.dmdt_norm, DMDT_NORMS)):
            if value not in allowed:
                raise ConfigError(f"unknown {name} {value!r}; expected one of {list(allowed)}")
        if self.features == "lightcurve" and self.model != baseline.MODEL_NAME:
            raise ConfigError(f"features='lightcurve' is for model {baseline.MODEL_NAME!r}; {self.model!r} reads "
                              f"{MODEL_INPUTS.get(self.model, '?')} inputs")
        if int(self.min_points) < 10:
            raise ConfigError(f"min_points {self.min_points}; expected at least 10 epochs per band")
        if self.max_steps is not None and int(self.max_steps) < 2:
            raise ConfigError(f"max_steps {self.max_steps}; expected at least 2 epochs per sequence, or None")
        if self.pretrain_epochs is not None and (self.model != stages.COMPOUND_MODEL or int(self.pretrain_epochs) < 1):
            raise ConfigError(f"pretrain_epochs {self.pretrain_epochs}: stage 1's epochs of {stages.COMPOUND_MODEL!r} "
                              f"(at least 1); model {self.model!r} trains in one stage")
        bagging.check_config(self)

    @property
    def bagged(self) -> bool:
        return int(self.members) > 1 or self.augment is not None

    @property
    def lightcurve_input(self) -> str | None:
        """What the model reads from observed light curves (``pipeline.observed.KINDS``), or None."""
        if self.model == baseline.MODEL_NAME:
            return "features" if self.features == "lightcurve" else None
        kind = MODEL_INPUTS[self.model]
        return kind if kind in observed.KINDS else None

    @property
    def leaks_label(self) -> bool:
        return self.model in MODELS and MODEL_INPUTS[self.model] == "dmdt" and self.dmdt_mode == "thesis"

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "train": dataclasses.asdict(self.train)}


def make_folds(labels: Sequence[str], k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (shuffled, seeded) positional (train, validation) indices."""
    labels = np.asarray(labels, dtype=object).astype(str)
    smallest = pd.Series(labels).value_counts().min()
    if smallest < k:
        raise ConfigError(
            f"{k}-fold cross-validation needs at least {k} stars per class; the smallest class has "
            f"{smallest}: lower the folds or loosen the filters"
        )
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def model_inputs(model: str, stars: pd.DataFrame, reference: pd.DataFrame, classes: Sequence[str],
                 dmdt_mode: str, convention: str = "catalog") -> np.ndarray:
    """A network's input for ``stars``: light curves ``(n, 1, 360)`` or dm-dt images.

    ``reference`` dm-dt images are built against ``reference`` (a training split) alone and never
    read the labels of ``stars``; ``thesis`` images pair each star with its own class among
    ``stars`` (the leak the thesis had), ignoring ``reference``.
    """
    if MODEL_INPUTS[model] == "lightcurve":
        return reconstruct(stars, convention=convention)[:, None, :]
    if dmdt_mode == "thesis":
        return dmdt_images(stars, mode="thesis")
    return dmdt_images(stars, reference=reference, classes=classes)


def input_shape(model: str, stars: pd.DataFrame, classes: Sequence[str], dmdt_mode: str) -> tuple[int, ...]:
    """The shape :func:`model_inputs` gives one star, known before any input is built."""
    if MODEL_INPUTS[model] == "lightcurve":
        return (1, N_PHASE)
    channels = len(bands(stars, "amp")) * (1 if dmdt_mode == "thesis" else len(classes))
    return (channels, len(DM_EDGES) - 1, len(DT_EDGES) - 1)


def _features(model: str, stars: pd.DataFrame) -> np.ndarray | None:
    """The dense branch's catalogue numbers, NaN where missing (the model imputes them)."""
    return dense_features(stars).to_numpy(np.float32) if MODELS[model].uses_features else None


def input_spec(model: str, stars: pd.DataFrame, classes: Sequence[str], dmdt_mode: str) -> dict:
    """What a network's inputs are made of, in order; recorded in config.json as ``inputs``.

    Bands, channels and features follow the catalogue's column order, so ``predict`` must rebuild
    them from the recorded order, not from the new catalogue's: the same stars with ``amp_r`` before
    ``amp_g`` would otherwise swap image channels and feature columns without any error.
    ``required`` are the columns without which the inputs (or the usability check) cannot be built.
    """
    amp_bands, mag_bands = bands(stars, "amp"), bands(stars, "mag")
    band = primary_band(stars)
    if MODEL_INPUTS[model] == "lightcurve":
        channels = [f"mag_{band}"]
    elif dmdt_mode == "thesis":
        channels = list(amp_bands)
    else:
        channels = [f"{cls}/{b}" for cls in classes for b in amp_bands]
    features = list(dense_features(stars.iloc[:0]).columns) if MODELS[model].uses_features else []
    required = ["period", *(f"amp_{b}" for b in amp_bands), f"mag_{band}"]
    if "colour" in features:
        required += [f"mag_{b}" for b in mag_bands if f"mag_{b}" not in required]
    return {"amp_bands": amp_bands, "mag_bands": mag_bands, "band": band, "channels": channels,
            "features": features, "required": required}


def ordered_inputs(spec: dict, catalog: pd.DataFrame, what: str) -> pd.DataFrame:
    """``catalog`` with the columns a run's inputs read, in the run's recorded band order.

    Raises ConfigError naming the missing columns; recorded magnitude columns that the inputs do
    not need and ``catalog`` lacks come back blank, so they cannot change the band order either.
    """
    missing = [c for c in spec["required"] if c not in catalog.columns]
    if missing:
        raise ConfigError(
            f"{what} lacks column(s) {', '.join(missing)} that the run's model was trained on (bands "
            f"{', '.join(spec['amp_bands'])}, features {', '.join(spec['features']) or 'none'}); "
            "expected a catalogue with the same bands"
        )
    core = [c for c in ("id", "ra", "dec", "period", "r21", "phi21", "r31", "phi31", "raw_label") if c in catalog]
    banded = [*(f"amp_{b}" for b in spec["amp_bands"]), *(f"mag_{b}" for b in spec["mag_bands"])]
    extra = [c for c in catalog.columns if c not in core and c not in banded and not c.startswith(("amp_", "mag_"))]
    frame = catalog[core + extra].copy()
    for column in banded:
        frame[column] = catalog[column] if column in catalog else np.nan
    return frame


def check_finite(model: str, stars: pd.DataFrame, x: np.ndarray | None, features: np.ndarray | None,
                 what: str) -> None:
    """Refuse inputs that are not finite in float32, naming the star and the column or feature.

    A finite but absurd catalogue value (1e308) overflows to inf in float32 and turns the loss, and
    then every prediction, into NaN; one such star is enough, so none may reach a model.
    """
    ids = stars["id"].astype(str).to_numpy()
    if x is not None:
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            row = stars.iloc[int(np.flatnonzero(bad)[0])]
            band = primary_band(stars)
            sources = [f"mag_{band}", f"amp_{band}", "r21", "phi21"] if MODEL_INPUTS[model] == "lightcurve" \
                else ["period", *(f"amp_{b}" for b in bands(stars, "amp"))]
            values = ", ".join(f"{c}={row[c]:g}" for c in sources if c in row)
            raise TrainingError(
                f"{what}: star {row['id']!r}{_more(bad)} has a {MODEL_INPUTS[model]} input that is not finite "
                f"in float32; it is built from {values}: expected values of a real star"
            )
    if features is not None:  # NaN is a missing value the model imputes; infinity is an overflow
        bad = np.isinf(features)
        if bad.any():
            i, j = (int(k[0]) for k in np.nonzero(bad))
            name = list(dense_features(stars.iloc[:0]).columns)[j]
            raise TrainingError(
                f"{what}: star {ids[i]!r}{_more(bad.any(axis=1))} has feature {name} = {features[i, j]} "
                "(not finite in float32); expected values of a real star"
            )


def _more(bad: np.ndarray) -> str:
    others = int(bad.sum()) - 1
    return f" (and {others} more)" if others else ""


def observed_inputs(config: CrossValConfig, stars: pd.DataFrame, lightcurves: LightCurves | None,
                    period_source: str | None = None, bands: list[str] | None = None) -> observed.ObservedInputs | None:
    """The light-curve inputs ``config``'s model reads (None for catalogue models), with ``config``'s settings.

    Refuses light curves given to a model that reads catalogue rows, rather than ignoring them.
    """
    kind = config.lightcurve_input
    if kind is None:
        if lightcurves is not None:
            raise ConfigError(f"model {config.model!r} reads catalogue rows, not light curves; the light-curve models "
                              f"are {list(LIGHTCURVE_MODEL_CHOICES)} and "
                              f"{baseline.MODEL_NAME!r} with features='lightcurve'")
        return None
    return observed.observed_inputs(stars, lightcurves, kind, model=config.model, min_points=config.min_points,
                                    folded_norm=config.folded_norm, dmdt_preset=config.dmdt_preset,
                                    dmdt_norm=config.dmdt_norm, bands=bands, max_steps=config.max_steps,
                                    period_source=period_source or observed.CATALOGUE_PERIOD)


@dataclass
class CrossValResult:
    run: runs.Run
    summaries: list  # ClassificationSummary per finished fold

    @property
    def fold_table(self) -> pd.DataFrame:
        return fold_table(self.summaries, folds=self.run.folds)


def summarise(summaries: Sequence, folds: Sequence[int]) -> dict:
    """metrics.json: the fold table (with mean and std), per-class scores per fold, averaged matrices."""
    counts, normalised = average_confusion([s.confusion for s in summaries])
    return {
        "folds": fold_table(summaries, folds=folds).reset_index(names="fold").to_dict(orient="records"),
        "per_fold": {str(f): s.to_dict() for f, s in zip(folds, summaries)},
        "confusion_mean": counts.tolist(),
        "confusion_normalised": normalised.tolist(),
    }


def _predictions(ids, fold: int, y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    names = np.asarray(classes, dtype=object)
    frame = pd.DataFrame({"id": np.asarray(ids, dtype=str), "fold": fold, "true": names[y_true],
                          "pred": names[proba.argmax(axis=1)]})
    for k, cls in enumerate(classes):
        frame[f"p_{cls}"] = proba[:, k]
    return frame


def cross_validate(
    stars: pd.DataFrame,
    classes: Sequence[str],
    config: CrossValConfig,
    runs_dir: str | Path = runs.DEFAULT_RUNS_DIR,
    run_info: dict | None = None,
    callbacks: Sequence[Callback] = (),
    stop: threading.Event | None = None,
    lightcurves: LightCurves | None = None,
) -> CrossValResult:
    """Train and score ``config.model`` on every fold of ``stars`` (cleaned, with ``label``).

    The run is written to ``runs_dir`` as it goes; a stop request ends it as ``interrupted`` with
    the finished folds kept, an exception as ``failed``. ``run_info`` (catalogue, cleaning config)
    goes into config.json beside the model and training settings; its ``period_source`` says where
    the ``period`` column of ``stars`` came from (default: the catalogue). ``lightcurves`` feeds the
    light-curve models, joined to ``stars`` by id (see :func:`observed_inputs`).
    """
    classes = [str(c) for c in classes]
    stars = stars.reset_index(drop=True)
    lc_inputs = observed_inputs(config, stars, lightcurves, (run_info or {}).get("period_source"))
    if lc_inputs is not None:
        stars = lc_inputs.stars
    y = encode(stars["label"], classes)
    folds = make_folds(stars["label"], config.folds, config.seed)
    fold_of = np.zeros(len(stars), dtype=np.int64)
    for number, (_, val) in enumerate(folds, start=1):
        fold_of[val] = number

    run_config = {**(run_info or {}), **config.to_dict(), "classes": classes, "n_stars": len(stars),
                  "leaks_label": config.leaks_label, **provenance(),
                  "phase_convention": ("thesis (-phi, the thesis's printed formula)" if config.convention == "thesis"
                                       else ", ".join(sorted(set(phase_convention(stars)))))}
    if config.leaks_label:
        run_config["warning"] = LEAK_WARNING
    if lc_inputs is not None:
        run_config["simulated"] = lc_inputs.record["simulated"]
        run_config["lightcurves"] = lc_inputs.record
    if lc_inputs is not None and config.model in MODELS:
        run_config["device"] = str(select_device(config.train.device))
        run_config["input_shape"] = tuple(lc_inputs.x.shape[1:])
        run_config["inputs"] = lc_inputs.spec
        run_config["n_features"] = len(lc_inputs.spec["features"])
        run_config["model_choices"] = model_choices(config.model) + (bagging.CHOICES if config.bagged else [])
        if lc_inputs.images is not None:
            run_config["image_shape"] = tuple(lc_inputs.images.shape[1:])
        if stages.stages_record(config):
            run_config["stages"] = stages.stages_record(config)
    elif config.model in MODELS:
        run_config["device"] = str(select_device(config.train.device))
        run_config["input_shape"] = input_shape(config.model, stars, classes, config.dmdt_mode)
        run_config["inputs"] = input_spec(config.model, stars, classes, config.dmdt_mode)
        run_config["n_features"] = len(run_config["inputs"]["features"])
        run_config["model_choices"] = model_choices(config.model)
        # Checked before the run exists: dm-dt images are bin counts, finite by construction, but
        # light curves and features carry catalogue values straight into float32.
        with np.errstate(over="ignore"):  # an overflow is reported by check_finite, with the star it came from
            for start in range(0, len(stars), CHECK_CHUNK):  # in chunks: a whole catalogue's curves are large
                part = stars.iloc[start:start + CHECK_CHUNK]
                curves = model_inputs(config.model, part, part, classes, "reference", config.convention) \
                    if MODEL_INPUTS[config.model] == "lightcurve" else None
                check_finite(config.model, part, curves, _features(config.model, part), "training stars")
    if config.bagged:
        run_config["members"] = int(config.members)
    writer = runs.create(runs_dir, run_config)
    summaries, synthetic, member_scores = [], [], {}
    gp_fits: dict = {}  # seed 001's GPs by (star, band), fitted once for every fold that trains on the star
    with writer:
        runs.atomic_write(writer.path / STARS_FILE,
                          lambda h: stars.assign(fold=fold_of, label=stars["label"].astype(str)).to_parquet(h, index=False))
        if config.model == baseline.MODEL_NAME:
            result = baseline.tree_baseline(stars, stars["label"], classes, folds, callbacks=callbacks, stop=stop,
                                            features=None if lc_inputs is None else lc_inputs.features)
            result.save(writer)
            summaries = result.summaries
        else:
            for number, (train_idx, val_idx) in enumerate(folds, start=1):
                if stop is not None and stop.is_set():
                    break
                for cb in callbacks:
                    cb.on_fold_start(number, len(folds))
                train, val = stars.iloc[train_idx], stars.iloc[val_idx]
                im_train = im_val = None
                if lc_inputs is not None:  # per star, no label read: built once, sliced per fold
                    x_train, x_val = lc_inputs.x[train_idx], lc_inputs.x[val_idx]
                    if lc_inputs.images is not None:
                        im_train, im_val = lc_inputs.images[train_idx], lc_inputs.images[val_idx]
                else:
                    x_train = model_inputs(config.model, train, train, classes, config.dmdt_mode, config.convention)
                if stop is not None and stop.is_set():  # building inputs takes long on big catalogues
                    break
                if lc_inputs is None:
                    x_val = model_inputs(config.model, val, train, classes, config.dmdt_mode, config.convention)
                if stop is not None and stop.is_set():
                    break
                if lc_inputs is not None:
                    f_all = lc_inputs.network_features
                    f_train, f_val = (None, None) if f_all is None else (f_all[train_idx], f_all[val_idx])
                else:
                    f_train, f_val = _features(config.model, train), _features(config.model, val)
                val_arrays = Arrays(x_val, y[val_idx], f_val, images=im_val)
                image_shape = run_config.get("image_shape")
                if config.bagged:
                    sets = bagging.bag_sets(config, train, x_train, f_train, y[train_idx], lightcurves, classes,
                                            run_config["inputs"]["channels"], config.seed + number, images=im_train,
                                            fitted=gp_fits)
                    if stop is not None and stop.is_set():
                        break
                    ensemble = bagging.fit_ensemble(config, sets, val_arrays, run_config["input_shape"],
                                                    run_config["n_features"], classes, callbacks, stop, number,
                                                    config.seed + 100 * number, image_shape=image_shape)
                    model, history_frame, stopped = ensemble.model, ensemble.history, ensemble.stopped
                    synthetic.append(ensemble.synthetic.assign(fold=number))
                    member_scores[str(number)] = [m.to_dict() for m in ensemble.members]
                else:
                    fitted = stages.fit_network(config, Arrays(x_train, y[train_idx], f_train, images=im_train),
                                                val_arrays, run_config["input_shape"], run_config["n_features"],
                                                len(classes), callbacks, stop, number, config.seed + number,
                                                image_shape=image_shape)
                    model, history_frame, stopped = fitted.model, fitted.history, fitted.stopped
                if len(history_frame):
                    writer.append_history(number, history_frame)
                if stopped:
                    break
                proba = predict_proba(model, val_arrays)
                predictions = _predictions(val["id"], number, y[val_idx], proba, classes)
                summary = classification_summary(y[val_idx], proba.argmax(axis=1), classes)
                writer.save_fold(number, model.state_dict(), predictions, summary.confusion)
                summaries.append(summary)
                for cb in callbacks:
                    cb.on_fold_end(number, summary)
        done = list(range(1, len(summaries) + 1))
        if synthetic:  # which training star seeded each synthetic curve, per fold and bag
            runs.atomic_write(writer.path / SYNTHETIC_FILE,
                              lambda h: pd.concat(synthetic, ignore_index=True).to_parquet(h, index=False))
        if len(summaries) < len(folds):
            writer.mark_interrupted(f"stopped after {len(summaries)} of {len(folds)} folds")
        else:
            writer.finish({**summarise(summaries, done), **({"members": member_scores} if member_scores else {})})
    return CrossValResult(run=runs.open_run(writer.path), summaries=summaries)


def predict(run: runs.Run, stars: pd.DataFrame, lightcurves: LightCurves | None = None) -> pd.DataFrame:
    """Class probabilities of new stars from a saved run: the mean over its fold models.

    Each fold model sees the stars as it was trained to: ``reference`` dm-dt images against that
    fold's own training stars, read back from the run. A run on observed light curves needs the
    stars' ``lightcurves`` (and, for folded curves, their ``period``); stars without a usable curve
    are left out, counted in ``attrs["dropped"]``.
    """
    config = run.config
    _check_predictable(run)
    if lightcurves is not None or reads_lightcurves(run):
        return _predict_observed(run, stars, lightcurves)
    reference = read_stars(run.path)
    classes = run.classes
    spec = run_inputs(run, reference)
    stars = ordered_inputs(spec, stars, "the catalogue to classify")
    reference = ordered_inputs(spec, reference, f"{run.path / STARS_FILE}").assign(
        label=reference["label"].to_numpy(), fold=reference["fold"].to_numpy())
    features = _features(config["model"], stars)
    if features is not None and list(dense_features(stars.iloc[:0]).columns) != spec["features"]:
        raise ConfigError(f"run {run.run_id} was trained on features {spec['features']}; the catalogue "
                          f"gives {list(dense_features(stars.iloc[:0]).columns)}")
    models = {fold: run.load_model(fold) for fold in run.folds}  # a corrupt weights file fails before any work
    proba = np.zeros((len(stars), len(classes)), np.float64)
    for fold in run.folds:
        train = reference[reference["fold"] != fold]
        # Runs made before the convention was recorded reconstructed with the thesis's formula.
        x = model_inputs(config["model"], stars, train, classes, config["dmdt_mode"], config.get("convention", "thesis"))
        if tuple(x.shape[1:]) != tuple(config["input_shape"]):
            raise ConfigError(f"run {run.run_id} expects inputs of shape {tuple(config['input_shape'])} "
                              f"(channels {spec['channels']}); the catalogue gives {tuple(x.shape[1:])}")
        check_finite(config["model"], stars, x, features, "the catalogue to classify")
        proba += predict_proba(models[fold], x, features)
    proba /= len(run.folds)
    names = np.asarray(classes, dtype=object)
    out = pd.DataFrame({"id": stars["id"].astype(str).to_numpy(), "pred": names[proba.argmax(axis=1)]})
    for k, cls in enumerate(classes):
        out[f"p_{cls}"] = proba[:, k]
    return out


def reads_lightcurves(run: runs.Run) -> bool:
    """Whether ``run``'s model read observed light curves (then ``predict`` needs ``lightcurves=``)."""
    return (run.config.get("inputs") or {}).get("kind") in observed.KINDS


def _predict_observed(run: runs.Run, stars: pd.DataFrame, lightcurves: LightCurves | None) -> pd.DataFrame:
    config = run.config
    if not reads_lightcurves(run):
        raise ConfigError(f"run {run.run_id} ({config['model']}) reads catalogue rows; it takes no light curves")
    if lightcurves is None:
        raise ConfigError(f"run {run.run_id} ({config['model']}) was trained on observed light curves "
                          f"({config['lightcurves']['source']}); pass lightcurves= with the new stars' light curves "
                          "(joined by id)" + (" and give the stars a period column" if config["inputs"]["kind"] in observed.PERIOD_KINDS else ""))
    settings = CrossValConfig(model=config["model"], folded_norm=config["folded_norm"], dmdt_preset=config["dmdt_preset"],
                              dmdt_norm=config["dmdt_norm"], min_points=config["min_points"],
                              max_steps=config.get("max_steps"))
    inputs = observed_inputs(settings, stars.reset_index(drop=True), lightcurves,
                             bands=config["inputs"]["channels"] or None)
    # A sequence's length is the star's own; only its channels must match.
    compared = slice(-1, None) if config["inputs"]["kind"] in observed.SEQUENCE_KINDS else slice(None)
    if tuple(inputs.x.shape[1:])[compared] != tuple(config["input_shape"])[compared]:
        raise ConfigError(f"run {run.run_id} expects inputs of shape {tuple(config['input_shape'])}; the light curves "
                          f"give {tuple(inputs.x.shape[1:])}")
    if inputs.images is not None and tuple(inputs.images.shape[1:]) != tuple(config["image_shape"]):
        raise ConfigError(f"run {run.run_id} expects dm-dt images of shape {tuple(config['image_shape'])}; the light "
                          f"curves give {tuple(inputs.images.shape[1:])}")
    models = {fold: run.load_model(fold) for fold in run.folds}
    proba = sum(predict_proba(models[fold], inputs.x, inputs.network_features, images=inputs.images).astype(np.float64)
                for fold in run.folds) / len(run.folds)
    names = np.asarray(run.classes, dtype=object)
    out = pd.DataFrame({"id": inputs.stars["id"].astype(str).to_numpy(), "pred": names[proba.argmax(axis=1)]})
    for k, cls in enumerate(run.classes):
        out[f"p_{cls}"] = proba[:, k]
    out.attrs.update(dropped=inputs.record["dropped"], simulated=inputs.record["simulated"])
    return out


def _check_predictable(run: runs.Run) -> None:
    config = run.config
    if config["model"] not in MODELS:
        raise ConfigError(f"run {run.run_id}: the {config['model']} model keeps no weights; "
                          "re-run the baseline on the new catalogue instead")
    if config.get("leaks_label"):
        raise ConfigError(f"run {run.run_id} used thesis dm-dt images, which need the class of the star "
                          "being classified; it cannot classify new stars")
    if not run.folds:
        raise ConfigError(f"run {run.run_id} has no finished fold to predict with")


def prediction_stars(run: runs.Run, catalog: pd.DataFrame, what: str) -> pd.DataFrame:
    """``catalog`` reduced to the columns ``run``'s inputs read, in its recorded order (see
    :func:`ordered_inputs`), so that checks of the new stars see exactly the bands the model does."""
    _check_predictable(run)
    if reads_lightcurves(run):
        raise ConfigError(f"run {run.run_id} ({run.config['model']}) reads observed light curves, not catalogue "
                          "columns: call predict(run, stars, lightcurves=...) with the stars' light curves")
    return ordered_inputs(run_inputs(run, read_stars(run.path)), catalog, what)


def read_stars(run_path: str | Path) -> pd.DataFrame:
    """A run's cleaned stars with their fold (``stars.parquet``); RunError when missing or corrupt."""
    path = Path(run_path) / STARS_FILE
    try:
        stars = pd.read_parquet(path)
    except (OSError, ValueError) as err:  # pyarrow's errors are OSError or ValueError subclasses
        raise RunError(f"{path.parent}: {STARS_FILE} is missing or corrupt ({err}); expected the run's "
                       "cleaned stars with columns id, label, fold and the catalogue columns") from None
    missing = [c for c in ("id", "label", "fold") if c not in stars.columns]
    if missing:
        raise RunError(f"{path.parent}: {STARS_FILE} lacks columns {missing}; expected the run's cleaned stars")
    return stars


def run_inputs(run: runs.Run, reference: pd.DataFrame) -> dict:
    """The run's recorded input spec; runs saved before it was recorded get it from their stars."""
    config = run.config
    return config.get("inputs") or input_spec(config["model"], reference, run.classes, config["dmdt_mode"])
