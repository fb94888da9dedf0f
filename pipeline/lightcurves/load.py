"""``read_lightcurves(path, format=None)``: one entry point for every light-curve file or folder.

The format is sniffed from the name and, for tables, from the header's column names (each survey's
are distinctive), so users need not know what a file is called; ``format=`` overrides. A folder is
either a store written by :func:`write_store` or a tree of per-star files (OGLE's ``I/*.dat``,
MACHO's ``*.mjd``, one CSV per star), read file by file and combined.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.errors import CatalogError

from . import readers
from .container import LightCurves, concat
from .store import METADATA_FILE, read_store

FORMATS = {
    "ogle": readers.read_ogle_dat,
    "macho": readers.read_macho,
    "ztf": readers.read_ztf_irsa,
    "gaia": readers.read_gaia_epoch,
    "asassn": readers.read_asassn,
    "crts": readers.read_crts,
    "generic": readers.read_generic,
}
#: Column names that identify a table's survey, checked in this order (first full match wins).
_SIGNATURES = (
    ("ztf", {"oid", "mjd", "filtercode", "catflags"}),
    ("gaia", {"source_id", "flux_over_error", "band"}),
    ("crts", {"masterid", "mjd", "magerr"}),
    ("asassn", {"hjd", "mag", "mag_err"}),
    ("generic", {"id", "time", "mag", "err", "band"}),
)
_TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".ecsv", ".xml", ".vot", ".votable")
_FILE_SUFFIXES = (*_TABLE_SUFFIXES, ".dat", ".mjd", ".tar.bz2")


def _columns(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pq.read_schema(path).names
        if suffix == ".csv":
            return list(pd.read_csv(path, nrows=0).columns)
    except (ValueError, OSError, pd.errors.EmptyDataError) as exc:
        raise CatalogError(f"{path}: cannot read the header ({exc}); expected a light-curve table") from exc
    return []


def sniff_format(path: str | os.PathLike) -> str:
    """The name in :data:`FORMATS` (or ``store``/``folder``) a file or folder is read with."""
    path = Path(path)
    if path.is_dir():
        return "store" if (path / METADATA_FILE).is_file() else "folder"
    if not path.is_file():
        raise CatalogError(f"{path}: no such file or folder")
    name = path.name.lower()
    if name.endswith((".mjd", ".tar.bz2")):
        return "macho"
    if name.endswith(".dat"):
        return "ogle"
    if path.suffix.lower() in (".ecsv", ".xml", ".vot", ".votable"):
        return "gaia"
    if path.suffix.lower() in (".csv", ".parquet", ".pq"):
        found = {c.strip().lower() for c in _columns(path)}
        for fmt, needed in _SIGNATURES:
            if needed <= found:
                return fmt
        raise CatalogError(
            f"{path}: columns {sorted(found)} match no light-curve format; expected one of "
            + "; ".join(f"{fmt}: {sorted(cols)}" for fmt, cols in _SIGNATURES)
        )
    raise CatalogError(f"{path}: suffix {path.suffix!r}; expected one of {list(_FILE_SUFFIXES)} or a folder")


def _folder(path: Path) -> LightCurves:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_FILE_SUFFIXES))
    if not files:
        raise CatalogError(f"{path}: no light-curve files (suffixes {list(_FILE_SUFFIXES)}) in this folder")
    parts = [FORMATS[sniff_format(f)](f) for f in files]
    out = concat(parts, source=str(path))
    out.notes["files"] = len(files)
    return out


def read_lightcurves(path: str | os.PathLike, format: str | None = None,  # noqa: A002
                     time_scale: str | None = None) -> LightCurves:
    """Read light curves from a file or folder in any supported format (sniffed unless ``format``).

    ``time_scale`` is needed only for generic tables, which cannot say theirs (MJD if not given);
    survey files know their own, and a different ``time_scale`` for them is refused.
    """
    path = Path(path)
    fmt = format or sniff_format(path)
    if fmt == "store":
        lcs = read_store(path)
    elif fmt == "folder":
        lcs = _folder(path)
    elif fmt == "generic":
        lcs = readers.read_generic(path, time_scale or "MJD")
    elif fmt in FORMATS:
        lcs = FORMATS[fmt](path)
    else:
        raise CatalogError(f"{path}: format {fmt!r}; expected one of {[*FORMATS, 'store', 'folder']}")
    if time_scale is not None and lcs.time_scale != time_scale:
        raise CatalogError(f"{path}: its times are {lcs.time_scale} ({fmt} format); time_scale={time_scale!r} "
                           "cannot be applied to them")
    return lcs
