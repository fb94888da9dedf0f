"""Mahabal et al. 2017 dm-dt images of observed light curves (SPEC section 3, ``lightcurve`` mode).

Every pair of epochs ``i < j`` of one star and band (sorted by time) gives ``dt = t_j - t_i`` and
``dm = m_j - m_i`` (later minus earlier); the pairs are counted on fixed dm and dt edges. Bins are
``np.histogram2d``'s (half-open, the last one closed), as in the public Mahabal/Kowalski
``compute_dmdt``. Images are ``(n_dm, n_dt)``, a star's bands stacked as channels:
``(channels, n_dm, n_dt)`` (SPEC section 3).

Own numba code rather than the ``light-curve`` package's ``DmDt``: that one gives the same counts on
distinct times (a test checks it) but refuses repeated epochs ("t must be in ascending order"),
which real light curves have, and the definition counts those pairs (``dt = 0``) too.

Normalisations: ``stretch``, Mahabal's 8-bit ``fix(255 n / p + 0.999)`` with ``p = N (N - 1) / 2`` all
pairs of the N epochs (feets ``DeltamDeltat``); ``l2``, counts over their L2 norm (Kowalski, ZTF
SCoPe); ``counts``, none.
"""

from __future__ import annotations

import numba
import numpy as np

from pipeline.errors import ConfigError

from .container import LightCurves

#: Bin edges (``reference/anchors-catalogs-dmdt-peers.md`` section 2.2): ``crts`` is Mahabal 2017's,
#: 22 dm x 24 dt cells; ``ztf`` is ZTF SCoPe's current ``dmdt_ints`` (dm of ``v20200318``, dt of
#: ``v20200205``), 26 x 26.
PRESETS = {
    "crts": {
        "dm": (-8, -5, -3, -2.5, -2, -1.5, -1, -0.5, -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3, 0.5, 1, 1.5, 2, 2.5,
               3, 5, 8),
        "dt": (0, 1 / 145, 2 / 145, 3 / 145, 4 / 145, 1 / 25, 2 / 25, 3 / 25, 1.5, 2.5, 3.5, 4.5, 5.5, 7, 10,
               20, 30, 60, 90, 120, 240, 600, 960, 2000, 4000),
    },
    "ztf": {
        "dm": (-8, -4.5, -3, -2.5, -2, -1.5, -1.25, -0.75, -0.5, -0.3, -0.2, -0.1, -0.05, 0, 0.05, 0.1, 0.2,
               0.3, 0.5, 0.75, 1.25, 1.5, 2, 2.5, 3, 4.5, 8),
        "dt": (0, 4 / 145, 1 / 25, 2 / 25, 3 / 25, 0.3, 0.75, 1, 1.5, 2.5, 3.5, 4.5, 5.5, 7, 10, 20, 30, 45,
               60, 90, 120, 180, 240, 360, 500, 650, 2000),
    },
}
NORMS = ("stretch", "l2", "counts")


@numba.njit(cache=True)
def _bin(value, edges):
    """``np.histogram``'s bin of ``value`` (last bin closed), -1 outside the edges."""
    n = edges.shape[0]
    if value < edges[0] or value > edges[n - 1]:
        return -1
    if value == edges[n - 1]:
        return n - 2
    return np.searchsorted(edges, value, side="right") - 1


@numba.njit(cache=True)
def _pair_counts(t, m, dm_edges, dt_edges):
    out = np.zeros((dm_edges.shape[0] - 1, dt_edges.shape[0] - 1))
    n = t.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            a = _bin(m[j] - m[i], dm_edges)
            if a < 0:
                continue
            b = _bin(t[j] - t[i], dt_edges)
            if b >= 0:
                out[a, b] += 1.0
    return out


def _edges(preset: str):
    if preset not in PRESETS:
        raise ConfigError(f"unknown dm-dt preset {preset!r}; expected one of {list(PRESETS)}")
    return (np.asarray(PRESETS[preset]["dm"], dtype=np.float64), np.asarray(PRESETS[preset]["dt"], dtype=np.float64))


def dmdt_image(time, mag, preset: str = "crts", norm: str = "stretch") -> np.ndarray:
    """One band's dm-dt image, float32 ``(n_dm, n_dt)``."""
    if norm not in NORMS:
        raise ConfigError(f"unknown dm-dt normalisation {norm!r}; expected one of {list(NORMS)}")
    dm_edges, dt_edges = _edges(preset)
    time = np.asarray(time, dtype=np.float64)
    order = np.argsort(time, kind="stable")
    keep = np.isfinite(time[order]) & np.isfinite(np.asarray(mag, dtype=np.float64)[order])
    t, m = time[order][keep], np.asarray(mag, dtype=np.float64)[order][keep]
    counts = _pair_counts(t, m, dm_edges, dt_edges)
    if norm == "stretch":
        pairs = len(t) * (len(t) - 1) / 2
        counts = np.fix(255.0 * counts / pairs + 0.999) if pairs else counts
    elif norm == "l2":
        total = np.linalg.norm(counts)
        counts = counts / total if total > 0 else counts
    return counts.astype(np.float32)


def dmdt_images(lcs: LightCurves, preset: str = "crts", norm: str = "stretch", bands=None):
    """``(ids, images)``: one image per star, its ``bands`` (default: all of the container's) as channels.

    A star without epochs in a band gets an all-zero channel there.
    """
    bands = list(bands or lcs.bands)
    dm_edges, dt_edges = _edges(preset)
    ids = sorted(lcs.ids)
    index = {star: k for k, star in enumerate(ids)}
    out = np.zeros((len(ids), len(bands), len(dm_edges) - 1, len(dt_edges) - 1), dtype=np.float32)
    for (star, band), frame in lcs.groups(by_band=True):
        if band in bands:
            out[index[star], bands.index(band)] = dmdt_image(frame["time"], frame["mag"], preset, norm)
    return ids, out
