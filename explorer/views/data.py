"""Data & filters: catalogue choice, every cleaning setting, the per-class funnel, the report and the
period-amplitude diagram of the whole catalogue (box select there selects stars)."""

from __future__ import annotations

import functools
import html
import threading

import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, DataRange1d, FactorRange
from holoviews.operation.datashader import datashade, dynspread

from explorer import uploads
from explorer.state import PALETTE, REMOVED_COLOR, ExplorerState, SharedMemo, data_dirs
from pipeline.cleaning import QUALITY_STEPS, RANGE_PREFIX, numeric_columns

from .common import View, plain_figure, safe, scrolling_table

#: Short step names under the funnel's groups of bars and in the filter list (the report table keeps
#: the pipeline's names); a user range ``range:<column>`` is shown as ``<column> range``.
STEP_NAMES = {"min_detections": "detections", "period_confidence": "period FAP", "goodness_of_fit": "fit R²",
              "period_precision": "σP/P", "fourier_fit": "Fourier fit", "mean_magnitude": "mean mag",
              "min_amplitude": "min amp", "region": "region", "label_map": "label map", "anomalies": "anomalies",
              "class_cap": "class cap"}
#: The period-amplitude diagram aggregates kept stars by their class *colour*, so its colour key is fixed and
#: covers every category a redraw can bring: a key built from one preset's classes met the categories of
#: another for a moment when the preset changed (datashader: "Insufficient colors provided").
COLOR_KEY = {color: color for color in dict.fromkeys([*PALETTE, REMOVED_COLOR])}
STATUS_STYLE = {"not applicable": "color: #b45309; font-weight: bold", "partial": "color: #b45309",
                "disabled": "color: #6b7280; font-style: italic"}
#: Regions of OGLE-III (the region step's choices).
REGIONS = ["LMC", "SMC", "BLG"]


