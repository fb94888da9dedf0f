"""A few catalogue stars in the canonical OGLE-III schema, with typical OGLE-III numbers per class."""

import numpy as np
import pandas as pd

NAN = np.nan
COLUMNS = ["id", "ra", "dec", "period", "amp_I", "mag_I", "mag_V", "r21", "phi21", "r31", "phi31",
           "period_2", "amp_2", "raw_label"]
STARS = [
    # RRab: the median OGLE-III RRab Fourier shape (SPEC section 1: phi21 4.34, phi31 2.56, cos+).
    ("RRAB-1", 80.0, -69.0, 0.5671, 0.65, 16.5, 17.1, 0.47, 4.34, 0.31, 2.56, NAN, NAN, "RRLyr/RRab"),
    ("RRAB-2", 82.0, -70.0, 0.6212, 0.55, 16.8, 17.4, 0.45, 4.30, 0.29, 2.60, NAN, NAN, "RRLyr/RRab"),
    ("RRAB-3", 270.0, -30.0, 0.4803, 0.75, 15.9, 17.2, 0.49, 4.05, 0.33, 2.20, NAN, NAN, "RRLyr/RRab"),
    ("CEP-1", 81.0, -69.5, 3.9872, 0.45, 15.2, 15.9, 0.40, 4.60, 0.21, 3.10, NAN, NAN, "Cep/F"),
    ("CEP-2", 12.0, -72.0, 11.613, 0.55, 14.1, 14.9, 0.38, 4.80, 0.18, 3.40, NAN, NAN, "Cep/F"),
    ("CEP-3", 79.0, -68.0, 1.8904, 0.40, 16.0, 16.6, 0.35, 4.45, 0.20, 2.90, NAN, NAN, "Cep/F"),
    ("MIRA-1", 83.0, -69.0, 310.0, 1.8, 12.5, 16.0, NAN, NAN, NAN, NAN, NAN, NAN, "LPV/Mira"),
    ("OSARG-1", 84.0, -69.0, 25.1, 0.03, 13.5, 15.6, NAN, NAN, NAN, NAN, 45.3, 0.02, "LPV/OSARG"),
]


def catalog(rows=STARS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["phase_convention"] = "cos+"
    return frame


def constant_stars(mags, band="I") -> pd.DataFrame:
    """Stars without variability (zero amplitude) at the given mean magnitudes: pure noise."""
    n = len(mags)
    return pd.DataFrame({"id": [f"CONST-{k}" for k in range(n)], "ra": np.linspace(0, 350, n), "period": 1.0,
                         f"amp_{band}": 0.0, f"mag_{band}": mags, "r21": NAN, "phi21": NAN, "raw_label": "CONST"})
