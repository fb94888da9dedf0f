"""Regression of a catalogue number from light curves (seed 003, SPEC section 7), saved as runs.

The built-in target is the photometric metallicity of fundamental-mode RR Lyrae (RRab) from the
I-band period-phi31 relation of Smolec (2005, AcA 55, 59, eq. 2)::

    [Fe/H] = -3.142 - 4.902 P + 0.824 phi31        (sigma = 0.18 dex)

on the Jurcsik (1995) metallicity scale, P in days, ``phi31 = phi3 - 3 phi1`` of the I-band *sine*
series ``m = A0 + sum A_k sin(k w t + phi_k)``. The coefficients and the scatter are those the
relation is quoted with by its users on OGLE data (e.g. Pietrukowicz et al. 2012, ApJ 750, 169, who
convert OGLE's cosine phases the same way); the paper's own text could not be re-read here.
OGLE-III gives cosine phases (``cos+``: ``m = A0 + sum A_k cos(k w t + phi_k)``); since
``cos(x) = sin(x + pi/2)``, ``phi_k(sin) = phi_k(cos) + pi/2`` and so
``phi31(sin) = phi31(cos) + pi/2 - 3 pi/2 = phi31(cos) - pi`` (mod 2 pi), taken in [pi, 3 pi):
RRab lie at ~4.5-6.5 rad there, metal-rich bulge stars beyond 2 pi, and almost none near the
ends (tests/test_regression.py fits both series to one curve to check the sign). The relation's
scatter is every star's uncertainty, so its weights ``1 / sigma^2`` are all equal: the weighted and
plain metrics then agree, as seed 003's nearly constant Gaia sigmas made them nearly agree.

Any numeric catalogue column can be the target instead, with an optional uncertainty column.

Models, all on the same shuffled, seeded k folds:

* ``gru``: seed 003's GRU 20-16-8 (Table 2, 3,897 parameters) on the folded light curve, two
  channels per phase step as its Eq. (3) and code: phase x period (days since maximum light) and
  magnitude minus the curve's mean. The curves are *simulated* OGLE-III I-band observations of each
  star (``pipeline.lightcurves.simulate``: the catalogue's three-harmonic shape, OGLE-III cadence and
  noise), folded at the catalogue period, interpolated to ``n_points`` phases with maximum light at
  phase 0 (``pipeline.lightcurves.folding.phase_curves``), recorded as simulated in the run.
* ``gru_reconstruction``: the same network on the noise-free three-harmonic reconstruction
  (``pipeline.representations.reconstruct``): what the catalogue's own Fourier numbers give it.
* ``trees``: ``HistGradientBoostingRegressor`` on the catalogue features (``catalog_features``).
  The built-in target *is* a function of two of them (P and phi31), so the trees bound what any
  model can reach on it; a network is measured against them.

Not followed from seed 003: its spline smoothing (linear interpolation of the folded points here),
its capped inverse-density training weights, its L1/L2 weight penalties of 2e-6, its early
stopping over up to 20000 epochs (a fixed epoch budget here, with the output bias started at the
training fold's weighted mean target, so the short budget goes into the curve's shape), and its rank-binned stratified folds
(plain shuffled k-fold here, as the brief for this project asks).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import KFold
from torch import nn

from . import runs
from .cleaning import usable
from .errors import ConfigError, RunError, TrainingError
from .lightcurves.folding import phase_curves
from .lightcurves.simulate import simulate
from .provenance import provenance
from .representations import catalog_features, phase_signs, reconstruct
from .training import Arrays, Callback, TrainConfig, fit, predict_values, seed_everything, select_device

FEH_TARGET = "feh_smolec2005"
#: The relation behind :data:`FEH_TARGET`, recorded in every run that uses it.
SMOLEC2005 = {
    "name": FEH_TARGET,
    "reference": "Smolec 2005, AcA 55, 59, eq. 2",
    "formula": "[Fe/H] = -3.142 - 4.902 P + 0.824 phi31",
    "band": "I",
    "phase_convention": "phi31 of the sine series m = A0 + sum A_k sin(k w t + phi_k), in [pi, 3 pi); "
                        "converted from the catalogue's cosine series as phi31(sin) = phi31(cos) - pi",
    "metallicity_scale": "Jurcsik 1995",
    "sigma": 0.18,
    "stars": "RRab (OGLE-III raw_label RRLyr/RRab)",
}
RRAB_LABELS = ("RRLyr/RRab",)
MODELS = ("gru", "gru_reconstruction", "trees")
#: Seed 003's training: Adam lr 0.01, batch 256, weighted MSE. The paper trains up to 20000 epochs
#: with early stopping (patience 1000); here a fixed 20 epochs at 50 phases, sized so that a 5-fold
#: run on 5,000 RRab stays under 15 minutes on a shared CPU core (~0.2 s per batch of 256 at 100
#: phases, time linear in the phases; a three-harmonic curve needs far fewer than 50).
SEED003_TRAINING = TrainConfig(epochs=20, batch_size=256, lr=1e-2, amp=False, task="regression")
N_POINTS = 50
STARS_FILE = "stars.parquet"
METRICS = ("mae", "rmse", "wmae", "wrmse", "r2")


# --------------------------------------------------------------------------------------------------
# Targets


def phi31_sine(stars: pd.DataFrame) -> np.ndarray:
    """Each star's phi31 in the sine-series convention, in [pi, 3 pi) (NaN where missing).

    A ``cos-`` catalogue (``cos(k w t - phi_k)``) has the opposite phases of ``cos+``: its phi31 is
    negated first, so both reach the same sine phase.
    """
    cosine = phase_signs(stars) * stars["phi31"].to_numpy(np.float64, na_value=np.nan)
    return np.mod(cosine - np.pi - np.pi, 2 * np.pi) + np.pi


def smolec2005_feh(stars: pd.DataFrame) -> np.ndarray:
    """Photometric [Fe/H] of RRab stars from Smolec (2005)'s I-band relation; see the module docstring."""
    missing = [c for c in ("period", "phi31") if c not in stars]
    if missing:
        raise ConfigError(f"target {FEH_TARGET} needs catalogue column(s) {missing}; found {list(stars.columns)}")
    period = stars["period"].to_numpy(np.float64, na_value=np.nan)
    return -3.142 - 4.902 * period + 0.824 * phi31_sine(stars)


