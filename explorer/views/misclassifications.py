"""Misclassifications: the stars behind one confusion cell of the chosen run, and a close look at one.

A cell is picked by clicking the matrix here or in Results (the session's ``cell``) or from the list of
pairs; a row of the table shows that star's light curve beside its classes' median curves, its dm-dt
image against its fold's training stars (what a reference-mode model saw) and its class probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, DataRange1d, FactorRange, Range1d

import pipeline
from explorer.training import RunReport, TrainingSession, run_colors, training_session
from pipeline import RunError
from pipeline.schema import bands, primary_band

from .common import View, plain_figure, safe
from .dmdt import color_range, dmdt_image
from .results import confusion_figure, tap_to_cell

NUMBER_FORMAT = {"type": "money", "precision": 3, "symbol": ""}


class MisclassificationsView(View):
    """Confusion cell -> table of its stars -> one star's curves, dm-dt image and probabilities."""

    session = param.ClassSelector(class_=TrainingSession)
    star = param.String(default=None, allow_None=True, doc="Id of the star picked in the table.")

    def __init__(self, **params):
        if params.get("session") is None:
            params["session"] = training_session(params["state"])
        super().__init__(**params)
        session = self.session
        self._typical: dict[tuple[str, str], np.ndarray] = {}
        self._listed: dict[str, tuple[str, str] | None] = {}  # the pairs with mistakes, most frequent first
        self._pairs: dict[str, tuple[str, str] | None] = {}  # those, and the picked cell when not among them
        self._counts: dict[tuple[str, str], float] = {}  # mean stars per fold of every cell of the run
        self._pair = pn.widgets.Select(label="True class → predicted class (mistakes, most frequent first)",
                                       width=360)
        self._pair.param.watch(self._pair_picked, "value")
        self._title = pn.pane.Markdown("", margin=(0, 10))
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=["id", "fold", "period", "amplitude", "p_true", "p_pred"]), show_index=False,
            disabled=True, selectable=1, pagination="remote", page_size=10, layout="fit_data_table", width=620,
            height=380,
            formatters={"period": {"type": "money", "precision": 5, "symbol": ""}, "amplitude": NUMBER_FORMAT,
                        "p_true": NUMBER_FORMAT, "p_pred": NUMBER_FORMAT},
            css_classes=["vse-misclassified"],
        )
        self._table.param.watch(self._row_picked, "selection")
        self._layout = pn.Column(
            pn.Row(pn.widgets.Select.from_param(session.param.chosen_run, label="Run (as in Results)", width=560),
                   self._pair),
            pn.Row(pn.param.ParamMethod(self._matrix), pn.Column(self._title, self._table)),
            pn.param.ParamMethod(self._detail),
            sizing_mode="stretch_width",
        )
        self._refresh_pairs()
        self._refresh_table()

    def _report(self) -> RunReport | None:
        if self.session.chosen_run is None:
            return None
        try:
            return self.session.report()
        except (RunError, ValueError, OSError):
            return None  # Results says why; here there is simply nothing to list

    # -------------------------------------------------------------- picking a cell and a star
    @param.depends("session.chosen_run", "session.runs", "shown", watch=True)
    def _refresh_pairs(self):
        """Every off-diagonal pair with mistakes, most frequent first, as a keyboard-friendly cell picker."""
        report = self._report() if self.shown else None
        self._listed, self._counts = {"(click a cell or pick a pair)": None}, {}
        if report is not None and report.counts is not None:
            classes = report.run.classes
            self._counts = {(t, p): float(report.counts[i, j]) for i, t in enumerate(classes)
                            for j, p in enumerate(classes)}
            mistakes = sorted(((n, t, p) for (t, p), n in self._counts.items() if t != p and n > 0), reverse=True)
            self._listed.update({f"{t} → {p} ({n:.3g} per fold)": (t, p) for n, t, p in mistakes})
        self._show_pair()

    def _show_pair(self):
        """The session's cell in the picker. A cell the list does not hold (the diagonal: stars classified
        correctly, or a pair without mistakes), clicked in a matrix, gets an entry while it is picked."""
        cell, pairs = self.session.cell, dict(self._listed)
        if cell in self._counts and cell not in pairs.values():
            true, pred = cell
            kind = "correct" if true == pred else "no mistakes"
            pairs[f"{true} → {pred} ({self._counts[cell]:.3g} per fold, {kind})"] = cell
        self._pairs = pairs
        if self._pair.options != list(pairs):
            self._pair.options = list(pairs)
        labels = [label for label, pair in pairs.items() if pair == cell]
        self._pair.value = labels[0] if labels else list(pairs)[0]

    def _pair_picked(self, event):
        pair = self._pairs.get(event.new)
        if pair is not None:
            self.session.cell = pair

    @param.depends("session.cell", "session.chosen_run", "shown", watch=True)
    def _refresh_table(self):
        session = self.session
        report = self._report() if self.shown else None
        if report is None or session.cell is None or session.cell[0] not in report.run.classes:
            self._title.object = "### Click a cell of the matrix (or pick a pair) to list its stars"
            self._table.selection = []
            self._table.value = self._table.value.iloc[:0]
            self.star = None
            self._show_pair()
            return
        true, pred = session.cell
        try:
            table = session.misclassified(true, pred)
        except RunError as exc:  # a damaged stars.parquet: say so here, keep the page
            self._title.object = f"### Cannot list these stars\n{safe(exc)}"
            self._table.value = self._table.value.iloc[:0]
            self.star = None
            return
        what = f"**{true}** classified correctly" if true == pred else f"true **{true}** predicted **{pred}**"
        self._title.object = (f"### {len(table):,} stars: {what}\n"
                              "(validation predictions of every fold; p = model probability)")
        self._table.value = table  # then the selection: set together, Tabulator maps it onto the old rows
        self._table.selection = [0] if len(table) else []
        self.star = str(table["id"].iloc[0]) if len(table) else None
        self._show_pair()

    def _row_picked(self, event):
        if event.new:
            self.star = str(self._table.value["id"].iloc[event.new[0]])

    # -------------------------------------------------------------- plots
    @param.depends("session.chosen_run", "session.runs", "shown")
    def _matrix(self):
        inputs = self.skip_unless_due("matrix", self.session.chosen_run, self.session.runs)
        report = self._report()
        if report is None or report.counts is None:
            return self.drawn("matrix", inputs, pn.pane.Markdown(
                "Choose a run with at least one finished fold (Results tab).", width=480))
        matrix = confusion_figure(report.counts, report.run.classes, "Mean counts per fold: click a cell",
                                  normalised=False, size=380)
        matrix.css_classes = ["vse-misclassification-matrix"]  # on the figure: a Bokeh pane draws it as is
        return self.drawn("matrix", inputs, tap_to_cell(matrix, self.session))

    def typical_curve(self, report: RunReport, stars: pd.DataFrame, cls: str) -> np.ndarray:
        """Median reconstructed light curve (each star minus its mean) of a class among the run's stars."""
        key = (report.run.run_id, cls)
        if key not in self._typical:
            curves = pipeline.reconstruct(stars[stars["label"] == cls])
            self._typical[key] = np.median(curves - curves.mean(axis=1, keepdims=True), axis=0)
        return self._typical[key]

    @param.depends("star", "session.chosen_run", "shown")
    def _detail(self):
        inputs = self.skip_unless_due("detail", self.star, self.session.chosen_run)
        return self.drawn("detail", inputs, self._draw_detail())

    def _draw_detail(self):
        session = self.session
        report = self._report()
        if report is None or self.star is None:
            return pn.pane.Markdown("")
        try:
            stars = session.run_stars()
        except RunError as exc:
            return pn.pane.Alert(safe(exc), alert_type="danger", sizing_mode="stretch_width")
        if stars is None:
            return pn.pane.Alert(f"Run {safe(report.run.run_id)} has no stars.parquet: its stars cannot be drawn.",
                                 alert_type="warning")
        predictions = report.run.predictions
        row = predictions[predictions["id"].astype(str) == self.star].iloc[0]
        star = stars.loc[[self.star]]
        classes, colors = report.run.classes, run_colors(report.run.classes)
        true, pred, fold = row["true"], row["pred"], int(row["fold"])
        return pn.Column(
            pn.pane.Markdown(f"## {safe(self.star)}\nTrue **{true}**, predicted **{pred}** by the fold {fold} model "
                             f"(p = {row[f'p_{pred}']:.3f}; p of the true class {row[f'p_{true}']:.3f}). "
                             f"Period {star['period'].iloc[0]:.6g} d.", sizing_mode="stretch_width"),
            pn.Row(pn.pane.Bokeh(self._curve_plot(report, stars, star, true, pred, colors)),
                   pn.pane.Bokeh(self._probability_plot(row, classes, colors))),
            f"### dm-dt image against fold {fold}'s training stars (reference mode, band "
            f"{bands(stars, 'amp')[0]}), one panel per reference class",
            # a GridBox: a FlexBox or hv.Layout of these images drew them squashed inside this ParamMethod
            pn.GridBox(*map(pn.pane.Bokeh, self._dmdt_plots(star, stars[stars["fold"] != fold], classes)), ncols=5),
            sizing_mode="stretch_width",
        )

    def _curve_plot(self, report, stars, star, true, pred, colors):
        """The star's reconstructed curve over the median curves of its true and predicted classes, brighter up."""
        phase = pipeline.phase_grid()
        curve = pipeline.reconstruct(star)[0]
        mean = float(curve.mean())
        plot = plain_figure(width=520, height=320, x_range=(0, 1), y_range=DataRange1d(flipped=True), x_axis_label="phase",
                            y_axis_label=f"{primary_band(stars)} magnitude (brighter up)",
                            title="Light curve and class medians (moved to its mean)",
                            tools="pan,wheel_zoom,box_zoom,reset,save", tags=["star curve"])
        medians = [(true, "true", "dashed"), (pred, "predicted", "dotted")][:1 if true == pred else 2]
        for cls, role, dash in medians:
            if cls in colors:
                plot.line(phase, self.typical_curve(report, stars, cls) + mean, color=colors[cls], line_dash=dash,
                          line_width=2, legend_label=f"median {cls} ({role})", name=f"median {role}")
        plot.line(phase, curve, color="black", line_width=2.5, legend_label=self.star, name="star")
        plot.legend.location = "bottom_right"
        return plot

    @staticmethod
    def _probability_plot(row: pd.Series, classes: list[str], colors: dict[str, str]):
        bars = ColumnDataSource({"class": classes, "probability": [float(row[f"p_{c}"]) for c in classes],
                                 "color": [colors[c] for c in classes]})
        plot = plain_figure(x_range=FactorRange(*classes), y_range=Range1d(0, 1), width=420, height=320,
                            title="Class probabilities", y_axis_label="probability", tools="save",
                            tooltips=[("class", "@class"), ("probability", "@probability{0.000}")], tags=["probabilities"])
        plot.vbar("class", top="probability", width=0.8, color="color", source=bars, name="bars")
        plot.xaxis.major_label_orientation = np.pi / 4
        plot.xgrid.visible = False
        return plot

    @staticmethod
    def _dmdt_plots(star: pd.DataFrame, reference: pd.DataFrame, classes: list[str]) -> list:
        images = pipeline.dmdt_images(star, mode="reference", reference=reference, classes=classes)[0]
        per_class = images[:: len(bands(star, "amp"))]  # channels are class-major: the first band of each class
        clim = color_range(per_class)
        return [dmdt_image(image, f"vs {cls}", clim) for cls, image in zip(classes, per_class)]

    def __panel__(self):
        return self._layout
