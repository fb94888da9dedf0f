"""pipeline.ztf.read_catalog_file: every real form of ZTF table2 gives the same canonical frame, and
malformed files give a CatalogError naming the file, the column or value and what was expected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.table import MaskedColumn

from pipeline.errors import CatalogError
from pipeline.ztf import read_catalog_file
from tests.ztf_files import (
    NO_G_ROW,
    SPELLINGS,
    TYPES,
    expected_canonical,
    mrt_text,
    relabel,
    replace_field,
    write_cds,
    write_csv,
    write_fits,
    write_mrt,
    write_parquet,
    ztf_table,
)

CANONICAL_COLUMNS = [
    "id", "ra", "dec", "period", "r21", "phi21", "r31", "phi31",
    "amp_g", "amp_r", "mag_g", "mag_r", "n_obs_g", "n_obs_r",
    "log_fap_g", "log_fap_r", "r2_g", "r2_r", "raw_label", "phase_convention",
]


@pytest.fixture(scope="module")
def table():
    return ztf_table()


@pytest.fixture(scope="module")
def expected(table):
    return expected_canonical(table)


def assert_same(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns in the same order, same dtypes, same values to the bit."""
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)


def catalog_error(path) -> str:
    """The CatalogError message for ``path``, checked to name the file."""
    with pytest.raises(CatalogError) as info:
        read_catalog_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


# --- every real form gives the same frame ---------------------------------------------------------


def test_generated_table_is_realistic(table):
    assert len(table) == 20
    assert set(table["Type"]) == set(TYPES)
    assert len(table.colnames) == 27


@pytest.mark.parametrize("notes", [0, 1, 6])
def test_mrt_table_with_any_header_length(tmp_path, table, expected, notes):
    path = write_mrt(table, tmp_path / "Table2.txt", notes=notes)
    assert_same(read_catalog_file(path), expected)


def test_mrt_table_with_lines_before_the_title(tmp_path, table, expected):
    path = write_mrt(table, tmp_path / "Table2.txt")
    path.write_text("# fetched from the AAS journal site\n\n" + path.read_text())
    assert_same(read_catalog_file(path), expected)


def test_cds_data_file_with_readme(tmp_path, table, expected):
    path = write_cds(table, tmp_path)
    assert (tmp_path / "ReadMe").is_file()
    assert not path.read_text().startswith("Title")  # the data file has no header of its own
    assert_same(read_catalog_file(path), expected)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_csv_with_each_label_spelling(tmp_path, table, expected, spelling):
    path = write_csv(table, tmp_path / f"ztf_{spelling}.csv", spelling)
    assert_same(read_catalog_file(path), expected)


@pytest.mark.parametrize("spelling", ["vizier", "ingester", "thesis"])
def test_parquet_export(tmp_path, table, expected, spelling):
    path = write_parquet(table, tmp_path / "ztf.parquet", spelling)
    assert_same(read_catalog_file(path), expected)


@pytest.mark.parametrize("spelling", ["vizier", "ingester", "snake"])
def test_fits_export(tmp_path, table, expected, spelling):
    path = write_fits(table, tmp_path / "ztf.fits", spelling)
    assert_same(read_catalog_file(path), expected)


def test_canonical_contract(tmp_path, table):
    frame = read_catalog_file(write_mrt(table, tmp_path / "Table2.txt"))
    assert list(frame.columns) == CANONICAL_COLUMNS
    for name in ("id", "raw_label"):
        assert pd.api.types.is_string_dtype(frame[name])
    assert all(frame[name].dtype == np.float64 for name in CANONICAL_COLUMNS[1:-2])
    assert frame[["r31", "phi31"]].isna().all().all()
    assert set(frame["raw_label"]) == set(TYPES)
    assert frame["id"].str.fullmatch(r"ZTFJ\d{6}\.\d{2}[+-]\d{6}\.\d").all()
    # the r-only star: its blank g quantities (float and integer columns) become NaN
    g_only = ["amp_g", "mag_g", "n_obs_g", "log_fap_g", "r2_g"]
    assert frame.loc[NO_G_ROW, g_only].isna().all()
    assert frame.drop(index=NO_G_ROW)[g_only].notna().all().all()
    assert frame.loc[0, "period"] == table["Per"][0]


def test_type_whitespace_is_stripped(tmp_path, table):
    path = write_csv(table, tmp_path / "ztf.csv")
    text = path.read_text()
    path.write_text(text.replace(",EW,", ",  EW ,"))
    assert ",EW," in text
    assert set(read_catalog_file(path)["raw_label"]) == set(TYPES)


