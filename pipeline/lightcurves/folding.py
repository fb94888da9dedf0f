"""Folding at a period, seed 002's cleaning and its 512-point phase curves (SPEC section 6).

Seed 002 (Akhmetali et al. 2025, phase-folded CNN on ASAS-SN) cleans each light curve in this
order: drop points whose error is a sentinel (its "magnitude error exceeded 99%", read as
``err >= 99``: ASAS-SN writes 99.99 for non-detections), keep curves with at least 50 points, remove
single-point outliers beyond 3 sigma (one pass about the median); then folds with the known period
and interpolates to 512 evenly spaced phases. Its note leaves open the interpolation method, the
phase origin and re-checking the 50 points after clipping; the choices here: linear interpolation
with the curve wrapped periodically (duplicate phases averaged), the 50-point check once (after the
error cut, as the paper orders it), and, optionally, phase 0 at maximum light so that every curve's
peak sits in the same place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError

from .container import LightCurves

N_PHASE_POINTS = 512
MIN_POINTS = 50
MAX_ERR = 99.0
CLIP_SIGMA = 3.0


def period_map(periods) -> dict[str, float]:
    """Periods by star id from a dict, a Series indexed by id, or a frame with ``id`` and ``period``."""
    if isinstance(periods, pd.DataFrame):
        if not {"id", "period"} <= set(periods.columns):
            raise ConfigError(f"periods frame needs columns 'id' and 'period'; found {list(periods.columns)}")
        periods = dict(zip(periods["id"].astype(str), periods["period"]))
    elif isinstance(periods, pd.Series):
        periods = dict(zip(periods.index.astype(str), periods.to_numpy()))
    return {str(k): float(v) for k, v in dict(periods).items()}


def fold(time, period: float, t0: float = 0.0) -> np.ndarray:
    """Phase in [0, 1) of each epoch: ``((t - t0) / P) mod 1``."""
    if not (np.isfinite(period) and period > 0):
        raise ConfigError(f"cannot fold at period {period!r}; expected a positive number of days")
    return np.mod((np.asarray(time, dtype=np.float64) - t0) / period, 1.0)


def clean_seed002(frame: pd.DataFrame, max_err: float = MAX_ERR, min_points: int = MIN_POINTS,
                  sigma: float = CLIP_SIGMA) -> pd.DataFrame | None:
    """One star's one-band epochs after seed 002's cleaning, or None when too few points remain."""
    good = np.isfinite(frame["mag"]) & np.isfinite(frame["err"]) & (frame["err"] < max_err)
    frame = frame[good]
    if len(frame) < min_points:
        return None
    mag = frame["mag"].to_numpy()
    spread = np.std(mag)
    if spread > 0:
        frame = frame[np.abs(mag - np.median(mag)) <= sigma * spread]
    return frame


def interpolate_phase(phase, mag, n_points: int = N_PHASE_POINTS) -> np.ndarray:
    """Magnitudes at ``n_points`` phases ``k / n_points``, linear between the folded points, wrapped."""
    phase = np.asarray(phase, dtype=np.float64)
    mag = np.asarray(mag, dtype=np.float64)
    unique, inverse = np.unique(phase, return_inverse=True)
    mean = np.bincount(inverse, weights=mag) / np.bincount(inverse)
    grid = np.arange(n_points) / n_points
    return np.interp(grid, unique, mean, period=1.0)


@dataclass
class PhaseCurves:
    """Folded, interpolated curves, one row per star: the input of seed 002's 1D CNN."""

    ids: list[str]
    bands: list[str]
    curves: np.ndarray  # float32 (n_stars, n_points), magnitudes
    simulated: bool
    report: dict = field(default_factory=dict)


def phase_curves(lcs: LightCurves, periods, band: str | None = None, n_points: int = N_PHASE_POINTS,
                 clean: bool = True, align_maximum: bool = True, min_points: int = MIN_POINTS) -> PhaseCurves:
    """Seed 002's representation of every star with a period: clean, fold, interpolate.

    ``band=None`` takes, per star, the band with the most epochs left after cleaning. Stars without
    a period or with fewer than ``min_points`` are left out, counted per star and band in ``report``.
    """
    known = period_map(periods)
    rows: dict[str, tuple[int, str, np.ndarray]] = {}
    report = {"no_period": 0, "too_few_points": 0}
    for (star_id, b), frame in lcs.groups(by_band=True):
        if band is not None and b != band:
            continue
        if star_id not in known:
            report["no_period"] += 1
            continue
        kept = clean_seed002(frame, min_points=min_points) if clean else frame
        if kept is None or len(kept) < 2:
            report["too_few_points"] += 1
            continue
        if star_id in rows and rows[star_id][0] >= len(kept):
            continue
        curve = interpolate_phase(fold(kept["time"], known[star_id]), kept["mag"], n_points)
        if align_maximum:
            curve = np.roll(curve, -int(np.argmin(curve)))  # brightest = smallest magnitude at phase 0
        rows[star_id] = (len(kept), b, curve)
    ids = sorted(rows)
    curves = np.array([rows[i][2] for i in ids], dtype=np.float32).reshape(len(ids), n_points)
    report["stars"] = len(ids)
    return PhaseCurves(ids, [rows[i][1] for i in ids], curves, lcs.simulated, report)
