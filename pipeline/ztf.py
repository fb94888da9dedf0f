"""Read the ZTF periodic-variable catalogue (Chen et al. 2020, VizieR J/ApJS/249/18 table2), or a file
already in the canonical schema, into the canonical DataFrame (SPEC section 1).

table2 circulates as the AAS machine-readable ``Table2.txt``, the CDS ``table2.dat`` + ``ReadMe``, and
CSV/Parquet/FITS exports whose labels vary. Each reader only turns its file into a plain frame of
numbers and text; one function, :func:`_canonical`, maps, checks and types the columns for every
format, so all forms of the same table give the same frame and the same errors.

Canonical dtypes: ``id`` and ``raw_label`` use pandas' default string dtype (``str`` in pandas 3,
``object`` in pandas 2); every other column, ``n_obs_<band>`` included, is float64 with NaN where the
file is blank (float keeps "missing" simple and uniform across formats).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import ascii
from astropy.table import Table
from astropy.units import UnitsWarning

from pipeline.errors import CatalogError
from pipeline.schema import BAND_PREFIXES, CORE_COLUMNS, EXTRA_NUMERIC, EXTRA_TEXT, PHASE_SIGNS

#: table2 labels per canonical column, as spelt by VizieR/AAS and the exports seen in public code.
#: Labels are matched after :func:`_normalise` (case and punctuation ignored), so ``LOG_FAP_G`` or
#: ``R2g`` match too; the spellings listed are the documented ones. table2 columns not listed here
#: (SourceID, T0, Per_g, R21_g, Dmin_g, ...) are not needed and are dropped.
ZTF_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("ID",),
    "ra": ("RAdeg",),
    "dec": ("DEdeg",),
    "period": ("Per",),
    "r21": ("R21",),
    "phi21": ("phi21",),
    "amp_g": ("Amp_g",),
    "amp_r": ("Amp_r",),
    "mag_g": ("gmag",),
    "mag_r": ("rmag",),
    "n_obs_g": ("Num_g",),
    "n_obs_r": ("Num_r",),
    "log_fap_g": ("log(FAP_g)", "logFAP_g", "log_FAP_g"),
    "log_fap_r": ("log(FAP_r)", "logFAP_r", "log_FAP_r"),
    "r2_g": ("R2_g", "R^2_g"),
    "r2_r": ("R2_r", "R^2_r"),
    "raw_label": ("Type",),
}

#: Chen et al. 2020 (ApJS 249, 18), Sect. 3: light curves fitted with the Fourier series
#: ``m = a0 + sum_i a_i cos(2 pi i t / P + phi_i)``, ``R21 = a2/a1``, ``phi21 = phi2 - 2 phi1``: the
#: ``+phi`` form, as OGLE-III's (SPEC section 1).
ZTF_PHASE_CONVENTION = "cos+"

#: Columns without which a catalogue is unusable (plus one band with amplitude and magnitude).
REQUIRED_COLUMNS = ("id", "period", "raw_label")
_TEXT_COLUMNS = ("id", "raw_label")
_NUMERIC_CORE = tuple(c for c in CORE_COLUMNS if c not in _TEXT_COLUMNS)
_BAND_COLUMN = re.compile(rf"^({'|'.join(BAND_PREFIXES)})_([^_]+)$")
#: Text read as a blank cell in a numeric column.
_BLANK_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none", "--"})
#: Rows per chunk when reading CSV (about 0.1 s of parsing each).
CSV_CHUNK_ROWS = 50_000
#: Stands in a list of missing columns for "no band with both amp_<band> and mag_<band>".
_BAND = "<band>"


def read_catalog_file(path: str | os.PathLike) -> pd.DataFrame:
    """Load a ZTF table2 file (any of its forms) or a canonical CSV/Parquet file as a canonical frame.

    Raises CatalogError naming the file, the column or value and what was expected.
    """
    path = Path(path)
    suffix = format_suffix(path)
    if suffix not in _FORMATS:
        by_kind: dict[str, list[str]] = {}
        for ext, (what, _) in _FORMATS.items():
            by_kind.setdefault(what, []).append(ext)
        accepted = "; ".join(f"{'/'.join(exts)} ({what})" for what, exts in by_kind.items())
        raise CatalogError(
            f"{path}: unknown catalogue format {path.suffix or '(no extension)'!r}; "
            f"expected one of: {accepted}, each optionally gzip-compressed (.gz)"
        )
    what, reader = _FORMATS[suffix]
    if not path.is_file():
        raise CatalogError(f"{path}: no such file; expected {what}")
    if path.stat().st_size == 0:
        raise CatalogError(f"{path}: the file is empty (0 bytes); expected {what}")
    return _canonical(reader(path), path)


def format_suffix(path: Path) -> str:
    """The extension that names the format: ``.csv`` for ``x.csv`` and ``x.csv.gz``; a bare ``.gz``
    is taken as a gzip-compressed CSV, the usual way a table is shipped compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return suffixes[-2] if len(suffixes) > 1 and suffixes[-2] in _FORMATS else ".csv"
    return suffixes[-1] if suffixes else ""


