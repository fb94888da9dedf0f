"""Data & filters: catalogue choice, every cleaning setting, the per-class funnel, the report and the
period-amplitude diagram of the whole catalogue (box select there selects stars)."""

from __future__ import annotations

import html

import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from holoviews.operation.datashader import datashade, dynspread

from explorer.state import PALETTE, REMOVED_COLOR, ExplorerState
from pipeline.cleaning import KEPT

from .common import View

#: Cleaning steps whose columns a catalogue may lack, and the setting each is driven by.
OPTIONAL_STEPS = {"min_detections": "min_obs", "period_confidence": "max_log_fap", "goodness_of_fit": "min_r2"}
#: Short step names under the funnel's groups of bars (the report table keeps the pipeline's names).
STEP_NAMES = {"min_detections": "detections", "period_confidence": "period FAP", "goodness_of_fit": "fit R²",
              "label_map": "label map", "anomalies": "anomalies", "class_cap": "class cap"}
#: The period-amplitude diagram aggregates kept stars by their class *colour*, so its colour key is fixed and
#: covers every category a redraw can bring: a key built from one preset's classes met the categories of
#: another for a moment when the preset changed (datashader: "Insufficient colors provided").
COLOR_KEY = {color: color for color in dict.fromkeys([*PALETTE, REMOVED_COLOR])}
STATUS_STYLE = {"not applicable": "color: #b45309; font-weight: bold", "disabled": "color: #6b7280; font-style: italic"}


class _Setting:
    """A threshold as an editable slider plus an on/off box; off sets None (the step is switched off).

    The slider pushes to the state on release only (``value_throttled``), so a drag re-cleans once.
    """

    def __init__(self, state: ExplorerState, name: str, slider, toggle_label: str):
        self.state, self.name, self.slider = state, name, slider
        self.toggle = pn.widgets.Checkbox(label=toggle_label, margin=(5, 10, 0, 10))
        self.note = pn.pane.Markdown("", visible=False, margin=(0, 10), styles={"color": "#b45309", "font-size": "12px"})
        self.applicable = True
        self._pulling = False
        slider.param.watch(self._push, "value_throttled")
        self.toggle.param.watch(self._push, "value")
        state.param.watch(self._pull, name)
        self._pull()
        self.panel = pn.Column(self.toggle, slider, self.note, margin=0)

    def _push(self, *_):
        if not self._pulling:
            setattr(self.state, self.name, self.slider.value if self.toggle.value else None)

    def _pull(self, *_):
        value = getattr(self.state, self.name)
        self._pulling = True
        try:
            if value is not None:
                self.slider.value = value
            self.toggle.param.update(value=value is not None, disabled=not self.applicable)
            self.slider.disabled = value is None or not self.applicable
        finally:
            self._pulling = False

    def set_applicable(self, reason: str | None):
        """Grey the setting out, with the reason, when the catalogue lacks the step's columns."""
        self.applicable = reason is None
        self.note.param.update(object=f"Not applicable to this catalogue: {html.escape(reason)}" if reason else "",
                               visible=reason is not None)
        self._pull()


