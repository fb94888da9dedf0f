"""Observations: the picked star's light curve against time, its periodogram, the curve folded with
the catalogue's reconstruction overlaid, and its Mahabal dm-dt images.

The curve is either simulated from the star's catalogue row with a survey's cadence and noise (the
default, since catalogue stars come without light curves; every title then says "simulated") or
read from files on the server or uploaded, matched to the catalogue by id. The simulation and the
period search run off the event loop and once per (star, source, survey, seed), only while the tab
is shown. Magnitude axes are inverted: brighter is up.
"""

from __future__ import annotations

import asyncio
import html

import holoviews as hv
import numpy as np
import panel as pn
import param
from bokeh.palettes import Category10

from explorer.observations import (
    SURVEY_NAMES, NoObservations, ObservationCache, StarObservations, describe_source, fold_with_reconstruction,
    observe,
)
from pipeline.errors import CatalogError
from pipeline.lightcurves import DMDT_PRESETS, simulate

from .common import View
from .dmdt import color_range, edge_ticks

#: Loaded stars offered in the picker (the browser gets the list).
MAX_PICKS = 5000
TIME_LABELS = {"MJD": "MJD [d]", "HJD": "HJD - 2400000.5 [d]", "BJD": "BJD - 2400000.5 [d]"}
CATALOGUE_COLOR, FOUND_COLOR = "#ff7f0e", "#d62728"


def band_colors(bands) -> dict[str, str]:
    """One colour per band, by name order, so a band keeps its colour in every plot of a star."""
    return {band: Category10[10][i % 10] for i, band in enumerate(sorted(bands))}


def _points(frame, x: str, xvalues, color: str, label: str):
    """Error bars (no caps: hundreds of them hide the points) and points of one band."""
    mag, err = frame["mag"].to_numpy(), frame["err"].to_numpy()
    return (hv.ErrorBars((xvalues, mag, err), x, ["mag", "err"]).opts(color=color, alpha=0.35, line_width=1,
                                                                      lower_head=None, upper_head=None)
            * hv.Scatter((xvalues, mag), x, "mag", label=label).opts(color=color, size=3))


def time_plot(obs: StarObservations, source: str) -> hv.Overlay:
    """Magnitude against time per band: gaps, seasons and cadence are what this plot is for."""
    data = obs.lcs.data
    colors = band_colors(obs.lcs.bands)
    layers = [_points(frame, "time", frame["time"].to_numpy(), colors[band], f"{band} ({len(frame)})")
              for band, frame in data.groupby("band", sort=True)]
    return hv.Overlay(layers).opts(
        invert_yaxis=True, width=640, height=320, legend_position="top_right", title=f"{source}: light curve",
        xlabel=TIME_LABELS[obs.lcs.time_scale], ylabel="magnitude (brighter up)")


def periodogram_plot(obs: StarObservations, catalogue_period: float, source: str) -> hv.Overlay:
    """Power against period (log), both periods marked: an alias shows as the found line off the catalogue's."""
    layers = [hv.Curve((obs.periods, obs.power), "period", "power").opts(color="#444444", line_width=1)]
    if np.isfinite(catalogue_period) and catalogue_period > 0:
        layers.append(hv.Spikes(([catalogue_period], [1.0]), "period", "power",
                                label=f"catalogue {catalogue_period:.6g} d").opts(
            color=CATALOGUE_COLOR, line_width=3, line_dash="dashed"))
    layers.append(hv.Spikes(([obs.found_period], [1.0]), "period", "power",
                            label=f"found {obs.found_period:.6g} d").opts(color=FOUND_COLOR, line_width=1.5))
    return hv.Overlay(layers).opts(
        logx=True, ylim=(0, 1.05), width=640, height=320, legend_position="top_left",
        title=f"{source}: Lomb-Scargle periodogram ({obs.band})", xlabel="period [d]", ylabel="power")


