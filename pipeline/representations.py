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
  fold; the star itself excluded), one channel per (class, band). The query stars' labels are
  never read.

Counts are fractions of the pairs a channel was built from (SPEC section 3), so images of classes
or folds of different sizes compare directly: a training star, which is not its own partner, is
divided by one less than a validation star, and a partner without a finite amplitude in a band
makes no pair there (nor does a star without a finite period, anywhere).

The images are counted without visiting pairs (the whole OGLE-III catalogue has ~10^11 within a
class): references sorted by period make each dt bin two runs of them, and prefix counts over
their amplitude ranks split each run into dm bins (:func:`_window_counts`), bit for bit the
``np.histogram`` counts of every pair.
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


@numba.njit(cache=True)
def _bin(value, edges):
    """``np.histogram``'s bin of ``value`` (last bin closed), -1 outside the edges or NaN."""
    n = edges.shape[0]
    if not (edges[0] <= value <= edges[n - 1]):
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
def _beyond(difference, edge, closed):
    """Whether ``difference`` lies past ``edge`` for binning: ``>=`` for an edge that opens a bin,
    ``>`` for the last edge, which closes the last bin (``np.histogram``'s rule, SPEC section 3).

    A value is in bin k exactly when it is beyond edge k and not beyond edge k + 1.
    """
    return difference > edge if closed else difference >= edge


@numba.njit(parallel=True, cache=True)
def _amplitude_bounds(q_amp, q_by_amp, sorted_amp, n_amp, dm_edges):
    """Where every dm edge cuts a group's amplitudes, per query and band: int32 ``(n_q, n_b, 2 n_e)``.

    ``sorted_amp[b, :n_amp[b]]`` are the references' finite amplitudes in ascending order. Their
    ``|a_q - a_r|`` (computed as the pair loop did, so rounding decides edge cases the same way)
    grows away from ``a_q`` on either side, hence the references beyond an edge are a suffix of
    the ranks at or above ``a_q`` and a prefix of those below it. Columns ``[0, n_e)`` hold, per edge
    k, the first rank at or above ``a_q`` beyond edge k (``U_k``); columns ``[n_e, 2 n_e)`` the
    first rank below ``a_q`` not beyond it (``V_k``). dm bin m is then the ranks
    ``[U_m, U_(m+1)) + [V_(m+1), V_m)``. Both only grow with ``a_q``, so one task per (band, edge, side)
    sweeps the queries in amplitude order (``q_by_amp[b]``, non-finite last). A row of -1: the
    query's amplitude is not finite, no pair in that band.
    """
    n_q, n_b = q_amp.shape
    n_e = dm_edges.shape[0]
    out = np.full((n_q, n_b, 2 * n_e), -1, np.int32)
    for task in numba.prange(n_b * n_e * 2):
        b, k, below = task // (2 * n_e), (task // 2) % n_e, task % 2 == 1
        edge, closed = dm_edges[k], k == n_e - 1
        ranked = sorted_amp[b, : n_amp[b]]
        n = ranked.shape[0]
        split = cut = 0
        for o in range(n_q):
            i = q_by_amp[b, o]
            a = q_amp[i, b]
            if not np.isfinite(a):
                break
            while split < n and ranked[split] < a:
                split += 1
            if below:
                while cut < split and _beyond(abs(a - ranked[cut]), edge, closed):
                    cut += 1
                out[i, b, n_e + k] = cut
            else:
                cut = max(cut, split)
                while cut < n and not _beyond(abs(a - ranked[cut]), edge, closed):
                    cut += 1
                out[i, b, k] = cut
    return out


@numba.njit(cache=True, inline="always")
def _tree_add(tree, rank, delta):
    """Adds ``delta`` at ``rank`` in a Fenwick tree (1-based inside) and returns the change in its size:
    ``delta``, or 0 for rank -1 (a non-finite amplitude, never counted)."""
    if rank < 0:
        return 0
    k = rank + 1
    while k < tree.shape[0]:
        tree[k] += delta
        k += k & -k
    return delta


@numba.njit(cache=True, inline="always")
def _tree_below(tree, rank, size):
    """How many ranks in the tree are below ``rank``; ``size`` is the whole tree's count."""
    if rank >= tree.shape[0] - 1:
        return size
    total = 0
    while rank > 0:
        total += tree[rank]
        rank &= rank - 1
    return total


