"""Lomb-Scargle period search per star (SPEC section 6): period, power and false-alarm probability.

The periodogram is nifty-ls (Garrison et al. 2024: a non-uniform FFT, the same values as astropy's
exact "standard" Lomb-Scargle to ~1e-6 and much faster); the FAP is astropy's Baluev (2008)
analytic bound for that normalisation, which needs no extra periodograms.

Several bands: each band is searched on its own and the star takes the band with the lowest FAP
("best of bands"), not astropy's ``LombScargleMultiband``: the multiband model fits all bands'
shapes jointly and costs a least-squares fit per frequency (minutes per star on survey-length
grids), whereas a strong single-band peak is what a catalogue period comes from anyway (Chen et al.
2020 search g and r separately). ``per_band=True`` returns every band's result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError

from .container import LightCurves

#: Shortest period searched by default, days: below OGLE-III's shortest (0.042 d, delta Scuti).
MIN_PERIOD = 0.04
#: Frequency samples per periodogram peak width 1/baseline (VanderPlas 2018, ApJS 236, 16, suggests
#: 5-10); the lower end, as the best peak is refined on a finer grid afterwards.
SAMPLES_PER_PEAK = 5
#: Fewest epochs a band needs to be searched.
MIN_POINTS = 10
#: Points of the fine grid laid over the best peak, +- one coarse step, to pin its frequency.
_REFINE_POINTS = 64
#: One thread per periodogram: a few hundred epochs gain little from threads, and many stars are
#: better spread over cores one star each (threads inside would fight over the same cores).
_NIFTY = {"nthreads": 1}


def periodogram(time, mag, err=None, min_period: float = MIN_PERIOD, max_period: float | None = None,
                samples_per_peak: int = SAMPLES_PER_PEAK):
    """``(frequency, power)`` of one series (frequency in 1/day), on a grid fine enough for its baseline."""
    import nifty_ls  # loads finufft: only when searching

    t, y, dy = _sorted(time, mag, err)
    baseline = t[-1] - t[0]
    if baseline <= 0:
        raise ConfigError("a periodogram needs epochs at different times; all times are equal")
    fmin = 1.0 / (max_period or baseline)
    fmax = 1.0 / min_period
    if fmin >= fmax:
        raise ConfigError(f"max_period {1 / fmin:g} d is not above min_period {min_period:g} d")
    df = 1.0 / (samples_per_peak * baseline)
    result = nifty_ls.lombscargle(t, y, dy, fmin=fmin, fmax=fmax, Nf=int(np.ceil((fmax - fmin) / df)) + 1, **_NIFTY)
    return result.freq(), result.power


def _sorted(time, mag, err):
    order = np.argsort(np.asarray(time, dtype=np.float64), kind="stable")
    t = np.asarray(time, dtype=np.float64)[order]
    y = np.asarray(mag, dtype=np.float64)[order]
    dy = None if err is None else np.asarray(err, dtype=np.float64)[order]
    return t, y, dy


def best_period(time, mag, err=None, min_period: float = MIN_PERIOD, max_period: float | None = None,
                samples_per_peak: int = SAMPLES_PER_PEAK) -> dict:
    """The highest peak of one series: ``period``, ``power`` and Baluev ``fap``."""
    import nifty_ls
    from astropy.timeseries import LombScargle  # 0.7 s to import: only when searching

    t, y, dy = _sorted(time, mag, err)
    freq, power = periodogram(t, y, dy, min_period, max_period, samples_per_peak)
    k = int(np.argmax(power))
    step = freq[1] - freq[0] if len(freq) > 1 else freq[0]
    fine = nifty_ls.lombscargle(t, y, dy, fmin=max(freq[k] - step, freq[0]), fmax=freq[k] + step, Nf=_REFINE_POINTS,
                                **_NIFTY)
    j = int(np.argmax(fine.power))
    f_best, p_best = (fine.freq()[j], fine.power[j]) if fine.power[j] > power[k] else (freq[k], power[k])
    # min(.., 1): a noiseless curve's power can round to just above 1, outside Baluev's formula.
    fap = LombScargle(t, y, dy).false_alarm_probability(
        min(p_best, 1.0), method="baluev", minimum_frequency=freq[0], maximum_frequency=freq[-1])
    return {"period": 1.0 / f_best, "power": float(p_best), "fap": float(fap), "n_obs": len(t)}


def find_periods(lcs: LightCurves, min_period: float = MIN_PERIOD, max_period: float | None = None,
                 samples_per_peak: int = SAMPLES_PER_PEAK, per_band: bool = False,
                 min_points: int = MIN_POINTS) -> pd.DataFrame:
    """One row per star (per star and band with ``per_band``): ``id, band, period, power, fap, n_obs``.

    Bands with fewer than ``min_points`` epochs are skipped; a star with no such band is absent
    (counted in ``attrs["too_few_points"]``).
    """
    rows, skipped = [], 0
    for (star_id, band), frame in lcs.groups(by_band=True):
        if len(frame) < min_points:
            skipped += 1
            continue
        found = best_period(frame["time"], frame["mag"], frame["err"], min_period, max_period, samples_per_peak)
        rows.append({"id": star_id, "band": band, **found})
    columns = ["id", "band", "period", "power", "fap", "n_obs"]
    out = pd.DataFrame(rows, columns=columns)
    if not per_band and len(out):
        out = out.sort_values(["id", "fap", "power"], ascending=[True, True, False]).drop_duplicates("id")
    out = out.reset_index(drop=True)
    out.attrs["too_few_points"] = skipped
    out.attrs["method"] = "nifty-ls Lomb-Scargle, Baluev FAP" + ("" if per_band else ", best of bands by FAP")
    return out
