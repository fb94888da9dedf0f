"""Timings of the hot paths on the real OGLE-III catalogue: ``make benchmark`` (not part of the tests)."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pipeline
from benchmarks import dmdt, lightcurves, period_recovery, survey
from pipeline import catalogs


@contextmanager
def timed(what: str):
    start = time.perf_counter()
    yield
    print(f"{what:<58} {time.perf_counter() - start:8.3f} s")


def main() -> None:
    catalogs._load_cached.cache_clear()
    with timed("load_catalog('ogle3') (cache or parse)"):
        catalog = pipeline.load_catalog("ogle3")
    catalogs._load_cached.cache_clear()
    with timed("load_catalog('ogle3') from the Parquet cache"):
        catalog = pipeline.load_catalog("ogle3")
    with timed(f"clean({len(catalog):,} stars, ogle-10, cap 1000)"):
        result = pipeline.clean(catalog, pipeline.CleaningConfig(classes="ogle-10"))
    with timed(f"reconstruct({len(catalog):,} stars x 360 phases)"):
        pipeline.reconstruct(catalog)
    stars = result.data
    pipeline.dmdt_images(stars.iloc[:20], mode="thesis")  # compile once, outside the timings
    for mode in ("thesis", "reference"):
        with timed(f"dmdt_images({len(stars):,} stars, {mode})"):
            pipeline.dmdt_images(stars, mode=mode)
    train = stars.sample(frac=0.8, random_state=0)
    with timed(f"dmdt_images({len(stars) - len(train):,} stars vs {len(train):,} reference)"):
        pipeline.dmdt_images(stars.drop(train.index), reference=train)
    print()
    dmdt.main()
    print()
    lightcurves.run(catalog)
    period_recovery.main([])
    print()
    # The survey path: simulate the whole catalogue (the memory bound), every step on a subset.
    survey.run(catalog, steps=("simulate",))
    print()
    survey.run(catalog, stars=2000)


if __name__ == "__main__":
    main()
