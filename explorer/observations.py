"""The picked star's observations, as the Observations view shows them: simulated with a survey's
cadence or loaded from files, period-searched, folded with the catalogue's reconstruction aligned
on them, and Mahabal dm-dt images.

Plain Python (no Panel), so tests and notebooks use it without a server. :class:`ObservationCache`
keeps each star's simulation and period search (the slow part: ~0.3 s per star, seconds for the
first dm-dt image while numba compiles), so looking at a star again is instant.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import pipeline
from pipeline.lightcurves import DMDT_PRESETS, LightCurves, dmdt_images, find_periods, fold, periodogram
from pipeline.lightcurves.periods import MIN_POINTS
from pipeline.schema import bands as catalog_bands
from pipeline.schema import primary_band

#: Survey names as astronomers write them, in the order the view offers them.
SURVEY_NAMES = {"ogle3": "OGLE-III", "ztf": "ZTF", "gaia": "Gaia DR3", "asassn": "ASAS-SN", "crts": "CRTS"}
#: A catalogue band that says which survey the catalogue comes from, checked in this order.
_BAND_SURVEYS = (("I", "ogle3"), ("r", "ztf"), ("g", "ztf"), ("G", "gaia"))
#: Points a periodogram is reduced to for drawing (the search grid of an 8-year survey has ~350k):
#: the highest power in each of this many log-period bins, so no peak is lost.
PERIODOGRAM_POINTS = 3000
#: Stars whose observations one session keeps (each ~100 kB: epochs, reduced periodogram, images).
CACHED_STARS = 200


class NoObservations(ValueError):
    """Why the picked star has no light curve to show, worded for the user (what to do instead)."""


def default_survey(catalog: pd.DataFrame) -> str:
    """The survey a catalogue's stars are simulated with first: its own where its bands tell (I:
    OGLE-III, g/r: ZTF, G: Gaia), else OGLE-III."""
    present = set(catalog_bands(catalog, "mag"))
    return next((survey for band, survey in _BAND_SURVEYS if band in present), "ogle3")


def describe_source(lcs: LightCurves) -> str:
    """What the curves are, for plot titles: "Simulated OGLE-III" or "Observed (<file>)"."""
    if lcs.simulated:
        return f"Simulated {SURVEY_NAMES.get(lcs.survey, lcs.survey)}"
    return f"Observed ({lcs.source})"


@dataclass
class StarObservations:
    """One star's light curve and what is derived from it; ``problem`` says why a part is missing."""

    star_id: str
    lcs: LightCurves  # this star only
    searches: pd.DataFrame  # find_periods per band: band, period, power, fap, n_obs
    band: str | None = None  # the band with the best (lowest-FAP) period
    found_period: float | None = None
    periods: np.ndarray = field(default_factory=lambda: np.empty(0))  # reduced periodogram, days
    power: np.ndarray = field(default_factory=lambda: np.empty(0))
    images: dict = field(default_factory=dict)  # dm-dt preset -> band -> (n_dm, n_dt) image
    problem: str = ""

    @property
    def simulated(self) -> bool:
        return self.lcs.simulated


def reduce_periodogram(freq: np.ndarray, power: np.ndarray, points: int = PERIODOGRAM_POINTS):
    """``(period, power)`` at the highest power of each of ``points`` equal bins in log period."""
    order = np.argsort(1.0 / freq)
    period, power = 1.0 / freq[order], power[order]
    if len(period) <= points:
        return period, power
    log_period = np.log10(period)
    starts = np.unique(np.searchsorted(log_period, np.linspace(log_period[0], log_period[-1], points + 1)[:-1]))
    peaks = np.array([start + int(np.argmax(segment)) for start, segment in zip(starts, np.split(power, starts[1:]))])
    return period[peaks], power[peaks]