def _numeric(catalog: pd.DataFrame, column: str, what: str) -> np.ndarray:
    numeric = [c for c in catalog.columns if pd.api.types.is_numeric_dtype(catalog[c])]
    if column not in catalog:
        raise ConfigError(f"{what} column {column!r} is not in the catalogue; expected {FEH_TARGET!r} "
                          f"or a numeric column: {numeric}")
    if column not in numeric:
        raise ConfigError(f"{what} column {column!r} holds {catalog[column].dtype} values; expected numbers "
                          f"(numeric columns: {numeric})")
    return catalog[column].to_numpy(np.float64, na_value=np.nan)


def target_values(catalog: pd.DataFrame, target: str = FEH_TARGET,
                  sigma: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The target and its uncertainty per star (NaN where unknown); ``sigma`` None: none known.

    The built-in :data:`FEH_TARGET` takes the relation's scatter as every star's sigma.
    """
    if target == FEH_TARGET:
        if sigma is not None:
            raise ConfigError(f"target {FEH_TARGET} has the relation's scatter ({SMOLEC2005['sigma']} dex) as its "
                              f"uncertainty; --sigma {sigma!r} is for a catalogue column target")
        values = smolec2005_feh(catalog)
        return values, np.full(len(catalog), SMOLEC2005["sigma"])
    values = _numeric(catalog, target, "target")
    if sigma is None:
        return values, None
    spread = _numeric(catalog, sigma, "uncertainty")
    bad = np.isfinite(spread) & ~(spread > 0)
    if bad.any():
        star = catalog["id"].iloc[int(np.flatnonzero(bad)[0])] if "id" in catalog else int(np.flatnonzero(bad)[0])
        raise ConfigError(f"uncertainty column {sigma!r} has {int(bad.sum())} value(s) <= 0 (first: star {star!r}, "
                          f"{spread[bad][0]}); expected positive uncertainties, the weights are 1/sigma^2")
    return values, spread


def regression_stars(catalog: pd.DataFrame, target: str = FEH_TARGET, sigma: str | None = None,
                     raw_labels: Sequence[str] | None = RRAB_LABELS, cap: int | None = 5000,
                     seed: int = 42) -> tuple[pd.DataFrame, dict]:
    """The stars to regress on, with columns ``target``, ``weight`` (and ``sigma`` when known).

    Keeps stars whose ``raw_label`` is in ``raw_labels`` (None: every star), whose model inputs are
    usable (``pipeline.cleaning.usable``) and whose target and sigma are finite; then at most
    ``cap`` of them, drawn with ``seed``. The counts go into the returned notes.
    """
    if target == FEH_TARGET and "phi31" not in catalog:
        raise ConfigError(f"target {FEH_TARGET} needs catalogue column 'phi31'; found {list(catalog.columns)}")
    values, spread = target_values(catalog, target, sigma)
    notes = {"catalog_stars": len(catalog)}
    keep = np.ones(len(catalog), dtype=bool)
    if raw_labels is not None:
        keep &= catalog["raw_label"].astype(str).isin(list(raw_labels)).to_numpy()
        notes["with_label"] = int(keep.sum())
    good, rule = usable(catalog)
    keep &= good
    notes["usable"] = int(keep.sum())
    notes["usable_rule"] = rule
    keep &= np.isfinite(values) & (np.isfinite(spread) if spread is not None else True)
    notes["with_target"] = int(keep.sum())
    stars = catalog.loc[keep].assign(target=values[keep])
    if spread is not None:
        stars["sigma"] = spread[keep]
    stars["weight"] = 1.0 / stars["sigma"] ** 2 if spread is not None else 1.0
    if stars.empty:
        raise ConfigError(f"no star has a finite {target}{' and ' + sigma if sigma else ''}"
                          f"{' among raw labels ' + ', '.join(raw_labels) if raw_labels else ''}; "
                          f"{notes}")
    if cap is not None and len(stars) > cap:
        stars = stars.sample(n=int(cap), random_state=seed).sort_index()
    notes["stars"] = len(stars)
    return stars.reset_index(drop=True), notes


def make_folds(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled, seeded k-fold positional (train, validation) indices."""
    if k < 2 or n < k:
        raise ConfigError(f"{k}-fold cross-validation needs k >= 2 and at least k stars; got {n} stars")
    return list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))