@numba.njit(cache=True, inline="always")
def _slide(tree, ranks, old_lo, old_hi, new_lo, new_hi):
    """Move a window of period-sorted references from ``[old_lo, old_hi)`` to ``[new_lo, new_hi)``
    (neither end moves left) in the tree of their amplitude ranks; returns the change in size."""
    change = 0
    if new_lo >= old_hi:  # no overlap: a reference between the two windows is never inserted
        for j in range(old_lo, old_hi):
            change += _tree_add(tree, ranks[j], -1)
        for j in range(new_lo, new_hi):
            change += _tree_add(tree, ranks[j], 1)
    else:
        for j in range(old_lo, new_lo):
            change += _tree_add(tree, ranks[j], -1)
        for j in range(old_hi, new_hi):
            change += _tree_add(tree, ranks[j], 1)
    return change


#: Runs of at most this many references in all are binned pair by pair: cheaper than the prefix
#: counts (two per dm edge) that longer ones cost, and the same numbers (same float64 ``|dAmp|``).
_FEW = 24


@numba.njit(cache=True, inline="always")
def _bin_run(row, lo, hi, ranks, r_amp, a, dm_edges):
    """Adds to ``row`` the dm bins of the references ``[lo, hi)`` with a finite amplitude."""
    for j in range(lo, hi):
        if ranks[j] >= 0:
            m = _bin(abs(a - r_amp[j]), dm_edges)
            if m >= 0:
                row[m] += 1


@numba.njit(parallel=True, cache=True)
def _window_counts(q_period, q_amp, r_period, r_amp, r_rank, n_amp, bounds, dm_edges, dt_edges, out):
    """Pair counts of queries against one group, without visiting pairs, into ``out``, float32
    ``(n_b, n_dt, n_q, n_dm)`` (zeroed here; reused from group to group).

    Queries come in period order (``q_period``, finite). The partners of a query in dt bin t are
    two runs of the period-sorted references (``r_period``, finite): below the query's period and
    at or above it (``|P_r - P_q|`` grows away from it). From one query to the next both runs only
    move right, so one task per (band, dt bin) slides them and keeps the amplitude ranks of their
    members in a Fenwick tree; each dm cell is then four prefix counts at the ranks ``bounds``
    gives (:func:`_amplitude_bounds`), or, for runs of at most ``_FEW`` references, binned pair by
    pair. Each task writes only its own ``out[b, t]``, so tasks run in parallel. Pairs of a star
    with itself are counted here and removed by :func:`_partners_without_self`.
    """
    n_r = r_period.shape[0]
    n_b = r_rank.shape[1]
    n_dm = dm_edges.shape[0] - 1
    n_dt = dt_edges.shape[0] - 1
    for task in numba.prange(n_b * n_dt):
        b, t = task // n_dt, task % n_dt
        out[b, t] = 0.0
        lower, upper, closed = dt_edges[t], dt_edges[t + 1], t == n_dt - 1
        ranks = r_rank[:, b]
        amps = r_amp[:, b]
        tree = np.zeros(n_amp[b] + 1, np.int64)
        size = 0
        split = below_lo = below_hi = above_lo = above_hi = 0
        for i in range(q_period.shape[0]):
            q = q_period[i]
            while split < n_r and r_period[split] < q:
                split += 1
            # below the query, going up in period: beyond the upper edge, in the bin, short of the lower
            lo = below_lo
            while lo < split and _beyond(abs(r_period[lo] - q), upper, closed):
                lo += 1
            hi = max(below_hi, lo)
            while hi < split and _beyond(abs(r_period[hi] - q), lower, False):
                hi += 1
            if lo != below_lo or hi != below_hi:
                size += _slide(tree, ranks, below_lo, below_hi, lo, hi)
                below_lo, below_hi = lo, hi
            # at or above it: short of the lower edge, in the bin, beyond the upper
            lo = max(above_lo, split)
            while lo < n_r and not _beyond(abs(r_period[lo] - q), lower, False):
                lo += 1
            hi = max(above_hi, lo)
            while hi < n_r and not _beyond(abs(r_period[hi] - q), upper, closed):
                hi += 1
            if lo != above_lo or hi != above_hi:
                size += _slide(tree, ranks, above_lo, above_hi, lo, hi)
                above_lo, above_hi = lo, hi

            cuts = bounds[i, b]
            if size == 0 or cuts[0] < 0:
                continue
            cells = out[b, t, i]
            if (below_hi - below_lo) + (above_hi - above_lo) <= _FEW:
                _bin_run(cells, below_lo, below_hi, ranks, amps, q_amp[i, b], dm_edges)
                _bin_run(cells, above_lo, above_hi, ranks, amps, q_amp[i, b], dm_edges)
                continue
            up = _tree_below(tree, cuts[0], size)
            down = _tree_below(tree, cuts[n_dm + 1], size)
            for m in range(n_dm):
                next_up = up if cuts[m + 1] == cuts[m] else _tree_below(tree, cuts[m + 1], size)
                next_down = (down if cuts[n_dm + m + 2] == cuts[n_dm + m + 1]
                             else _tree_below(tree, cuts[n_dm + m + 2], size))
                cells[m] = (next_up - up) + (down - next_down)
                up, down = next_up, next_down


