"""The canonical catalogue schema (SPEC section 1): one row per star, the same columns for every survey.

Band-dependent quantities are spelt ``<quantity>_<band>`` (``amp_r``, ``mag_I``); the bands a
catalogue carries are read off its columns, never stored beside it, so a filtered or sliced frame
always knows its own bands.
"""

from __future__ import annotations

import pandas as pd

#: Columns every canonical catalogue has (band columns come on top).
CORE_COLUMNS = ("id", "ra", "dec", "period", "r21", "phi21", "r31", "phi31", "raw_label")
#: How a catalogue's Fourier phases enter its series (SPEC sections 1 and 3), per star in the
#: ``phase_convention`` column: ``cos+`` is ``m = A0 + sum A_k cos(k w t + phi_k)`` (OGLE-III, ZTF
#: Chen+2020), ``cos-`` the same with ``- phi_k``. The sign ``s`` of the reconstruction formula.
PHASE_SIGNS = {"cos+": 1.0, "cos-": -1.0}
#: The convention of a catalogue that does not say (a canonical file without the column).
DEFAULT_PHASE_CONVENTION = "cos+"
#: Numbers OGLE-III carries beyond the core (SPEC section 1); canonical files may carry them too.
EXTRA_NUMERIC = ("period_err", "t0", "period_2", "amp_2", "period_3", "amp_3")
EXTRA_TEXT = ("field", "region")
#: Per-band quantities, as prefixes of ``<prefix>_<band>`` columns.
BAND_PREFIXES = ("amp", "mag", "n_obs", "log_fap", "r2")
#: Bands in the order a light curve is reconstructed from, first present wins (ZTF r as the thesis,
#: then OGLE's I).
PRIMARY_BAND_PREFERENCE = ("r", "I", "g", "V")


def bands(catalog: pd.DataFrame, prefix: str = "amp") -> list[str]:
    """Bands with a ``<prefix>_<band>`` column, in column order (``["g", "r"]`` for ZTF amplitudes).

    A numeric suffix is no band: ``amp_2``/``period_2`` are the secondary periods' amplitudes of
    multi-periodic OGLE-III stars (SPEC section 1).
    """
    start = prefix + "_"
    return [c[len(start):] for c in catalog.columns
            if c.startswith(start) and "_" not in c[len(start):] and not c[len(start):].isdigit()]


def primary_band(catalog: pd.DataFrame) -> str:
    """The band light curves are reconstructed in: needs both an amplitude and a mean magnitude."""
    usable = set(bands(catalog, "amp")) & set(bands(catalog, "mag"))
    for band in PRIMARY_BAND_PREFERENCE:
        if band in usable:
            return band
    if usable:
        return sorted(usable)[0]
    raise ValueError(
        "catalogue has no band with both amp_<band> and mag_<band> columns; "
        f"found columns {list(catalog.columns)}"
    )


def colour(catalog: pd.DataFrame) -> pd.Series | None:
    """Blue minus red mean magnitude (g - r for ZTF, V - I for OGLE), or None without two bands."""
    mags = set(bands(catalog, "mag"))
    for blue, red in (("g", "r"), ("V", "I")):
        if {blue, red} <= mags:
            return catalog[f"mag_{blue}"] - catalog[f"mag_{red}"]
    return None


def phase_convention(catalog: pd.DataFrame) -> pd.Series:
    """Each star's phase convention (``cos+``/``cos-``), the default where the catalogue has none."""
    if "phase_convention" not in catalog:
        return pd.Series(DEFAULT_PHASE_CONVENTION, index=catalog.index)
    return catalog["phase_convention"].astype(object).fillna(DEFAULT_PHASE_CONVENTION)
