"""Variable Star Explorer core: catalogues -> cleaning -> representations -> models -> evaluation.

Plain functions and small dataclasses over pandas/numpy/torch, usable from a notebook or the CLI
(``python -m pipeline --help``); nothing here imports Panel.
"""

from .catalogs import list_sources, load_catalog
from .cleaning import CleaningConfig, CleaningResult, clean
from .errors import CatalogError, ConfigError, RunError, TrainingError
from .labels import PRESETS as LABEL_PRESETS
from .representations import (
    LEAK_WARNING,
    catalog_features,
    class_mean_images,
    dense_features,
    dmdt_images,
    phase_grid,
    reconstruct,
)

__all__ = [
    "CatalogError",
    "CleaningConfig",
    "CleaningResult",
    "ConfigError",
    "LABEL_PRESETS",
    "LEAK_WARNING",
    "RunError",
    "TrainingError",
    "catalog_features",
    "class_mean_images",
    "clean",
    "dense_features",
    "dmdt_images",
    "list_sources",
    "load_catalog",
    "phase_grid",
    "reconstruct",
]