@numba.njit(cache=True)
def _partners_without_self(counts, q_amp, r_period, r_amp, pair_q, pair_r, q_period, dm_edges, dt_edges):
    """Removes from ``counts`` (:func:`_window_counts`' layout) the pairs of a star with its own
    reference row(s) (``pair_q``, ``pair_r``: same key) and returns each channel's number of
    partners, float32 ``(n_q, n_b)``.

    A pair exists in a band when both stars have a finite period and a finite amplitude in it, so
    a partner with a NaN amplitude is left out of that band's divisor as well as its counts (the
    divisor is the number of pairs the channel was built from, SPEC section 3); partners whose dt or
    dm falls outside the edges count in the divisor as before.
    """
    n_q, n_b = q_amp.shape
    in_band = np.zeros(n_b, np.int64)
    for j in range(r_period.shape[0]):
        if np.isfinite(r_period[j]):
            for b in range(n_b):
                in_band[b] += np.isfinite(r_amp[j, b])
    partners = np.zeros((n_q, n_b), np.float32)
    for i in range(n_q):
        for b in range(n_b):
            if np.isfinite(q_amp[i, b]):
                partners[i, b] = in_band[b]
    for p in range(pair_q.shape[0]):
        i, j = pair_q[p], pair_r[p]
        if not np.isfinite(r_period[j]):
            continue
        t = _bin(abs(r_period[j] - q_period[i]), dt_edges)
        for b in range(n_b):
            if np.isfinite(q_amp[i, b]) and np.isfinite(r_amp[j, b]):
                partners[i, b] -= 1
                m = _bin(abs(q_amp[i, b] - r_amp[j, b]), dm_edges)
                if m >= 0 and t >= 0:
                    counts[b, t, i, m] -= 1
    return partners


@numba.njit(parallel=True, cache=True)
def _scatter(counts, partners, dest, dest_rows):
    """``dest[dest_rows[i], b, m, t] = counts[b, t, i, m] / partners[i, b]`` (float32, divisor at least 1)."""
    n_b, n_dt, n_q, n_dm = counts.shape
    for i in numba.prange(n_q):
        d = dest_rows[i]
        for b in range(n_b):
            divisor = max(partners[i, b], np.float32(1))
            for t in range(n_dt):
                for m in range(n_dm):
                    dest[d, b, m, t] = counts[b, t, i, m] / divisor


def _by_period(period: np.ndarray) -> np.ndarray:
    """Positions of the finite periods, in ascending period order: the stars that have partners."""
    finite = np.flatnonzero(np.isfinite(period))
    return finite[np.argsort(period[finite], kind="stable")]


def _group_images(q_period, q_amp, q_by_amp, r_period, r_amp, pair_q, pair_r, dm_edges, dt_edges, work, dest,
                  dest_rows):
    """Images of queries against one group of references into ``dest[dest_rows]``, float32
    ``(n_b, n_dm, n_dt)`` per query; ``work`` is scratch of :func:`_window_counts`' shape,
    ``q_by_amp`` the queries' order by amplitude per band (:func:`_by_amplitude`).

    Queries come in period order, with finite periods (:func:`_by_period`). The images are exactly
    the histograms of every (query, reference) pair (``np.histogram`` bins of the float64 ``|dP|``,
    ``|dAmp|``), less the pairs listed in ``pair_q``/``pair_r`` (a star with itself), each channel
    divided by its number of pairs (SPEC section 3: counts are fractions of the pairs). A reference
    with a non-finite period is nobody's partner; a non-finite amplitude makes no pair in its band.
    """
    kept = _by_period(r_period)
    amp = r_amp[kept]
    n_b = amp.shape[1]
    ranks = np.full(amp.shape, -1, np.int64)
    sorted_amp = np.zeros((n_b, len(kept)))
    n_amp = np.zeros(n_b, np.int64)
    for b in range(n_b):
        finite = np.flatnonzero(np.isfinite(amp[:, b]))
        by_amp = finite[np.argsort(amp[finite, b], kind="stable")]
        ranks[by_amp, b] = np.arange(len(by_amp))
        sorted_amp[b, : len(by_amp)] = amp[by_amp, b]
        n_amp[b] = len(by_amp)
    bounds = _amplitude_bounds(q_amp, q_by_amp, sorted_amp, n_amp, dm_edges)
    _window_counts(q_period, q_amp, np.ascontiguousarray(r_period[kept]), amp, ranks, n_amp, bounds, dm_edges,
                   dt_edges, work)
    partners = _partners_without_self(work, q_amp, r_period, r_amp, pair_q, pair_r, q_period, dm_edges, dt_edges)
    _scatter(work, partners, dest, dest_rows)


