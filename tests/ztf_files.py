"""Small generated copies of the ZTF periodic-variable table (Chen et al. 2020, J/ApJS/249/18 table2),
written in each form the real table circulates in, so the loaders are tested against real layouts.

``ztf_table`` builds the table; ``expected_canonical`` builds, independently of ``pipeline.ztf``, the
canonical frame every form must load into; the ``write_*`` helpers write the real file layouts.
"""

from __future__ import annotations

import re
from functools import partial
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.table import Column, MaskedColumn, Table

TYPES = ("EW", "EA", "BYDra", "RSCVN", "SR", "Mira", "RR", "RRc", "DSCT", "CEP", "CEPII")

#: (period range in days, r-band amplitude range in mag) per type, roughly as in the catalogue.
_TYPE_RANGES = {
    "EW": ((0.22, 0.6), (0.2, 0.7)),
    "EA": ((0.5, 8.0), (0.3, 1.2)),
    "BYDra": ((1.0, 15.0), (0.05, 0.3)),
    "RSCVN": ((2.0, 30.0), (0.1, 0.5)),
    "SR": ((30.0, 300.0), (0.3, 1.5)),
    "Mira": ((120.0, 600.0), (2.0, 6.0)),
    "RR": ((0.45, 0.8), (0.5, 1.1)),
    "RRc": ((0.25, 0.42), (0.3, 0.5)),
    "DSCT": ((0.04, 0.2), (0.1, 0.6)),
    "CEP": ((1.5, 40.0), (0.3, 1.0)),
    "CEPII": ((1.2, 25.0), (0.4, 1.0)),
}

#: The 27 columns of table2 in file order, with (unit, explanation) as an AAS table gives them.
ZTF_COLUMNS = {
    "ID": ("", "ZTF designation (JHHMMSS.ss+DDMMSS.s)"),
    "SourceID": ("", "ZTF source identifier"),
    "RAdeg": ("deg", "Right Ascension in decimal degrees (J2000)"),
    "DEdeg": ("deg", "Declination in decimal degrees (J2000)"),
    "Per": ("d", "Period"),
    "R21": ("", "Fourier amplitude ratio R21"),
    "phi21": ("rad", "Fourier phase difference phi21"),
    "T0": ("d", "Reference epoch of minimum (MJD)"),
    "gmag": ("mag", "Mean ZTF g band magnitude"),
    "rmag": ("mag", "Mean ZTF r band magnitude"),
    "Per_g": ("d", "Period from the g band"),
    "Per_r": ("d", "Period from the r band"),
    "Num_g": ("", "Number of g band epochs"),
    "Num_r": ("", "Number of r band epochs"),
    "R21_g": ("", "R21 in the g band"),
    "R21_r": ("", "R21 in the r band"),
    "phi21_g": ("rad", "phi21 in the g band"),
    "phi21_r": ("rad", "phi21 in the r band"),
    "R2_g": ("", "Goodness of the g band Fourier fit"),
    "R2_r": ("", "Goodness of the r band Fourier fit"),
    "Amp_g": ("mag", "Amplitude in the g band"),
    "Amp_r": ("mag", "Amplitude in the r band"),
    "log(FAP_g)": ("", "Log false-alarm probability, g band"),
    "log(FAP_r)": ("", "Log false-alarm probability, r band"),
    "Type": ("", "Variable type (1)"),
    "Dmin_g": ("mag", "Depth difference of the two minima, g band"),
    "Dmin_r": ("mag", "Depth difference of the two minima, r band"),
}

#: Column labels of the exports seen in public code, as {VizieR label: export label}.
SPELLINGS = {
    "vizier": {},
    "ingester": {"log(FAP_g)": "logFAP_g", "log(FAP_r)": "logFAP_r"},
    "thesis": {
        "T0": "T_0",
        "R2_g": "R^2_g",
        "R2_r": "R^2_r",
        "Dmin_g": "Delta_min_g",
        "Dmin_r": "Delta_min_r",
    },
    "snake": {"log(FAP_g)": "log_FAP_g", "log(FAP_r)": "log_FAP_r", "T0": "T_0"},
    "lowercase": {name: name.lower() for name in ZTF_COLUMNS},
}

#: Row (0-based) observed in r only: its g-band quantities, epoch count included, are blank.
NO_G_ROW = 3


