"""dm-dt images on OGLE-III, the counting beside the previous implementation, in one run:
``python -m benchmarks.dmdt`` (also the end of ``make benchmark``).

The previous implementation (``pipeline/representations.py`` before issue 7, kept here only to
be timed against) visited every pair of stars: ~10^11 pairs in thesis mode on the uncapped
catalogue, about a quarter of an hour on two cores. It is timed on the uncapped classes other
than OSARG instead (3 % of those pairs) and its full-catalogue time extrapolated from the exact
number of pairs it visits, which is printed as such. Its images are compared with the new ones
wherever the two must agree: thesis mode everywhere (OGLE-III has no NaN amplitude), reference
mode on stars that are not in the reference (a training star now has one partner fewer in its own
class: issue 7).
"""

from __future__ import annotations

import os
import time

import numba
import numpy as np
import pandas as pd

import pipeline
from pipeline.representations import DM_EDGES, DT_EDGES, _class_order, _columns
from pipeline.schema import bands


# ---- the previous implementation, as it was ------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _bin(value, edges):
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


def previous_reference(stars, reference, classes=None, dm_edges=DM_EDGES, dt_edges=DT_EDGES):
    amp_bands = bands(stars, "amp")
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


def previous_thesis(stars, dm_edges=DM_EDGES, dt_edges=DT_EDGES):
    amp_bands = bands(stars, "amp")
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
# ---- end of the previous implementation -----------------------------------------------------------


def pairs_visited(stars) -> int:
    """Pairs the previous thesis loop walks: per star, its classmates within the last dt edge."""
    total = 0
    for _, period in stars.groupby("label", observed=True)["period"]:
        p = np.sort(period.to_numpy(np.float64))
        total += int((np.searchsorted(p, p + DT_EDGES[-1], "right") - np.searchsorted(p, p - DT_EDGES[-1])).sum())
    return total


def timed(function, *args, repeat=1, **kwargs):
    """(best wall seconds, process CPU seconds of that run, result)."""
    best = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        run = (time.perf_counter() - wall, time.process_time() - cpu, result)
        best = run if best is None or run[0] < best[0] else best
    return best


def row(what: str, new, old, note: str = "") -> None:
    """One line: new and previous wall seconds (and CPU seconds where the previous one was run)."""
    old_cpu = f"(cpu {old[1]:7.2f})" if len(old) > 1 else " " * 14
    print(f"{what:<62} new {new[0]:8.3f} s (cpu {new[1]:7.2f})   previous {old[0]:8.3f} s {old_cpu}"
          f"   x{old[0] / new[0]:6.1f}  {note}")


def main() -> None:
    print(f"dm-dt: {os.cpu_count()} CPUs, numba {numba.get_num_threads()} threads ({numba.config.THREADING_LAYER}),"
          f" load average {os.getloadavg()[0]:.1f} at start")
    catalog = pipeline.load_catalog("ogle3")
    full = pipeline.clean(catalog, pipeline.CleaningConfig(classes="ogle-10", cap=None)).data
    pipeline.dmdt_images(full.iloc[:50], mode="thesis")  # compile both, outside the timings
    previous_thesis(full.iloc[:50])
    previous_reference(full.iloc[:50], full.iloc[:50])

    others = full[full["label"] != "OSARG"]
    new_sub = timed(pipeline.dmdt_images, others, mode="thesis")
    old_sub = timed(previous_thesis, others)
    same = np.array_equal(new_sub[2], old_sub[2])
    row(f"thesis, uncapped ogle-10 without OSARG ({len(others):,} stars)", new_sub, old_sub,
        f"images identical: {same}")
    new_full = timed(pipeline.dmdt_images, full, mode="thesis")
    extrapolated = old_sub[0] * pairs_visited(full) / pairs_visited(others)
    row(f"thesis, uncapped ogle-10 ({len(full):,} stars)", new_full, (extrapolated,),
        f"previous EXTRAPOLATED from the line above by pairs visited ({pairs_visited(full):.3g})")
    del new_full, new_sub, old_sub

    capped = pipeline.clean(catalog, pipeline.CleaningConfig(classes="ogle-10")).data
    train = capped.sample(frac=0.8, random_state=0)
    new_ref = timed(pipeline.dmdt_images, capped, reference=train, repeat=5)
    old_ref = timed(previous_reference, capped, train, repeat=5)
    validation = ~capped["id"].isin(train["id"]).to_numpy()
    same = np.array_equal(new_ref[2][validation], old_ref[2][validation])
    row(f"reference, {len(capped):,} stars vs {len(train):,} references (best of 5)", new_ref, old_ref,
        f"validation images identical: {same}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (cpu: this process's CPU seconds, all threads)")


if __name__ == "__main__":
    main()
