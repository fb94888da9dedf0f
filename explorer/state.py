"""One explorer session's state: the loaded catalogue, the cleaning settings and result, the selection.

Views read and set this object only, never each other, so a new view (training, results,
misclassifications) plugs in by reading ``result``, ``selection`` and ``selected_star`` and by
adding its own params here. Every method is plain Python, so tests and notebooks drive the state
without a server; failures a user can cause (a bad file, a setting that cannot apply, an unknown
star) set ``error`` and keep what was there before.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import param
from bokeh.palettes import Category10, Category20

import pipeline
from pipeline import CleaningConfig, CleaningResult, ConfigError
from pipeline import labels as label_maps
from pipeline.cleaning import KEPT, UNMAPPED
from pipeline.lightcurves import SURVEYS, LightCurves, read_lightcurves
from pipeline.representations import DMDT_MODES
from pipeline.schema import bands, primary_band

from explorer import uploads
from explorer.observations import SURVEY_NAMES, default_survey

log = logging.getLogger(__name__)

#: Per-class summaries (median light curves, mean dm-dt images) use at most this many kept stars per
#: class, a seeded random sample: the class cap's default, so capped sets are used whole and an
#: uncapped set stays interactive (dm-dt images of 10k stars take ~1.5 s).
SUMMARY_PER_CLASS = 1000
#: Class colours shared by every view; grey is kept for removed and unmapped stars.
PALETTE = [c for c in Category10[10] if c != "#7f7f7f"] + [c for c in Category20[20][1::2] if c != "#c7c7c7"]
REMOVED_COLOR = "#b0b0b0"
def data_dirs() -> list[Path]:
    """Folders the "Catalogue file on the server" field may read below: ``$VSE_DATA_DIRS`` (paths
    separated by ``os.pathsep``), else the working directory's ``data/`` and the runs folder.

    A served app is reachable by people who are not its operator; without this limit the field
    would read any catalogue-shaped file the server process can read, and its errors would quote
    the file's content.
    """
    configured = os.environ.get("VSE_DATA_DIRS")
    if configured:
        return [Path(p).expanduser() for p in configured.split(os.pathsep) if p]
    return [Path("data"), Path(os.environ.get("VSE_RUNS_DIR") or "runs")]


def server_path(text: str) -> Path | None:
    """The path a user typed, resolved, if it exists below :func:`data_dirs`; else None.

    Symlinks are followed (a link inside pointing outside is outside); a loop of links or a NUL
    byte is no such path either, so missing and forbidden paths cannot be told apart.
    """
    try:
        resolved = Path(text).expanduser().resolve()
        inside = any(resolved.is_relative_to(folder.resolve()) for folder in data_dirs())
        return resolved if inside and resolved.exists() else None
    except (OSError, RuntimeError, ValueError):
        return None


#: Values the server process keeps, shared by every session: catalogues, cleaning results by settings
#: and what the views derive from them. Going back to recent settings (a preset toggled, a cap moved
#: back), a second browser tab or a reload then shows them at once instead of re-cleaning the whole
#: catalogue (~0.5-1 s on OGLE-III) and re-reconstructing the curves. Sharing is safe because nothing
#: here is changed once made: the explorer only reads catalogues and results.
SHARED_KEPT = 48


class SharedMemo:
    """``compute()`` once per name and inputs, kept for every session (least recently used dropped first).

    Inputs are compared by identity (objects: a catalogue, a cleaning result) or by value (str, int,
    float, bool, None, tuples of those); an entry holds its inputs, so an id cannot be reused while it lives.
    """

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple, tuple[tuple, object]] = OrderedDict()
        self._lock = threading.RLock()  # views compute summaries off the event loop, several sessions at once

    @staticmethod
    def _key(name: str, inputs: tuple) -> tuple:
        plain = (str, int, float, bool, type(None), tuple)
        return (name, *(value if isinstance(value, plain) else ("id", id(value)) for value in inputs))

    def get(self, name: str, inputs: tuple, compute: Callable[[], object]):
        key = self._key(name, inputs)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[1]
            value = compute()
            self._entries[key] = (inputs, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return value

    def __len__(self) -> int:
        return len(self._entries)

    def has(self, name: str, inputs: tuple) -> bool:
        with self._lock:
            return self._key(name, inputs) in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


SHARED = SharedMemo(SHARED_KEPT)
#: Catalogues apart from what is derived from them, so that many new settings do not push the catalogue out
CATALOGS = SharedMemo(4)


def _catalog_stamp(source: str | Path) -> tuple:
    """What tells one catalogue source apart: a built-in's name, else the file's path, size and time."""
    path = Path(source).expanduser()
    if str(source) in pipeline.catalogs.BUILTIN_SOURCES or not path.is_file():
        return (str(source),)
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def shared_catalog(source: str | Path) -> pd.DataFrame:
    """``pipeline.load_catalog(source)``, one frame per source for every session, so that results
    cleaned from it are shared too."""
    return CATALOGS.get("catalog", _catalog_stamp(source), lambda: pipeline.load_catalog(source))


def catalog_in_memory(source: str | Path) -> bool:
    """Whether a session opening ``source`` finds it loaded already (opening it then takes no time)."""
    return CATALOGS.has("catalog", _catalog_stamp(source))
#: The settings params, in CleaningConfig's order; a change of any re-runs the cleaning.
SETTINGS = ("preset", "min_obs", "min_obs_comparison", "max_log_fap", "min_r2", "max_period_rel_err",
            "require_fourier", "mag_range", "min_amp", "regions", "ranges", "cap", "seed")


@dataclass
class ClassCurve:
    """Per-class light-curve summary: magnitudes minus each star's mean, over ``n`` kept stars."""

    n: int
    median: np.ndarray
    low: np.ndarray  # 16th percentile
    high: np.ndarray  # 84th percentile