# --------------------------------------------------------------------------------------------------
# Metrics


def regression_metrics(true, pred, weight=None) -> dict[str, float]:
    """MAE, RMSE, their inverse-variance weighted forms (``weight = 1/sigma^2``) and R^2 (unweighted)."""
    true, pred = np.asarray(true, np.float64), np.asarray(pred, np.float64)
    weight = np.ones(len(true)) if weight is None else np.asarray(weight, np.float64)
    scores = {
        "mae": mean_absolute_error(true, pred),
        "rmse": np.sqrt(mean_squared_error(true, pred)),
        "wmae": mean_absolute_error(true, pred, sample_weight=weight),
        "wrmse": np.sqrt(mean_squared_error(true, pred, sample_weight=weight)),
        "r2": r2_score(true, pred),
        "n": len(true),
    }
    scores = {k: float(v) for k, v in scores.items()}
    bad = [k for k, v in scores.items() if not np.isfinite(v)]
    if bad:
        raise TrainingError(f"regression metrics {bad} are not finite on {len(true)} stars; "
                            "check the predictions and the target values")
    return scores


def fold_table(per_fold: dict[int, dict]) -> pd.DataFrame:
    """One row per fold, then ``mean`` and ``std`` (population, over the folds) rows."""
    table = pd.DataFrame.from_dict(per_fold, orient="index")[list(METRICS)]
    table.index = table.index.astype(str)
    summary = pd.DataFrame([table.mean(), table.std(ddof=0)], index=["mean", "std"])
    return pd.concat([table, summary]).rename_axis("fold")


@dataclass
class FoldScores:
    """One fold's scores, as the progress callbacks print them."""

    scores: dict

    def describe(self) -> str:
        return ", ".join(f"{k.upper() if k != 'r2' else 'R^2'} {self.scores[k]:.4f}" for k in METRICS)


# --------------------------------------------------------------------------------------------------
# Model and its inputs


class SeedGRU(nn.Module):
    """Seed 003's Table 2: GRU(20) -> Dropout(0.2) -> GRU(16) -> Dropout(0.2) -> GRU(8) ->
    Dropout(0.1) -> Dense(1, linear); the first two GRUs return sequences, the last its final state.

    Input ``(batch, steps, channels)``; 3,897 parameters for two channels (1440 + 1824 + 624 + 9, as
    Keras's ``reset_after`` GRU counts them: torch's GRU has the same two bias vectors).
    """

    uses_features = False

    def __init__(self, channels: int = 2):
        super().__init__()
        self.gru1, self.drop1 = nn.GRU(channels, 20, batch_first=True), nn.Dropout(0.2)
        self.gru2, self.drop2 = nn.GRU(20, 16, batch_first=True), nn.Dropout(0.2)
        self.gru3, self.drop3 = nn.GRU(16, 8, batch_first=True), nn.Dropout(0.1)
        self.dense = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        h, _ = self.gru1(x)
        h, _ = self.gru2(self.drop1(h))
        _, last = self.gru3(self.drop2(h))
        return self.dense(self.drop3(last[-1])).squeeze(-1)