# --- files already in the canonical schema --------------------------------------------------------


def test_canonical_csv_round_trip(tmp_path, expected):
    path = tmp_path / "canonical.csv"
    expected.to_csv(path, index=False)
    assert_same(read_catalog_file(path), expected)


def test_canonical_parquet_round_trip(tmp_path, expected):
    path = tmp_path / "canonical.parquet"
    expected.to_parquet(path)
    assert_same(read_catalog_file(path), expected)


def test_canonical_parquet_indexed_by_id(tmp_path, expected):
    path = tmp_path / "canonical.parquet"
    expected.set_index("id").to_parquet(path)
    assert_same(read_catalog_file(path), expected)


def test_canonical_with_label_optional_columns_absent_and_case_sensitive_bands(tmp_path):
    path = tmp_path / "ogle.csv"
    pd.DataFrame({
        "id": ["OGLE-LMC-CEP-0001", "OGLE-LMC-RRLYR-00002"],
        "period": [3.1181, 0.5631],
        "amp_I": [0.42, 0.61],
        "mag_I": [15.1, 18.9],
        "mag_V": [15.9, 19.4],
        "label": ["CEP", "RRab"],
        "notes": ["x", "y"],
    }).to_csv(path)  # with pandas' unnamed index column, as a plain df.to_csv writes it
    frame = read_catalog_file(path)
    assert list(frame.columns) == [
        "id", "ra", "dec", "period", "r21", "phi21", "r31", "phi31", "amp_I", "mag_I", "mag_V", "raw_label",
        "phase_convention",
    ]
    assert frame["raw_label"].tolist() == ["CEP", "RRab"]
    assert frame[["ra", "dec", "r21", "phi21", "r31", "phi31"]].isna().all().all()
    assert frame["mag_V"].tolist() == [15.9, 19.4]


def test_band_names_are_case_sensitive(tmp_path):
    path = tmp_path / "bands.csv"
    columns = {"id": ["a"], "period": [1.0], "amp_i": [0.3], "mag_I": [15.0], "raw_label": ["CEP"]}
    pd.DataFrame(columns).to_csv(path, index=False)
    message = catalog_error(path)
    assert "amp_<band> + mag_<band>" in message
    assert "amp_i" in message  # found columns are listed


# --- malformed files ------------------------------------------------------------------------------


def test_missing_period_column_csv(tmp_path, table):
    without = table.copy()
    without.remove_column("Per")
    path = write_csv(without, tmp_path / "ztf.csv")
    message = catalog_error(path)
    assert "it lacks: Per." in message
    assert "period" in message  # and the canonical name it would also accept
    assert "RAdeg" in message  # what was found


def test_missing_type_column_mrt(tmp_path, table):
    without = table.copy()
    without.remove_column("Type")
    message = catalog_error(write_mrt(without, tmp_path / "Table2.txt"))
    assert "Type" in message


@pytest.mark.parametrize("form", ["csv", "mrt", "cds"])
def test_non_numeric_period(tmp_path, table, form):
    if form == "csv":
        path = write_csv(table, tmp_path / "ztf.csv")
        lines = path.read_text().splitlines(keepends=True)
        fields = lines[5].split(",")
        fields[4] = "abc"  # Per of data row 5
        lines[5] = ",".join(fields)
        path.write_text("".join(lines))
    else:
        path = write_mrt(table, tmp_path / "Table2.txt") if form == "mrt" else write_cds(table, tmp_path)
        replace_field(mrt_text(table), path, 4, "Per", "abc")
    message = catalog_error(path)
    assert "'Per'" in message and "'abc'" in message and "row 5" in message


def test_non_numeric_epoch_count_mrt(tmp_path, table):
    path = write_mrt(table, tmp_path / "Table2.txt")
    replace_field(mrt_text(table), path, 0, "Num_r", "x")
    message = catalog_error(path)
    assert "'Num_r'" in message and "'x'" in message and "row 1" in message


def test_mrt_header_cut_off(tmp_path, table):
    path = write_mrt(table, tmp_path / "Table2.txt")
    path.write_text("".join(path.read_text().splitlines(keepends=True)[6:]))
    assert "Byte-by-byte" in catalog_error(path)


def test_mrt_garbage_instead_of_header(tmp_path, table):
    path = write_mrt(table, tmp_path / "Table2.txt")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(["%%% export failed %%%\n"] * 12 + lines[12:]))
    assert "Byte-by-byte" in catalog_error(path)