@dataclass
class DmdtMeans:
    """Mean dm-dt image per class, ``(channels, n_dm, n_dt)``, and what each channel holds."""

    mode: str
    images: dict[str, np.ndarray]
    channels: list[tuple[str | None, str]]  # (reference class or None in thesis mode, amplitude band)
    counts: dict[str, int]


class ExplorerState(param.Parameterized):
    """Catalogue -> cleaning -> selection for one session; the views' single source of truth."""

    source = param.String(default=None, allow_None=True, doc="The loaded source: built-in name or path.")
    source_name = param.String(default="", doc="What the user calls the loaded source (an upload's file name).")
    catalog = param.DataFrame(default=None, allow_None=True, doc="The canonical catalogue; set by load().")

    preset = param.Selector(default=label_maps.DEFAULT_PRESET["ogle3"], objects=list(pipeline.LABEL_PRESETS))
    min_obs = param.Integer(default=50, bounds=(0, None), allow_None=True, doc="None: step off.")
    min_obs_comparison = param.Selector(default=">=", objects=[">=", ">"])
    max_log_fap = param.Number(default=-3.0, allow_None=True, doc="Keep log10 FAP below this; None: step off.")
    min_r2 = param.Number(default=0.3, allow_None=True, doc="Keep R^2 above this; None: step off.")
    max_period_rel_err = param.Number(default=CleaningConfig.max_period_rel_err, bounds=(0, None), allow_None=True,
                                      doc="Keep period_err / period below this (OGLE-III); None: step off.")
    require_fourier = param.Boolean(default=False, doc="Keep only stars with R21 and phi21.")
    mag_range = param.Tuple(default=None, length=2, allow_None=True,
                            doc="(min, max) mean magnitude of the reconstruction band; None: step off.")
    min_amp = param.Number(default=None, bounds=(0, None), allow_None=True, doc="Minimum amplitude, mag; None: off.")
    regions = param.List(default=None, allow_None=True, item_type=str, doc="Regions kept (OGLE-III); None: all.")
    ranges = param.Dict(default={}, doc="{column: (min, max)} user ranges, each a step of the cleaning.")
    cap = param.Integer(default=1000, bounds=(1, None), allow_None=True, doc="Stars per class; None: uncapped.")
    seed = param.Integer(default=42, doc="Seed of the class cap and of every displayed random sample.")

    result = param.ClassSelector(class_=CleaningResult, default=None, allow_None=True,
                                 doc="Cleaning of the catalogue under the current settings.")
    selection = param.Array(default=np.empty(0, dtype=np.int64),
                            doc="Selected stars, as row positions in the catalogue.")
    selection_bounds = param.NumericTuple(default=None, allow_None=True, length=4,
                                          doc="(x0, y0, x1, y1) of the region selected in the period-amplitude diagram.")
    selected_star = param.String(default=None, allow_None=True, doc="Id of the star picked for close-up views.")
    dmdt_mode = param.Selector(default="reference", objects=list(DMDT_MODES))
    match_amplitude = param.Boolean(default=True, doc="""
        Draw light curves with peak-to-peak equal to the catalogue amplitude (display only: the
        models keep the thesis's A1 = amp/2 scaling).""")

    error = param.String(default="", doc="What the last user action could not do, and what was kept.")
    warning = param.String(default="", doc="Why the cleaned set is unusable (an empty class...).")
    message = param.String(default="", doc="What the last successful action did.")

    training = param.Parameter(default=None, doc="""
        This session's explorer.training.TrainingSession, made by the first view that needs it.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._applied: tuple[pd.DataFrame, CleaningConfig] | None = None

    def __repr__(self) -> str:  # the default would print the whole catalogue
        kept = "-" if self.result is None else f"{len(self.result.data):,}"
        stars = "-" if self.catalog is None else f"{len(self.catalog):,}"
        return f"ExplorerState(source={self.source_name!r}, stars={stars}, preset={self.preset!r}, kept={kept})"

    # ------------------------------------------------------------------ loading and cleaning
    def config(self, preset: str | None = None) -> CleaningConfig:
        """The current settings as the pipeline's config (raises ConfigError when one is unusable)."""
        return CleaningConfig(
            classes=preset or self.preset, min_obs=self.min_obs, min_obs_comparison=self.min_obs_comparison,
            max_log_fap=self.max_log_fap, min_r2=self.min_r2, max_period_rel_err=self.max_period_rel_err,
            require_fourier=self.require_fourier, mag_range=self.mag_range, min_amp=self.min_amp,
            regions=self.regions, ranges=self.ranges, cap=self.cap, seed=self.seed,
        )

    def load(self, source: str | Path, name: str | None = None) -> bool:
        """Load and clean a catalogue; on failure set ``error`` and keep the catalogue already loaded."""
        name = name or str(source)
        try:
            catalog = shared_catalog(source)
            preset = SHARED.get("preset", (str(source), catalog), lambda: self.suggest_preset(source, catalog))
            config = self.config(preset)
            result = self._clean(catalog, config)
        except (ValueError, KeyError, OSError) as exc:  # CatalogError and ConfigError are ValueErrors
            self.error = self._failure(f"Could not load {name}", self._named(exc, source, name))
            return False
        except Exception as exc:  # a file reached code that did not expect it: log it, keep the session
            log.exception("loading %s failed", name)
            self.error = self._failure(f"Could not load {name} (unexpected error)", self._named(exc, source, name))
            return False
        self._applied = (catalog, config)
        self.param.update(
            source=str(source), source_name=name, catalog=catalog, preset=preset, result=result,
            selection=np.empty(0, dtype=np.int64), selection_bounds=None, selected_star=None,
            error="", warning=" ".join(result.warnings),
            message=f"Loaded {name}: {len(catalog):,} stars; label preset {preset}.",
        )
        return True

    def load_server_file(self, text: str) -> bool:
        """Load a catalogue by the path a user typed, only from below :func:`data_dirs`.

        A missing file and one outside the folders get the same message, so the field cannot be
        used to find out what exists on the server, and nothing of a file outside is ever read.
        """
        resolved = server_path(text)
        if resolved is None or not resolved.is_file():
            self.error = self._not_below_data_dirs("catalogue file", text) + self._kept_phrase()
            return False
        return self.load(resolved, name=text)

    def load_lightcurves_server_path(self, text: str) -> bool:
        """Light curves by the path a user typed (a file or a folder), only from below :func:`data_dirs`."""
        resolved = server_path(text)
        if resolved is None:
            self.error = self._not_below_data_dirs("light-curve file or folder", text) + self._lightcurves_kept_sentence()
            return False
        return self.load_lightcurves(resolved, name=text)

    @staticmethod
    def _not_below_data_dirs(what: str, text: str) -> str:
        listing = ", ".join(str(folder) for folder in data_dirs())
        return (f"No {what} {text} below the data folders ({listing}): this field reads "
                f"files there only (the server's operator sets them with VSE_DATA_DIRS). ")

    def load_upload(self, files: Mapping[str, bytes]) -> bool:
        """Load uploaded files, written under their own names to a folder of the upload cache, so a
        suffix-sniffing reader sees ``.csv``/``.fits`` and a CDS ``table2.dat`` finds the ``ReadMe``
        uploaded with it. Refused with a message: a nameless file, more than one table, too many bytes."""
        names = {filename: Path(str(filename or "")).name for filename in files}
        if any(name in {"", ".", ".."} for name in names.values()):
            self.error = "Upload refused: a file without a name; choose the file again. " + self._kept_phrase()
            return False
        tables = [n for n in names.values() if n.lower() != "readme"]
        if len(tables) != 1:
            self.error = ("Upload one catalogue file (plus its ReadMe for a CDS table2.dat); got "
                          f"{sorted(names.values())}. " + self._kept_phrase())
            return False
        size = sum(len(data) for data in files.values())
        if size > uploads.UPLOAD_LIMIT_BYTES:
            self.error = (f"Upload refused: {tables[0]} is {size / 1024 ** 2:.1f} MB, more than the "
                          f"{uploads.limit_text()} an upload may have; put the file in the server's data folder "
                          "and load it by path. " + self._kept_phrase())
            return False
        try:
            folder = uploads.upload_folder({names[k]: v for k, v in files.items()})
        except OSError as exc:
            self.error = self._failure(f"Could not store the upload {tables[0]}", exc.strerror or exc)
            return False
        name = tables[0]
        loaded = self.load(folder / name, name=name)
        if loaded:
            self.source = f"upload:{name}"
        return loaded

    @staticmethod
    def suggest_preset(source: str | Path, catalog: pd.DataFrame) -> str:
        """The source's default preset, else the preset that claims the most stars (the first on a tie)."""
        default = label_maps.DEFAULT_PRESET.get(str(source))
        if default:
            return default
        claimed = {name: int(label_maps.apply(catalog["raw_label"], name).notna().sum()) for name in pipeline.LABEL_PRESETS}
        return max(claimed, key=claimed.get)

    @param.depends(*SETTINGS, watch=True)
    def apply(self) -> bool:
        """Re-clean with the current settings; a setting that cannot apply is reverted, with the reason."""
        if self.catalog is None:
            return False
        try:
            config = self.config()
            if self._applied is not None and self._applied[0] is self.catalog and self._applied[1] == config:
                return True
            result = self._clean(self.catalog, config)
        except ValueError as exc:
            self.error = self._failure("These settings cannot be applied", exc, "the previous filter result is kept")
            if self._applied is not None:
                self._restore(self._applied[1])
            return False
        self._applied = (self.catalog, config)
        self.param.update(result=result, warning=" ".join(result.warnings), error="",
                          message=f"Cleaned {self.source_name} again: label preset {self.preset}, "
                                  f"{len(result.data):,} stars kept.")
        return True

    @staticmethod
    def _clean(catalog: pd.DataFrame, config: CleaningConfig) -> CleaningResult:
        """``pipeline.clean`` of the catalogue, or its result for these settings from earlier (any session)."""
        return SHARED.get("clean", (catalog, repr(config)), lambda: pipeline.clean(catalog, config))

    def _restore(self, config: CleaningConfig) -> None:
        values = config.to_dict()
        regions = values.pop("regions")
        self.param.update(preset=values.pop("classes"), regions=None if regions is None else list(regions), **values)

    def add_range(self, column: str, low: float | None, high: float | None) -> bool:
        """Add (or replace) a user range on ``column``; a bad one sets ``error`` and changes nothing."""
        try:
            CleaningConfig(classes=self.preset, ranges={column: (low, high)})
        except ValueError as exc:
            self.error = self._failure("This range cannot be applied", exc, "the previous filter result is kept")
            return False
        self.ranges = {**self.ranges, column: (low, high)}
        return column in self.ranges

    def remove_range(self, column: str) -> None:
        self.ranges = {name: bounds for name, bounds in self.ranges.items() if name != column}

    def _kept_phrase(self) -> str:
        return f"{self.source_name} stays loaded." if self.catalog is not None else "No catalogue is loaded yet."

    @staticmethod
    def _named(exc: BaseException, source, name: str) -> str:
        """The error's text about the file, by the name the user knows (not an upload's temporary path)."""
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        return text.removeprefix(f"{source}: ").replace(str(source), name)

    def _failure(self, what: str, detail: object, kept: str | None = None) -> str:
        return f"{what}: {str(detail).rstrip('.')}. " + (kept[0].upper() + kept[1:] + "." if kept else self._kept_phrase())

    # ------------------------------------------------------------------ derived data, cached
    @staticmethod
    def _cached(name: str, deps: tuple, compute: Callable[[], object]):
        """``compute()`` once per ``deps`` (compared by identity, or equality for plain values), for every session."""
        return SHARED.get(name, deps, compute)

    @property
    def band(self) -> str:
        """The band light curves and the period-amplitude diagram use."""
        return primary_band(self.catalog)

    def class_colors(self, classes=None) -> dict[str, str]:
        """Colour of each class of the current preset (shared by every view), grey for unmapped stars;
        ``classes``: those of a given cleaning result instead (a redraw must not mix two results)."""
        if classes is None:
            classes = self.result.classes if self.result is not None else label_maps.class_names(self.preset)
        colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(classes)}
        colors[UNMAPPED] = REMOVED_COLOR
        return colors

    def points(self) -> pd.DataFrame:
        """Every catalogue star's place in the period-amplitude diagram: log10 period (d), amplitude (mag)."""

        def compute():
            period = self.catalog["period"].where(self.catalog["period"] > 0)
            return pd.DataFrame({"log_period": np.log10(period), "amp": self.catalog[f"amp_{self.band}"]},
                                index=self.catalog.index)

        return self._cached("points", (self.catalog,), compute)

    def kept_positions(self) -> np.ndarray:
        """Catalogue row positions of the stars the cleaning keeps."""
        return self._cached("kept", (self.result,), self.result.kept_positions)

    def describe(self, positions: np.ndarray) -> pd.DataFrame:
        """Catalogue rows at ``positions`` with their class under the preset (``label``) and ``fate``."""
        rows = self.catalog.iloc[np.asarray(positions, dtype=np.int64)]
        return rows.assign(label=label_maps.apply(rows["raw_label"], self.preset),
                           fate=self.result.fate.iloc[positions].to_numpy())

    def star_position(self, star_id: str) -> int | None:
        """Row position of a star id in the catalogue, or None."""
        index = self._cached("ids", (self.catalog,), lambda: pd.Index(self.catalog["id"].astype(str)))
        found = index.get_indexer([star_id])[0]
        return None if found < 0 else int(found)

    def star(self) -> pd.DataFrame | None:
        """The selected star as a one-row frame: catalogue columns, class (``label``) and ``fate``."""
        if self.selected_star is None or self.catalog is None:
            return None
        return self.describe([self.star_position(self.selected_star)])

    # ------------------------------------------------------------------ selection
    def select_region(self, x0: float, x1: float, y0: float, y1: float) -> int:
        """Select every catalogue star in a box of the period-amplitude diagram; returns how many."""
        points = self.points()
        inside = points["log_period"].between(min(x0, x1), max(x0, x1)) & points["amp"].between(min(y0, y1), max(y0, y1))
        self.param.update(selection=np.flatnonzero(inside.to_numpy()), selection_bounds=(x0, y0, x1, y1))
        return len(self.selection)

    def select_ids(self, ids) -> int:
        """Select stars by id (ids not in the catalogue are ignored); returns how many were found."""
        index = pd.Index(self.catalog["id"].astype(str))
        found = index.get_indexer(pd.Index([str(i) for i in ids]))
        self.param.update(selection=np.unique(found[found >= 0]), selection_bounds=None)
        return len(self.selection)

    def clear_selection(self) -> None:
        self.param.update(selection=np.empty(0, dtype=np.int64), selection_bounds=None)

    @param.depends("selected_star", watch=True)
    def _check_star(self) -> None:
        star = self.selected_star
        if star is None or self.catalog is None:
            return
        if star != star.strip():
            self.selected_star = star.strip()
        elif self.star_position(star) is None:
            self.error = f"No star with id {star!r} in {self.source_name}; the previous pick was cleared."
            self.selected_star = None
        else:
            self.error = ""

    # ------------------------------------------------------------------ per-class summaries
    def sample(self, positions: np.ndarray, limit: int) -> np.ndarray:
        """At most ``limit`` of ``positions``, a seeded random choice in catalogue order (what plots draw)."""
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) <= limit:
            return positions
        return np.sort(np.random.default_rng(self.seed).choice(positions, size=limit, replace=False))

    def selection_sample(self, limit: int) -> np.ndarray:
        """At most ``limit`` selected stars to draw: kept ones first (seeded sample), removed ones after."""
        kept = (self.result.fate.iloc[self.selection] == KEPT).to_numpy()
        first = self.sample(self.selection[kept], limit)
        return np.sort(np.concatenate([first, self.sample(self.selection[~kept], limit - len(first))]))

    def summary_stars(self) -> pd.DataFrame:
        """Kept stars the per-class summaries use: all of each class up to ``SUMMARY_PER_CLASS``."""

        def compute():
            data = self.result.data
            codes = data["label"].cat.codes.to_numpy()
            chosen = [self.sample(np.flatnonzero(codes == code), SUMMARY_PER_CLASS) for code in np.unique(codes)]
            return data.iloc[np.sort(np.concatenate(chosen))] if chosen else data

        return self._cached("summary", (self.result, self.seed), compute)

    def curves(self, stars: pd.DataFrame) -> np.ndarray:
        """Light curves as the views draw them: the catalogue's phase convention, amplitude per setting."""
        return pipeline.reconstruct(stars, match_amplitude=self.match_amplitude)

    def class_curves(self) -> dict[str, ClassCurve]:
        """Median and 16-84 % band of each class's reconstructed light curves, each minus its mean."""

        def compute():
            stars = self.summary_stars()
            if stars.empty:
                return {}
            curves = self.curves(stars)
            relative = curves - curves.mean(axis=1, keepdims=True)
            labels = stars["label"].astype(str).to_numpy()
            out = {}
            for cls in self.result.classes:
                members = relative[labels == cls]
                if len(members):
                    low, median, high = np.percentile(members, [16, 50, 84], axis=0)
                    out[cls] = ClassCurve(len(members), median, low, high)
            return out

        return self._cached("class_curves", (self.result, self.seed, self.match_amplitude), compute)

    def dmdt_channels(self) -> list[tuple[str | None, str]]:
        """What each dm-dt channel holds in the current mode: (reference class, band), class-major."""
        amp_bands = bands(self.catalog, "amp")
        if self.dmdt_mode == "thesis":
            return [(None, b) for b in amp_bands]
        return [(cls, b) for cls in self.result.classes for b in amp_bands]

    def dmdt_class_means(self) -> DmdtMeans:
        """Mean dm-dt image per class over ``summary_stars()`` (reference mode: against that same set)."""

        def compute():
            stars = self.summary_stars()
            classes = self.result.classes
            if stars.empty:
                return DmdtMeans(self.dmdt_mode, {}, self.dmdt_channels(), {})
            images = pipeline.dmdt_images(stars, mode=self.dmdt_mode, classes=classes)
            counts = stars["label"].value_counts()
            return DmdtMeans(self.dmdt_mode, pipeline.class_mean_images(images, stars["label"], classes),
                             self.dmdt_channels(), {c: int(counts.get(c, 0)) for c in classes})

        return self._cached("dmdt_means", (self.result, self.seed, self.dmdt_mode), compute)

    def dmdt_star_image(self) -> np.ndarray:
        """The selected star's dm-dt image against ``summary_stars()`` (thesis mode: its own class only).

        Raises ConfigError when thesis mode has no class to build the image from.
        """
        star = self.star()
        reference = self.summary_stars()
        if self.dmdt_mode == "reference":
            return pipeline.dmdt_images(star, mode="reference", reference=reference, classes=self.result.classes)[0]
        label, star_id = star["label"].iloc[0], star["id"].iloc[0]
        if pd.isna(label):
            raise ConfigError(f"star {star_id} has no class under preset {self.preset}, and a thesis-mode image "
                              "is built from the star's own class")
        members = reference[(reference["label"] == label) & (reference["id"] != star_id)]
        group = pd.concat([star.assign(label=label), members], ignore_index=True)
        return pipeline.dmdt_images(group, mode="thesis")[0]

    # ------------------------------------------------------------------ observations (Observations tab)
    # The picked star's light curve: simulated from its catalogue row with a survey's cadence, or read
    # from files and matched to the catalogue by id. On the state, not in the view, so that other views
    # (training on light curves) see the same choice and the same loaded files.
    observation_source = param.Selector(default="simulated", objects={"Simulate a survey": "simulated",
                                                                      "Loaded light curves": "loaded"})
    survey = param.Selector(default="ogle3", objects={f"{name} ({', '.join(SURVEYS[key].bands)})": key
                                                      for key, name in SURVEY_NAMES.items()},
                            doc="Cadence and noise the picked star is simulated with; follows the catalogue.")
    survey_seed = param.Integer(default=0, doc="Seed of the simulated observations (with the survey and star id).")
    lightcurves = param.ClassSelector(class_=LightCurves, default=None, allow_None=True,
                                      doc="Light curves loaded in this session (from a path or an upload).")

    @param.depends("catalog", watch=True)
    def _follow_catalog_survey(self) -> None:
        """A newly loaded catalogue is simulated with its own survey's cadence first (OGLE-III for OGLE)."""
        if self.catalog is not None:
            self.survey = default_survey(self.catalog)

    def load_lightcurves(self, path: str | Path, name: str | None = None) -> bool:
        """Read light curves from a file or folder; refused (``error`` set) when no star is in the catalogue."""
        name = name or str(path)
        if self.catalog is None:
            self.error = "Load a catalogue first: light curves are matched to its stars by id."
            return False
        try:
            lcs = read_lightcurves(path)
        except (ValueError, KeyError, OSError) as exc:  # CatalogError is a ValueError
            self.error = self._failure(f"Could not read light curves from {name}",
                                       self._named(exc, path, name), self._lightcurves_kept())
            return False
        except Exception as exc:  # a file reached code that did not expect it: log it, keep the session
            log.exception("reading light curves from %s failed", name)
            self.error = self._failure(f"Could not read light curves from {name} (unexpected error)",
                                       self._named(exc, path, name), self._lightcurves_kept())
            return False
        matched = self.lightcurve_matches(lcs)
        if not matched:
            examples = ", ".join(lcs.ids[:3])
            self.error = self._failure(f"No star of {name} is in {self.source_name}",
                                       f"its ids ({examples}, ...) must match the catalogue's id column",
                                       self._lightcurves_kept())
            return False
        lcs.source = name
        pick = self.selected_star if self.selected_star in matched else matched[0]
        self.param.update(lightcurves=lcs, observation_source="loaded", selected_star=pick, error="",
                          message=f"Loaded light curves from {name}: {len(lcs.ids):,} stars, "
                                  f"{len(matched):,} in the catalogue; bands {', '.join(lcs.bands)}, {lcs.time_scale}.")
        return True

    def load_lightcurves_upload(self, files: Mapping[str, bytes]) -> bool:
        """Uploaded light-curve files, written under their own names (the readers sniff names): one file
        is read as itself, several as a folder of per-star files."""
        if not files:
            self.error = "Upload at least one light-curve file."
            return False
        names = {filename: Path(str(filename or "")).name for filename in files}
        if any(name in {"", ".", ".."} for name in names.values()):
            self.error = "Upload refused: a file without a name; choose the file again. " + self._lightcurves_kept_sentence()
            return False
        size = sum(len(data) for data in files.values())
        if size > uploads.UPLOAD_LIMIT_BYTES:
            self.error = (f"Upload refused: {size / 1024 ** 2:.1f} MB, more than the {uploads.limit_text()} an "
                          "upload may have; put the files in the server's data folder and load them by path. "
                          + self._lightcurves_kept_sentence())
            return False
        try:
            folder = uploads.upload_folder({names[k]: v for k, v in files.items()})
        except OSError as exc:
            self.error = self._failure("Could not store the upload", exc.strerror or exc, self._lightcurves_kept())
            return False
        ordered = sorted(names.values())
        target = folder / ordered[0] if len(ordered) == 1 else folder
        label = ordered[0] if len(ordered) == 1 else f"{len(ordered)} uploaded files"
        return self.load_lightcurves(target, name=label)

    def lightcurve_matches(self, lcs: LightCurves | None = None) -> list[str]:
        """Ids of the (loaded) light curves' stars that are in the catalogue, in file order."""
        lcs = lcs if lcs is not None else self.lightcurves
        if lcs is None or self.catalog is None:
            return []
        ids = pd.Index(lcs.ids)
        return ids[ids.isin(self.catalog["id"].astype(str))].tolist()

    def _lightcurves_kept(self) -> str:
        return ("the light curves loaded before stay loaded" if self.lightcurves is not None
                else "no light curves are loaded")

    def _lightcurves_kept_sentence(self) -> str:
        kept = self._lightcurves_kept()
        return kept[0].upper() + kept[1:] + "."