def observe(lcs: LightCurves, star_id: str) -> StarObservations:
    """Period search (every band; the lowest FAP wins), the best band's periodogram and dm-dt images."""
    lcs = lcs.subset([star_id])
    searches = find_periods(lcs, per_band=True)
    images = {preset: dict(zip(lcs.bands, dmdt_images(lcs, preset=preset)[1][0])) if len(lcs) else {}
              for preset in DMDT_PRESETS}
    out = StarObservations(star_id, lcs, searches, images=images)
    if not len(lcs):
        out.problem = f"Star {star_id} has no epochs in these light curves."
    elif searches.empty:
        counts = ", ".join(f"{n} in {b}" for b, n in lcs.data["band"].value_counts().sort_index().items())
        out.problem = (f"Too few points for a period search: {counts}; it needs at least {MIN_POINTS} in one band. "
                       "Pick a brighter star or another survey.")
    else:
        best = searches.sort_values(["fap", "power"], ascending=[True, False]).iloc[0]
        out.band, out.found_period = str(best["band"]), float(best["period"])
        rows = lcs.star(star_id, out.band)
        out.periods, out.power = reduce_periodogram(*periodogram(rows["time"], rows["mag"], rows["err"]))
    return out


@dataclass
class Folded:
    """Epochs folded at ``period``, and the catalogue reconstruction aligned on them (or why not)."""

    period: float
    phase: np.ndarray  # per epoch of ``StarObservations.lcs.data``, maximum light of the model at 0
    model_phase: np.ndarray
    model: np.ndarray | None
    model_note: str


def fold_with_reconstruction(obs: StarObservations, star: pd.DataFrame, period: float) -> Folded:
    """Fold at ``period`` and overlay ``reconstruct(star, harmonics=3, match_amplitude=True)``.

    The reconstruction is in the catalogue's phase convention with an origin no file shares (OGLE's
    ``T0`` is missing for many stars, simulated curves start at a random phase), so it is slid along
    phase to the shift with the least absolute residual on the best band's points (robust to the
    outliers surveys have), then phase 0 is put at its maximum light. Drawn in the observed band when
    the catalogue has it; otherwise the primary band's shape is moved to the observed median.
    """
    data = obs.lcs.data
    phase = fold(data["time"], period)
    band = obs.band or data["band"].iloc[0]
    same_band = band in set(catalog_bands(star, "amp")) & set(catalog_bands(star, "mag"))
    model_band = band if same_band else primary_band(star)
    model = pipeline.reconstruct(star, harmonics=3, match_amplitude=True, band=model_band)[0].astype(np.float64)
    grid = pipeline.phase_grid(len(model))
    if not np.isfinite(model).all():
        return Folded(period, phase, grid, None,
                      f"no reconstruction: the catalogue has no {model_band} amplitude or mean magnitude")
    rows = (data["band"] == band).to_numpy()
    mag = data["mag"].to_numpy()[rows]
    cells = np.floor(phase[rows] * len(model)).astype(np.int64) % len(model)
    shifts = np.arange(len(model))
    residual = np.abs((mag - np.median(mag))[:, None]
                      - (model - np.median(model))[(cells[:, None] + shifts[None, :]) % len(model)]).sum(axis=0)
    shift = int(np.argmin(residual))  # the model at cell c + shift matches the epoch in cell c
    peak = int(np.argmin(np.roll(model, -shift)))  # brightest = smallest magnitude
    phase = np.mod(phase - (peak / len(model)), 1.0)
    model = np.roll(model, -(shift + peak))
    note = f"catalogue {model_band} reconstruction"
    if not same_band:
        model = model - np.median(model) + np.median(mag)
        note += f" (shape only: moved to the {band} median)"
    return Folded(period, phase, grid, model, note)


class ObservationCache:
    """Per-session memory of :func:`observe`, keyed by (star, source, survey, seed); thread-safe, as
    the view computes off the event loop. Least recently used stars are forgotten past ``size``.

    :meth:`clear` (new catalogue, new files) also keeps out results still being computed from the
    old data: a star id alone does not say which catalogue row it was simulated from.
    """

    def __init__(self, size: int = CACHED_STARS):
        self.size = size
        self._entries: OrderedDict[tuple, StarObservations] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, key: tuple, compute) -> StarObservations:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            generation = self._generation
        value = compute()  # outside the lock: another star may be computed meanwhile
        with self._lock:
            if generation == self._generation:
                self._entries[key] = value
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)
