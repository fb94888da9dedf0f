"""Observed and simulated light curves (SPEC section 6).

Container and store (``container``, ``store``), readers for survey files (``readers``, entry point
``read_lightcurves`` in ``load``), survey cadences and noise (``cadence``), the simulator of catalogue
stars (``simulate``), positional cross-match to a catalogue (``crossmatch``), Lomb-Scargle period search (``periods``), folding and seed 002's phase curves
(``folding``), Mahabal dm-dt images (``dmdt``), light-curve features (``features``), and the built-in
ASAS training set of Richards et al. 2012 (``asas``, imported as ``pipeline.lightcurves.asas``: it is also
the ``python -m`` step of ``make data``, which must not be imported twice). The same per-star steps over
a whole survey, partition by partition on a Dask cluster, are ``pipeline.lightcurves.survey`` (imported
on its own: it loads ``distributed``). Nothing here imports torch.
"""

from .cadence import SURVEYS
from .container import LightCurves, concat, join_catalog
from .crossmatch import cross_match
from .dmdt import PRESETS as DMDT_PRESETS
from .dmdt import dmdt_image, dmdt_images
from .features import feature_names, lightcurve_features
from .folding import PhaseCurves, clean_seed002, fold, interpolate_phase, phase_curves
from .load import read_lightcurves, sniff_format
from .periods import best_period, find_periods, periodogram
from .simulate import simulate
from .store import read_store, write_store

__all__ = [
    "DMDT_PRESETS",
    "SURVEYS",
    "LightCurves",
    "PhaseCurves",
    "best_period",
    "clean_seed002",
    "concat",
    "cross_match",
    "dmdt_image",
    "dmdt_images",
    "feature_names",
    "find_periods",
    "fold",
    "interpolate_phase",
    "join_catalog",
    "lightcurve_features",
    "periodogram",
    "phase_curves",
    "read_lightcurves",
    "read_store",
    "simulate",
    "sniff_format",
    "write_store",
]