def _gzipped(path: Path) -> bool:
    """Whether the file holds gzip data, whatever its name says (a .csv may be gzip bytes)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _read_mrt(path: Path) -> pd.DataFrame:
    """astropy finds the byte-by-byte header by its content, whatever its length."""
    return _read_byte_by_byte(path, ascii.get_reader(ascii.Mrt), "an AAS machine-readable (MRT) table")


def _read_cds(path: Path) -> pd.DataFrame:
    """A CDS .dat file has no header of its own: its columns are described in the ReadMe beside it."""
    readme = next((p for p in path.parent.iterdir() if p.name.lower() == "readme"), None)
    if readme is None:
        raise CatalogError(
            f"{path}: no ReadMe beside this CDS data file; the CDS ReadMe describing "
            f"{path.name} must sit in the same folder ({path.parent})"
        )
    reader = ascii.get_reader(ascii.Cds, readme=str(readme))
    return _read_byte_by_byte(path, reader, f"a CDS table described by {readme}")


def _read_byte_by_byte(path: Path, reader, kind: str) -> pd.DataFrame:
    """Read an MRT/CDS table; on a value astropy cannot convert, hand the raw text to the validation,
    which names the column, the value and its row (astropy names only the column)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnitsWarning)  # units are dropped; an odd one is no error
            return _table_frame(reader.read(str(path)))
    # astropy's header parser raises many exception types for malformed headers.
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
        columns = getattr(reader.header, "cols", None) or []
        if columns and all(column.str_vals for column in columns):
            # Raises the precise error if the raw text holds a non-number; else astropy's error stands.
            _canonical(pd.DataFrame({column.name: column.str_vals for column in columns}), path)
        raise CatalogError(f"{path}: cannot read this as {kind}: {err}") from err


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text, so the validation sees the value exactly as written."""
    try:
        # In chunks: between them Python runs its signal handlers, so Ctrl-C stops a long read promptly.
        chunks = pd.read_csv(path, dtype=str, keep_default_na=False, compression="gzip" if _gzipped(path) else None,
                             chunksize=CSV_CHUNK_ROWS)
        with chunks:
            return pd.concat(chunks, ignore_index=True)
    except pd.errors.EmptyDataError as err:
        raise CatalogError(f"{path}: no header row; expected a CSV table with column labels") from err
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as err:
        raise CatalogError(f"{path}: cannot parse as CSV (text, optionally gzip-compressed): {err}") from err


def _read_parquet(path: Path) -> pd.DataFrame:
    """A frame saved with a named index (``df.set_index('id')``) gets that index back as a column."""
    try:
        if _gzipped(path):
            with gzip.open(path, "rb") as handle:
                frame = pd.read_parquet(io.BytesIO(handle.read()))
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError, EOFError) as err:
        raise CatalogError(f"{path}: cannot read as Parquet: {err}") from err
    return frame.reset_index(drop=list(frame.index.names) == [None])


def _read_fits(path: Path) -> pd.DataFrame:
    """The first table HDU, as VizieR and astropy write it."""
    try:
        table = Table.read(path, format="fits")
    except (OSError, ValueError, TypeError) as err:
        raise CatalogError(f"{path}: cannot read a FITS table: {err}") from err
    return _table_frame(table)


def _table_frame(table: Table) -> pd.DataFrame:
    """astropy table -> frame of float64 (masked -> NaN) and str (masked -> '') columns, bytes decoded.

    Multidimensional columns cannot be catalogue columns and are left out.
    """
    columns = {}
    for name in table.colnames:
        column = table[name]
        if column.ndim != 1:
            continue
        data, mask = np.ma.getdata(column), np.ma.getmaskarray(column)
        if data.dtype.kind in "biuf":
            values = data.astype(np.float64)
            values[mask] = np.nan
        else:
            text = np.char.decode(data, "ascii", "replace") if data.dtype.kind == "S" else data
            values = np.where(mask, "", text.astype(str)).astype(object)
        columns[name] = values
    return pd.DataFrame(columns)


#: File extension -> (what the file is, reader returning a raw frame for :func:`_canonical`).
_FORMATS = {
    ".txt": ("an AAS machine-readable table such as Table2.txt", _read_mrt),
    ".mrt": ("an AAS machine-readable table such as Table2.txt", _read_mrt),
    ".dat": ("a CDS data file such as table2.dat, its ReadMe in the same folder", _read_cds),
    ".csv": ("a CSV table", _read_csv),
    ".parquet": ("a Parquet table", _read_parquet),
    ".pq": ("a Parquet table", _read_parquet),
    ".fits": ("a FITS binary table", _read_fits),
    ".fit": ("a FITS binary table", _read_fits),
    ".fts": ("a FITS binary table", _read_fits),
}


def _canonical(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The one validation every format goes through: map the columns, type them, check ids."""
    if len(raw) == 0:
        raise CatalogError(f"{path}: the table has no data rows; expected one row per star")
    source = _match_columns([str(name) for name in raw.columns], path)
    band_columns = [name for name in source if _BAND_COLUMN.match(name)]
    columns = {"id": _text(raw, source["id"], "id", path)}
    for name in (*_NUMERIC_CORE, *band_columns):
        columns[name] = _numbers(raw, source[name], name, path) if name in source else np.nan
    for name in EXTRA_NUMERIC:  # canonical files may carry OGLE-III's extras
        if name in source:
            columns[name] = _numbers(raw, source[name], name, path)
    for name in EXTRA_TEXT:
        if name in source:
            columns[name] = raw[source[name]].astype(str).str.strip().where(raw[source[name]].notna())
    columns["raw_label"] = _text(raw, source["raw_label"], "raw_label", path)
    columns["phase_convention"] = _phase_convention(raw, path) if "phase_convention" in source else ZTF_PHASE_CONVENTION
    frame = pd.DataFrame(columns)

    duplicated = frame["id"][frame["id"].duplicated()].unique()
    if len(duplicated):
        raise CatalogError(
            f"{path}: {len(duplicated)} id(s) occur more than once in column {source['id']!r}, "
            f"e.g. {', '.join(map(repr, duplicated[:5]))}; expected one row per star"
        )
    return frame


