"""Model inputs from observed light curves (issue 10, SPEC section 6), for ``pipeline.crossval``.

The models of ``MODEL_INPUTS`` kind ``folded`` (seed 002's phase-folded 1D CNN), ``lc_dmdt`` (a
2D-CNN on Mahabal dm-dt images), ``sequence`` (seed 001's BiGRU) and ``sequence_lc_dmdt`` (both a
sequence and a dm-dt image, for seed 001's compound RNN+CNN), and the tree baseline on
light-curve features, read a star's epochs
rather than its catalogue row. Each input is built from one star's own epochs (and, for folding, its
``period`` column) and reads no label and no other star, so inputs are built once for all stars and
sliced per fold: no fold can see another's validation stars.

Every input starts from the same usable epochs: finite time, magnitude and error, ``0 < err < 99``
(seed 002's sentinel cut, ``pipeline.lightcurves.folding``), one epoch per repeated time. A band with
fewer than ``min_points`` of them is left out, and a star with no band left (or no light curve, or,
for folding, no period) is dropped before the folds are drawn, counted by reason in the record that
goes into the run's config.json.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ConfigError, TrainingError
from .lightcurves import (SURVEYS, LightCurves, dmdt_images, find_periods, lightcurve_features, phase_curves,
                          read_lightcurves, simulate)
from .lightcurves.folding import MAX_ERR, N_PHASE_POINTS
from .lightcurves.sequences import sequence_inputs

#: Per-curve normalisations of folded curves (seed 002 leaves it open; its note's best reading is
#: per-curve): ``zscore`` (mean 0, std 1), ``minmax`` (onto [0, 1], 0 the brightest point), or
#: ``none`` (magnitudes as observed).
FOLDED_NORMS = ("zscore", "minmax", "none")
#: Where the tree baseline's numbers come from.
FEATURE_SOURCES = ("catalog", "lightcurve")
#: Model input kinds (``pipeline.models.MODEL_INPUTS``) built here; ``features`` is the trees'.
#: ``sequence_lc_dmdt`` is both a sequence (``x``) and a dm-dt image (``images``) per star (seed 001's compound network).
KINDS = ("folded", "lc_dmdt", "sequence", "sequence_lc_dmdt", "features")
NETWORK_KINDS = ("folded", "lc_dmdt", "sequence", "sequence_lc_dmdt")
#: Kinds built at each star's period (its ``period`` column), and those holding a sequence or a dm-dt image.
PERIOD_KINDS = ("folded", "sequence", "sequence_lc_dmdt")
SEQUENCE_KINDS = ("sequence", "sequence_lc_dmdt")
DMDT_KINDS = ("lc_dmdt", "sequence_lc_dmdt")
#: The numbers seed 001's dense branch reads beside a sequence: the period as its log (the seed fed days
#: raw; periods span 0.05 to 1,000 d, so standardised raw days squeeze every short-period class together)
#: and the amplitude in mag.
SEQUENCE_FEATURES = ("log10_period", "amplitude")
CATALOGUE_PERIOD = "catalogue (the stars' period column)"


@dataclass
class ObservedInputs:
    """The stars kept (input order, index reset), their network input ``x`` or tree ``features`` (one
    row per kept star, same order), ``record``: what the run config says about them, and the second
    input ``images`` of kind ``sequence_lc_dmdt`` (None for the other kinds)."""

    stars: pd.DataFrame
    x: np.ndarray | None
    features: pd.DataFrame | None
    record: dict
    images: np.ndarray | None = None

    @property
    def spec(self) -> dict:
        """The ``inputs`` entry of a network run's config (what ``predict`` rebuilds)."""
        kind = self.record["kind"]
        return {"kind": kind, "channels": self.record.get("channels", []),
                "features": list(SEQUENCE_FEATURES) if kind in SEQUENCE_KINDS else [],
                "required": ["id", "period"] if kind in PERIOD_KINDS else ["id"]}

    @property
    def network_features(self) -> np.ndarray | None:
        """The dense branch's numbers for a network (seed 001's period and amplitude), else None."""
        if self.record["kind"] not in SEQUENCE_KINDS:
            return None
        return self.features[list(SEQUENCE_FEATURES)].to_numpy(np.float32)


def usable_epochs(lcs: LightCurves, min_points: int) -> tuple[LightCurves, dict]:
    """``lcs`` with only usable epochs, and only bands with at least ``min_points`` of them.

    Returns the reduced container and the number of epochs and (star, band) series left out.
    """
    data = lcs.data
    good = (np.isfinite(data["time"]) & np.isfinite(data["mag"]) & np.isfinite(data["err"])
            & (data["err"] > 0) & (data["err"] < MAX_ERR))
    kept = data[good].drop_duplicates(["id", "band", "time"])
    size = kept.groupby(["id", "band"], observed=True)["time"].transform("size")
    enough = kept[size >= min_points]
    series = data.groupby(["id", "band"], observed=True).ngroups
    short = series - enough.groupby(["id", "band"], observed=True).ngroups
    out = LightCurves(enough, lcs.time_scale, lcs.source, lcs.survey, lcs.simulated, lcs.notes)
    return out, {"epochs_unusable": int(len(data) - len(kept)), "series_too_short": int(short)}


