"""What the networks see: reconstructed light curves, dm-dt images and catalogue features.

Light curves follow SPEC section 3 (thesis 2.2.1):
``m(phi) = M + A1 cos(2 pi phi) + A1 R21 cos(4 pi phi + s phi21) [+ A1 R31 cos(6 pi phi + s phi31)]``
with ``A1 = amp / 2``, ``M`` the band's mean magnitude, on 360 phases in [0, 1), and ``s`` the
catalogue's phase convention (``+1`` for OGLE-III's and ZTF's ``cos(k w t + phi_k)``). The thesis
prints ``s = -1``, which draws such a star reversed in time (an RRab rising over ~75 % of its cycle
instead of ~25 %): ``convention="thesis"`` keeps it for reproduction only. A missing harmonic
counts as zero amplitude (OGLE LPVs have none).

dm-dt images are ``(channels, n_dm, n_dt)`` histograms of star-pair differences:

* ``thesis``: each star against the other stars *of its own class* in the same split,
  ``dt = |P_i - P_j|``, ``dm = |Amp_i - Amp_j|`` per amplitude band. **This leaks the label**: a
  test star's image is built from its own class. Kept only to reproduce the thesis.
* ``reference`` (honest): each star against the reference stars of every class k (a training
  fold; the star itself excluded), one channel per (class, band), counts divided by the class's
  reference size. The query stars' labels are never read.

Counts are fractions of the pairs a channel was built from, so images of classes or folds of
different sizes compare directly.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numba
import numpy as np
import pandas as pd

from .errors import ConfigError
from .schema import PHASE_SIGNS, bands, colour, phase_convention, primary_band

N_PHASE = 360
#: Thesis bins (SPEC section 3): 11 dm cells x 22 dt cells.
DM_EDGES = np.array([0, 0.1, 0.2, 0.3, 0.5, 1, 1.5, 2, 2.5, 3, 5, 8], dtype=np.float64)
DT_EDGES = np.array(
    [1 / 145, 2 / 145, 4 / 145, 1 / 25, 2 / 25, 3 / 25, 1.5, 2.5, 3.5, 4.5, 5.5, 7, 10, 20, 30,
     60, 90, 120, 250, 600, 960, 2000, 4000],
    dtype=np.float64,
)
DMDT_MODES = ("reference", "thesis")
#: ``catalog``: each star's own convention (its ``phase_convention``); ``thesis``: the thesis's printed
#: ``- phi`` whatever the catalogue says (SPEC section 3).
CONVENTIONS = ("catalog", "thesis")
LEAK_WARNING = (
    "thesis dm-dt mode leaks the label: each star's image is built from the other stars of its own "
    "class, so a test star's class shapes its input. Use it only to reproduce the thesis."
)


def phase_grid(n_points: int = N_PHASE) -> np.ndarray:
    return np.arange(n_points, dtype=np.float64) / n_points


def phase_signs(stars: pd.DataFrame, convention: str = "catalog") -> np.ndarray:
    """The sign ``s`` of each star's Fourier phases in the reconstruction formula (SPEC section 3)."""
    if convention not in CONVENTIONS:
        raise ConfigError(f"unknown phase convention {convention!r}; expected one of {CONVENTIONS}")
    if convention == "thesis":
        return np.full(len(stars), -1.0)
    names = phase_convention(stars)
    unknown = sorted(set(names) - set(PHASE_SIGNS))
    if unknown:
        raise ConfigError(f"unknown phase_convention value(s) {unknown}; expected one of {sorted(PHASE_SIGNS)}")
    return names.map(PHASE_SIGNS).to_numpy(np.float64)


def phase_unit_warnings(stars: pd.DataFrame) -> list[str]:
    """Warnings for Fourier phases that look like degrees (|phi| > 2 pi): the formula takes radians."""
    found = []
    for col in ("phi21", "phi31"):
        if col in stars:
            values = stars[col].to_numpy(np.float64, na_value=np.nan)
            large = np.abs(values) > 2 * np.pi + 1e-3  # OGLE rounds 2 pi up to 6.284
            if large.any():
                found.append(f"{int(large.sum()):,} stars have |{col}| > 2 pi (largest {np.nanmax(np.abs(values)):.4g}): "
                             "the phases look like degrees, but the reconstruction reads radians.")
    return found


