"""Observed and simulated light curves (SPEC section 6): container, readers, Parquet store."""

from .container import LightCurves, concat, join_catalog
from .load import read_lightcurves
from .store import read_store, write_store

__all__ = ["LightCurves", "concat", "join_catalog", "read_lightcurves", "read_store", "write_store"]