def normalise_curves(curves: np.ndarray, method: str) -> np.ndarray:
    """Each row on its own scale (see :data:`FOLDED_NORMS`); a flat curve becomes zeros."""
    if method not in FOLDED_NORMS:
        raise ConfigError(f"unknown folded-curve normalisation {method!r}; expected one of {list(FOLDED_NORMS)}")
    curves = np.asarray(curves, dtype=np.float64)
    if method == "none":
        return curves.astype(np.float32)
    if method == "zscore":
        centre, spread = curves.mean(axis=1, keepdims=True), curves.std(axis=1, keepdims=True)
    else:
        centre = curves.min(axis=1, keepdims=True)
        spread = curves.max(axis=1, keepdims=True) - centre
    return ((curves - centre) / np.where(spread > 0, spread, 1.0)).astype(np.float32)


def lightcurve_table(lcs: LightCurves, min_points: int) -> pd.DataFrame:
    """Light-curve features indexed by star: a single band's names as they are, several bands'
    suffixed ``_<band>`` (NaN where a star lacks the band; the trees take NaN)."""
    rows = lightcurve_features(lcs, min_points=min_points)
    names = [c for c in rows.columns if c not in ("id", "band")]
    bands = sorted(rows["band"].unique())
    if len(bands) <= 1:
        table = rows.drop(columns="band").set_index("id")
    else:
        wide = rows.pivot(index="id", columns="band", values=names)
        wide.columns = [f"{name}_{band}" for name, band in wide.columns]
        table = wide[[f"{name}_{band}" for band in bands for name in names]]
    table.attrs["method"] = rows.attrs["method"]
    return table


def observed_inputs(stars: pd.DataFrame, lightcurves: LightCurves | None, kind: str, *, model: str,
                    min_points: int, folded_norm: str = "zscore", dmdt_preset: str = "crts",
                    dmdt_norm: str = "stretch", bands: list[str] | None = None,
                    period_source: str = CATALOGUE_PERIOD, max_steps: int | None = None) -> ObservedInputs:
    """``kind``'s input for every star of ``stars`` that has a usable light curve in ``lightcurves``.

    ``bands`` fixes the dm-dt channels (a run's recorded ones when predicting); by default they are
    the bands with usable epochs, in name order. ``max_steps`` thins longer sequences (reported).
    Raises ConfigError when no star is left.
    """
    if lightcurves is None:
        raise ConfigError(f"model {model!r} reads observed light curves: pass lightcurves= (a LightCurves "
                          "joined to the stars by id; on the command line --lightcurves asas, "
                          "simulate:SURVEY or a light-curve file or folder)")
    if kind not in KINDS:
        raise ConfigError(f"unknown light-curve input {kind!r}; expected one of {list(KINDS)}")
    ids = stars["id"].astype(str)
    if ids.duplicated().any():
        raise ConfigError(f"star id {ids[ids.duplicated()].iloc[0]!r} appears more than once; expected one row per star")
    curves, cut = usable_epochs(lightcurves.subset(ids), min_points)
    dropped = {"no_light_curve": int((~ids.isin(set(lightcurves.data["id"]))).sum())}
    usable = ids.isin(set(curves.data["id"]))
    dropped["too_few_points"] = int((~usable).sum()) - dropped["no_light_curve"]
    record = {"kind": kind, "source": lightcurves.source, "survey": lightcurves.survey,
              "simulated": bool(lightcurves.simulated), "time_scale": lightcurves.time_scale,
              "min_points": int(min_points),
              "usable_epochs": f"finite time, mag, err; 0 < err < {MAX_ERR:g}; one epoch per repeated time; "
                               f"bands with >= {min_points} such epochs", **cut}
    if kind in PERIOD_KINDS:
        period = pd.to_numeric(stars["period"], errors="coerce") if "period" in stars else pd.Series(np.nan, stars.index)
        has_period = (np.isfinite(period) & (period > 0)).to_numpy()
        dropped["no_period"] = int((usable.to_numpy() & ~has_period).sum())
        usable &= has_period
    images = None
    if kind in SEQUENCE_KINDS:
        keep = usable.to_numpy()
        seqs = sequence_inputs(curves, dict(zip(ids[keep], period[keep])), list(ids[keep]), max_steps=max_steps)
        x = seqs.x
        features = pd.DataFrame({"log10_period": np.log10(period[keep].to_numpy(np.float64)),
                                 "amplitude": seqs.amplitudes})
        record.update(period_source=period_source, max_steps=max_steps, thinned=seqs.report["thinned"],
                      longest=int(seqs.lengths.max(initial=0)), feature_names=list(SEQUENCE_FEATURES),
                      sequence="per epoch of the phase-sorted curve: phase step (days, scaled by the curve's std "
                               "of steps), magnitude minus the curve's mean, error; zero-padded at the end",
                      band="per star, the band with the most usable epochs",
                      amplitude="5-95 percentile range of the sequence's magnitudes")
        if kind == "sequence_lc_dmdt":
            images = _lc_dmdt(curves, list(ids[keep]), bands, dmdt_preset, dmdt_norm, record)
    elif kind == "folded":
        folded = phase_curves(curves.subset(ids[usable]), dict(zip(ids[usable], period[usable])),
                              n_points=N_PHASE_POINTS, min_points=min_points)
        dropped["too_few_after_clipping"] = int(usable.sum()) - len(folded.ids)
        keep = ids.isin(folded.ids).to_numpy()
        row = {star: k for k, star in enumerate(folded.ids)}
        order = [row[i] for i in ids[keep]]
        x = normalise_curves(folded.curves[order], folded_norm)[:, None, :]
        record.update(period_source=period_source, n_phase=N_PHASE_POINTS, normalisation=folded_norm,
                      cleaning="seed 002: err < 99, >= min_points, one 3-sigma clip about the median; "
                               "linear interpolation, wrapped; phase 0 at maximum light",
                      band="per star, the band with the most epochs after cleaning",
                      bands_used=dict(Counter(folded.bands[row[i]] for i in ids[keep])))
        features = None
    elif kind == "lc_dmdt":
        keep = usable.to_numpy()
        x = _lc_dmdt(curves, list(ids[keep]), bands, dmdt_preset, dmdt_norm, record)
        features = None
    else:
        keep = usable.to_numpy()
        table = lightcurve_table(curves.subset(ids[keep]), min_points)
        features = table.loc[ids[keep].to_numpy()].reset_index(drop=True)
        record.update(feature_names=list(features.columns),
                      method=f"pipeline.lightcurves.lightcurve_features ({table.attrs['method']})")
        x = None
    record["dropped"] = dropped
    kept = stars[keep].reset_index(drop=True)
    if kept.empty:
        raise ConfigError(f"no star has a usable light curve in {lightcurves.source} (of {len(stars)} stars: "
                          + ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in dropped.items() if n)
                          + f"); expected stars with >= {min_points} usable epochs, joined by id")
    if x is not None and not np.isfinite(x.reshape(len(x), -1)).all():
        bad = int(np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))[0])
        raise TrainingError(f"{lightcurves.source}: star {kept['id'].iloc[bad]!r} has a {kind} input that is not "
                            "finite; expected finite magnitudes and times")
    record["n_stars"] = len(kept)
    return ObservedInputs(kept, x, features, record, images)