def _match_columns(labels: list[str], path: Path) -> dict[str, str]:
    """Canonical column -> file label, in canonical order: canonical labels if the file has them all,
    else ZTF spellings; if neither is complete, say what is missing under both readings."""
    canonical = _canonical_labels(labels)
    ztf = _ztf_labels(labels, path)
    for found in (canonical, ztf):
        if not _missing(found):
            return found
    ztf_missing = [" / ".join(ZTF_ALIASES[name]) for name in _missing(ztf) if name in ZTF_ALIASES]
    if _BAND in _missing(ztf):
        ztf_missing.append("a band with both amplitude and mean magnitude (Amp_g + gmag or Amp_r + rmag)")
    canonical_missing = [
        "raw_label (or label)" if name == "raw_label" else name
        for name in _missing(canonical) if name != _BAND
    ]
    if _BAND in _missing(canonical):
        canonical_missing.append("amp_<band> + mag_<band> for at least one band")
    raise CatalogError(
        f"{path}: required columns missing. Read as ZTF table2 (labels compared ignoring case and "
        f"punctuation) it lacks: {'; '.join(ztf_missing)}. Read as a canonical catalogue it lacks: "
        f"{'; '.join(canonical_missing)}. Found columns: {', '.join(labels)}."
    )


def _missing(found: dict[str, str]) -> list[str]:
    """Required canonical columns absent from ``found``; ``_BAND`` when no band has amp and mag."""
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    bands = {_BAND_COLUMN.match(name).groups() for name in found if _BAND_COLUMN.match(name)}
    if not any(("amp", band) in bands and ("mag", band) in bands for _, band in bands):
        missing.append(_BAND)
    return missing


