"""Light curves matched to catalogue stars by position (astropy), for files named by another survey.

A MACHO light curve is named by its MACHO field.tile.sequence, an OGLE-III catalogue row by its OGLE
id; the sky position is what they share. Matching keeps the nearest catalogue star within a radius
(2 arcsec by default: both surveys' astrometry is good to a fraction of that, and the LMC's crowded
fields put unrelated stars a few arcsec apart), one catalogue star per light curve.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.coordinates import SkyCoord

from pipeline.errors import CatalogError

from .container import LightCurves

MATCH_RADIUS_ARCSEC = 2.0


def positions(lcs: LightCurves) -> pd.DataFrame:
    """``id, ra, dec`` (degrees) of the stars whose files carried a position (``notes["positions"]``)."""
    known = lcs.notes.get("positions", {})
    if not known:
        raise CatalogError(f"{lcs.source}: the light curves carry no star positions; expected files with "
                           "coordinates in their header (e.g. MACHO .mjd) to match by position")
    return pd.DataFrame([(star_id, ra, dec) for star_id, (ra, dec) in known.items()], columns=["id", "ra", "dec"])


def cross_match(stars: pd.DataFrame, catalog: pd.DataFrame,
                radius_arcsec: float = MATCH_RADIUS_ARCSEC) -> pd.DataFrame:
    """For each row of ``stars`` (``id, ra, dec``) the nearest ``catalog`` star within the radius.

    Returns ``id, catalog_id, separation_arcsec`` for the matched stars only.
    """
    missing = [c for c in ("ra", "dec") if c not in catalog]
    if missing:
        raise CatalogError(f"catalogue lacks column(s) {missing}; a positional match needs ra and dec in degrees")
    usable = catalog[np.isfinite(catalog["ra"]) & np.isfinite(catalog["dec"])]
    if usable.empty or stars.empty:
        return pd.DataFrame(columns=["id", "catalog_id", "separation_arcsec"])
    sky = SkyCoord(usable["ra"].to_numpy() * u.deg, usable["dec"].to_numpy() * u.deg)
    wanted = SkyCoord(stars["ra"].to_numpy(float) * u.deg, stars["dec"].to_numpy(float) * u.deg)
    index, separation, _ = wanted.match_to_catalog_sky(sky)
    close = separation.arcsec <= radius_arcsec
    return pd.DataFrame({"id": stars["id"].astype(str).to_numpy()[close],
                         "catalog_id": usable["id"].astype(str).to_numpy()[index[close]],
                         "separation_arcsec": separation.arcsec[close]}).reset_index(drop=True)


def renamed_to_catalog(lcs: LightCurves, matches: pd.DataFrame) -> LightCurves:
    """The matched stars' curves under their catalogue ids (the survey ids kept in ``notes``)."""
    names = dict(zip(matches["id"], matches["catalog_id"]))
    data = lcs.data[lcs.data["id"].isin(names)].assign(id=lambda d: d["id"].map(names))
    notes = {**lcs.notes, "catalog_ids": {new: old for old, new in names.items()},
             "positions": {names[k]: v for k, v in lcs.notes.get("positions", {}).items() if k in names}}
    return dataclasses.replace(lcs, data=data.reset_index(drop=True), notes=notes)
