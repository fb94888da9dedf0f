"""Variable Star Explorer core: catalogues -> cleaning -> representations -> models -> evaluation.

Plain functions and small dataclasses over pandas/numpy/torch, usable from a notebook or the CLI
(``python -m pipeline --help``); nothing here imports Panel.

Training pieces (``build_model``, ``cross_validate``, ``predict``, ``TrainConfig``) import torch, so
they load on first use: ``import pipeline`` stays quick for cleaning and plotting.
"""

from importlib import import_module

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

#: Names served lazily from the torch-backed modules.
_LAZY = {
    "build_model": "models",
    "count_parameters": "models",
    "MODELS": "models",
    "TrainConfig": "training",
    "fit": "training",
    "CrossValConfig": "crossval",
    "cross_validate": "crossval",
    "predict": "crossval",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    *_LAZY,
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