class DataView(View):
    """Load a catalogue, set the cleaning thresholds and see what each step removes, per class."""

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._builtin = pn.widgets.Button(label="Load OGLE-III (built-in)", color="primary", sizing_mode="stretch_width")
        self._builtin.on_click(lambda _: state.load("ogle3", name="OGLE-III"))
        self._path = pn.widgets.TextInput(label="Catalogue file on the server",
                                          placeholder="/data/Table2.txt, table2.dat, .csv, .parquet, .fits",
                                          sizing_mode="stretch_width")
        self._path_button = pn.widgets.Button(label="Load file", sizing_mode="stretch_width")
        self._path_button.on_click(self._load_path)
        self._upload = pn.widgets.FileInput(multiple=True, sizing_mode="stretch_width")
        self._upload.param.watch(self._load_upload, "value")
        self._source = pn.pane.Markdown(sizing_mode="stretch_width")

        self._settings = {
            "min_obs": _Setting(state, "min_obs", pn.widgets.EditableIntSlider(
                label="Min detections per band", start=0, end=300, step=5, fixed_start=0, width=280,
                css_classes=["vse-min-obs"]), "minimum detections"),
            "max_log_fap": _Setting(state, "max_log_fap", pn.widgets.EditableFloatSlider(
                label="Max log10 FAP", start=-30.0, end=0.0, step=0.5, width=280), "period confidence"),
            "min_r2": _Setting(state, "min_r2", pn.widgets.EditableFloatSlider(
                label="Min R² of the fit", start=0.0, end=1.0, step=0.01, width=280), "goodness of fit"),
            "cap": _Setting(state, "cap", pn.widgets.EditableIntSlider(
                label="Stars per class", start=100, end=10000, step=100, fixed_start=1, width=280,
                css_classes=["vse-cap"]),
                "class cap (off: uncapped)"),
        }
        self._comparison = pn.widgets.RadioButtonGroup.from_param(
            state.param.min_obs_comparison, label="Detections comparison", width=120, margin=(0, 10, 10, 10))
        controls = pn.Column(
            "### Catalogue", self._source, self._builtin, self._path, self._path_button,
            pn.pane.Markdown("Or upload a file (a CDS `table2.dat` with its `ReadMe`; up to ~20 MB):", margin=(5, 10, 0, 10)),
            self._upload,
            "### Labels",
            pn.widgets.Select.from_param(state.param.preset, label="Label preset", width=280),
            "### Filters",
            self._settings["min_obs"].panel,
            self._comparison,
            self._settings["max_log_fap"].panel,
            self._settings["min_r2"].panel,
            self._settings["cap"].panel,
            pn.widgets.IntInput.from_param(state.param.seed, label="Seed (class cap)", width=280),
            width=310,
        )
        self._summary = pn.pane.Markdown(sizing_mode="stretch_width", css_classes=["vse-summary"])
        self._notes = pn.pane.Alert(alert_type="info", visible=False, sizing_mode="stretch_width")
        self._report = pn.widgets.Tabulator(
            pd.DataFrame(columns=["step", "label", "before", "removed", "after", "status", "rule"]),
            groupby=["step"], hidden_columns=["step"], show_index=False, disabled=True, height=420,
            sizing_mode="stretch_width",
            layout="fit_data_stretch", widths={"status": 130, "rule": 360},
        )
        self._report.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["status"])
        self._layout = pn.Row(
            controls,
            pn.Column(
                self._summary, self._notes, self._legend,
                pn.FlexBox(self._funnel, pn.Column(self._pa_diagram, self._selection_info)),
                "### Cleaning report (thesis 2.1.1, step by step)", self._report,
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )
        self._refresh()

    # -------------------------------------------------------------- catalogue choice
    def _load_path(self, _):
        path = self._path.value.strip()
        if not path:
            self.state.error = "Type the path of a catalogue file on the server first."
            return
        self.state.load(path)

    def _load_upload(self, event):
        if not event.new:
            return
        values = event.new if isinstance(event.new, list) else [event.new]
        names = self._upload.filename if isinstance(self._upload.filename, list) else [self._upload.filename]
        self.state.load_upload(dict(zip(names, values)))

    # -------------------------------------------------------------- cleaning result
    @param.depends("state.result", "state.source_name", watch=True)
    def _refresh(self):
        state, result = self.state, self.state.result
        if result is None:
            self._source.object = "No catalogue loaded."
            self._summary.object = ""
            return
        self._source.object = f"**{state.source_name}**: {len(state.catalog):,} stars, band `{state.band}`"
        counts = result.data["label"].value_counts()
        per_class = ", ".join(f"{c} {counts.get(c, 0):,}" for c in result.classes)
        self._summary.object = (f"### {len(result.data):,} of {len(state.catalog):,} stars kept\n"
                                f"{len(result.classes)} classes ({state.preset}): {per_class}")
        self._notes.param.update(object=" ".join(result.notes), visible=bool(result.notes))
        self._report.value = result.report
        statuses = result.report.drop_duplicates("step").set_index("step")
        for step, name in OPTIONAL_STEPS.items():
            row = statuses.loc[step]
            self._settings[name].set_applicable(row["rule"] if row["status"] == "not applicable" else None)
        self._comparison.disabled = not self._settings["min_obs"].applicable

    @param.depends("state.result")
    def _funnel(self):
        """Stars per class left after each step: the thesis's Figure 1, one group of bars per step."""
        result = self.state.result
        if result is None:
            return pn.pane.Markdown("")
        report = result.report
        first = report[report["step"] == report["step"].iloc[0]]
        counts = pd.concat([
            pd.DataFrame({"step": "catalogue", "class": first["label"], "stars": first["before"]}),
            pd.DataFrame({"step": report["step"].map(lambda s: STEP_NAMES.get(s, s)), "class": report["label"],
                          "stars": report["after"]}),
        ], ignore_index=True)
        colors = self.state.class_colors()
        bars = hv.Bars(counts, kdims=["step", "class"], vdims=["stars"]).opts(
            color="class", cmap=colors, logy=True, ylim=(0.8, None), width=540, height=400,
            xlabel="", ylabel="stars (log scale)", title="Stars per class after each step",
            tools=["hover"], show_legend=False, hooks=[_step_labels_only],
        )
        return pn.pane.HoloViews(bars, margin=(0, 10), linked_axes=False)

    # -------------------------------------------------------------- period-amplitude diagram
    @param.depends("state.catalog")
    def _pa_diagram(self):
        """Whole catalogue, rasterised: removed stars grey underneath, kept stars coloured by class."""
        state = self.state
        if state.catalog is None:
            return pn.pane.Markdown("")
        points = state.points()
        self._limits = {"log_period": _padded(points["log_period"]), "amp": _padded(points["amp"])}
        result_stream = hv.streams.Params(state, ["result"])
        kept = hv.DynamicMap(self._kept_points, streams=[result_stream])
        removed = hv.DynamicMap(self._removed_points, streams=[result_stream])
        shaded_removed = dynspread(datashade(removed, cmap=["#d4d4d4", "#808080"], min_alpha=120), threshold=0.8, max_px=3)
        shaded_kept = dynspread(datashade(kept, aggregator=ds.count_cat("color"), color_key=COLOR_KEY,
                                          min_alpha=160), threshold=0.8, max_px=3)
        hv.streams.BoundsXY(source=shaded_kept).add_subscriber(self._box_selected)
        box = hv.DynamicMap(self._selection_box, streams=[hv.streams.Params(state, ["selection_bounds"])])
        plot = (shaded_removed * shaded_kept * box).opts(
            hv.opts.RGB(tools=["box_select"], active_tools=["box_select", "wheel_zoom"]),
            hv.opts.Rectangles(fill_alpha=0.08, fill_color="black", line_color="black", line_dash="dashed"),
            hv.opts.Overlay(width=540, height=400, xlim=self._limits["log_period"], ylim=self._limits["amp"],
                            xlabel="log10 period [d]", ylabel=f"amplitude {state.band} [mag]", show_legend=False,
                            title="Period-amplitude diagram (box select to pick stars)"),
        )
        return pn.pane.HoloViews(plot, margin=(0, 10), linked_axes=False, css_classes=["vse-pa"])

    def _kept_points(self, result):
        """Kept stars with their class colour, taken from the same result as the stars themselves."""
        points = self.state.points().iloc[np.flatnonzero(result.fate.to_numpy() == KEPT)]
        colors = self.state.class_colors(result.classes)
        color = pd.Categorical(result.data["label"].astype(str).map(colors).to_numpy(), categories=list(COLOR_KEY))
        points = points.assign(color=color)
        if points.empty:  # HoloViews' empty-data path builds a mis-shaped categorical raster: draw one NaN point
            points = pd.DataFrame({"log_period": [np.nan], "amp": [np.nan],
                                   "color": pd.Categorical([REMOVED_COLOR], categories=list(COLOR_KEY))})
        kept = hv.Points(points, kdims=["log_period", "amp"], vdims=["color"])
        return kept.redim.range(**self._limits)  # explicit ranges: an empty set still rasterises

    def _removed_points(self, result):
        points = self.state.points()
        removed = np.flatnonzero(result.fate.to_numpy() != KEPT)
        return hv.Points(points.iloc[removed], kdims=["log_period", "amp"]).redim.range(**self._limits)

    @staticmethod
    def _selection_box(selection_bounds):
        return hv.Rectangles([selection_bounds] if selection_bounds else [])

    def _box_selected(self, bounds):
        if bounds is not None:
            x0, y0, x1, y1 = bounds
            self.state.select_region(x0, x1, y0, y1)

    @param.depends("state.result")
    def _legend(self):
        colors = self.state.class_colors()
        swatches = [(c, colors[c]) for c in (self.state.result.classes if self.state.result is not None else [])]
        swatches.append(("removed or unmapped", REMOVED_COLOR))
        items = " ".join(f'<span style="white-space:nowrap;margin-right:10px"><span style="display:inline-block;'
                         f'width:11px;height:11px;background:{color};margin-right:4px"></span>{html.escape(name)}</span>'
                         for name, color in swatches)
        return pn.pane.HTML(items, margin=(0, 10), sizing_mode="stretch_width")

    @param.depends("state.selection")
    def _selection_info(self):
        n = len(self.state.selection)
        if not n:
            return pn.pane.Markdown("No stars selected: drag a box in the diagram.", margin=(0, 20))
        clear = pn.widgets.Button(label="Clear selection", width=140)
        clear.on_click(lambda _: self.state.clear_selection())
        return pn.Row(pn.pane.Markdown(f"**{n:,} stars selected**: see the Light curves tab.", margin=(8, 20)), clear)

    def __panel__(self):
        return self._layout


def _step_labels_only(plot, element):
    """Name the steps under each group of bars; the classes are told apart by colour (the legend)."""
    plot.state.xaxis.major_label_text_font_size = "0pt"
    plot.state.xaxis.major_tick_line_color = None
    plot.state.xaxis.group_text_font_size = "11px"
    plot.state.xaxis.group_label_orientation = "horizontal"


def _padded(values: pd.Series) -> tuple[float, float]:
    """Axis range holding 99.8 % of the finite values, so a few outliers do not squash the rest."""
    finite = values[np.isfinite(values)]
    if finite.empty:
        return (0.0, 1.0)
    low, high = np.quantile(finite, [0.001, 0.999])
    pad = 0.05 * (high - low or 1.0)
    return (float(low - pad), float(high + pad))