def folded_plot(obs: StarObservations, star, period: float, which: str, source: str) -> tuple[hv.Overlay, str]:
    """The folded epochs per band with the aligned reconstruction; also what the model line is."""
    folded = fold_with_reconstruction(obs, star, period)
    colors = band_colors(obs.lcs.bands)
    data = obs.lcs.data
    layers = [_points(data[data["band"] == band], "phase", folded.phase[(data["band"] == band).to_numpy()],
                      colors[band], band) for band in obs.lcs.bands]
    if folded.model is not None:
        layers.append(hv.Curve((folded.model_phase, folded.model), "phase", "mag", label="catalogue model").opts(
            color="black", line_width=2))
    plot = hv.Overlay(layers).opts(
        invert_yaxis=True, xlim=(0, 1), width=640, height=320, legend_position="top_right",
        title=f"{source}: folded at the {which} period {period:.6g} d",
        xlabel="phase (maximum light of the model at 0)",
        ylabel="magnitude (brighter up)")
    return plot, folded.model_note


def dmdt_plots(obs: StarObservations, preset: str, source: str) -> list[hv.Image]:
    """One image per band, on uniform cells labelled with ``preset``'s real bin edges."""
    dm_edges, dt_edges = np.asarray(DMDT_PRESETS[preset]["dm"]), np.asarray(DMDT_PRESETS[preset]["dt"])
    images = obs.images[preset]
    clim = color_range(images.values())
    return [
        hv.Image((np.arange(len(dt_edges) - 1) + 0.5, np.arange(len(dm_edges) - 1) + 0.5, image),
                 kdims=["dt cell", "dm cell"], vdims=["pairs (255 x fraction)"]).opts(
            cmap="viridis", cnorm="log", clim=clim, clipping_colors={"min": "white", "NaN": "white"}, colorbar=True,
            frame_width=300, frame_height=220, tools=["hover"], title=f"{source}: dm-dt, {band} ({preset} bins)",
            xticks=edge_ticks(dt_edges), yticks=edge_ticks(dm_edges), xrotation=90, xlabel="dt [d]",
            ylabel="dm [mag]", fontsize={"xticks": 7, "yticks": 7, "title": 10})
        for band, image in images.items()
    ]