def ztf_table(n_rows: int = 20, seed: int = 2020) -> Table:
    """A table2 look-alike: every type, realistic ranges, blank g columns for one r-only star and
    blank Dmin for stars that are not eclipsing binaries."""
    rng = np.random.default_rng(seed)
    types = [TYPES[i % len(TYPES)] for i in range(n_rows)]
    ra = np.round(rng.uniform(0, 360, n_rows), 6)
    dec = np.round(rng.uniform(-30, 89, n_rows), 6)

    def pick(ranges, log):
        low, high = np.array(ranges).T
        draw = rng.uniform(size=n_rows)
        return np.exp(np.log(low) + draw * np.log(high / low)) if log else low + draw * (high - low)

    period = np.round(pick([_TYPE_RANGES[t][0] for t in types], log=True), 7)
    amp_r = np.round(pick([_TYPE_RANGES[t][1] for t in types], log=False), 3)
    eclipsing = np.isin(types, ("EW", "EA"))
    no_g = np.arange(n_rows) == NO_G_ROW

    def column(name, values, mask=None):
        """Only columns with blanks are nullable (``?`` in the byte-by-byte header), as in AAS tables."""
        unit, description = ZTF_COLUMNS[name]
        kind = Column if mask is None else partial(MaskedColumn, mask=mask)
        return kind(values, name=name, unit=unit or None, description=description)

    rmag = np.round(rng.uniform(13, 20.5, n_rows), 3)
    columns = [
        column("ID", [_designation(a, d) for a, d in zip(ra, dec)]),
        column("SourceID", rng.integers(10**11, 10**12, n_rows)),
        column("RAdeg", ra),
        column("DEdeg", dec),
        column("Per", period),
        column("R21", np.round(rng.uniform(0.05, 0.6, n_rows), 3)),
        column("phi21", np.round(rng.uniform(0, 2 * np.pi, n_rows), 3)),
        column("T0", np.round(rng.uniform(58194, 58700, n_rows), 5)),
        column("gmag", np.round(rmag + rng.uniform(0.2, 1.5, n_rows), 3), no_g),
        column("rmag", rmag),
        column("Per_g", np.round(period * (1 + rng.normal(0, 1e-5, n_rows)), 7), no_g),
        column("Per_r", np.round(period * (1 + rng.normal(0, 1e-5, n_rows)), 7)),
        column("Num_g", rng.integers(20, 400, n_rows), no_g),
        column("Num_r", rng.integers(30, 600, n_rows)),
        column("R21_g", np.round(rng.uniform(0.05, 0.6, n_rows), 3), no_g),
        column("R21_r", np.round(rng.uniform(0.05, 0.6, n_rows), 3)),
        column("phi21_g", np.round(rng.uniform(0, 2 * np.pi, n_rows), 3), no_g),
        column("phi21_r", np.round(rng.uniform(0, 2 * np.pi, n_rows), 3)),
        column("R2_g", np.round(rng.uniform(0.1, 0.99, n_rows), 3), no_g),
        column("R2_r", np.round(rng.uniform(0.1, 0.99, n_rows), 3)),
        column("Amp_g", np.round(amp_r * rng.uniform(1.0, 1.5, n_rows), 3), no_g),
        column("Amp_r", amp_r),
        column("log(FAP_g)", np.round(rng.uniform(-30, -1, n_rows), 2), no_g),
        column("log(FAP_r)", np.round(rng.uniform(-30, -1, n_rows), 2)),
        column("Type", types),
        column("Dmin_g", np.round(rng.uniform(0, 0.3, n_rows), 3), ~eclipsing | no_g),
        column("Dmin_r", np.round(rng.uniform(0, 0.3, n_rows), 3), ~eclipsing),
    ]
    return Table(columns)


def _designation(ra: float, dec: float) -> str:
    """ZTFJhhmmss.ss+ddmmss.s, 22 characters like the real IDs."""
    hours, dec_sign = ra / 15.0, "+" if dec >= 0 else "-"
    h, m = int(hours), int(hours * 60) % 60
    s = (hours * 3600) % 60
    d_abs = abs(dec)
    dd, dm = int(d_abs), int(d_abs * 60) % 60
    ds = (d_abs * 3600) % 60
    return f"ZTFJ{h:02d}{m:02d}{min(s, 59.99):05.2f}{dec_sign}{dd:02d}{dm:02d}{min(ds, 59.9):04.1f}"


def expected_canonical(table: Table) -> pd.DataFrame:
    """The canonical frame for ``table``, built by hand from the contract in SPEC section 1."""

    def values(name):
        return np.ma.filled(table[name].astype(np.float64), np.nan)

    nan = np.full(len(table), np.nan)
    frame = {
        "id": pd.Series(list(table["ID"])).astype(str),
        "ra": values("RAdeg"),
        "dec": values("DEdeg"),
        "period": values("Per"),
        "r21": values("R21"),
        "phi21": values("phi21"),
        "r31": nan,
        "phi31": nan,
        "amp_g": values("Amp_g"),
        "amp_r": values("Amp_r"),
        "mag_g": values("gmag"),
        "mag_r": values("rmag"),
        "n_obs_g": values("Num_g"),
        "n_obs_r": values("Num_r"),
        "log_fap_g": values("log(FAP_g)"),
        "log_fap_r": values("log(FAP_r)"),
        "r2_g": values("R2_g"),
        "r2_r": values("R2_r"),
        "raw_label": pd.Series(list(table["Type"])).astype(str),
        "phase_convention": "cos+",  # Chen+2020's Fourier series, cos(2 pi i t/P + phi_i)
    }
    return pd.DataFrame(frame)


def relabel(table: Table, spelling: str) -> Table:
    """A copy of ``table`` with the column labels of one export (see ``SPELLINGS``)."""
    renamed = table.copy()
    for old, new in SPELLINGS[spelling].items():
        renamed.rename_column(old, new)
    return renamed


