"""Light-curve features per star and band with the ``light-curve`` package (Malanchev et al. 2021, MNRAS 502, 5147).

The feature-plus-trees approach of Richards et al. (2011, 2012) needs numbers computed from the
observed epochs, not the catalogue's: periodogram peaks, amplitudes, moments, Stetson K, von
Neumann's eta, and the shape of the curve folded at the best period. ``light-curve`` computes them
in Rust, one call per series, which is what makes 810 ASAS stars take tens of seconds.

Left out on purpose: mean, median and weighted-mean magnitude. They measure the star's distance and
the survey's magnitude limit, not its class; a tree would learn the sample's selection instead.

Periodogram: an explicit grid ``linspace(0, 2 pi / MIN_PERIOD, 2**19 + 1)`` (angular frequency;
``fast=True`` accepts only such grids). The package's default grid stops at the "average Nyquist"
frequency, which for one visit a night is ~0.5 c/d and would miss every RR Lyrae and delta Scuti
period; 2**19 points give ~6 samples per peak on ASAS's ~3,300-day baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError

from .container import LightCurves
from .periods import MIN_PERIOD

#: Peaks of the periodogram reported (period and signal-to-noise each).
PEAKS = 3
#: Fewest epochs a band needs; below this periodogram peaks and moments are noise.
MIN_POINTS = 20
_GRID_POWER = 19


def _extractor():
    """Built on call: importing ``light_curve`` loads a Rust extension the rest of the package does not need."""
    import light_curve as lc

    freqs = np.linspace(0.0, 2.0 * np.pi / MIN_PERIOD, 2**_GRID_POWER + 1)
    folded = [lc.Amplitude(), lc.Skew(), lc.Kurtosis(), lc.InterPercentileRange(0.1), lc.Eta()]
    periodogram = lc.Periodogram(peaks=PEAKS, freqs=freqs, fast=True, phase_features=folded)
    return lc.Extractor(
        periodogram,
        lc.Amplitude(),
        lc.AndersonDarlingNormal(),
        lc.BeyondNStd(1.0),
        lc.Cusum(),
        lc.Eta(),
        lc.EtaE(),
        lc.InterPercentileRange(0.1),
        lc.InterPercentileRange(0.25),
        lc.Kurtosis(),
        lc.LinearTrend(),
        lc.MedianAbsoluteDeviation(),
        lc.MedianBufferRangePercentage(0.1),
        lc.PercentAmplitude(),
        lc.PercentDifferenceMagnitudePercentile(0.1),
        lc.ReducedChi2(),
        lc.Skew(),
        lc.StandardDeviation(),
        lc.StetsonK(),
    )


def feature_names() -> list[str]:
    """Column names of :func:`lightcurve_features` after ``id`` and ``band``."""
    return _columns(_extractor().names)


def _columns(names) -> list[str]:
    # Periods span 0.04 to ~3,000 days: trees split on them the same either way, but log10 reads better.
    return [f"log10_{n}" if _is_period(n) else n for n in names]


def _is_period(name: str) -> bool:
    return name.startswith("periodogram_period_") and "s_to_n" not in name


def lightcurve_features(lcs: LightCurves, min_points: int = MIN_POINTS, skip_short: bool = False) -> pd.DataFrame:
    """One row per star and band: ``id, band`` and the features of :func:`feature_names`.

    A band with fewer than ``min_points`` usable epochs raises, naming the star: its features would be
    noise sitting in a training set looking like a star. With ``skip_short`` such a band is left out
    instead and counted in ``attrs["too_few_points"]`` (a survey's faint stars). Epochs with non-finite
    values or ``err <= 0``, and repeated times, are dropped first and counted in ``attrs["dropped_epochs"]``.
    """
    if min_points < 2:
        raise ConfigError(f"min_points {min_points}; expected at least 2 epochs per band")
    extractor = _extractor()
    columns = _columns(extractor.names)
    period_columns = [k for k, n in enumerate(extractor.names) if _is_period(n)]
    keys, rows, dropped, short = [], [], 0, 0
    for (star_id, band), frame in lcs.groups(by_band=True):
        t, m, e = (frame[c].to_numpy(np.float64) for c in ("time", "mag", "err"))
        good = np.isfinite(t) & np.isfinite(m) & np.isfinite(e) & (e > 0)
        dropped += int((~good).sum())
        t, m, e = t[good], m[good], e[good]
        # Repeated times break light-curve's strictly-sorted-time contract: keep the first epoch of each.
        t, first = np.unique(t, return_index=True)
        dropped += len(m) - len(t)
        if len(t) < min_points and skip_short:
            short += 1
            continue
        if len(t) < min_points:
            raise ConfigError(f"{lcs.source}: star {star_id!r} band {band!r} has {len(t)} usable epochs; "
                              f"expected at least {min_points} for light-curve features")
        values = extractor(t, m[first], e[first], sorted=True, check=True)
        values[period_columns] = np.log10(values[period_columns])
        keys.append((star_id, band))
        rows.append(values)
    out = pd.DataFrame(np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns)), columns=columns)
    out.insert(0, "band", [b for _, b in keys])
    out.insert(0, "id", [i for i, _ in keys])
    out.attrs["dropped_epochs"] = dropped
    out.attrs["too_few_points"] = short
    out.attrs["method"] = "light-curve " + _version()
    return out


def _version() -> str:
    import light_curve

    return light_curve.__version__
