"""Seed 001's sequence input: each star's folded light curve as a padded sequence of epochs.

Per epoch three numbers, as the seed's code feeds its BiGRUs (its note, section 7 items 2-3): the step in
phase (days) to the previous epoch of the phase-sorted curve, scaled by the curve's own std of those
steps; the magnitude minus the curve's mean (the code's raw magnitudes would make the mean brightness,
a distance effect, a class marker); the error as observed. Curves are zero-padded at the end to the
longest one; a zero row never occurs in real data (errors are positive), so the model recovers each
length from the padding (Keras's ``Masking(0)``). Nothing is truncated: ``max_steps`` thins a longer
curve to every k-th epoch in phase order and the count of thinned stars is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.errors import ConfigError

from .container import LightCurves
from .folding import fold, period_map

N_CHANNELS = 3
#: The smallest error a step keeps: a zero error would make the step look like padding.
MIN_ERR = 1e-4


@dataclass
class Sequences:
    """Padded sequences ``x`` (float32, ``(n, steps, 3)``), true ``lengths`` and ``amplitudes`` (the
    5-95 percentile range of each sequence's magnitudes: seed 001's second number beside the period,
    robust to single outliers where its SuperSmoother peak-to-peak is not), one row per id."""

    ids: list[str]
    x: np.ndarray
    lengths: np.ndarray
    amplitudes: np.ndarray
    report: dict = field(default_factory=dict)


def star_sequence(time, mag, err, period: float, max_steps: int | None = None) -> np.ndarray:
    """One curve's ``(n, 3)`` sequence: scaled phase step, magnitude minus mean, error.

    With ``max_steps``, a longer curve keeps every k-th epoch in phase order (steps computed after).
    """
    phase_days = fold(time, period) * period
    order = np.argsort(phase_days, kind="stable")
    if max_steps is not None and len(order) > max_steps:
        order = order[:: int(np.ceil(len(order) / max_steps))]
    phase_days, mag, err = phase_days[order], np.asarray(mag, np.float64)[order], np.asarray(err, np.float64)[order]
    step = np.diff(phase_days, prepend=phase_days[0])
    spread = step.std()
    return np.column_stack([step / spread if spread > 0 else step, mag - mag.mean(),
                            np.maximum(err, MIN_ERR)]).astype(np.float32)


def sequence_inputs(lcs: LightCurves, periods, ids, band: str | None = None,
                    max_steps: int | None = None) -> Sequences:
    """Sequences of ``ids`` in that order (one band each: ``band``, or the star's best-sampled one).

    Raises ConfigError naming a star that has no period or no finite epoch.
    """
    known = period_map(periods)
    ids = [str(i) for i in ids]
    wanted = set(ids)
    best: dict[str, pd.DataFrame] = {}
    for (star_id, b), frame in lcs.subset(ids).groups(by_band=True):
        if band is not None and b != band:
            continue
        good = np.isfinite(frame["time"]) & np.isfinite(frame["mag"]) & np.isfinite(frame["err"])
        frame = frame[good]
        if star_id in wanted and len(frame) and (star_id not in best or len(frame) > len(best[star_id])):
            if star_id not in known:
                raise ConfigError(f"star {star_id!r} has no period; a folded sequence needs one")
            best[star_id] = frame
    missing = [i for i in ids if i not in best]
    if missing:
        where = f" in band {band!r}" if band else ""
        raise ConfigError(f"{len(missing)} star(s) have no finite epochs{where}, e.g. {missing[:3]}; "
                          "expected a light curve for every star")
    thinned = sum(max_steps is not None and len(best[i]) > max_steps for i in ids)
    best = {i: star_sequence(best[i]["time"].to_numpy(), best[i]["mag"].to_numpy(), best[i]["err"].to_numpy(),
                             known[i], max_steps) for i in ids}
    lengths = np.array([len(best[i]) for i in ids], dtype=np.int64)
    amplitudes = np.array([np.subtract(*np.percentile(best[i][:, 1], [95, 5])) for i in ids], dtype=np.float32)
    x = np.zeros((len(ids), int(lengths.max(initial=1)), N_CHANNELS), np.float32)
    for row, star_id in enumerate(ids):
        x[row, : lengths[row]] = best[star_id]
    return Sequences(ids, x, lengths, amplitudes, {"thinned": thinned, "max_steps": max_steps})
