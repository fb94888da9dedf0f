"""Gaussian-process augmentation of small classes and balanced bags (seed 001, its note sections 4.1-4.2).

Seed 001 (CRTS, multi-input RNN) raises each small class by drawing synthetic light curves from a
Gaussian process fitted to a real star's curve, and trains an ensemble on balanced sub-datasets
("bagging-like": large classes under-sampled, small ones augmented with fresh draws for each). Its
public code appends the prototype instead of the draw (exact duplicates: random over-sampling); this
module follows the paper, and ``duplicate=True`` reproduces the code for comparison.

Choices where the paper and its note leave room (recorded by :data:`GP_CHOICES`):
- The GP is fitted per star and band on the folded curve, x = phase in days (0..P), with a Matérn-5/2
  kernel (scikit-learn's, amplitude and length scale fitted by L-BFGS-B on the marginal likelihood from
  var(mag) and length scale sqrt(0.1) d, the code's initial values), the star's own errors as per-point
  noise, and zero prior mean after subtracting the curve's mean magnitude (the code's zero mean on raw
  magnitudes would pull the curve towards magnitude 0 between epochs).
- A synthetic curve keeps the prototype's times and errors (the issue's reading: "at the star's own
  times with its errors"), shifts the phase by a uniform random fraction of the period (paper), and
  draws magnitudes jointly from the GP posterior at the shifted phases plus N(0, err) noise: a draw of
  the posterior predictive, not the code's ``normalvariate(pred, sigma) % 3 sigma`` offset.
- At most :data:`MAX_FIT_POINTS` epochs (evenly spaced in phase order) enter a fit: the GP is cubic in
  the number of points, and a few hundred already pin the shape of a periodic curve.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

from pipeline.errors import ConfigError

from .container import LightCurves
from .folding import fold, period_map

#: Separates a synthetic star's id from its prototype's: ``"<prototype>#gp3"``, ``"<prototype>#dup3"``.
SYNTHETIC_MARK = "#"
MAX_FIT_POINTS = 300
MIN_FIT_POINTS = 5
GP_CHOICES = [
    "GP: Matern-5/2 on phase in days (scikit-learn), initial amplitude var(mag) and length scale sqrt(0.1) d, "
    "fitted by L-BFGS-B; the star's errors as noise; zero mean after subtracting the mean magnitude",
    f"GP: at most {MAX_FIT_POINTS} epochs per fit (every k-th in phase order)",
    "synthetic curve: the prototype's times and errors, a uniform random phase shift, magnitudes drawn jointly "
    "from the GP posterior plus N(0, err) noise",
]


def prototype_of(star_id: str) -> str:
    """The real star a synthetic id was drawn from (the id itself for a real star)."""
    return str(star_id).split(SYNTHETIC_MARK, 1)[0]


@dataclass
class StarGP:
    """One star and band's fitted GP, kept so that every bag draws fresh curves without refitting."""

    star_id: str
    band: str
    period: float
    mean_mag: float
    time: np.ndarray
    err: np.ndarray
    mag: np.ndarray
    regressor: GaussianProcessRegressor

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Magnitudes of one synthetic curve at the prototype's times (phase shifted at random)."""
        shift = rng.uniform(0.0, self.period)
        x = np.mod(fold(self.time, self.period) * self.period + shift, self.period)[:, None]
        mean, cov = self.regressor.predict(x, return_cov=True)
        # eigh: the posterior covariance at close phases is only semi-definite (Cholesky fails on it)
        latent = rng.multivariate_normal(mean, cov, method="eigh") if len(x) > 1 else mean
        return self.mean_mag + latent + rng.normal(0.0, self.err)