def _lc_dmdt(curves: LightCurves, ids: list[str], bands: list[str] | None, preset: str, norm: str,
             record: dict) -> np.ndarray:
    """Mahabal dm-dt images of stars ``ids``, in that order, one channel per band (``bands``, or every band
    of ``curves``); how they were made goes into ``record``."""
    channels = list(bands) if bands is not None else curves.bands
    image_ids, images = dmdt_images(curves.subset(ids), preset=preset, norm=norm, bands=channels)
    row = {star: k for k, star in enumerate(image_ids)}
    record.update(preset=preset, normalisation=norm, channels=channels,
                  pairs="all pairs of a star's usable epochs per band (Mahabal et al. 2017)")
    return images[[row[i] for i in ids]]


def catalogue_lightcurves(source: str, stars: pd.DataFrame, seed: int) -> LightCurves:
    """Light curves of catalogue ``stars`` named as the CLI's ``--lightcurves`` does: ``simulate:SURVEY``
    (``stars`` observed with SURVEY's cadence and noise, seeded) or a file or folder PATH."""
    if source == "asas":
        raise ConfigError("light-curve source 'asas' brings its own stars and labels "
                          "(pipeline.lightcurves.asas.asas_stars); it does not go with a catalogue")
    if source.startswith("simulate:"):
        survey = source.split(":", 1)[1]
        if survey not in SURVEYS:
            raise ConfigError(f"light-curve source {source!r}: unknown survey {survey!r}; expected simulate: followed by "
                              f"one of {', '.join(SURVEYS)}")
        return simulate(stars, survey=survey, seed=seed)
    return read_lightcurves(source)


def found_periods(stars: pd.DataFrame, lightcurves: LightCurves) -> tuple[pd.DataFrame, str]:
    """``stars`` with ``period`` replaced by the Lomb-Scargle period of their light curves (NaN where none
    was found), and where the period came from, for the run's config."""
    found = find_periods(lightcurves.subset(stars["id"]))
    stars = stars.drop(columns="period", errors="ignore").merge(found[["id", "period"]], on="id", how="left")
    return stars, f"found: {found.attrs['method']} (pipeline.lightcurves.find_periods)"
