"""Label maps: which raw catalogue labels make up each class of a classification task.

A label map is ``{class: [pattern, ...]}``; patterns are shell-style (``fnmatch``, case-sensitive)
over the catalogue's ``raw_label``. OGLE-III raw labels are ``Type/Subtype`` (``Cep/F``,
``LPV/Mira``) or ``Type`` alone when the subtype is missing; ZTF raw labels are its ``Type``.
Raw labels no class claims are dropped by cleaning (and counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from .errors import ConfigError

LabelMap = Mapping[str, Sequence[str]]

PRESETS: dict[str, dict[str, list[str]]] = {
    # Thesis: CEPII merged into CEP, Mira + SR into LPV.
    "ztf-5": {
        "CEP": ["CEP", "CEPII"],
        "DSCT": ["DSCT"],
        "EA": ["EA"],
        "RR": ["RR"],
        "LPV": ["Mira", "SR"],
    },
    "ztf-10": {
        "BYDra": ["BYDra"],
        "CEP": ["CEP", "CEPII"],
        "DSCT": ["DSCT"],
        "EA": ["EA"],
        "EW": ["EW"],
        "Mira": ["Mira"],
        "RR": ["RR"],
        "RRc": ["RRc"],
        "RSCVN": ["RSCVN"],
        "SR": ["SR"],
    },
    "ogle-5": {
        "CEP": ["Cep", "Cep/*", "T2Cep", "T2Cep/*"],
        "DSCT": ["DSCT", "DSCT/*"],
        "RR": ["RRLyr/RRab"],
        "RRc": ["RRLyr/RRc"],
        "LPV": ["LPV/Mira", "LPV/SRV"],
    },
    "ogle-10": {
        "CEP_F": ["Cep/F"],
        "CEP_1O": ["Cep/1"],
        "CEPII": ["T2Cep", "T2Cep/*"],
        "RRab": ["RRLyr/RRab"],
        "RRc": ["RRLyr/RRc"],
        "RRd": ["RRLyr/RRd"],
        "DSCT": ["DSCT", "DSCT/*"],
        "Mira": ["LPV/Mira"],
        "SR": ["LPV/SRV"],
        "OSARG": ["LPV/OSARG"],
    },
    # Richards et al. 2012's ASAS training set (pipeline.lightcurves.asas): raw labels are its
    # Train_Class names. asas-8 keeps the classes this project has elsewhere, named as in ogle-10 and
    # ztf-10; asas-28 keeps every class as it is (the paper's taxonomy).
    "asas-8": {
        "RRab": ["RR_Lyrae_FM"],
        "RRc": ["RR_Lyrae_FO"],
        "CEP": ["Classical_Cepheid"],
        "Mira": ["Mira"],
        "SR": ["Semireg_PV"],
        "EW": ["W_Ursae_Maj"],
        "EA": ["Beta_Persei"],
        "DSCT": ["Delta_Scuti"],
    },
    "asas-28": {name: [name] for name in (
        "Mira", "Classical_Cepheid", "RR_Lyrae_FM", "W_Ursae_Maj", "Semireg_PV", "LSP", "RSG", "Beta_Lyrae",
        "SARG_B", "RR_Lyrae_FO", "Delta_Scuti", "Beta_Persei", "RV_Tauri", "ChemPeculiar", "Weakline_T_Tauri",
        "Beta_Cephei", "RS_CVn", "RCB", "SARG_A", "PopII_Cepheid", "Herbig_AEBE", "Pulsating_Be",
        "MultiMode_Cepheid", "ClassT_Tauri", "RR_Lyrae_DM", "S_Doradus", "SX_Phe", "Ellipsoidal")},
}

#: The preset a catalogue source starts with in the app and CLI.
DEFAULT_PRESET = {"ogle3": "ogle-5"}


def resolve(label_map: str | LabelMap) -> dict[str, list[str]]:
    """A preset name or a user mapping, checked: every class has at least one pattern."""
    if isinstance(label_map, str):
        try:
            return {k: list(v) for k, v in PRESETS[label_map].items()}
        except KeyError:
            raise ConfigError(
                f"unknown label preset {label_map!r}; expected one of {sorted(PRESETS)} "
                "or a mapping {class: [raw label patterns]}"
            ) from None
    resolved = {}
    for cls, patterns in dict(label_map).items():
        if isinstance(patterns, str):
            patterns = [patterns]
        patterns = list(patterns)
        if not patterns or not all(isinstance(p, str) and p for p in patterns):
            raise ConfigError(f"label map class {cls!r} needs a list of raw-label patterns, got {patterns!r}")
        resolved[str(cls)] = patterns
    if not resolved:
        raise ConfigError("label map is empty: define at least one class")
    return resolved


def apply(raw_labels: pd.Series, label_map: str | LabelMap) -> pd.Series:
    """Class of each star under the map (NaN where no class claims the raw label).

    A raw label claimed by two classes is an error: the map would be ambiguous.
    """
    mapping = resolve(label_map)
    classes = list(mapping)
    # Match each distinct raw label once (a catalogue has tens, not 400,000): factorize, map, take
    codes, uniques = pd.factorize(raw_labels)
    owned = np.full(len(uniques) + 1, -1, dtype=np.int64)  # the last slot: missing raw labels (code -1)
    for position, raw in enumerate(str(u) for u in uniques):
        owners = [cls for cls, pats in mapping.items() if any(fnmatchcase(raw, p) for p in pats)]
        if len(owners) > 1:
            raise ConfigError(f"raw label {raw!r} matches several classes {owners}; make the label map unambiguous")
        if owners:
            owned[position] = classes.index(owners[0])
    return pd.Series(
        pd.Categorical.from_codes(owned[codes], categories=classes), index=raw_labels.index, name="label"
    )


def class_names(label_map: str | LabelMap) -> list[str]:
    """Class names in the map's order (the order of confusion-matrix rows and model outputs)."""
    return list(resolve(label_map))


def encode(labels: pd.Series, classes: Sequence[str]) -> np.ndarray:
    """Integer codes of ``labels`` in ``classes`` order; unknown labels are an error."""
    codes = pd.Index(list(classes)).get_indexer(labels.astype(object))
    if (codes < 0).any():
        unknown = sorted(set(labels[codes < 0].astype(str)))
        raise ConfigError(f"labels {unknown} are not among the classes {list(classes)}")
    return codes.astype(np.int64)