class ObservationsView(View):
    """The picked star's observed or simulated light curve, period search, folded curve and dm-dt."""

    fold_at = param.Selector(default="found", objects={"Found period": "found", "Catalogue period": "catalogue"})
    dmdt_preset = param.Selector(default="crts", objects=list(DMDT_PRESETS), doc="dm-dt bins (Mahabal 2017, ZTF).")

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self.cache = ObservationCache()
        self._source = pn.widgets.RadioButtonGroup.from_param(state.param.observation_source, width=320)
        self._survey = pn.widgets.Select.from_param(state.param.survey, label="Survey cadence", width=200)
        self._seed = pn.widgets.IntInput.from_param(state.param.survey_seed, label="Simulation seed", width=130)
        self._path = pn.widgets.TextInput(label="Light-curve file or folder on the server", width=420,
                                          placeholder="/data/ogle/I/ (.dat files), a ZTF, Gaia, ASAS-SN or CRTS table")
        self._path_button = pn.widgets.Button(label="Load light curves", width=160, align="end")
        self._path_button.on_click(self._load_path)
        self._upload = pn.widgets.FileInput(multiple=True, width=300, align="end", css_classes=["vse-obs-upload"])
        self._upload.param.watch(self._load_upload, "value")
        self._picker = pn.widgets.Select(label="Loaded stars in the catalogue", options=[""], width=300)
        self._picker.param.watch(self._picked, "value")
        self._simulate_controls = pn.Row(self._survey, self._seed, margin=0)
        self._load_controls = pn.Column(
            pn.Row(self._path, self._path_button, margin=0),
            pn.Row(pn.pane.Markdown("Or upload files (one table, or per-star files):", margin=(20, 10, 0, 10)),
                   self._upload, margin=0),
            self._picker, margin=0)
        self._layout = pn.Column(
            pn.Row(pn.Column("**Light curves**", self._source), self._simulate_controls,
                   pn.widgets.RadioButtonGroup.from_param(self.param.fold_at, width=280, align="end"),
                   pn.widgets.Select.from_param(self.param.dmdt_preset, label="dm-dt bins", width=100)),
            self._load_controls,
            pn.param.ParamMethod(self._content),
            sizing_mode="stretch_width",
        )
        self._show_source()
        self._refresh_picker()

    # -------------------------------------------------------------- choosing the light curves
    @param.depends("state.observation_source", watch=True)
    def _show_source(self):
        simulated = self.state.observation_source == "simulated"
        self._simulate_controls.visible = simulated
        self._load_controls.visible = not simulated

    def _load_path(self, _):
        path = self._path.value.strip()
        if not path:
            self.state.error = "Type the path of a light-curve file or folder on the server first."
            return
        self.state.load_lightcurves_server_path(path)

    def _load_upload(self, event):
        if not event.new:
            return
        values = event.new if isinstance(event.new, list) else [event.new]
        names = self._upload.filename if isinstance(self._upload.filename, list) else [self._upload.filename]
        self.state.load_lightcurves_upload(dict(zip(names, values)))

    @param.depends("state.lightcurves", "state.catalog", watch=True)
    def _refresh_picker(self):
        """New files or a new catalogue: other matches, and cached observations no longer hold."""
        self.cache.clear()
        self._picker.options = ["", *self.state.lightcurve_matches()[:MAX_PICKS]]
        self._show_pick()

    @param.depends("state.selected_star", watch=True)
    def _show_pick(self):
        star = self.state.selected_star
        self._picker.value = star if star in self._picker.options else ""

    def _picked(self, event):
        if event.new:
            self.state.selected_star = event.new

    # -------------------------------------------------------------- computing
    def observations(self) -> StarObservations:
        """The picked star's observations, from the cache when seen before; NoObservations says why none."""
        state = self.state
        star = state.star()
        star_id = state.selected_star
        if state.observation_source == "loaded":
            if state.lightcurves is None:
                raise NoObservations("No light curves are loaded: give a file or folder on the server, or upload "
                                     "files, above; or choose Simulate a survey.")
            if star_id not in set(state.lightcurves.ids):
                matched = len(self._picker.options) - 1
                raise NoObservations(f"No loaded light curve for star {star_id}: {matched:,} loaded stars are in "
                                     "the catalogue; pick one of them in the list above, or simulate this star.")
            return self.cache.get(("loaded", star_id), lambda: observe(state.lightcurves, star_id))
        survey, seed = state.survey, state.survey_seed
        return self.cache.get(("simulated", star_id, survey, seed), lambda: self._simulated(star, survey, seed))

    @staticmethod
    def _simulated(star, survey: str, seed: int) -> StarObservations:
        star_id = str(star["id"].iloc[0])
        try:
            lcs = simulate(star, survey=survey, seed=seed)
        except CatalogError as exc:
            raise NoObservations(f"Star {star_id} cannot be simulated: {exc}.") from exc
        if not len(lcs):
            missing = [b for b, n in lcs.notes["stars_without_values"].items() if n]
            why = (f"the catalogue has no mean magnitude or amplitude for band {', '.join(missing)}" if missing
                   else f"it is fainter than {SURVEY_NAMES[survey]}'s detection limit")
            raise NoObservations(f"The simulated {SURVEY_NAMES[survey]} light curve of star {star_id} has no epochs: "
                                 f"{why}. Try another survey.")
        return observe(lcs, star_id)

    # -------------------------------------------------------------- drawing
    @param.depends("state.selected_star", "state.catalog", "state.observation_source", "state.survey",
                   "state.survey_seed", "state.lightcurves", "fold_at", "dmdt_preset", "shown")
    async def _content(self):
        state = self.state
        inputs = self.skip_unless_due("content", state.selected_star, state.catalog, state.observation_source,
                                      state.survey, state.survey_seed, state.lightcurves, self.fold_at,
                                      self.dmdt_preset)
        if state.catalog is None:
            return self.drawn("content", inputs, pn.pane.Markdown("Load a catalogue in the Data & filters tab first."))
        if state.selected_star is None:
            return self.drawn("content", inputs, pn.pane.Markdown(
                "### No star picked\nPick a star in the Light curves tab (by id or from the table) to see its "
                "observations here.", css_classes=["vse-obs-empty"]))
        try:
            obs = await asyncio.to_thread(self.observations)
        except NoObservations as exc:
            return self.drawn("content", inputs, pn.pane.Alert(html.escape(str(exc)), alert_type="warning",
                                                               css_classes=["vse-obs-empty"]))
        if state.star_position(obs.star_id) is None:  # another catalogue arrived meanwhile; its own update follows
            return pn.pane.Markdown("")
        return self.drawn("content", inputs, self.draw(obs))

    def draw(self, obs: StarObservations) -> pn.Column:
        """Title, period summary and the four plots of ``obs`` (the part of ``_content`` after computing).

        The catalogue row is looked up by ``obs.star_id``, not the current pick, which may have moved on
        while ``obs`` was computed off the event loop."""
        star = self.state.describe([self.state.star_position(obs.star_id)])
        source = describe_source(obs.lcs)
        star_id = html.escape(obs.star_id)
        if obs.simulated:
            title = f"## Simulated {SURVEY_NAMES[obs.lcs.survey]} observations of {star_id}"
            banner = pn.pane.Alert(
                f"**Simulated, not observed.** The star's catalogue period, amplitude and Fourier shape seen with "
                f"{SURVEY_NAMES[obs.lcs.survey]}'s cadence and noise ({html.escape(obs.lcs.notes['cadence'])}; "
                f"seed {obs.lcs.notes['seed']}). {self._band_sources(obs)}", alert_type="info")
        else:
            title = f"## Observed light curve of {star_id}"
            banner = pn.pane.Markdown(f"From `{html.escape(obs.lcs.source)}` ({obs.lcs.time_scale} times).")
        parts = [pn.pane.Markdown(title, margin=(0, 10)), banner]
        catalogue_period = float(star["period"].iloc[0])
        if obs.problem:
            parts.append(pn.pane.Alert(html.escape(obs.problem), alert_type="warning", css_classes=["vse-obs-empty"]))
            parts.append(pn.pane.HoloViews(time_plot(obs, source), linked_axes=False, css_classes=["vse-obs-time"]))
            return pn.Column(*parts, sizing_mode="stretch_width")
        which = "found" if self.fold_at == "found" or not (catalogue_period > 0) else "catalogue"
        period = obs.found_period if which == "found" else catalogue_period
        folded, model_note = folded_plot(obs, star, period, which, source)
        parts.append(pn.pane.Markdown(self._summary(obs, catalogue_period, model_note),
                                      css_classes=["vse-obs-summary"]))
        parts.append(pn.FlexBox(
            pn.pane.HoloViews(time_plot(obs, source), linked_axes=False, css_classes=["vse-obs-time"]),
            pn.pane.HoloViews(periodogram_plot(obs, catalogue_period, source), linked_axes=False,
                              css_classes=["vse-obs-periodogram"]),
            pn.pane.HoloViews(folded, linked_axes=False, css_classes=["vse-obs-folded"]),
            *(pn.pane.HoloViews(image, linked_axes=False, css_classes=["vse-obs-dmdt"])
              for image in dmdt_plots(obs, self.dmdt_preset, source)),
        ))
        return pn.Column(*parts, sizing_mode="stretch_width")

    @staticmethod
    def _band_sources(obs: StarObservations) -> str:
        """Which catalogue columns a survey band borrowed (ZTF g from OGLE's V and I...)."""
        borrowed = [f"{band} from mag_{src['mag']} and amp_{src['amp']}"
                    for band, src in obs.lcs.notes["band_sources"].items() if src["mag"] != band or src["amp"] != band]
        return f"Bands the catalogue lacks: {'; '.join(borrowed)}." if borrowed else ""

    @staticmethod
    def _summary(obs: StarObservations, catalogue_period: float, model_note: str) -> str:
        ratio = obs.found_period / catalogue_period if catalogue_period > 0 else float("nan")
        epochs = ", ".join(f"{n} in {b}" for b, n in obs.lcs.data["band"].value_counts().sort_index().items())
        rows = "".join(f"| {b} | {p:.7g} d | {pw:.3f} | {fap:.2g} | {n} |\n" for b, p, pw, fap, n in
                       obs.searches[["band", "period", "power", "fap", "n_obs"]].itertuples(index=False))
        return (f"**Catalogue period** {catalogue_period:.7g} d · **found** {obs.found_period:.7g} d in {obs.band} "
                f"(found / catalogue = {ratio:.4f}) · epochs: {epochs} · black line: {html.escape(model_note)}\n\n"
                f"| band | best period | power | FAP | epochs |\n|---|---|---|---|---|\n{rows}")

    def __panel__(self):
        return self._layout