def _by_amplitude(amp: np.ndarray) -> np.ndarray:
    """Each band's order of the stars by amplitude, ``(n_b, n)``, NaN last."""
    return np.ascontiguousarray(np.argsort(amp, axis=0, kind="stable").T)


def _same_key_pairs(q_keys: np.ndarray, r_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(query, reference)`` of every pair sharing a key: a star and its own reference row(s)."""
    order = np.argsort(r_keys, kind="stable")
    sorted_keys = r_keys[order]
    first = np.searchsorted(sorted_keys, q_keys, "left")
    n = np.searchsorted(sorted_keys, q_keys, "right") - first
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return np.repeat(np.arange(len(q_keys)), n), order[np.repeat(first, n) + offsets]


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


def _work(n_bands: int, n_queries: int, dm_edges: np.ndarray, dt_edges: np.ndarray) -> np.ndarray:
    """Scratch counts for :func:`_window_counts`, reused by the groups of one call."""
    return np.empty((n_bands, len(dt_edges) - 1, n_queries, len(dm_edges) - 1), np.float32)


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

    Each channel is divided by the number of pairs it was built from: the class's reference size,
    less the star's own row(s) in it (same ``id``; a training star is not its own partner, so it
    has one partner fewer than a validation star) and less the partners without a finite amplitude
    in that band. A star with a non-finite period has no partner (an all-zero image).
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
    keys, _ = pd.factorize(pd.concat([stars["id"], reference["id"]], ignore_index=True))
    q_period, q_amp = _columns(stars, amp_bands)
    r_period, r_amp = _columns(reference, amp_bands)
    queries = _by_period(q_period)
    q_keys, r_keys = keys[queries], keys[len(stars):]
    q_period, q_amp = q_period[queries], np.ascontiguousarray(q_amp[queries])
    out = np.zeros((len(stars), len(order), len(amp_bands), len(dm_edges) - 1, len(dt_edges) - 1), np.float32)
    work = _work(len(amp_bands), len(queries), dm_edges, dt_edges)
    q_by_amp = _by_amplitude(q_amp)
    for g in range(len(order)):
        members = np.flatnonzero(group == g)
        pair_q, pair_r = _same_key_pairs(q_keys, r_keys[members])
        _group_images(q_period, q_amp, q_by_amp, r_period[members], r_amp[members], pair_q, pair_r, dm_edges,
                      dt_edges, work, out[:, g], queries)
    return out.reshape(len(stars), len(order) * len(amp_bands), len(dm_edges) - 1, len(dt_edges) - 1)


def _thesis_images(stars, amp_bands, dm_edges, dt_edges):
    """Each star against the other stars of its own class (the label leak, kept on purpose).

    Rows, not ids, are the stars here, as in the thesis: two rows with one id are two partners.
    """
    out = np.zeros((len(stars), len(amp_bands), len(dm_edges) - 1, len(dt_edges) - 1), np.float32)
    period, amp = _columns(stars, amp_bands)
    label_codes, _ = pd.factorize(stars["label"])
    for code in np.unique(label_codes[label_codes >= 0]):
        members = np.flatnonzero(label_codes == code)
        members = members[_by_period(period[members])]
        itself = np.arange(len(members))
        _group_images(period[members], amp[members], _by_amplitude(amp[members]), period[members], amp[members],
                      itself, itself, dm_edges, dt_edges, _work(len(amp_bands), len(members), dm_edges, dt_edges),
                      out, members)
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