def sequences(curves: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Seed 003's Eq. (3) channels per phase step: phase x period (days since maximum light), and
    magnitude minus the curve's mean; ``curves`` start at maximum light. Float32 ``(n, steps, 2)``."""
    steps = curves.shape[1]
    phase = np.arange(steps) / steps
    curves = np.asarray(curves, np.float64)
    since_max = phase[None, :] * np.asarray(period, np.float64)[:, None]
    return np.stack([since_max, curves - curves.mean(axis=1, keepdims=True)], axis=-1).astype(np.float32)


def _from_maximum(curves: np.ndarray) -> np.ndarray:
    """Each curve rolled so its brightest point (smallest magnitude) comes first."""
    start = np.argmin(curves, axis=1)
    index = (start[:, None] + np.arange(curves.shape[1])[None, :]) % curves.shape[1]
    return np.take_along_axis(curves, index, axis=1)


def observed_curves(stars: pd.DataFrame, n_points: int = N_POINTS, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Simulated OGLE-III I-band observations of ``stars``, folded, from maximum light.

    Returns the curves ``(n_kept, n_points)``, the positions of the stars they belong to (a star with
    too few detections has none) and phase_curves' report.
    """
    lcs = simulate(stars, survey="ogle3", seed=seed)
    folded = phase_curves(lcs, stars[["id", "period"]].assign(id=stars["id"].astype(str)), band="I",
                          n_points=n_points, align_maximum=True)
    position = {star: i for i, star in enumerate(stars["id"].astype(str))}
    rows = np.array([position[star] for star in folded.ids], dtype=np.intp)
    order = np.argsort(rows)
    return folded.curves[order], rows[order], folded.report


def reconstructed_curves(stars: pd.DataFrame, n_points: int = N_POINTS) -> np.ndarray:
    """The catalogue's three-harmonic I-band curves (its own phase convention), from maximum light."""
    return _from_maximum(reconstruct(stars, n_points=n_points, harmonics=3, band="I", match_amplitude=True))


# --------------------------------------------------------------------------------------------------
# Cross-validation


@dataclass
class RegressionConfig:
    """What to fit and how; every field is recorded in the run's config.json."""

    model: str = "gru"
    target: str = FEH_TARGET
    sigma: str | None = None
    folds: int = 5
    seed: int = 42
    n_points: int = N_POINTS
    simulation_seed: int = 0
    train: TrainConfig = field(default_factory=lambda: dataclasses.replace(SEED003_TRAINING))

    def __post_init__(self):
        if self.model not in MODELS:
            raise ConfigError(f"unknown regression model {self.model!r}; expected one of {list(MODELS)}")
        if self.folds < 2:
            raise ConfigError(f"cross-validation needs at least 2 folds, got {self.folds}")
        if self.n_points < 4:
            raise ConfigError(f"n_points must be >= 4 phases, got {self.n_points}")
        if self.train.task != "regression":
            raise ConfigError(f"a regression needs TrainConfig(task='regression'), got task {self.train.task!r}")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "train": dataclasses.asdict(self.train)}


@dataclass
class RegressionResult:
    run: runs.Run
    scores: dict[int, dict]

    @property
    def fold_table(self) -> pd.DataFrame:
        return fold_table(self.scores)


def _inputs(config: RegressionConfig, stars: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None, dict]:
    """The stars that have inputs, their network inputs (None for trees) and what they are."""
    if config.model == "trees":
        columns = list(catalog_features(stars.iloc[:0]).columns)
        return stars, None, {"features": columns}
    if config.model == "gru":
        curves, rows, report = observed_curves(stars, config.n_points, config.simulation_seed)
        stars = stars.iloc[rows].reset_index(drop=True)
        source = {"source": "simulated OGLE-III I-band observations (pipeline.lightcurves.simulate, survey ogle3, "
                            f"seed {config.simulation_seed}), folded at the catalogue period and linearly "
                            f"interpolated to {config.n_points} phases, maximum light at phase 0",
                  "simulated": True, "stars_without_curve": int(report["too_few_points"] + report["no_period"])}
    else:
        curves = reconstructed_curves(stars, config.n_points)
        source = {"source": f"three-harmonic reconstruction of the catalogue's I-band Fourier parameters at "
                            f"{config.n_points} phases, maximum light at phase 0", "simulated": False}
    x = sequences(curves, stars["period"].to_numpy(np.float64))
    bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if bad.any():
        row = stars.iloc[int(np.flatnonzero(bad)[0])]
        raise TrainingError(f"star {row['id']!r} (and {int(bad.sum()) - 1} more) has a light-curve input that is "
                            f"not finite (period {row['period']}, mag_I {row.get('mag_I')}, amp_I {row.get('amp_I')})")
    return stars, x, {**source, "channels": ["phase x period (days since maximum light)", "mag_I - mean mag_I"],
                      "n_points": config.n_points}


def _predictions(stars: pd.DataFrame, fold: int, pred: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"id": stars["id"].astype(str).to_numpy(), "fold": fold,
                          "true": stars["target"].to_numpy(np.float64), "pred": np.asarray(pred, np.float64)})
    if "sigma" in stars:
        frame["sigma"] = stars["sigma"].to_numpy(np.float64)
    frame["weight"] = stars["weight"].to_numpy(np.float64)
    if not np.isfinite(frame["pred"]).all():
        raise TrainingError(f"fold {fold}: {int((~np.isfinite(frame['pred'])).sum())} prediction(s) are not finite")
    return frame


