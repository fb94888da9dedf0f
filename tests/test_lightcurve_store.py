"""The light-curve container, its per-star Parquet store and the catalogue join."""

import json

import pandas as pd
import pytest

from pipeline.errors import CatalogError
from pipeline.lightcurves import LightCurves, concat, join_catalog, read_lightcurves, read_store, write_store
from pipeline.lightcurves.store import METADATA_FILE


def curves(time_scale="HJD", simulated=False):
    data = pd.DataFrame({
        "id": ["OGLE-LMC-CEP-0001"] * 3 + ["4111834567779557376"] * 2 + ["odd/id 1"],
        "time": [3.0, 1.0, 2.0, 5.0, 4.0, 6.0], "mag": [17.0, 17.1, 17.2, 15.0, 15.1, 12.0],
        "err": [0.01] * 6, "band": ["I", "I", "V", "G", "G", "r"], "flag": [0, 0, 1, 0, 0, 0],
    })
    return LightCurves(data, time_scale, "test", survey="OGLE", simulated=simulated, notes={"dropped": 2})


def test_store_round_trip_keeps_rows_types_and_metadata(tmp_path):
    lc = curves(simulated=True)
    write_store(lc, tmp_path / "store")
    back = read_store(tmp_path / "store")
    assert back.metadata() == lc.metadata() and back.simulated
    key = ["id", "time"]
    pd.testing.assert_frame_equal(back.data.sort_values(key).reset_index(drop=True),
                                  lc.data.sort_values(key).reset_index(drop=True))
    assert read_lightcurves(tmp_path / "store").ids == back.ids  # the entry point knows a store


def test_subset_reads_only_its_partitions(tmp_path):
    """A broken file of another star does not matter when reading a subset: only the subset is opened."""
    root = write_store(curves(), tmp_path / "store")
    (root / "id=4111834567779557376" / "part-0.parquet").write_bytes(b"not parquet")
    sub = read_store(root, ids=["odd/id 1", "OGLE-LMC-CEP-0001"])
    assert sorted(sub.ids) == ["OGLE-LMC-CEP-0001", "odd/id 1"] and len(sub) == 4
    with pytest.raises(CatalogError, match="cannot read the light-curve store"):
        read_store(root)
    with pytest.raises(CatalogError, match=r"no light curves for ids \['nope'\]"):
        read_store(root, ids=["nope"])


def test_empty_store_reads_back_empty(tmp_path):
    empty = LightCurves(curves().data.iloc[:0], "MJD", "none", simulated=True)
    back = read_store(write_store(empty, tmp_path / "store"))
    assert len(back) == 0 and back.simulated and list(back.data.columns) == ["id", "time", "mag", "err", "band"]


def test_store_refuses_to_overwrite_and_needs_metadata(tmp_path):
    root = write_store(curves(), tmp_path / "store")
    with pytest.raises(CatalogError, match="already exists"):
        write_store(curves(), root)
    write_store(curves(), root, overwrite=True)
    (root / METADATA_FILE).unlink()
    with pytest.raises(CatalogError, match=f"no {METADATA_FILE}"):
        read_store(root)
    json.dumps(curves().metadata())  # JSON-able, no pickle


def test_container_checks_columns_and_time_scale():
    with pytest.raises(CatalogError, match=r"columns \['err'\] are missing"):
        LightCurves(pd.DataFrame({"id": [], "time": [], "mag": [], "band": []}), "MJD", "x")
    with pytest.raises(CatalogError, match="time scale 'JD'"):
        LightCurves(curves().data, "JD", "x")


def test_concat_refuses_mixed_time_scales_and_simulated_with_observed():
    with pytest.raises(CatalogError, match="different time scales"):
        concat([curves("HJD"), curves("MJD")])
    with pytest.raises(CatalogError, match="observed and simulated"):
        concat([curves(), curves(simulated=True)])
    assert concat([curves(), curves()]).notes["dropped"] == 4


def test_join_catalog_by_id_counts_unmatched():
    catalog = pd.DataFrame({"id": ["OGLE-LMC-CEP-0001", "OGLE-LMC-CEP-0002"], "period": [3.1, 2.0],
                            "band": ["x", "y"]})
    joined = join_catalog(curves(), catalog)
    assert set(joined["id"]) == {"OGLE-LMC-CEP-0001"} and (joined["period"] == 3.1).all()
    assert "catalog_band" in joined and joined.attrs == {"unmatched_lightcurves": 2, "unmatched_catalog": 1}
