"""The ASAS training set of Richards et al. 2012: prepared from a generated sdist in mltsp's exact layout,
and the real set that ``make data`` writes (``make test`` runs ``make data`` first, so it is always there)."""

import hashlib
import io
import tarfile

import numpy as np
import pytest

from pipeline import labels
from pipeline.errors import CatalogError
from pipeline.lightcurves.asas import (CLASSES_MEMBER, TARBALL_MD5, TARBALL_MEMBER, asas_stars, load_asas, main,
                                      prepare_asas)
from pipeline.lightcurves.container import MJD_ZERO_JD

CURVES = {
    "215153": "1868.57131,11.769,0.024\n1869.55804,11.014,0.024\n1873.55412,11.478,0.028\n",
    "215181": "2001.10000,10.501,0.031\n2002.20000,10.702,0.033\n",
    "215192": "3000.50000,12.000,0.050\n",
}
CLASSES = "#dotAstro_ID,Train_Class\n215153,Mira\n215181,RR_Lyrae_FM\n215192,RR_Lyrae_FM\n"


def _add(tar, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_sdist(path, curves=CURVES, classes=CLASSES):
    """A ``mltsp-0.3.3.tar.gz`` holding only what the loader reads, laid out as the real one; returns the
    md5 of its inner tarball."""
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        for star, text in curves.items():
            _add(tar, f"asas_training_set/{star}.dat", text.encode())
    with tarfile.open(path, mode="w:gz") as tar:
        _add(tar, f"mltsp-0.3.3/{TARBALL_MEMBER}", inner.getvalue())
        _add(tar, f"mltsp-0.3.3/{CLASSES_MEMBER}", classes.encode())
        _add(tar, "mltsp-0.3.3/setup.py", b"import numpy, Cython\n")
    return hashlib.md5(inner.getvalue()).hexdigest()


def test_a_generated_sdist_becomes_the_store_and_labels(tmp_path):
    sdist = tmp_path / "mltsp-0.3.3.tar.gz"
    md5 = make_sdist(sdist)
    out = prepare_asas(sdist, tmp_path / "asas", md5=md5)
    lcs, raw = load_asas(out)
    assert lcs.ids == ["215153", "215181", "215192"] and lcs.bands == ["V"]
    assert (lcs.time_scale, lcs.survey, lcs.simulated) == ("HJD", "ASAS", False)
    assert "ApJS 203, 32" in lcs.source and lcs.notes["md5"] == md5
    star = lcs.star("215153")
    # HJD - 2450000 in the file; MJD zero point in the container.
    np.testing.assert_allclose(star["time"], np.array([1868.57131, 1869.55804, 1873.55412]) + 2450000 - MJD_ZERO_JD)
    np.testing.assert_allclose(star["mag"], [11.769, 11.014, 11.478])
    np.testing.assert_allclose(star["err"], [0.024, 0.024, 0.028])
    assert raw.to_dict("list") == {"id": ["215153", "215181", "215192"],
                                   "raw_label": ["Mira", "RR_Lyrae_FM", "RR_Lyrae_FM"]}


def test_a_different_tarball_is_refused_by_md5_before_anything_is_written(tmp_path):
    sdist = tmp_path / "mltsp-0.3.3.tar.gz"
    got = make_sdist(sdist)
    with pytest.raises(CatalogError, match=f"md5 {got}; expected {TARBALL_MD5}.*make data"):
        prepare_asas(sdist, tmp_path / "asas")
    assert not (tmp_path / "asas").exists()


def test_the_make_data_step_reports_a_bad_download_and_fails(tmp_path, capsys):
    sdist = tmp_path / "mltsp-0.3.3.tar.gz"
    make_sdist(sdist)
    assert main([str(sdist), "--out", str(tmp_path / "asas")]) == 1
    assert f"expected {TARBALL_MD5}" in capsys.readouterr().err


def test_missing_data_says_to_run_make_data(tmp_path):
    with pytest.raises(CatalogError, match=r"ASAS training set is missing.*run `make data`"):
        load_asas(tmp_path / "asas")
    with pytest.raises(CatalogError, match="no such file.*run `make data`"):
        prepare_asas(tmp_path / "mltsp-0.3.3.tar.gz", tmp_path / "asas")


def test_a_bad_value_names_the_file_line_and_column(tmp_path):
    sdist = tmp_path / "mltsp-0.3.3.tar.gz"
    md5 = make_sdist(sdist, curves={**CURVES, "215192": "3000.5,12.0,0.05\n3001.5,abc,0.05\n"})
    with pytest.raises(CatalogError, match=r"215192\.dat: line 2, column 'mag' holds 'abc'; expected a number"):
        prepare_asas(sdist, tmp_path / "asas", md5=md5)


def test_a_class_without_a_light_curve_is_refused(tmp_path):
    sdist = tmp_path / "mltsp-0.3.3.tar.gz"
    md5 = make_sdist(sdist, classes=CLASSES + "999999,Mira\n")
    with pytest.raises(CatalogError, match=r"classes without a light curve \['999999'\]"):
        prepare_asas(sdist, tmp_path / "asas", md5=md5)


def test_a_class_file_line_without_a_class_names_the_line(tmp_path):
    sdist = tmp_path / "mltsp-0.3.3.tar.gz"
    md5 = make_sdist(sdist, classes=CLASSES + "215199\n")
    with pytest.raises(CatalogError, match=r"line 5 is '215199'; expected 'dotAstro_ID,Train_Class'"):
        prepare_asas(sdist, tmp_path / "asas", md5=md5)


@pytest.fixture(scope="module")
def real():
    """The real set as ``make data`` prepared it (``make test`` runs ``make data`` first)."""
    return load_asas()


def test_the_real_set_has_richards_counts(real):
    lcs, raw = real
    assert len(raw) == 810 and len(lcs.ids) == 810 and raw["raw_label"].nunique() == 28
    counts = raw["raw_label"].value_counts()
    named = ["Mira", "Classical_Cepheid", "RR_Lyrae_FM", "W_Ursae_Maj"]
    assert counts[named].tolist() == [91, 89, 86, 68]
    epochs = lcs.data.groupby("id").size()
    assert (epochs.min(), epochs.max()) == (50, 1772)  # the 50-1,772 epochs of issue 10
    assert lcs.bands == ["V"] and lcs.notes["md5"] == TARBALL_MD5
    # ASAS-3 ran from late 2000 to 2009 (MJD 51868 = 2000-11-29).
    assert 51800 < lcs.data["time"].min() and lcs.data["time"].max() < 55300
    assert (lcs.data["err"] > 0).all() and lcs.data["mag"].between(4, 18).all()


def test_the_asas_8_preset_maps_the_named_classes(real):
    _, raw = real
    counts = labels.apply(raw["raw_label"], "asas-8").value_counts()
    assert counts.to_dict() == {"Mira": 91, "CEP": 89, "RRab": 86, "SR": 68, "EW": 68, "RRc": 29, "DSCT": 28, "EA": 27}


def test_asas_stars_leave_out_classes_too_small_to_fold():
    lcs, stars, classes, left_out = asas_stars("asas-28", min_stars=5)
    assert len(classes) == 22 and len(stars) == 797 and sum(left_out.values()) == 810 - 797
    assert all(n < 5 for n in left_out.values()) and set(stars["label"]) == set(classes)
    assert list(stars["id"]) == sorted(stars["id"])  # id order: the folds of benchmarks.asas and the CLI
    _, eight, classes, left_out = asas_stars("asas-8", min_stars=5)
    assert len(eight) == 486 and left_out == {} and classes[0] == "RRab"


def test_the_asas_28_preset_claims_every_class_of_the_file(real):
    _, raw = real
    mapped = labels.apply(raw["raw_label"], "asas-28")
    assert mapped.notna().all() and (mapped.astype(str) == raw["raw_label"]).all()