def _fit_trees(x: np.ndarray, stars: pd.DataFrame, train: np.ndarray, val: np.ndarray, seed: int) -> np.ndarray:
    """One fold of the tree baseline; a feature with no value in the training fold is left out."""
    known = np.isfinite(x[train]).any(axis=0)
    model = HistGradientBoostingRegressor(random_state=seed)
    model.fit(x[train][:, known], stars["target"].to_numpy()[train], sample_weight=stars["weight"].to_numpy()[train])
    return model.predict(x[val][:, known])


def cross_validate(stars: pd.DataFrame, config: RegressionConfig, runs_dir: str | Path = runs.DEFAULT_RUNS_DIR,
                   run_info: dict | None = None, callbacks: Sequence[Callback] = (),
                   stop: threading.Event | None = None) -> RegressionResult:
    """Fit and score ``config.model`` on every fold of ``stars`` (from :func:`regression_stars`).

    The run is written as it goes (config task ``regression``; predictions id, fold, true, pred,
    sigma, weight); a stop request ends it ``interrupted`` with the finished folds kept.
    """
    missing = [c for c in ("id", "target", "weight") if c not in stars]
    if missing:
        raise ConfigError(f"regression stars lack column(s) {missing}; build them with regression_stars")
    stars, x, inputs = _inputs(config, stars.reset_index(drop=True))
    folds = make_folds(len(stars), config.folds, config.seed)
    fold_of = np.zeros(len(stars), dtype=np.int64)
    for number, (_, val) in enumerate(folds, start=1):
        fold_of[val] = number
    run_config = {**(run_info or {}), **config.to_dict(), "task": "regression", "classes": [],
                  "label_map": config.target, "n_stars": len(stars), "inputs": inputs,
                  "relation": SMOLEC2005 if config.target == FEH_TARGET else None,
                  "weights": "1/sigma^2" if "sigma" in stars else "equal (no uncertainty column)",
                  "history_score": "R^2 (the *_acc columns of history.csv)", **provenance()}
    if config.model != "trees":
        run_config["device"] = str(select_device(config.train.device))
        run_config["input_shape"] = list(x.shape[1:])
        run_config["parameters"] = sum(p.numel() for p in SeedGRU(x.shape[2]).parameters())
    features = catalog_features(stars).to_numpy(np.float64) if config.model == "trees" else None
    writer = runs.create(runs_dir, run_config)
    scores: dict[int, dict] = {}
    with writer:
        runs.atomic_write(writer.path / STARS_FILE, lambda h: stars.assign(fold=fold_of).to_parquet(h, index=False))
        for number, (train_idx, val_idx) in enumerate(folds, start=1):
            if stop is not None and stop.is_set():
                break
            for cb in callbacks:
                cb.on_fold_start(number, len(folds))
            started = time.perf_counter()
            train, val = stars.iloc[train_idx], stars.iloc[val_idx]
            weights = None
            if config.model == "trees":
                pred = _fit_trees(features, stars, train_idx, val_idx, config.seed)
            else:
                arrays = [Arrays(x[idx], part["target"].to_numpy(np.float32), weight=part["weight"].to_numpy(np.float32))
                          for idx, part in ((train_idx, train), (val_idx, val))]
                seed_everything(config.seed + number)
                model = SeedGRU(x.shape[2])
                with torch.no_grad():  # start from the training fold's mean: a short budget then fits shape, not offset
                    model.dense.bias.fill_(float(np.average(train["target"], weights=train["weight"])))
                history = fit(model, arrays[0], arrays[1], config.train, callbacks, stop, fold=number)
                if len(history):
                    writer.append_history(number, history.to_frame())
                if history.stopped:
                    break
                pred, weights = predict_values(model, arrays[1]), model.state_dict()
            predictions = _predictions(val, number, pred)
            scores[number] = {**regression_metrics(predictions["true"], predictions["pred"], predictions["weight"]),
                              "seconds": time.perf_counter() - started}
            writer.save_fold(number, weights, predictions, np.zeros((0, 0), np.int64))
            for cb in callbacks:
                cb.on_fold_end(number, FoldScores(scores[number]))
        if len(scores) < len(folds):
            writer.mark_interrupted(f"stopped after {len(scores)} of {len(folds)} folds")
        else:
            writer.finish(summarise(runs.open_run(writer.path)))
    return RegressionResult(run=runs.open_run(writer.path), scores=scores)