def fit_star_gp(frame: pd.DataFrame, period: float, seed: int = 0) -> StarGP:
    """Fit a GP to one star's one-band epochs (columns ``id, band, time, mag, err``) folded at ``period``."""
    frame = frame[np.isfinite(frame["mag"]) & np.isfinite(frame["err"]) & np.isfinite(frame["time"])]
    star_id, band = str(frame["id"].iloc[0]) if len(frame) else "?", str(frame["band"].iloc[0]) if len(frame) else "?"
    if len(frame) < MIN_FIT_POINTS:
        raise ConfigError(f"star {star_id!r} band {band!r}: {len(frame)} finite epochs; a GP fit needs at least "
                          f"{MIN_FIT_POINTS}")
    time, mag = frame["time"].to_numpy(np.float64), frame["mag"].to_numpy(np.float64)
    err = np.maximum(frame["err"].to_numpy(np.float64), 1e-3)  # a zero error would make the noise matrix singular
    x = fold(time, period) * period
    order = np.argsort(x, kind="stable")
    step = max(1, int(np.ceil(len(order) / MAX_FIT_POINTS)))
    fit = order[::step]
    mean_mag = float(np.mean(mag))
    variance = max(float(np.var(mag)), 1e-6)
    kernel = ConstantKernel(variance, (1e-6, 1e3)) * Matern(np.sqrt(0.1), (1e-4 * period, 1e3 * period), nu=2.5)
    regressor = GaussianProcessRegressor(kernel, alpha=err[fit] ** 2, normalize_y=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a bound reached is still a usable fit
        regressor.fit(x[fit, None], mag[fit] - mean_mag)
    return StarGP(star_id, band, float(period), mean_mag, time, err, mag, regressor)


def synthetic_curves(gps: Sequence[StarGP], counts: Sequence[int], rng: np.random.Generator,
                     tag: str = "", duplicate: bool = False) -> LightCurves:
    """``counts[i]`` new curves of each ``gps[i]`` (GP draws, or copies when ``duplicate``).

    Synthetic ids are ``<prototype>#gp<tag><k>`` (``#dup...``); a distinct ``tag`` per call (e.g. the
    bag's number) keeps the curves of several calls apart. The bands of one star share its ids.
    """
    mark = f"{'dup' if duplicate else 'gp'}{tag}"
    parts = []
    for gp, n in zip(gps, counts):
        for k in range(int(n)):
            mag = gp.mag.copy() if duplicate else gp.draw(rng)
            parts.append(pd.DataFrame({"id": f"{gp.star_id}{SYNTHETIC_MARK}{mark}{k}", "time": gp.time,
                                       "mag": mag, "err": gp.err, "band": gp.band}))
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["id", "time", "mag", "err", "band"])
    return LightCurves(data, "MJD", f"seed 001 {'duplicates' if duplicate else 'GP draws'}", simulated=True,
                       notes={"augmentation": "duplicate" if duplicate else "gp", "choices": GP_CHOICES})


@dataclass
class Bag:
    """One balanced sub-dataset: real training stars (positions) and synthetic draws per prototype."""

    real: np.ndarray  # positions into the training stars
    prototypes: list[str]  # star ids to draw from, one entry per synthetic curve


def balanced_bags(ids: Sequence[str], labels: Sequence[str], per_class: int, n_bags: int, seed: int) -> list[Bag]:
    """``n_bags`` sub-datasets with ``per_class`` stars of every class (seed 001's scheme).

    A class with more stars is under-sampled without replacement (a fresh sample per bag); one with
    fewer keeps all its stars and is topped up with synthetic curves whose prototypes cycle through
    its stars in a shuffled order, so every real star seeds about the same number of draws.
    """
    if per_class < 1 or n_bags < 1:
        raise ConfigError(f"bagging needs per_class >= 1 and n_bags >= 1; got {per_class} and {n_bags}")
    ids, labels = np.asarray(ids, dtype=object).astype(str), np.asarray(labels, dtype=object).astype(str)
    rng = np.random.default_rng(seed)
    bags = []
    for _ in range(n_bags):
        real, prototypes = [], []
        for cls in sorted(set(labels)):
            members = np.flatnonzero(labels == cls)
            if len(members) >= per_class:
                real.append(rng.choice(members, per_class, replace=False))
                continue
            real.append(members)
            missing = per_class - len(members)
            cycle = np.tile(rng.permutation(members), int(np.ceil(missing / len(members))))[:missing]
            prototypes.extend(ids[cycle])
        bags.append(Bag(np.sort(np.concatenate(real)), prototypes))
    return bags


def augment(lcs: LightCurves, periods, prototypes: Sequence[str], seed: int, duplicate: bool = False,
            fitted: dict | None = None, tag: str = "") -> LightCurves:
    """Synthetic curves, one per entry of ``prototypes`` (ids of stars in ``lcs``, repeats allowed).

    ``fitted`` caches each (star, band)'s GP between calls (the bags of one fold draw from the same
    fits); ``tag`` marks this call's ids (see :func:`synthetic_curves`).
    Only the prototypes' own curves are read, so a caller that passes training ids alone can be sure
    no synthetic curve derives from anything else.
    """
    known = period_map(periods)
    fitted = {} if fitted is None else fitted
    wanted = pd.Series(list(prototypes), dtype=object).value_counts(sort=False)
    unknown = [p for p in wanted.index if p not in known]
    if unknown:
        raise ConfigError(f"no period for prototype star(s) {unknown[:5]}; every star to augment needs one")
    rng = np.random.default_rng(seed)
    gps, counts = [], []
    for (star_id, band), frame in lcs.subset(list(wanted.index)).groups(by_band=True):
        if (star_id, band) not in fitted:
            fitted[(star_id, band)] = fit_star_gp(frame, known[star_id], seed)
        gps.append(fitted[(star_id, band)])
        counts.append(int(wanted[star_id]))
    missing = sorted(set(wanted.index) - {g.star_id for g in gps})
    if missing:
        raise ConfigError(f"prototype star(s) {missing[:5]} have no light curve to augment from")
    return synthetic_curves(gps, counts, rng, tag, duplicate)