def cleaning_report_html(report: pd.DataFrame) -> str:
    """The cleaning report (thesis 2.1.1) as one HTML table for :func:`scrolling_table`: a block of rows
    per step, its status coloured. Text from the catalogue (class names) is escaped."""
    rows = []
    for step, part in report.groupby("step", sort=False):
        for i, row in enumerate(part.itertuples(index=False)):
            first = f'<th rowspan="{len(part)}">{safe(step)}</th>' if i == 0 else ""
            rows.append(f"<tr>{first}<td>{safe(row.label)}</td>"
                        + "".join(f'<td class="count">{getattr(row, c):,}</td>' for c in ("before", "removed", "after"))
                        + f'<td style="{STATUS_STYLE.get(row.status, "")}">{safe(row.status)}</td>'
                        f"<td>{safe(row.rule)}</td></tr>")
    head = "".join(f"<th>{name}</th>" for name in ("step", "class", "before", "removed", "after", "status", "rule"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def step_name(step: str) -> str:
    return f"{step.removeprefix(RANGE_PREFIX)} range" if step.startswith(RANGE_PREFIX) else STEP_NAMES.get(step, step)


class _Setting:
    """A threshold as a slider, a box to type it in, and an on/off box; off sets None (the step is switched off).

    The slider pushes to the state on release only (``value_throttled``), so a drag re-cleans once; a typed
    value pushes at once and widens the slider when it lies beyond its ends. ``to_state``/``from_state``
    convert when the slider shows another scale (log10 of a ratio); a range slider gets two boxes.
    ``lowest`` is the smallest value a box takes (the state's bound); ``css_classes`` name the row that
    holds slider and boxes (tests and the UI benchmark type into its box). Not Panel's
    ``Editable*Slider``: it widens its slider with a JavaScript callback, and while a page holds one,
    Panel walks the page's whole model graph on every layout change (0.1 s on each tab switch).
    """

    def __init__(self, state: ExplorerState, name: str, slider, toggle_label: str, lowest: float | None = None,
                 css_classes: tuple[str, ...] = (), to_state=lambda v: v, from_state=lambda v: v):
        self.state, self.name, self.slider = state, name, slider
        self.to_state, self.from_state = to_state, from_state
        self.toggle = pn.widgets.Checkbox(label=toggle_label, margin=(5, 10, 0, 10))
        self.note = pn.pane.Markdown("", visible=False, margin=(0, 10), styles={"color": "#b45309", "font-size": "12px"})
        box = pn.widgets.IntInput if isinstance(slider, pn.widgets.IntSlider) else pn.widgets.FloatInput
        width = 70 if self._is_range else 90
        self.boxes = [box(value=v, step=slider.step, start=lowest, width=width, margin=(5, 5), align="end")
                      for v in self._parts(slider.value)]
        self._pulling = False
        slider.param.watch(self._push, "value_throttled")
        slider.param.watch(lambda event: self._show_in_boxes(event.new), "value")
        for b in self.boxes:
            b.param.watch(self._typed, "value")
        self.toggle.param.watch(self._push, "value")
        state.param.watch(self._pull, name)
        self._pull()
        self.panel = pn.Column(self.toggle, pn.Row(slider, *self.boxes, margin=0, css_classes=list(css_classes)),
                               self.note, margin=0)

    @property
    def _is_range(self) -> bool:
        return isinstance(self.slider.value, tuple)

    def _parts(self, value) -> tuple:
        return tuple(value) if self._is_range else (value,)

    def _push(self, *_):
        if not self._pulling:
            setattr(self.state, self.name, self.to_state(self.slider.value) if self.toggle.value else None)

    def _show_in_boxes(self, value):
        """The slider's value, dragged or set, in the boxes (not pushed: the slider pushes on release)."""
        self._pulling, was = True, self._pulling
        try:
            for b, v in zip(self.boxes, self._parts(value)):
                b.value = v
        finally:
            self._pulling = was

    def _typed(self, *_):
        if self._pulling:
            return
        typed = [b.value for b in self.boxes]
        if None in typed or typed != sorted(typed):  # an emptied box, or a range typed the wrong way round
            self._show_in_boxes(self.slider.value)
            return
        self._pulling = True
        try:
            self._show_on_slider(tuple(typed) if self._is_range else typed[0])
        finally:
            self._pulling = False
        self._push()

    def _show_on_slider(self, value):
        """Set the slider to ``value``, widening its ends first: a slider refuses a value beyond them."""
        parts = self._parts(value)
        self.slider.param.update(start=min(self.slider.start, parts[0]), end=max(self.slider.end, parts[-1]))
        self.slider.value = value

    def _pull(self, *_):
        value = getattr(self.state, self.name)
        self._pulling = True
        try:
            if value is not None:
                self._show_on_slider(self.from_state(value))
            self.toggle.value = value is not None
            for widget in (self.slider, *self.boxes):
                widget.disabled = value is None
        finally:
            self._pulling = False

    def set_note(self, text: str | None):
        """A line under the setting: what a ``partial`` step leaves unchecked."""
        self.note.param.update(object=safe(text) if text else "", visible=bool(text))


class _Regions:
    """OGLE-III's regions as toggle buttons; all selected means the step is off (``regions=None``)."""

    def __init__(self, state: ExplorerState):
        self.state = state
        self.buttons = pn.widgets.CheckButtonGroup(label="Regions", options=REGIONS, value=list(REGIONS),
                                                   margin=(5, 10))
        self.buttons.param.watch(self._push, "value")
        state.param.watch(self._pull, "regions")
        self.panel = pn.Column(pn.pane.Markdown("Regions (OGLE-III fields)", margin=(5, 10, 0, 10)), self.buttons,
                               margin=0)

    def _push(self, event):
        chosen = [r for r in REGIONS if r in event.new]
        self.state.regions = None if len(chosen) == len(REGIONS) else chosen

    def _pull(self, *_):
        self.buttons.value = list(REGIONS) if self.state.regions is None else list(self.state.regions)


class _Ranges:
    """Add and remove ``min <= column <= max`` ranges on any numeric column; each is a cleaning step."""

    def __init__(self, state: ExplorerState):
        self.state = state
        self.column = pn.widgets.Select(label="Column", options=[], width=110, margin=(5, 5, 5, 10))
        self.low = pn.widgets.FloatInput(label="min", value=None, width=75, margin=(5, 2))
        self.high = pn.widgets.FloatInput(label="max", value=None, width=75, margin=(5, 2))
        self.add = pn.widgets.Button(label="Add", width=50, margin=(24, 5, 5, 2), css_classes=["vse-add-range"])
        self.add.on_click(self._add)
        self.listing = pn.Column(margin=0)
        state.param.watch(self._list, "ranges")
        state.param.watch(self._columns, "catalog")
        self._columns()
        self._list()
        self.panel = pn.Column(pn.pane.Markdown("Ranges on any column (each a step)", margin=(5, 10, 0, 10)),
                               pn.Row(self.column, self.low, self.high, self.add, margin=0), self.listing, margin=0)

    def _columns(self, *_):
        """The catalogue's numeric columns; the one chosen stays if the new catalogue has it, else the first.

        (Options alone left the value None while the browser showed the first column: Add then asked
        for a column the user saw chosen.)
        """
        catalog = self.state.catalog
        options = [] if catalog is None else numeric_columns(catalog)
        kept = self.column.value if self.column.value in options else None
        self.column.param.update(options=options, value=kept or (options[0] if options else None))

    def _add(self, _):
        if not self.column.value:
            self.state.error = "Choose a column for the range first."
            return
        if self.low.value is None and self.high.value is None:
            self.state.error = f"Give a min or a max (or both) for the range on {self.column.value}."
            return
        self.state.add_range(self.column.value, self.low.value, self.high.value)

    def _list(self, *_):
        rows = []
        for column, (low, high) in self.state.ranges.items():
            remove = pn.widgets.Button(label="✕", width=32, margin=(0, 5), color="light",
                                       description=f"remove the range on {column}")
            remove.on_click(lambda _, c=column: self.state.remove_range(c))
            text = " ".join(part for part in (f"{low:g} ≤" if low is not None else "", safe(column),
                                               f"≤ {high:g}" if high is not None else "") if part)
            rows.append(pn.Row(pn.pane.Markdown(text, margin=(4, 10)), remove, margin=0))
        self.listing.objects = rows


class DataView(View):
    """Load a catalogue, set the cleaning thresholds and see what each step removes, per class."""

    def __init__(self, **params):
        super().__init__(**params)
        state = self.state
        self._builtin = pn.widgets.Button(label="Load OGLE-III (built-in)", color="primary", sizing_mode="stretch_width")
        self._builtin.on_click(lambda _: state.load("ogle3", name="OGLE-III"))
        self._path = pn.widgets.TextInput(label="Catalogue file on the server",
                                          placeholder=f"{data_dirs()[0] / 'Table2.txt'}, .dat, .csv, .parquet, .fits",
                                          sizing_mode="stretch_width")
        self._path_button = pn.widgets.Button(label="Load file", sizing_mode="stretch_width")
        self._path_button.on_click(self._load_path)
        self._upload = pn.widgets.FileInput(multiple=True, sizing_mode="stretch_width")
        self._upload.param.watch(self._load_upload, "value")
        self._source = pn.pane.Markdown(sizing_mode="stretch_width")

        self._settings = {
            "min_obs": _Setting(state, "min_obs", pn.widgets.IntSlider(
                label="Min detections per band", start=0, end=300, step=5, show_value=False, width=165),
                "minimum detections", lowest=0, css_classes=("vse-min-obs",)),
            "max_log_fap": _Setting(state, "max_log_fap", pn.widgets.FloatSlider(
                label="Max log10 FAP", start=-30.0, end=0.0, step=0.5, show_value=False, width=165), "period confidence"),
            "min_r2": _Setting(state, "min_r2", pn.widgets.FloatSlider(
                label="Min R² of the fit", start=0.0, end=1.0, step=0.01, show_value=False, width=165), "goodness of fit"),
            "max_period_rel_err": _Setting(state, "max_period_rel_err", pn.widgets.FloatSlider(
                label="Max log10(σP / P)", start=-7.0, end=-1.0, step=0.1, show_value=False, width=165),
                "period precision", css_classes=("vse-period-precision",),
                to_state=lambda v: float(10.0 ** v), from_state=lambda v: float(np.log10(v))),
            "mag_range": _Setting(state, "mag_range", pn.widgets.RangeSlider(
                label="Mean magnitude", start=5.0, end=25.0, step=0.1, value=(12.0, 19.0), show_value=False, width=110),
                "mean-magnitude range", to_state=tuple, from_state=tuple),
            "min_amp": _Setting(state, "min_amp", pn.widgets.FloatSlider(
                label="Min amplitude [mag]", start=0.0, end=2.0, step=0.01, value=0.05, show_value=False, width=165),
                "minimum amplitude", lowest=0.0),
            "cap": _Setting(state, "cap", pn.widgets.IntSlider(
                label="Stars per class", start=100, end=10000, step=100, show_value=False, width=165),
                "class cap (off: uncapped)", lowest=1, css_classes=("vse-cap",)),
        }
        self._comparison = pn.widgets.RadioButtonGroup.from_param(
            state.param.min_obs_comparison, label="Detections comparison", width=120, margin=(0, 10, 10, 10))
        settings = self._settings
        #: Each quality step's controls, shown first when the step applies to the loaded catalogue.
        self._step_controls = {
            "min_detections": pn.Column(settings["min_obs"].panel, self._comparison, margin=0),
            "period_confidence": settings["max_log_fap"].panel,
            "goodness_of_fit": settings["min_r2"].panel,
            "period_precision": settings["max_period_rel_err"].panel,
            "fourier_fit": pn.widgets.Checkbox.from_param(state.param.require_fourier, margin=(5, 10),
                                                          label="Fourier fit present (drops stars without R21/phi21)"),
            "mean_magnitude": settings["mag_range"].panel,
            "min_amplitude": settings["min_amp"].panel,
            "region": _Regions(state).panel,
        }
        self._applicable = pn.Column(*self._step_controls.values(), margin=0)
        self._ranges = _Ranges(state)
        self._inapplicable_lines = pn.pane.Markdown("", margin=(0, 10), styles={"font-size": "12px"})
        self._inapplicable = pn.Card(self._inapplicable_lines, title="Not applicable to this catalogue",
                                     collapsed=True, visible=False, width=290, margin=(5, 10),
                                     css_classes=["vse-inapplicable"])
        controls = pn.Column(
            "### Catalogue", self._source, self._builtin, self._path, self._path_button,
            pn.pane.Markdown(f"Or upload a file (a CDS `table2.dat` with its `ReadMe`; at most {uploads.limit_text()} "
                             "in all):", margin=(5, 10, 0, 10)),
            self._upload,
            "### Labels",
            pn.widgets.Select.from_param(state.param.preset, label="Label preset", width=280),
            "### Filters",
            self._applicable,
            self._ranges.panel,
            self._inapplicable,
            self._settings["cap"].panel,
            pn.widgets.IntInput.from_param(state.param.seed, label="Seed (class cap)", width=280),
            width=310,
        )
        self._summary = pn.pane.Markdown(sizing_mode="stretch_width", css_classes=["vse-summary"])
        self._legend = pn.pane.HTML("", margin=(0, 10), sizing_mode="stretch_width")
        self._funnel = pn.pane.Bokeh(funnel_figure(), margin=(0, 10), css_classes=["vse-funnel"])
        self._notes = pn.pane.Alert(alert_type="info", visible=False, sizing_mode="stretch_width")
        self._report = scrolling_table(420, css_classes=["vse-report"])
        self._layout = pn.Row(
            controls,
            pn.Column(
                self._summary, self._notes, self._legend,
                # sized as the diagram (540 x 400 and its margins): a fixed layout needs both (Bokeh W-1005)
                pn.FlexBox(self._funnel, pn.Column(pn.param.ParamMethod(self._pa_diagram, width=560, height=400),
                                                   self._selection_info)),
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
        self.state.load_server_file(path)

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
        self._legend.object = self._legend_html()
        if result is None:
            self._source.object = "No catalogue loaded."
            self._summary.object = ""
            show_funnel_counts(self._funnel.object, pd.DataFrame(columns=["step", "class", "stars"]), {})
            return
        self._source.object = (f"**{safe(state.source_name)}**: {len(state.catalog):,} stars, "
                               f"band **{safe(state.band)}**")
        counts = result.data["label"].value_counts()
        per_class = ", ".join(f"{c} {counts.get(c, 0):,}" for c in result.classes)
        self._summary.object = (f"### {len(result.data):,} of {len(state.catalog):,} stars kept\n"
                                f"{len(result.classes)} classes ({state.preset}): {per_class}")
        self._notes.param.update(object=safe(" ".join(result.notes)), visible=bool(result.notes))
        self._report.object = cleaning_report_html(result.report)
        self._show_funnel(result)
        self._show_steps(result.steps)

    def _show_steps(self, steps: pd.DataFrame):
        """The loaded catalogue's applicable steps first; the others folded away, a line each saying why."""
        inapplicable = [s for s in QUALITY_STEPS if steps.loc[s, "status"] == "not applicable"]
        applicable = [self._step_controls[s] for s in QUALITY_STEPS if s not in inapplicable]
        if applicable != self._applicable.objects:  # the same catalogue: nothing for the page to re-lay out
            self._applicable.objects = applicable
        self._inapplicable_lines.object = "\n".join(
            f"- **{step_name(s)}**: {safe(steps.loc[s, 'rule'])}" for s in inapplicable)
        self._inapplicable.param.update(title=f"Not applicable to this catalogue ({len(inapplicable)})",
                                        visible=bool(inapplicable))
        for step, setting in (("min_detections", "min_obs"), ("period_confidence", "max_log_fap"),
                              ("goodness_of_fit", "min_r2")):
            partial = steps.loc[step, "status"] == "partial"
            self._settings[setting].set_note(f"Partial: {steps.loc[step, 'rule']}" if partial else None)

    def _show_funnel(self, result):
        """Stars per class left after each step that can remove stars, in the figure already shown."""
        report = result.report
        first = report[report["step"] == report["step"].iloc[0]]
        shown = report[report["status"].isin(["applied", "partial"])]  # steps that can remove stars
        counts = pd.concat([
            pd.DataFrame({"step": "catalogue", "class": first["label"], "stars": first["before"]}),
            pd.DataFrame({"step": shown["step"].map(step_name), "class": shown["label"], "stars": shown["after"]}),
        ], ignore_index=True)
        show_funnel_counts(self._funnel.object, counts, self.state.class_colors(result.classes))

    # -------------------------------------------------------------- period-amplitude diagram
    @param.depends("state.catalog")
    def _pa_diagram(self):
        """Whole catalogue, rasterised: every star grey underneath, the kept stars coloured by class on top.

        Only the kept layer follows the cleaning result: the grey layer is the whole catalogue, so a new
        threshold re-aggregates the few thousand kept stars and not the 400,000 others (a pixel holding
        a kept star shows its colour either way; grey is what no kept star covers).
        """
        state = self.state
        if state.catalog is None:
            return pn.pane.Markdown("")
        points = state.points()
        self._limits = {"log_period": _padded(points["log_period"]), "amp": _padded(points["amp"])}
        every_star = hv.Points(points, kdims=["log_period", "amp"]).redim.range(**self._limits)
        shaded_all = shared_shading("every star", shaded_every_star, lambda: every_star, inputs=(points,))
        shaded_kept = shared_shading("kept stars", shaded_kept_stars, self._kept_points, inputs=(points,),
                                     streams=[hv.streams.Params(state, ["result"])])
        hv.streams.BoundsXY(source=shaded_kept).add_subscriber(self._box_selected)
        box = hv.DynamicMap(self._selection_box, streams=[hv.streams.Params(state, ["selection_bounds"])])
        plot = (shaded_all * shaded_kept * box).opts(
            hv.opts.RGB(tools=["box_select"], active_tools=["box_select", "wheel_zoom"]),
            hv.opts.Rectangles(fill_alpha=0.08, fill_color="black", line_color="black", line_dash="dashed"),
            hv.opts.Overlay(width=540, height=400, xlim=self._limits["log_period"], ylim=self._limits["amp"],
                            xlabel="log10 period [d]", ylabel=f"amplitude {state.band} [mag]", show_legend=False,
                            title="Period-amplitude diagram (box select to pick stars)",
                            backend_opts={"plot.min_border_left": DIAGRAM_LEFT_BORDER}),
        )
        return pn.pane.HoloViews(plot, margin=(0, 10), linked_axes=False, css_classes=["vse-pa"])

    def _kept_points(self, result):
        """Kept stars with their class colour, taken from the same result as the stars themselves."""
        points = self.state.points().iloc[result.kept_positions()]
        colors = self.state.class_colors(result.classes)
        color = pd.Categorical(result.data["label"].astype(str).map(colors).to_numpy(), categories=list(COLOR_KEY))
        points = points.assign(color=color)
        if points.empty:  # HoloViews' empty-data path builds a mis-shaped categorical raster: draw one NaN point
            points = pd.DataFrame({"log_period": [np.nan], "amp": [np.nan],
                                   "color": pd.Categorical([REMOVED_COLOR], categories=list(COLOR_KEY))})
        kept = hv.Points(points, kdims=["log_period", "amp"], vdims=["color"])
        return kept.redim.range(**self._limits)  # explicit ranges: an empty set still rasterises

    @staticmethod
    def _selection_box(selection_bounds):
        return hv.Rectangles([selection_bounds] if selection_bounds else [])

    def _box_selected(self, bounds):
        if bounds is not None:
            x0, y0, x1, y1 = bounds
            self.state.select_region(x0, x1, y0, y1)

    def _legend_html(self) -> str:
        """Each class's colour, then the removed stars' grey (the diagram and the funnel share them)."""
        colors = self.state.class_colors()
        swatches = [(c, colors[c]) for c in (self.state.result.classes if self.state.result is not None else [])]
        swatches.append(("removed or unmapped", REMOVED_COLOR))
        return " ".join(f'<span style="white-space:nowrap;margin-right:10px"><span style="display:inline-block;'
                        f'width:11px;height:11px;background:{color};margin-right:4px"></span>{html.escape(name)}</span>'
                        for name, color in swatches)

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


#: The diagram's shaded layers, kept for every session. At a given view (plot ranges) the grey layer is
#: the same for everyone, and the kept layer for everyone at the same settings (cleaning results are
#: shared): shading them took 0.4 s of the server's time for each page opened. Few entries: each holds
#: an image of the plot.
SHADED = SharedMemo(8)
#: The diagram's plot frame in pixels (width, height): what Bokeh leaves of the 540 x 400 figure once its
#: title, axes and toolbar are laid out, measured in Chromium (tests/test_browser.py checks it); the left
#: border is set wide enough for any catalogue's amplitude ticks (DIAGRAM_LEFT_BORDER), so it is the same
#: for all. The layers are shaded at this size from the start. Following the size the browser reports
#: instead (a PlotSize stream, as datashader's dynamic mode does) shaded both layers again after every
#: page opened and sent them again (1.2 MB), just as the user's first click went to the server.
DIAGRAM_FRAME = (438, 328)
DIAGRAM_LEFT_BORDER = 72


def shared_shading(name: str, shade, element, inputs: tuple = (), streams=()) -> hv.DynamicMap:
    """A DynamicMap of ``shade(element(**stream values), **view)`` at :data:`DIAGRAM_FRAME` that follows
    the plot's ranges, as datashader's own dynamic mode does. Each frame is computed once for every
    session (:data:`SHADED`), keyed on the view, the stream values and ``inputs``: what ``element``
    reads besides them."""

    def frame(x_range=None, y_range=None, **values):
        view = {"x_range": _reported(x_range), "y_range": _reported(y_range)}
        return SHADED.get(name, (*inputs, *values.values(), *view.values()), lambda: shade(
            element(**values), width=DIAGRAM_FRAME[0], height=DIAGRAM_FRAME[1],
            **{k: v for k, v in view.items() if v is not None}))

    return hv.DynamicMap(frame, streams=[hv.streams.RangeXY(), *streams])


def _reported(axis_range: tuple | None) -> tuple | None:
    """A plot range as a memo key: None until the plot has one (before, RangeXY holds NaNs, which
    datashader treats as None too, and a NaN equals no other)."""
    return tuple(axis_range) if axis_range is not None and np.isfinite(axis_range).all() else None


def shaded_every_star(points, **view) -> hv.RGB:
    """The period-amplitude diagram's grey layer: every star, rasterised and spread where sparse;
    ``view``: datashader's ``x_range``, ``y_range``, ``width`` and ``height`` (default: the data's, 400 px)."""
    return dynspread(datashade(points, cmap=["#d4d4d4", "#808080"], min_alpha=120, dynamic=False, **view),
                     threshold=0.8, max_px=3, dynamic=False)


def shaded_kept_stars(points, **view) -> hv.RGB:
    """The diagram's kept layer: ``points`` with a categorical ``color`` column, one colour per class."""
    return dynspread(datashade(points, aggregator=ds.count_cat("color"), color_key=COLOR_KEY, min_alpha=160,
                               dynamic=False, **view), threshold=0.8, max_px=3, dynamic=False)


@functools.cache
def warm_up_rasterizer() -> threading.Thread:
    """Shade two stars through both layers once per process, in a background thread.

    The first time dynspread really spreads (a sparse kept layer: a small class cap), datashader imports
    its compositing operators and numba compiles the spreading kernel: 3.5-6 s during which the server
    answered nothing. Done here once the first page is up, a user's threshold change never pays it.
    """
    two = pd.DataFrame({"log_period": [0.0, 1.0], "amp": [0.5, 1.0],
                        "color": pd.Categorical([PALETTE[0], REMOVED_COLOR], categories=list(COLOR_KEY))})

    def shade():
        shaded_every_star(hv.Points(two, kdims=["log_period", "amp"]))
        shaded_kept_stars(hv.Points(two, kdims=["log_period", "amp"], vdims=["color"]))

    thread = threading.Thread(target=shade, name="vse-rasterizer-warm-up", daemon=True)
    thread.start()
    return thread


#: Where the funnel's log axis starts: a bar of 0 stars is drawn empty.
FUNNEL_FLOOR = 0.8


def funnel_figure():
    """The thesis's Figure 1 (stars per class after each step): one group of bars per step, the steps named
    under each group, the classes told apart by colour (the legend above the diagram).

    A plain Bokeh figure whose bars change in place: a new result only sends new data and factors. The
    HoloViews plot it replaces cost the server 0.1 s per update, made Bokeh recompute the page's models,
    and needed a new figure whenever the number of bars changed ("Size mismatch" in the browser).
    """
    source = ColumnDataSource({"bar": [], "step": [], "class": [], "stars": [], "top": [], "color": []})
    plot = plain_figure(x_range=FactorRange(), y_range=DataRange1d(start=FUNNEL_FLOOR), y_axis_type="log",
                        width=540, height=400, title="Stars per class after each step",
                        y_axis_label="stars (log scale)", tools="hover,save,reset",
                        tooltips=[("step", "@step"), ("class", "@class"), ("stars", "@stars{0,0}")])
    plot.vbar(x="bar", top="top", bottom=FUNNEL_FLOOR, width=0.85, color="color", source=source)
    plot.xgrid.grid_line_color = None
    plot.xaxis.major_label_text_font_size = "0pt"
    plot.xaxis.major_tick_line_color = None
    plot.xaxis.group_text_font_size = "11px"
    plot.xaxis.group_label_orientation = "horizontal"
    return plot


def show_funnel_counts(plot, counts: pd.DataFrame, colors: dict[str, str]) -> None:
    """Draw ``counts`` (columns step, class, stars) as the bars of a :func:`funnel_figure`."""
    bars = list(zip(counts["step"], counts["class"]))
    stars = counts["stars"].astype(int).to_numpy()
    plot.x_range.factors = bars
    plot.renderers[0].data_source.data = {
        "bar": bars, "step": counts["step"].tolist(), "class": counts["class"].tolist(), "stars": stars,
        "top": np.maximum(stars, FUNNEL_FLOOR), "color": [colors.get(c, REMOVED_COLOR) for c in counts["class"]],
    }


def _padded(values: pd.Series) -> tuple[float, float]:
    """Axis range holding 99.8 % of the finite values, so a few outliers do not squash the rest."""
    finite = values[np.isfinite(values)]
    if finite.empty:
        return (0.0, 1.0)
    low, high = np.quantile(finite, [0.001, 0.999])
    pad = 0.05 * (high - low or 1.0)
    return (float(low - pad), float(high + pad))