# --------------------------------------------------------------------------------------------------
# Reading runs back (report, views)


def is_regression(run: runs.Run) -> bool:
    return run.config.get("task") == "regression"


def summarise(run: runs.Run) -> dict:
    """metrics.json of a regression run: the fold table (mean and std rows) and the pooled
    out-of-fold scores (seed 003's headline numbers pool the folds)."""
    preds = run.predictions
    per_fold = {int(f): regression_metrics(p["true"], p["pred"], p["weight"]) for f, p in preds.groupby("fold")}
    return {"folds": fold_table(per_fold).reset_index().to_dict(orient="records"),
            "pooled": regression_metrics(preds["true"], preds["pred"], preds["weight"])}


def read_stars(run: runs.Run) -> pd.DataFrame:
    path = run.path / STARS_FILE
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise RunError(f"{run.path}: {STARS_FILE} is missing or corrupt ({err}); expected the run's stars") from None


def prediction_table(run: runs.Run) -> pd.DataFrame:
    """Out-of-fold predictions beside the stars' catalogue numbers, for predicted-vs-true plots and
    residuals against period or magnitude: id, fold, true, pred, residual (pred - true), sigma,
    weight, then period, mag_I, amp_I, phi31, region (those the run's stars have)."""
    if not is_regression(run):
        raise RunError(f"run {run.run_id} is a {run.config.get('task', 'classification')} run, not a regression")
    stars = read_stars(run)
    columns = [c for c in ("id", "period", "mag_I", "amp_I", "phi31", "r31", "region", "raw_label") if c in stars]
    table = run.predictions.assign(residual=lambda t: t["pred"] - t["true"])
    return table.merge(stars[columns].assign(id=stars["id"].astype(str)), on="id", how="left")


def worst_predicted(run: runs.Run, n: int = 20) -> pd.DataFrame:
    """The ``n`` stars with the largest absolute residual, worst first (the regression counterpart
    of the Misclassifications view)."""
    table = prediction_table(run)
    return table.reindex(table["residual"].abs().sort_values(ascending=False).index).head(n).reset_index(drop=True)


def report_lines(run: runs.Run) -> list[str]:
    """What ``python -m pipeline report`` prints for a regression run."""
    config = run.config
    lines = [f"run {run.run_id} ({run.state}): regression of {config['target']} with {config['model']} on "
             f"{config.get('catalog', '?')}, {config.get('n_stars', '?')} stars, folds done {run.folds}"]
    if config.get("relation"):
        rel = config["relation"]
        lines.append(f"target: {rel['formula']} ({rel['reference']}; {rel['phase_convention']}; sigma {rel['sigma']} dex)")
    if config.get("inputs", {}).get("simulated"):
        lines.append(f"inputs: {config['inputs']['source']}")
    if not run.folds:
        return [*lines, "no fold finished: nothing to report"]
    metrics = summarise(run)
    table = pd.DataFrame(metrics["folds"]).set_index("fold")
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 160):
        lines.append(table.to_string())
    pooled = metrics["pooled"]
    lines.append("pooled out-of-fold: " + ", ".join(f"{k} {pooled[k]:.4f}" for k in METRICS))
    lines.append(f"run directory: {run.path}")
    return lines