def _canonical_labels(labels: list[str]) -> dict[str, str]:
    """Exact canonical labels (band names are case-sensitive); ``label`` stands in for ``raw_label``."""
    present = set(labels)
    found = {name: name for name in ("id", *_NUMERIC_CORE) if name in present}
    bands = list(dict.fromkeys(m.group(2) for m in map(_BAND_COLUMN.match, labels) if m))
    for prefix in BAND_PREFIXES:
        found.update({c: c for band in bands if (c := f"{prefix}_{band}") in present})
    found.update({name: name for name in (*EXTRA_NUMERIC, *EXTRA_TEXT, "phase_convention") if name in present})
    label = next((name for name in ("raw_label", "label") if name in present), None)
    if label:
        found["raw_label"] = label
    return found


def _ztf_labels(labels: list[str], path: Path) -> dict[str, str]:
    """ZTF spellings matched through ``ZTF_ALIASES``; two file columns for one meaning is an error."""
    by_key: dict[str, list[str]] = {}
    for label in labels:
        by_key.setdefault(_normalise(label), []).append(label)
    found = {}
    for name, aliases in ZTF_ALIASES.items():
        matches = [label for key in dict.fromkeys(map(_normalise, aliases)) for label in by_key.get(key, [])]
        if len(matches) > 1:
            raise CatalogError(
                f"{path}: columns {', '.join(map(repr, matches))} all mean ZTF {aliases[0]!r} ({name}); "
                "expected exactly one of them"
            )
        if matches:
            found[name] = matches[0]
    return found


def _normalise(label: str) -> str:
    """'log(FAP_g)', 'logFAP_g' and 'LOG_FAP_G' all become 'logfapg'."""
    return re.sub(r"[^0-9a-z]", "", label.lower())


def _numbers(raw: pd.DataFrame, label: str, name: str, path: Path) -> np.ndarray:
    """float64 values; blank cells -> NaN; any other non-number names itself and its row."""
    column = raw[label]
    if pd.api.types.is_bool_dtype(column):  # numeric to pandas, but a period of True days is no period
        raise CatalogError(
            f"{path}: column {label!r} ({name}) holds true/false values (a boolean column); expected numbers"
        )
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    text = column.astype(str).str.strip()
    blank = column.isna() | text.str.lower().isin(_BLANK_TEXT)
    values = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = values.isna() & ~blank
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise CatalogError(
            f"{path}: column {label!r} ({name}) holds the non-numeric value {text.iloc[row]!r} "
            f"in data row {row + 1}; expected a number or a blank cell"
        )
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _phase_convention(raw: pd.DataFrame, path: Path) -> pd.Series:
    """A canonical file's own ``phase_convention`` column, checked against the known conventions."""
    values = raw["phase_convention"].astype(str).str.strip()
    unknown = sorted(set(values) - set(PHASE_SIGNS))
    if unknown:
        raise CatalogError(f"{path}: column 'phase_convention' holds {', '.join(map(repr, unknown[:5]))}; "
                           f"expected one of {sorted(PHASE_SIGNS)}")
    return values


def _text(raw: pd.DataFrame, label: str, name: str, path: Path) -> pd.Series:
    """Whitespace-stripped strings; a blank cell is an error since ids and labels identify stars."""
    column = raw[label]
    text = column.astype(str).str.strip()
    blank = column.isna() | text.eq("")
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0])
        raise CatalogError(
            f"{path}: column {label!r} ({name}) is blank in data row {row + 1}; expected a value"
        )
    return text
