"""Period recovery on simulated OGLE-III and ZTF observations of real OGLE-III stars (not a test).

``python -m benchmarks.period_recovery [STARS_PER_CLASS]`` (default 40): per ``ogle-10`` class, the
cleaned catalogue's stars (seeded sample) are observed with each survey's cadence and noise
(``pipeline.lightcurves.simulate``) and searched with Lomb-Scargle (``find_periods``). A found period
is *recovered* within 1 % of the catalogue's; a *harmonic* is within 1 % of 1/2, 2, 1/3 or 3 times it;
a *1-day alias* differs from the catalogue frequency by 1 or 2 cycles per day (within 0.01 c/d, the
nightly sampling's alias); anything else is *other*. The catalogue periods come from OGLE's own
light curves, so this measures what a survey's cadence and noise cost, on the stars' own shapes.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import pipeline
from pipeline.lightcurves import find_periods, simulate

SURVEYS = ("ogle3", "ztf")
TOLERANCE = 0.01
ALIAS_TOLERANCE = 0.01  # cycles per day
HARMONICS = (0.5, 2.0, 1 / 3, 3.0)


def outcome(found: np.ndarray, catalogue: np.ndarray) -> np.ndarray:
    """recovered / harmonic / 1-day alias / other, per star."""
    ratio = found / catalogue
    offset = np.abs(1 / found - 1 / catalogue)
    alias = np.any([np.abs(offset - k) < ALIAS_TOLERANCE for k in (1, 2)], axis=0)
    harmonic = np.any([np.abs(ratio / h - 1) < TOLERANCE for h in HARMONICS], axis=0)
    return np.select([np.abs(ratio - 1) < TOLERANCE, harmonic, alias], ["recovered", "harmonic", "1-day alias"],
                     "other")


def recovery_table(stars: pd.DataFrame, survey: str, seed: int = 0) -> pd.DataFrame:
    found = find_periods(simulate(stars, survey=survey, seed=seed))
    table = stars[["id", "label", "period"]].merge(found[["id", "period"]], on="id", suffixes=("", "_found"))
    table["outcome"] = outcome(table["period_found"].to_numpy(), table["period"].to_numpy())
    counts = pd.crosstab(table["label"], table["outcome"], normalize="index")
    counts = counts.reindex(columns=["recovered", "harmonic", "1-day alias", "other"], fill_value=0.0)
    counts.insert(0, "stars", table.groupby("label").size())
    return counts.reindex([c for c in pipeline.labels.class_names("ogle-10") if c in counts.index])


def main(argv: list[str]) -> None:
    per_class = int(argv[0]) if argv else 40
    result = pipeline.clean(pipeline.load_catalog("ogle3"), pipeline.CleaningConfig(classes="ogle-10"))
    stars = pd.concat([part.sample(min(per_class, len(part)), random_state=0)
                       for _, part in result.data.groupby("label", observed=True)], ignore_index=True)
    for survey in SURVEYS:
        start = time.perf_counter()
        table = recovery_table(stars, survey)
        seconds = time.perf_counter() - start
        print(f"\n{survey}: {len(stars)} stars in {seconds:.0f} s (target: the catalogue's period within "
              f"{TOLERANCE:.0%})")
        with pd.option_context("display.float_format", "{:.2f}".format):
            print(table.to_string())
        print(f"all classes: recovered {(table['recovered'] * table['stars']).sum() / table['stars'].sum():.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
