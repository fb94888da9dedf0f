"""One container for observed and simulated light curves (SPEC section 6).

Long format, one row per epoch: ``id, time, mag, err, band[, flag]``. Long rather than one array per
star because every survey's reader produces rows, several bands sit in one table, and the per-star
Parquet store (``pipeline.lightcurves.store``) and a catalogue join (by ``id``, SPEC section 1) both
work on rows.

Times: every reader puts its survey's times on the modified-Julian zero point (days since
JD 2400000.5), whatever the survey's own offset (OGLE HJD-2450000, Gaia BJD-2455197.5, ASAS-SN full
HJD), and records in ``time_scale`` where the clock is referred to: ``MJD`` (at the Earth, UTC),
``HJD`` (heliocentric) or ``BJD`` (barycentric). The three differ by up to ~8 minutes, which matters
for timing studies, not for period search or folding; mixing them is refused (:func:`concat`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.errors import CatalogError

COLUMNS = ("id", "time", "mag", "err", "band")
OPTIONAL_COLUMNS = ("flag",)
TIME_SCALES = ("MJD", "HJD", "BJD")
#: JD of the modified-Julian zero point every ``time`` is counted from.
MJD_ZERO_JD = 2400000.5


@dataclass
class LightCurves:
    """Light curves of many stars in long format, with where they come from.

    ``simulated`` marks curves made by :func:`pipeline.lightcurves.simulate` (SPEC section 6: simulated
    data are marked everywhere they appear); ``notes`` holds what a reader or the simulator wants a user
    to know (rows dropped by flags and why, which catalogue band stood in for a survey band).
    Columns beyond ``id, time, mag, err, band, flag`` are dropped: readers keep what they need.
    """

    data: pd.DataFrame
    time_scale: str
    source: str
    survey: str | None = None
    simulated: bool = False
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.time_scale not in TIME_SCALES:
            raise CatalogError(f"{self.source}: time scale {self.time_scale!r}; expected one of {list(TIME_SCALES)}")
        missing = [c for c in COLUMNS if c not in self.data.columns]
        if missing:
            raise CatalogError(
                f"{self.source}: light-curve columns {missing} are missing; found {list(self.data.columns)}, "
                f"expected {list(COLUMNS)} (+ optional {list(OPTIONAL_COLUMNS)})"
            )
        extra = [c for c in self.data.columns if c not in COLUMNS + OPTIONAL_COLUMNS]
        self.data = _typed(self.data.drop(columns=extra), self.source)

    @property
    def ids(self) -> list[str]:
        """The stars, in order of first appearance."""
        return list(pd.unique(self.data["id"]))

    @property
    def bands(self) -> list[str]:
        return sorted(pd.unique(self.data["band"]))

    def __len__(self) -> int:
        return len(self.data)

    def star(self, star_id: str, band: str | None = None) -> pd.DataFrame:
        """One star's epochs (one band if given), sorted by time."""
        rows = self.data[self.data["id"] == str(star_id)]
        if band is not None:
            rows = rows[rows["band"] == band]
        return rows.sort_values("time", kind="stable").reset_index(drop=True)

    def groups(self, by_band: bool = True):
        """``((id, band), frame)`` per star and band (``(id, frame)`` without bands), in id order."""
        keys = ["id", "band"] if by_band else ["id"]
        for key, frame in self.data.groupby(keys, sort=True, observed=True):
            yield (key if by_band else key[0]), frame.sort_values("time", kind="stable")

    def subset(self, ids) -> LightCurves:
        """The same container restricted to ``ids`` (unknown ids are simply absent)."""
        keep = self.data["id"].isin([str(i) for i in ids])
        return dataclasses.replace(self, data=self.data[keep].reset_index(drop=True))

    def metadata(self) -> dict:
        """Everything but the rows, as plain JSON-able values (written beside the Parquet store)."""
        return {"time_scale": self.time_scale, "source": self.source, "survey": self.survey,
                "simulated": bool(self.simulated), "notes": self.notes}


def _typed(data: pd.DataFrame, source: str) -> pd.DataFrame:
    """Canonical dtypes: text ``id``/``band``, float64 ``time``/``mag``/``err``, int ``flag``."""
    out = pd.DataFrame({
        "id": data["id"].astype(str),
        "time": pd.to_numeric(data["time"], errors="coerce").astype("float64"),
        "mag": pd.to_numeric(data["mag"], errors="coerce").astype("float64"),
        "err": pd.to_numeric(data["err"], errors="coerce").astype("float64"),
        "band": data["band"].astype(str),
    })
    if "flag" in data:
        out["flag"] = pd.to_numeric(data["flag"], errors="raise").astype("int64")
    if len(out) and not np.isfinite(out["time"]).all():
        bad = data.loc[~np.isfinite(out["time"]), "time"].iloc[0]
        raise CatalogError(f"{source}: column 'time' holds {bad!r}; expected a number of days")
    return out.reset_index(drop=True)


def concat(parts: list[LightCurves], source: str | None = None) -> LightCurves:
    """Several containers as one (e.g. the files of a folder); they must share time scale and origin."""
    if not parts:
        raise CatalogError(f"{source}: no light curves to combine")
    scales = {p.time_scale for p in parts}
    if len(scales) > 1:
        raise CatalogError(f"{source}: light curves in different time scales {sorted(scales)}; expected one")
    simulated = {p.simulated for p in parts}
    if len(simulated) > 1:
        raise CatalogError(f"{source}: observed and simulated light curves mixed; keep them apart")
    surveys = {p.survey for p in parts}
    notes: dict = {}
    for p in parts:
        for key, value in p.notes.items():
            if isinstance(value, (int, float)) and isinstance(notes.get(key, 0), (int, float)):
                notes[key] = notes.get(key, 0) + value
            elif isinstance(value, dict) and isinstance(notes.get(key, {}), dict):
                notes[key] = {**notes.get(key, {}), **value}  # e.g. each file's star positions
            else:
                notes.setdefault(key, value)
    data = pd.concat([p.data for p in parts], ignore_index=True)
    if "flag" in data:
        data["flag"] = data["flag"].fillna(0)
    return LightCurves(data, scales.pop(), source or parts[0].source,
                       surveys.pop() if len(surveys) == 1 else None, simulated.pop(), notes)


def join_catalog(lcs: LightCurves, catalog: pd.DataFrame, columns=None, how: str = "inner") -> pd.DataFrame:
    """Epoch rows with their star's catalogue columns (SPEC section 6: a catalogue joins by ``id``).

    ``how="inner"`` keeps stars present in both; stars of either side without a partner are counted
    in ``attrs["unmatched_lightcurves"]``/``attrs["unmatched_catalog"]``, so a mismatch of id spelling
    shows up instead of an empty result passing silently.
    """
    if "id" not in catalog:
        raise CatalogError(f"catalogue has no 'id' column; found {list(catalog.columns)}")
    cat = catalog if columns is None else catalog[["id", *[c for c in columns if c != "id"]]]
    cat = cat.assign(id=cat["id"].astype(str))
    clash = [c for c in cat.columns if c in lcs.data.columns and c != "id"]
    cat = cat.rename(columns={c: f"catalog_{c}" for c in clash})
    joined = lcs.data.merge(cat, on="id", how=how, validate="many_to_one")
    lc_ids, cat_ids = set(lcs.data["id"]), set(cat["id"])
    joined.attrs["unmatched_lightcurves"] = len(lc_ids - cat_ids)
    joined.attrs["unmatched_catalog"] = len(cat_ids - lc_ids)
    return joined
