"""Simulated survey observations of catalogue stars (SPEC section 6), always flagged ``simulated``.

For catalogue stars without light curves (the OGLE-III default) this observes each star with a
survey's cadence and noise (``pipeline.lightcurves.cadence``), from its own catalogue numbers:

- the shape: the catalogue's Fourier series up to the third harmonic in the catalogue's own phase
  convention, via :func:`pipeline.representations.reconstruct` (SPEC section 3), scaled so its
  peak-to-peak equals the catalogue amplitude (``amp_<band>`` is peak-to-peak, SPEC section 1);
  a missing harmonic counts as zero amplitude (LPVs: a sinusoid);
- the mean magnitude ``mag_<band>``;
- the secondary periods of multi-periodic stars (``period_2``/``amp_2``, ``period_3``/``amp_3``) as
  sinusoids of those peak-to-peak amplitudes at random phases;
- for long-period variables, red noise: an Ornstein-Uhlenbeck (damped random walk) term with the
  star's period as time scale and ``red_noise`` x amplitude as rms, a modelling choice standing
  for the cycle-to-cycle irregularity of semiregulars and OSARGs (no survey figure behind it).

A survey band the catalogue lacks takes the nearest catalogue band's magnitude and, separately, the
nearest band's amplitude (``_SUBSTITUTES``), recorded per band in ``notes["band_sources"]``: an
OGLE-III star "seen by ZTF in g" has its V mean magnitude and its I amplitude (OGLE-III gives no
other). That ignores colour terms and the larger amplitudes of pulsators in bluer bands.

The phase origin is random per star: the shape does not depend on it, and OGLE-III's ``T0`` is
missing or a placeholder for many stars.

Every star draws from its own generator, seeded by (seed, survey, id): the same seed gives the same
curves, and a subset of the catalogue gives the same curves for the stars it keeps.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from pipeline.errors import CatalogError, ConfigError
from pipeline.representations import reconstruct
from pipeline.schema import bands as catalog_bands

from .cadence import SURVEYS
from .container import LightCurves

#: Catalogue bands standing in for a survey band, nearest in wavelength first.
_SUBSTITUTES = {
    "I": ("I", "i", "r", "G", "V", "g"),
    "i": ("i", "I", "r", "G", "V", "g"),
    "r": ("r", "G", "I", "i", "V", "g"),
    "G": ("G", "r", "V", "I", "g", "i"),
    "V": ("V", "g", "G", "r", "I", "i"),
    "g": ("g", "V", "G", "r", "I", "i"),
}
#: Points of the phase template each star's curve is interpolated from.
_TEMPLATE_POINTS = 2048
#: Raw labels (OGLE-III ``LPV/...``, ZTF ``Mira``/``SR``) and labels that mark a long-period variable.
_LPV_LABELS = ("Mira", "SR", "LPV", "OSARG", "SRV")


def _star_seed(seed: int, survey: str, star_id: str) -> np.random.SeedSequence:
    digest = hashlib.blake2b(f"{survey}\0{star_id}".encode(), digest_size=8).digest()
    return np.random.SeedSequence([int(seed), int.from_bytes(digest, "little")])


def is_long_period(catalog: pd.DataFrame) -> np.ndarray:
    """Stars whose label marks them as long-period variables (they get red noise)."""
    out = np.zeros(len(catalog), dtype=bool)
    for column in ("raw_label", "label"):
        if column in catalog:
            text = catalog[column].astype(str)
            out |= text.str.startswith("LPV").to_numpy() | text.isin(_LPV_LABELS).to_numpy()
    return out


def _band_source(catalog: pd.DataFrame, band: str, prefix: str) -> str:
    """The catalogue band whose ``<prefix>_<band>`` column stands in for survey band ``band``."""
    present = set(catalog_bands(catalog, prefix))
    candidates = _SUBSTITUTES.get(band, (band,))
    for candidate in candidates:
        if candidate in present:
            return candidate
    raise CatalogError(f"catalogue has no {prefix}_<band> column to simulate band {band!r} from; expected one of "
                       f"{[f'{prefix}_{c}' for c in candidates]}, found columns {list(catalog.columns)}")


def _templates(catalog: pd.DataFrame, amp_source: str) -> np.ndarray:
    """Each star's phase curve about zero, peak-to-peak ``amp_<amp_source>``, the catalogue's shape."""
    shape = [c for c in ("r21", "phi21", "r31", "phi31", "phase_convention") if c in catalog]
    frame = catalog[shape].assign(mag_sim=0.0, amp_sim=catalog[f"amp_{amp_source}"].to_numpy(np.float64))
    return reconstruct(frame, n_points=_TEMPLATE_POINTS, harmonics=3, band="sim",
                       match_amplitude=True).astype(np.float64)


def _red_noise(rng, times, tau, rms):
    """An Ornstein-Uhlenbeck process sampled exactly at sorted ``times``."""
    out = np.empty(len(times))
    if not len(times):
        return out
    out[0] = rng.normal(0.0, rms)
    decay = np.exp(-np.diff(times) / tau)
    kicks = rng.normal(0.0, 1.0, size=len(times) - 1) * rms * np.sqrt(1.0 - decay**2)
    for i in range(1, len(times)):
        out[i] = out[i - 1] * decay[i - 1] + kicks[i - 1]
    return out


def simulate(catalog: pd.DataFrame, survey: str = "ogle3", seed: int = 0, red_noise: float = 0.2) -> LightCurves:
    """Observe every catalogue star with ``survey``'s cadence and noise; see the module docstring.

    A star without the mean magnitude or amplitude a band needs gets no epochs in it (counted per band
    in ``notes["stars_without_values"]``). Epochs whose true magnitude is fainter than the survey's
    5-sigma depth (error above 0.2 mag) are not detections and are left out (counted in
    ``notes["dropped_below_depth"]``), as a survey's own light curves leave them out: a star beyond
    a survey's reach has few or no epochs. Returns a :class:`LightCurves` with ``simulated=True``;
    ``flag`` is 1 on injected outliers.
    """
    if survey not in SURVEYS:
        raise ConfigError(f"unknown survey {survey!r}; expected one of {list(SURVEYS)}")
    spec = SURVEYS[survey]
    missing = [c for c in ("id", "period") if c not in catalog]
    if missing:
        raise CatalogError(f"catalogue columns {missing} are missing; found {list(catalog.columns)}")
    duplicated = catalog["id"].astype(str).duplicated()
    if duplicated.any():
        raise CatalogError(f"catalogue id {catalog['id'][duplicated].iloc[0]!r} appears more than once; "
                           "expected one row per star")
    period = catalog["period"].to_numpy(np.float64)
    bad = ~(np.isfinite(period) & (period > 0))
    if bad.any():
        raise CatalogError(f"catalogue star {catalog['id'].iloc[int(np.flatnonzero(bad)[0])]!r} has period "
                           f"{period[bad][0]!r}; expected a positive number of days (clean the catalogue first)")
    sources = {band: {"mag": _band_source(catalog, band, "mag"), "amp": _band_source(catalog, band, "amp")}
               for band in spec.bands}
    templates = {band: _templates(catalog, src["amp"]) for band, src in sources.items()}
    means = {band: catalog[f"mag_{src['mag']}"].to_numpy(np.float64) for band, src in sources.items()}
    amps = {band: catalog[f"amp_{src['amp']}"].to_numpy(np.float64) for band, src in sources.items()}
    secondary = [(catalog[p].to_numpy(np.float64), catalog[a].to_numpy(np.float64))
                 for p, a in (("period_2", "amp_2"), ("period_3", "amp_3")) if p in catalog and a in catalog]
    lpv = is_long_period(catalog)
    ra = catalog["ra"].to_numpy(np.float64) if "ra" in catalog else np.full(len(catalog), np.nan)
    grid = np.arange(_TEMPLATE_POINTS) / _TEMPLATE_POINTS

    parts, undetected = [], 0
    for i, star_id in enumerate(catalog["id"].astype(str)):
        rng = np.random.default_rng(_star_seed(seed, survey, star_id))
        times, band = spec.epochs(rng, ra[i])
        phase = (times / period[i] + rng.random()) % 1.0
        signal = np.empty(len(times))
        for b in spec.bands:
            rows = band == b
            signal[rows] = means[b][i] + np.interp(phase[rows], grid, templates[b][i], period=1.0)
        for p2, a2 in secondary:
            start = rng.random()  # drawn either way, so a star's other draws do not depend on it
            if np.isfinite(p2[i]) and p2[i] > 0 and np.isfinite(a2[i]):
                signal += 0.5 * a2[i] * np.cos(2 * np.pi * (times / p2[i] + start))
        if lpv[i]:
            amp = np.nanmax([amps[b][i] for b in spec.bands])
            signal += _red_noise(rng, times, period[i], red_noise * amp)
        err = np.empty(len(times))
        for b in spec.bands:
            rows = band == b
            err[rows] = spec.noise[b].err(signal[rows])
        mag = signal + rng.normal(0.0, 1.0, size=len(times)) * err
        outlier = rng.random(len(times)) < spec.outlier_fraction
        mag[outlier] += rng.choice([-1.0, 1.0], size=outlier.sum()) * rng.uniform(0.3, 1.5, size=outlier.sum())
        finite = np.isfinite(signal)  # NaN where the catalogue lacks the band's magnitude or amplitude
        detected = finite & (signal <= np.array([spec.noise[b].m5 for b in band], dtype=np.float64))
        undetected += int((finite & ~detected).sum())
        parts.append(pd.DataFrame({"id": star_id, "time": times, "mag": mag, "err": err, "band": band,
                                   "flag": outlier.astype(np.int64)})[detected])
    columns = ["id", "time", "mag", "err", "band", "flag"]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    notes = {"seed": int(seed), "band_sources": sources, "red_noise": red_noise, "cadence": spec.reference,
             "flag": "1 = injected outlier", "dropped_below_depth": undetected,
             "stars_without_values": {b: int((~np.isfinite(means[b] + amps[b])).sum()) for b in spec.bands}}
    return LightCurves(data, spec.time_scale, f"simulated:{survey}", survey=survey, simulated=True, notes=notes)
