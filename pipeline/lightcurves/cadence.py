"""When and how well each survey observes a star: epochs, bands and photometric noise (SPEC section 6).

Each :class:`Survey` draws one star's epochs from the survey's real observing pattern, on the
modified-Julian zero point of ``pipeline.lightcurves.container``. The figures are approximate, from
the surveys' papers (cited at each survey); they aim at the right number of epochs, gaps and
aliases, not at any one field's actual log.

Ground-based seasons are centred on the star's opposition (the date it culminates at midnight,
from its right ascension) and last ~8 months; stars without ``ra`` get a random season phase.
Whether the survey can see the star at all (ZTF does not reach the Magellanic Clouds) is ignored on
purpose: any catalogue can be observed "as if by" any survey, to compare methods across cadences.

Noise: ``err**2 = floor**2 + (0.04 - gamma) x + gamma x**2``, ``x = 10**(0.4 (m - m5))`` (Ivezic et al.
2019, ApJ 873, 111, eq. 5: the source-photon and sky-background terms of a CCD, 0.2 mag at the 5-sigma
depth ``m5``; ``gamma = 0.038``), with a per-survey systematic ``floor``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Ivezic et al. 2019 eq. 5's sky-to-source weight (their value for LSST's bands; close for any CCD).
GAMMA = 0.038
#: Day of the year of the March equinox (Sun at RA 0), for opposition dates.
_EQUINOX_DAY = 79.0
_YEAR = 365.25
#: MJD of 2001-01-01, the origin of day-of-year arithmetic below (any Jan 1 would do).
_JAN1_MJD = 51910.0


@dataclass(frozen=True)
class BandNoise:
    m5: float  # 5-sigma depth of one epoch, mag
    floor: float  # systematic error, mag

    def err(self, mag: np.ndarray) -> np.ndarray:
        x = 10.0 ** (0.4 * (np.asarray(mag, dtype=np.float64) - self.m5))
        return np.sqrt(self.floor**2 + (0.04 - GAMMA) * x + GAMMA * x**2)


@dataclass(frozen=True)
class Survey:
    name: str
    time_scale: str
    noise: dict  # band -> BandNoise
    outlier_fraction: float
    reference: str

    @property
    def bands(self) -> tuple[str, ...]:
        return tuple(self.noise)

    def epochs(self, rng: np.random.Generator, ra: float | None) -> tuple[np.ndarray, np.ndarray]:
        """``(time, band)`` of one star's epochs, sorted by time."""
        times, bands = _SAMPLERS[self.name](rng, ra)
        order = np.argsort(times, kind="stable")
        return times[order], bands[order]


def _season_nights(rng, ra, start, end, length=240.0):
    """Integer MJD nights inside ~8-month seasons centred on the star's opposition."""
    centre_day = (_EQUINOX_DAY + (ra + 180.0) / 360.0 * _YEAR) if ra is not None and np.isfinite(ra) \
        else rng.uniform(0, _YEAR)
    nights = np.arange(np.floor(start), np.ceil(end))
    day = (nights - _JAN1_MJD - centre_day + _YEAR / 2) % _YEAR - _YEAR / 2  # days from opposition
    return nights[np.abs(day) <= length / 2]


def _night_time(rng, nights, width=0.3):
    """An epoch somewhere in each night (a few hours wide on the MJD day)."""
    return nights + rng.uniform(0.0, width, size=len(nights))


def _ogle3(rng, ra):
    # OGLE-III: 2001 June - 2009 May, I band, one epoch a night on most clear nights in the season;
    # typically 400-1000 I-band points per star (Udalski et al. 2008, AcA 58, 69; Soszynski et al.
    # 2008, AcA 58, 163).
    nights = _season_nights(rng, ra, 52072.0, 54954.0)
    n = min(len(nights), int(rng.integers(400, 1001)))
    chosen = np.sort(rng.choice(nights, size=n, replace=False))
    return _night_time(rng, chosen), np.full(n, "I")


def _ztf(rng, ra):
    # ZTF public survey: the northern sky every ~3 nights in g and r (Bellm et al. 2019, PASP 131,
    # 018002), data from 2018 March; ~25 % of visits lost to weather; g and r ~30-60 min apart on a
    # visit night. Gives ~100-600 epochs per band over the span used here (to the end of 2021).
    nights = _season_nights(rng, ra, 58194.0, 59580.0, length=210.0)
    visits = nights[::3]
    visits = visits[rng.random(len(visits)) > 0.25]
    t_g = _night_time(rng, visits)
    t_r = t_g + rng.uniform(0.02, 0.045, size=len(visits))
    return np.concatenate([t_g, t_r]), np.array(["g"] * len(visits) + ["r"] * len(visits))


