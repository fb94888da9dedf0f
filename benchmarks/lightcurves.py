"""Light-curve timings on real OGLE-III catalogue stars, one process, one core: stars per second.

Part of ``make benchmark`` (``python -m benchmarks``); ``python -m benchmarks.lightcurves [N]`` runs
only these, on N stars (default 1000) drawn with a fixed seed from the classes that have Fourier
shapes and from the LPVs, as the catalogue holds them.
"""

from __future__ import annotations

import sys
import tempfile
import time

import pandas as pd

import pipeline
from pipeline import lightcurves as lc

#: Period search is the slow step: timed on this many of the simulated stars.
PERIOD_STARS = 100


def rate(what: str, n: int, seconds: float) -> None:
    print(f"{what:<58} {n / seconds:10.1f} stars/s ({seconds:.2f} s for {n:,})")


def run(catalog: pd.DataFrame, n_stars: int = 1000) -> None:
    stars = catalog.dropna(subset=["period", "amp_I", "mag_I"]).sample(n_stars, random_state=0)
    simulated = {}
    for survey in ("ogle3", "ztf"):
        start = time.perf_counter()
        simulated[survey] = lc.simulate(stars, survey, seed=0)
        rate(f"simulate({survey}), {len(simulated[survey]) / n_stars:.0f} epochs a star", n_stars,
             time.perf_counter() - start)
    curves = simulated["ogle3"]
    subset = curves.subset(curves.ids[:PERIOD_STARS])
    lc.find_periods(curves.subset(curves.ids[:1]))  # imports (astropy.timeseries, finufft) outside the timing
    start = time.perf_counter()
    found = lc.find_periods(subset)
    rate("find_periods(ogle3 cadence, nifty-ls, 1 thread)", len(found), time.perf_counter() - start)
    start = time.perf_counter()
    lc.phase_curves(curves, stars[["id", "period"]])
    rate("phase_curves(seed 002: clean, fold, 512 points)", n_stars, time.perf_counter() - start)
    lc.dmdt_images(subset.subset(subset.ids[:1]), "crts")  # numba compile outside the timing
    start = time.perf_counter()
    lc.dmdt_images(curves, "crts")
    rate("dmdt_images(crts preset, all epoch pairs)", n_stars, time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        lc.write_store(curves, f"{folder}/store")
        rate("write_store(Parquet per star)", n_stars, time.perf_counter() - start)
        start = time.perf_counter()
        lc.read_store(f"{folder}/store", ids=subset.ids)
        rate("read_store(a subset of ids)", len(subset.ids), time.perf_counter() - start)


def main() -> None:
    run(pipeline.load_catalog("ogle3"), int(sys.argv[1]) if len(sys.argv) > 1 else 1000)


if __name__ == "__main__":
    main()
