"""Light curves: the selected stars' reconstructed curves, each class's median and 16-84 % band, and a
close-up of one star picked by id or from the table. Magnitude axes are inverted: brighter is up."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import DataRange1d
from bokeh.plotting import figure
from param.parameterized import Skip

import pipeline
from explorer.state import REMOVED_COLOR
from pipeline.cleaning import KEPT, UNMAPPED

from .common import View, safe

#: Ids offered by the star-id completion: all shown stars up to this many (the browser gets the list).
MAX_COMPLETIONS = 20000


def class_curve_figure(name: str, summary, color: str):
    """One class's median curve and 16-84 % band (``summary``: a class summary's median, low, high, n),
    brighter up.

    A plain Bokeh figure: the HoloViews overlay it replaces took the server 0.18 s to build, five times
    on the tab's first paint and after each new result.
    """
    plot = figure(title=f"{name} (n={summary.n:,})", width=260, height=200, x_range=(0, 1),
                  y_range=DataRange1d(flipped=True), x_axis_label="phase", y_axis_label="Δ mag (brighter up)",
                  toolbar_location=None, tools="")
    phase = pipeline.phase_grid()
    plot.varea(x=phase, y1=summary.low, y2=summary.high, fill_color=color, fill_alpha=0.3, name="band")
    plot.line(x=phase, y=summary.median, line_color=color, line_width=2, name="median")
    return plot


class LightCurveView(View):
    """Reconstructed light curves of the selection, per class, and of the picked star."""

    draw_limit = param.Integer(default=50, bounds=(1, 500), doc="Most selected stars drawn at once.")

    def __init__(self, **params):
        super().__init__(**params)
        self._id_input = pn.widgets.AutocompleteInput(
            label="Star id", placeholder="type an id, or click a row below", restrict=False, min_characters=2,
            case_sensitive=False, search_strategy="includes", width=300,
        )
        self._id_input.param.watch(self._id_typed, "value")
        self._table_title = pn.pane.Markdown(margin=(0, 10))
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(), pagination="remote", page_size=12, selectable=1, disabled=True, show_index=False,
            layout="fit_columns", width=660, widths={"id": 200}, css_classes=["vse-lc-table"],
        )
        self._table.param.watch(self._row_picked, "selection")
        self._scaling = pn.widgets.Checkbox.from_param(
            self.state.param.match_amplitude, label="Peak-to-peak = catalogue amplitude (display; the models "
            "see the thesis scaling A1 = amp/2)", margin=(5, 10))
        self._layout = pn.Column(
            self._scaling,
            pn.Row(self._selection_plot, pn.Column(self._id_input, self._star_plot)),
            pn.Row(pn.Column(self._table_title, self._table), self._star_info),
            "### Each class: median and 16-84 % band (magnitude minus each star's mean)",
            self._class_plots,
            sizing_mode="stretch_width",
        )
        self._refresh_table()

    # -------------------------------------------------------------- picking a star
    @param.depends("state.selection", "state.result", "shown", watch=True)
    def _refresh_table(self):
        """The selection when there is one, else the kept stars; the star-id completion follows it."""
        state = self.state
        try:
            inputs = self.skip_unless_due("table", state.selection, state.result)
        except Skip:
            return
        if state.result is None:
            return
        self.drawn("table", inputs, None)
        selected = len(state.selection) > 0
        positions = state.selection if selected else state.kept_positions()
        band = state.band
        stars = state.describe(positions)[["id", "label", "fate", "period", f"amp_{band}", f"mag_{band}"]]
        stars["label"] = stars["label"].astype(object).fillna(UNMAPPED)
        stars = stars.sort_values("fate", key=lambda fate: fate != KEPT, kind="stable")  # kept stars first
        self._table_title.object = (f"### {'Selected' if selected else 'Kept'} stars ({len(stars):,})"
                                    + ("" if selected else ": select a region in the period-amplitude diagram to narrow"))
        self._table.param.update(value=stars.reset_index(drop=True), selection=[])
        self._id_input.options = stars["id"].astype(str).iloc[:MAX_COMPLETIONS].tolist()

    def _id_typed(self, event):
        self.state.selected_star = event.new.strip() or None

    def _row_picked(self, event):
        if event.new:
            self.state.selected_star = str(self._table.value["id"].iloc[event.new[0]])

    @param.depends("state.selected_star", watch=True)
    def _show_pick(self):
        self._id_input.value = self.state.selected_star or ""

    # -------------------------------------------------------------- plots
    # Each part waits while the tab is hidden: a class cap redrew all three, unseen (a third of its time).
    @param.depends("state.selection", "state.result", "state.match_amplitude", "draw_limit", "shown")
    def _selection_plot(self):
        state = self.state
        inputs = self.skip_unless_due("selection_plot", state.selection, state.result, state.match_amplitude,
                                      self.draw_limit)
        return self.drawn("selection_plot", inputs, self._draw_selection())

    def _draw_selection(self):
        state = self.state
        if state.result is None or not len(state.selection):
            return pn.pane.Markdown("### Selected stars\nBox-select a region of the period-amplitude diagram "
                                    "(Data & filters tab) to draw its stars here.", width=640)
        positions = state.selection_sample(self.draw_limit)
        stars = state.describe(positions)
        curves = state.curves(stars)
        relative = curves - curves.mean(axis=1, keepdims=True)
        phase = pipeline.phase_grid()
        colors = state.class_colors()
        # One Curve per star: a Path with per-star values would be sent as one segment per vertex.
        curves = {
            star_id: hv.Curve((phase, row, np.full(len(phase), star_id)), "phase", ["dmag", "star"]).opts(
                color=colors.get(label, REMOVED_COLOR), line_dash="solid" if fate == KEPT else "dashed",
                alpha=0.9 if fate == KEPT else 0.5)
            for row, star_id, label, fate in zip(relative, stars["id"], stars["label"], stars["fate"])
            if np.isfinite(row).all()
        }
        total, kept = len(state.selection), int((stars["fate"] == KEPT).sum())
        drawn = f"{total:,} selected stars" if total <= self.draw_limit else f"{len(positions)} of {total:,} selected stars"
        plot = hv.NdOverlay(curves, kdims=["id"]).opts(
            hv.opts.Curve(line_width=1.2, tools=["hover"]),
            hv.opts.NdOverlay(invert_yaxis=True, width=640, height=380, xlim=(0, 1), show_legend=False,
                              title=f"{drawn}: {kept} kept (solid), {len(positions) - kept} removed (dashed)",
                              xlabel="phase", ylabel="magnitude minus the star's mean (brighter up)"),
        )
        return pn.pane.HoloViews(plot, linked_axes=False)

    @param.depends("state.selected_star", "state.result", "state.match_amplitude", "shown")
    def _star_plot(self):
        state = self.state
        inputs = self.skip_unless_due("star_plot", state.selected_star, state.result, state.match_amplitude)
        return self.drawn("star_plot", inputs, self._draw_star())

    def _draw_star(self):
        """The picked star's curve in magnitudes, over its class's 16-84 % band moved to the star's mean."""
        state = self.state
        rows = state.star()
        if rows is None:
            return pn.pane.Markdown("Pick a star by id or in the table to see its light curve.", width=420)
        curve, star = state.curves(rows)[0], rows.iloc[0]
        if not np.isfinite(curve).all():
            return pn.pane.Markdown(f"Star {safe(star['id'])} has no usable amplitude or mean magnitude: "
                                    "no light curve can be reconstructed.", width=420)
        phase = pipeline.phase_grid()
        mean = float(curve.mean())
        layers = []
        summary = state.class_curves().get(star["label"]) if pd.notna(star["label"]) else None
        if summary is not None:
            layers.append(hv.Area((phase, summary.low + mean, summary.high + mean), "phase", ["low", "high"],
                                  label=f"{star['label']} 16-84 %").opts(color=state.class_colors()[star["label"]], alpha=0.25))
        layers.append(hv.Curve((phase, curve), "phase", "mag", label=str(star["id"])).opts(color="black", line_width=2))
        return pn.pane.HoloViews(hv.Overlay(layers).opts(
            invert_yaxis=True, width=600, height=300, xlim=(0, 1), legend_position="right",
            title=f"{star['id']}", xlabel="phase", ylabel=f"{state.band} magnitude (brighter up)",
        ), linked_axes=False)

    @param.depends("state.selected_star", "state.result", "shown")
    def _star_info(self):
        inputs = self.skip_unless_due("star_info", self.state.selected_star, self.state.result)
        return self.drawn("star_info", inputs, self._describe_star())

    def _describe_star(self):
        rows = self.state.star()
        if rows is None:
            return pn.pane.Markdown("")
        star = rows.iloc[0]
        band = self.state.band
        label = star["label"] if pd.notna(star["label"]) else "unmapped"
        fate = "kept" if star["fate"] == KEPT else f"removed at step {star['fate']}"
        return pn.pane.Markdown(
            f"### {star['id']}\n| | |\n|---|---|\n| class | {label} (raw `{star['raw_label']}`) |\n"
            f"| cleaning | {fate} |\n| period | {star['period']:.6g} d |\n"
            f"| amplitude {band} | {star[f'amp_{band}']:.3g} mag |\n| mean {band} | {star[f'mag_{band}']:.3f} mag |",
            width=380,
        )

    @param.depends("state.result", "state.match_amplitude", "shown")
    def _class_plots(self):
        state = self.state
        inputs = self.skip_unless_due("class_plots", state.result, state.match_amplitude)
        if state.result is None:
            return self.drawn("class_plots", inputs, pn.pane.Markdown(""))
        summaries = state.class_curves()
        if not summaries:
            return self.drawn("class_plots", inputs, pn.pane.Markdown("No kept stars: loosen the filters."))
        colors = state.class_colors()
        panels = [pn.pane.Bokeh(class_curve_figure(cls, summary, colors[cls])) for cls, summary in summaries.items()]
        return self.drawn("class_plots", inputs, pn.GridBox(*panels, ncols=5))  # separate plots: each class keeps its own magnitude range

    def __panel__(self):
        return self._layout