def write_mrt(table: Table, path: Path, notes: int = 2) -> Path:
    """Write an AAS machine-readable table as the journal distributes it (``Table2.txt``).

    astropy writes the byte-by-byte layout; the title block and the notes are filled in as in AAS
    files, and ``notes`` sets how many note lines there are, so the header length varies.
    """
    text = mrt_text(table)
    text = text.replace(
        "Title:\nAuthors:\nTable:\n",
        "Title: The Zwicky Transient Facility Catalog of Periodic Variable Stars \n"
        "Authors: Chen X., Wang S., Deng L., de Grijs R., Liu C., Tian H. \n"
        "Table: ZTF periodic variable stars\n",
        1,
    )
    text = text.replace("Description of file: table.dat", "Description of file: apjsab9cae_mrt.txt", 1)
    note_lines = [f"Note (1): Type as follows, part {i + 1}: " + " ".join(TYPES) for i in range(notes)]
    text = text.replace("Notes:\n", "".join(line + "\n" for line in note_lines), 1)
    path.write_text(text)
    return path


def write_cds(table: Table, folder: Path, readme: bool = True) -> Path:
    """Write the CDS pair: ``table2.dat`` (data only) and, unless told not to, ``ReadMe`` beside it."""
    header, data = _split_mrt(mrt_text(table))
    data_path = folder / "table2.dat"
    data_path.write_text(data)
    if readme:
        byte_by_byte = header[header.index("Byte-by-byte") :].replace("table.dat", "table2.dat", 1)
        note = "Note (1): Type as follows: " + " ".join(TYPES) + "\n"
        byte_by_byte = byte_by_byte.replace("Notes:\n", note)
        width = max(len(line) for line in data.splitlines())
        (folder / "ReadMe").write_text(_CDS_README.format(
            width=width, records=len(table), byte_by_byte=byte_by_byte
        ))
    return data_path


def write_csv(table: Table, path: Path, spelling: str = "vizier") -> Path:
    """A CSV export; blank cells where the table is blank."""
    relabel(table, spelling).write(path, format="csv", overwrite=True)
    return path


def write_parquet(table: Table, path: Path, spelling: str = "vizier") -> Path:
    """A Parquet export through pandas, as a user with the table in a DataFrame would make one."""
    relabel(table, spelling).to_pandas().to_parquet(path)
    return path


def write_fits(table: Table, path: Path, spelling: str = "vizier") -> Path:
    """A FITS binary-table export, as VizieR or astropy writes one."""
    relabel(table, spelling).write(path, format="fits", overwrite=True)
    return path


def replace_field(header: str, data_path: Path, row: int, label: str, text: str) -> None:
    """Overwrite one fixed-width field of data row ``row`` (0-based), located by the byte-by-byte header."""
    match = re.search(rf"^\s*(\d+)-\s*(\d+)\s+\S+\s+\S+\s+{re.escape(label)}\s", header, re.MULTILINE)
    start, end = int(match.group(1)) - 1, int(match.group(2))
    lines = data_path.read_text().splitlines(keepends=True)
    first_data = len(lines) - sum(1 for line in lines if line.startswith("ZTFJ"))
    line = lines[first_data + row]
    lines[first_data + row] = line[:start] + text.rjust(end - start) + line[end:]
    data_path.write_text("".join(lines))


def mrt_text(table: Table) -> str:
    """``table`` as astropy writes an MRT file; its byte-by-byte header gives the field positions."""
    buffer = StringIO()
    table.write(buffer, format="mrt")
    return buffer.getvalue()


def _split_mrt(text: str) -> tuple[str, str]:
    """Header and data of an MRT text: the data start after the last dashed line."""
    lines = text.splitlines(keepends=True)
    last_rule = max(i for i, line in enumerate(lines) if line.startswith("-----"))
    return "".join(lines[: last_rule + 1]), "".join(lines[last_rule + 1 :])


_CDS_README = """\
J/ApJS/249/18      ZTF catalog of periodic variable stars        (Chen+, 2020)
================================================================================
The Zwicky Transient Facility catalog of periodic variable stars.
    Chen X., Wang S., Deng L., de Grijs R., Liu C., Tian H.
    <Astrophys. J. Suppl. Ser., 249, 18 (2020)>
    =2020ApJS..249...18C    (SIMBAD/NED BibCode)
================================================================================
ADC_Keywords: Variable stars ; Photometry, ugriz ; Optical
Keywords: catalogs - stars: variables: general

Abstract:
    Generated test copy: a few rows in the layout of the real catalogue.

File Summary:
--------------------------------------------------------------------------------
 FileName      Lrecl  Records   Explanations
--------------------------------------------------------------------------------
ReadMe            80        .   This file
table2.dat  {width:9d} {records:8d}   ZTF periodic variable stars
--------------------------------------------------------------------------------

{byte_by_byte}
History:
    From electronic version of the journal

================================================================================
(End)                                      Prepared by [AAS], [CDS]    20-Jul-2020
"""