def reconstruct(
    stars: pd.DataFrame, n_points: int = N_PHASE, harmonics: int = 2, band: str | None = None,
    convention: str = "catalog", match_amplitude: bool = False,
) -> np.ndarray:
    """Harmonic light curves, float32 ``(n_stars, n_points)``, magnitudes (larger = fainter).

    ``match_amplitude`` rescales each curve about its mean magnitude so its peak-to-peak equals the
    catalogue amplitude (for display: with ``A1 = amp/2`` an RRab's two-harmonic curve is ~25 %
    larger than its amplitude); the models keep the thesis scaling. Phases that look like degrees
    warn, and are used as given.
    """
    if harmonics not in (1, 2, 3):
        raise ConfigError(f"harmonics must be 1, 2 or 3, got {harmonics!r}")
    band = band or primary_band(stars)
    for text in phase_unit_warnings(stars):
        warnings.warn(text, stacklevel=2)
    sign = phase_signs(stars, convention)
    phase = 2 * np.pi * phase_grid(n_points)
    mean = stars[f"mag_{band}"].to_numpy(np.float64)
    amp = stars[f"amp_{band}"].to_numpy(np.float64)
    a1 = 0.5 * amp
    terms = [(a1, np.zeros(len(stars)), 1)]  # (amplitude, phase offset, harmonic order)
    for order, (ratio, angle) in ((2, ("r21", "phi21")), (3, ("r31", "phi31")))[: harmonics - 1]:
        r = stars[ratio].to_numpy(np.float64) if ratio in stars else np.zeros(len(stars))
        phi = stars[angle].to_numpy(np.float64) if angle in stars else np.zeros(len(stars))
        missing = ~(np.isfinite(r) & np.isfinite(phi))
        terms.append((np.where(missing, 0.0, a1 * r), np.where(missing, 0.0, sign * phi), order))

    out = np.empty((len(stars), n_points), dtype=np.float32)
    chunk = 32768  # bounds the float64 temporaries to ~100 MB whatever the catalogue size
    for start in range(0, len(stars), chunk):
        sl = slice(start, start + chunk)
        curve = np.zeros((len(mean[sl]), n_points))
        for term_amp, offset, order in terms:
            curve += term_amp[sl, None] * np.cos(order * phase[None, :] + offset[sl, None])
        if match_amplitude:
            span = curve.max(axis=1) - curve.min(axis=1)
            curve *= np.divide(amp[sl], span, out=np.ones_like(span), where=span > 0)[:, None]
        out[sl] = curve + mean[sl, None]
    return out


@numba.njit(cache=True, inline="always")
def _bin(value, edges):
    """``np.histogram``'s bin of ``value`` (last bin closed), -1 outside the edges."""
    n = edges.shape[0]
    if value < edges[0] or value > edges[n - 1]:
        return -1
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if value >= edges[mid]:
            lo = mid
        else:
            hi = mid
    return lo


@numba.njit(cache=True, inline="always")
def _add_pairs(out, i, j, t, q_amp, r_amp, r_group, dm_edges):
    g = r_group[j]
    for b in range(q_amp.shape[1]):
        m = _bin(abs(q_amp[i, b] - r_amp[j, b]), dm_edges)
        if m >= 0:
            out[i, g, b, m, t] += 1.0


@numba.njit(parallel=True, cache=True)
def _pair_counts(q_period, q_amp, q_key, r_period, r_amp, r_key, r_group, n_groups, dm_edges, dt_edges):
    """Counts ``(n_query, n_groups, n_bands, n_dm, n_dt)`` of query x reference pairs, same key skipped.

    ``r_*`` must be sorted by period: walking outwards from the query's period, ``dt`` only grows,
    so its bin is found by stepping a pointer instead of a search per pair, and the walk stops at
    the last dt edge.
    """
    n_dt = dt_edges.shape[0] - 1
    out = np.zeros((q_period.shape[0], n_groups, q_amp.shape[1], dm_edges.shape[0] - 1, n_dt), np.float32)
    for i in numba.prange(q_period.shape[0]):
        split = np.searchsorted(r_period, q_period[i])
        for direction in (1, -1):
            j = split if direction == 1 else split - 1
            t = -1
            while 0 <= j < r_period.shape[0]:
                dt = abs(r_period[j] - q_period[i])
                if dt > dt_edges[n_dt]:
                    break
                while t < n_dt - 1 and dt >= dt_edges[t + 1]:
                    t += 1
                if t >= 0 and q_key[i] != r_key[j]:
                    _add_pairs(out, i, j, t, q_amp, r_amp, r_group, dm_edges)
                j += direction
    return out


def _columns(stars: pd.DataFrame, amp_bands: Sequence[str]):
    return (
        stars["period"].to_numpy(np.float64),
        np.ascontiguousarray(stars[[f"amp_{b}" for b in amp_bands]].to_numpy(np.float64)),
    )


def _class_order(labels: pd.Series, classes: Sequence[str] | None) -> list[str]:
    if classes is not None:
        return list(classes)
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return [c for c in labels.cat.categories]
    return sorted(labels.dropna().astype(str).unique())