def test_mrt_column_descriptions_cut_short(tmp_path, table):
    path = write_mrt(table, tmp_path / "Table2.txt")
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "Type" in line and line.lstrip()[0].isdigit())
    path.write_text("".join(lines[:start] + lines[start + 1 :]))  # the Type description is lost
    message = catalog_error(path)
    assert "Type" in message


def test_cds_without_readme(tmp_path, table):
    path = write_cds(table, tmp_path, readme=False)
    message = catalog_error(path)
    assert "ReadMe" in message and "same folder" in message


def test_cds_readme_for_another_file(tmp_path, table):
    path = write_cds(table, tmp_path)
    readme = tmp_path / "ReadMe"
    readme.write_text(readme.read_text().replace("file: table2.dat", "file: table1.dat"))
    assert "table2.dat" in catalog_error(path)


@pytest.mark.parametrize("name", ["ztf.xlsx", "ztf.json", "Table2"])
def test_unknown_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("ID,Per\n")
    message = catalog_error(path)
    assert "unknown catalogue format" in message
    for ext in (".txt", ".dat", ".csv", ".parquet", ".fits"):
        assert ext in message


@pytest.mark.parametrize("name", ["Table2.txt", "table2.dat", "ztf.csv", "ztf.parquet", "ztf.fits"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.touch()
    assert "empty" in catalog_error(path)


def test_blank_lines_only_csv(tmp_path):
    path = tmp_path / "ztf.csv"
    path.write_text("\n\n")
    assert "no header row" in catalog_error(path)


def test_header_only_csv(tmp_path, table):
    path = write_csv(table[:0], tmp_path / "ztf.csv")
    assert "no data rows" in catalog_error(path)


def test_mrt_without_data_rows(tmp_path, table):
    path = write_mrt(table, tmp_path / "Table2.txt")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("ZTFJ")))
    assert "no data rows" in catalog_error(path)


def test_duplicate_ids(tmp_path, table):
    doubled = table.copy()
    doubled["ID"][7] = doubled["ID"][2]
    message = catalog_error(write_csv(doubled, tmp_path / "ztf.csv"))
    assert str(table["ID"][2]) in message and "'ID'" in message


def test_blank_id(tmp_path, table):
    path = write_csv(table, tmp_path / "ztf.csv")
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3][lines[3].index(",") :]
    path.write_text("".join(lines))
    message = catalog_error(path)
    assert "'ID'" in message and "row 3" in message


def test_two_spellings_of_one_column(tmp_path, table):
    both = table.copy()
    both["logFAP_g"] = both["log(FAP_g)"]
    message = catalog_error(write_parquet(both, tmp_path / "ztf.parquet"))
    assert "'log(FAP_g)'" in message and "'logFAP_g'" in message


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "ztf.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file")
    assert "Parquet" in catalog_error(path)


def test_missing_file(tmp_path):
    assert "no such file" in catalog_error(tmp_path / "Table2.txt")


def test_relabel_changes_labels(table):
    """The spelling variants really differ from the VizieR labels (else the CSV tests prove little)."""
    for spelling in ("ingester", "thesis", "snake", "lowercase"):
        assert relabel(table, spelling).colnames != table.colnames


@pytest.mark.parametrize(("writer", "name"), [(write_mrt, "Table2.txt"), (write_fits, "ztf.fits")])
def test_blank_type(tmp_path, table, writer, name):
    blank = table.copy()
    blank["Type"] = MaskedColumn(blank["Type"], mask=np.arange(len(blank)) == 6)
    message = catalog_error(writer(blank, tmp_path / name))
    assert "'Type'" in message and "row 7" in message


def test_phase_convention_is_recorded_by_the_loader(tmp_path):
    from pipeline.ztf import read_catalog_file

    table = ztf_table(20, seed=3)
    frame = read_catalog_file(write_mrt(table, tmp_path / "Table2.txt"))
    assert set(frame["phase_convention"]) == {"cos+"}  # Chen+2020 fit cos(2 pi i t/P + phi_i)
    canonical = frame.assign(phase_convention="cos-")
    canonical.to_csv(tmp_path / "mine.csv", index=False)
    assert set(read_catalog_file(tmp_path / "mine.csv")["phase_convention"]) == {"cos-"}
    canonical.assign(phase_convention="degrees").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(CatalogError, match=r"bad.csv: column 'phase_convention' holds 'degrees'; expected one of"):
        read_catalog_file(tmp_path / "bad.csv")