def _gaia_dr3(rng, ra):
    # Gaia DR3: 2014-07-25 to 2017-05-28 (34 months); a source is seen in pairs of field-of-view
    # transits 106.5 min apart (the basic angle at the 6 h spin), sometimes on consecutive spins,
    # ~40-70 G epochs per source (Gaia Collaboration, Vallenari et al. 2023, A&A 674, A1; Eyer et al.
    # 2023, A&A 674, A13). The scanning law, not the night, sets the times: no seasons.
    n_pairs = int(rng.integers(20, 36))
    groups = np.sort(rng.uniform(56863.0, 57901.0, size=n_pairs))
    spins = rng.choice([0.0, 0.25], size=n_pairs, p=[0.7, 0.3])  # a pair one 6 h spin later
    first = groups + spins
    times = np.concatenate([first, first + 106.5 / 1440.0])
    return times, np.full(len(times), "G")


def _asassn(rng, ra):
    # ASAS-SN: V band 2014-2018 at a 2-3 day cadence to V ~ 17 (Shappee et al. 2014, ApJ 788, 48;
    # Kochanek et al. 2017, PASP 129, 104502); g band from late 2017 with more units, ~1 day cadence
    # to g ~ 18.5 (Jayasinghe et al. 2019, MNRAS 485, 961). ~30-40 % of nights lost to weather.
    nights_v = _season_nights(rng, ra, 56658.0, 58423.0)
    gaps = np.cumsum(rng.integers(2, 4, size=len(nights_v)))
    v = nights_v[gaps[gaps < len(nights_v)]]
    v = v[rng.random(len(v)) > 0.3]
    g = _season_nights(rng, ra, 58027.0, 59580.0)
    g = g[rng.random(len(g)) > 0.4]
    return np.concatenate([_night_time(rng, v), _night_time(rng, g)]), np.array(["V"] * len(v) + ["g"] * len(g))


def _crts(rng, ra):
    # CRTS (Catalina Sky Survey data): four images ~10 min apart per visit, a field revisited about
    # every two weeks away from full moon, 2005-2013 (Drake et al. 2009, ApJ 696, 870; Drake et al.
    # 2014, ApJS 213, 9: ~250 epochs for a typical periodic variable). Half the visits lost to weather.
    nights = _season_nights(rng, ra, 53464.0, 56450.0)
    visits = nights[:: 14]
    visits = visits[rng.random(len(visits)) > 0.5]
    first = _night_time(rng, visits)
    times = (first[:, None] + np.arange(4)[None, :] * 10.0 / 1440.0).ravel()
    return times, np.full(len(times), "V")


_SAMPLERS = {"ogle3": _ogle3, "ztf": _ztf, "gaia": _gaia_dr3, "asassn": _asassn, "crts": _crts}

SURVEYS: dict[str, Survey] = {
    # OGLE-III I: photometry from saturation at I ~ 13 to ~ 21 (Udalski et al. 2008).
    "ogle3": Survey("ogle3", "HJD", {"I": BandNoise(21.0, 0.004)}, 0.005, "Udalski et al. 2008, AcA 58, 69"),
    # ZTF: median 5-sigma depths g 20.8, r 20.6 in 30 s (Bellm et al. 2019); ~0.01 mag calibration
    # floor (Masci et al. 2019, PASP 131, 018003).
    "ztf": Survey("ztf", "MJD", {"g": BandNoise(20.8, 0.01), "r": BandNoise(20.6, 0.01)}, 0.01,
                  "Bellm et al. 2019, PASP 131, 018002"),
    # Gaia per-transit G: ~1 mmag at G 13, ~0.02 mag at G 20 (Riello et al. 2021, A&A 649, A3).
    "gaia": Survey("gaia", "BJD", {"G": BandNoise(22.5, 0.001)}, 0.005, "Eyer et al. 2023, A&A 674, A13"),
    "asassn": Survey("asassn", "HJD", {"V": BandNoise(17.0, 0.02), "g": BandNoise(18.5, 0.02)}, 0.01,
                     "Kochanek et al. 2017, PASP 129, 104502"),
    # CSS: V ~ 19.5 limit, ~0.03 mag floor (Drake et al. 2009).
    "crts": Survey("crts", "MJD", {"V": BandNoise(19.5, 0.03)}, 0.01, "Drake et al. 2009, ApJ 696, 870"),
}