def dmdt_images(
    stars: pd.DataFrame,
    mode: str = "reference",
    reference: pd.DataFrame | None = None,
    classes: Sequence[str] | None = None,
    dm_edges: np.ndarray = DM_EDGES,
    dt_edges: np.ndarray = DT_EDGES,
) -> np.ndarray:
    """dm-dt images, float32 ``(n_stars, channels, n_dm, n_dt)``.

    ``reference`` mode: ``reference`` (default: ``stars``) supplies labelled stars; channels are
    ``(class, band)`` pairs, class-major, in ``classes`` order (default: the reference's label
    categories). ``thesis`` mode reads ``stars["label"]`` and ignores ``reference``; channels are
    the amplitude bands.
    """
    if mode not in DMDT_MODES:
        raise ConfigError(f"unknown dm-dt mode {mode!r}; expected one of {DMDT_MODES}")
    dm_edges = np.asarray(dm_edges, np.float64)
    dt_edges = np.asarray(dt_edges, np.float64)
    amp_bands = bands(stars, "amp")
    if mode == "thesis":
        return _thesis_images(stars, amp_bands, dm_edges, dt_edges)

    reference = stars if reference is None else reference
    missing = [b for b in amp_bands if f"amp_{b}" not in reference]
    if missing:
        raise ConfigError(f"reference stars lack amplitude columns {[f'amp_{b}' for b in missing]}")
    order = _class_order(reference["label"], classes)
    group = pd.Index(order).get_indexer(reference["label"].astype(object)).astype(np.int64)
    usable = group >= 0
    reference = reference.loc[usable]
    group = group[usable]
    keys, _ = pd.factorize(pd.concat([stars["id"], reference["id"]], ignore_index=True))
    q_period, q_amp = _columns(stars, amp_bands)
    r_period, r_amp = _columns(reference, amp_bands)
    by_period = np.argsort(r_period, kind="stable")
    counts = _pair_counts(
        q_period, q_amp, keys[: len(stars)].astype(np.int64), r_period[by_period],
        np.ascontiguousarray(r_amp[by_period]), keys[len(stars):].astype(np.int64)[by_period],
        group[by_period], len(order), dm_edges, dt_edges,
    )
    sizes = np.bincount(group, minlength=len(order)).astype(np.float32)
    counts /= np.maximum(sizes, 1.0)[None, :, None, None, None]
    return counts.reshape(len(stars), len(order) * len(amp_bands), len(dm_edges) - 1, len(dt_edges) - 1)


def _thesis_images(stars, amp_bands, dm_edges, dt_edges):
    """Each star against the other stars of its own class (the label leak, kept on purpose)."""
    out = np.zeros((len(stars), len(amp_bands), len(dm_edges) - 1, len(dt_edges) - 1), np.float32)
    period, amp = _columns(stars, amp_bands)
    positions = np.arange(len(stars), dtype=np.int64)
    label_codes, _ = pd.factorize(stars["label"])
    for code in np.unique(label_codes[label_codes >= 0]):
        members = positions[label_codes == code]
        members = members[np.argsort(period[members], kind="stable")]
        zeros = np.zeros(len(members), np.int64)
        counts = _pair_counts(period[members], amp[members], members, period[members], amp[members],
                              members, zeros, 1, dm_edges, dt_edges)[:, 0]
        out[members] = counts / max(len(members) - 1, 1)
    return out


def class_mean_images(images: np.ndarray, labels: pd.Series, classes: Sequence[str]) -> dict[str, np.ndarray]:
    """Mean image per class (the thesis's Figure 3 per class); classes with no star are left out."""
    labels = np.asarray(labels.astype(str))
    return {c: images[labels == c].mean(axis=0) for c in classes if (labels == c).any()}


def catalog_features(stars: pd.DataFrame) -> pd.DataFrame:
    """Named catalogue numbers per star: log10 period, amplitudes, colour, Fourier shape.

    Missing values stay NaN: tree models take them as they are; networks impute them (``dense_features``).
    """
    features = {"log_period": np.log10(stars["period"].where(stars["period"] > 0))}
    for band in bands(stars, "amp"):
        features[f"amp_{band}"] = stars[f"amp_{band}"]
    for band in bands(stars, "mag"):
        features[f"mag_{band}"] = stars[f"mag_{band}"]
    col = colour(stars)
    if col is not None:
        features["colour"] = col
    for name in ("r21", "phi21", "r31", "phi31"):
        if name in stars:
            features[name] = stars[name]
    return pd.DataFrame(features, index=stars.index).astype("float64")


def dense_features(stars: pd.DataFrame) -> pd.DataFrame:
    """The subset of :func:`catalog_features` for the networks' dense branch, missing values NaN.

    The networks impute them with the training fold's median and a missing-value indicator
    (``pipeline.models.Impute``); no fill value is chosen here.
    """
    table = catalog_features(stars)
    keep = [c for c in table.columns if c == "log_period" or c.startswith("amp_") or c == "colour"]
    return table[keep]
