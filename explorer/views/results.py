"""Results: saved runs (the app's and the CLI's), their per-fold scores (thesis Figure 18), per-class
scores, averaged confusion matrices, training curves, ROC curves and calibration, and two runs side by side.

The run shown is the session's ``chosen_run``; clicking a confusion cell sets the session's ``cell``,
which the Misclassifications tab lists.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import (ColorBar, ColumnDataSource, FactorRange, HoverTool, Legend, LegendItem, LinearColorMapper,
                          Range1d)
from bokeh.palettes import Blues256
from bokeh.transform import factor_cmap

from explorer.training import RunReport, TrainingSession, run_choices, run_colors, training_session
from pipeline import RunError
from pipeline.baseline import MODEL_NAME as BASELINE
from pipeline.metrics import FOLD_COLUMNS
from pipeline.models import MODEL_INPUTS
from pipeline.probability_metrics import Calibration, RocSummary
from pipeline.regression import is_regression

from .common import View, on_its_loop, plain_figure, safe, scrolling_table
from .regression import regression_report
from .training import history_figure

#: The per-fold bars: accuracy and the weighted averages the thesis reports.
FIGURE_18 = {"accuracy": "accuracy", "weighted_precision": "precision", "weighted_recall": "recall",
             "weighted_f1": "F1"}
FIGURE_18_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def confusion_figure(matrix: np.ndarray, classes: list[str], title: str, normalised: bool, size: int = 420):
    """A confusion matrix, true class on y (first class at the top), predicted on x, values in the cells.

    A plain Bokeh figure whose cells (the renderer named ``cells``) a click selects: :func:`tap_to_cell`
    turns that into the session's pair. The HoloViews heat map and labels it replaces took the server
    0.16 s per matrix to build.
    """
    n = len(classes)
    values = np.asarray(matrix, float).ravel()
    top = 1.0 if normalised else max(float(values.max(initial=0.0)), 1e-9)
    label = "fraction of true" if normalised else "stars per fold"
    cells = ColumnDataSource({
        "predicted": list(np.tile(classes, n)), "true": list(np.repeat(classes, n)), "value": values,
        "text": [f"{v:.2f}" if normalised else f"{v:.3g}" for v in values],
        "ink": np.where(values > 0.55 * top, "white", "black"),
    })
    # the toolbar on the right, past the colour bar: above, beside a long title, Bokeh folds it into a "⋮" menu
    plot = plain_figure(x_range=FactorRange(*classes), y_range=FactorRange(*reversed(classes)), width=size + 110,
                        height=size, title=title, x_axis_label="predicted class", y_axis_label="true class",
                        tools="tap,save,reset", toolbar_location="right", tags=["confusion"])
    shade = LinearColorMapper(palette=Blues256[::-1], low=0, high=top)
    # the picked cell gets a red frame; the others stay as they are (Bokeh would fade them)
    drawn = plot.rect("predicted", "true", 1, 1, source=cells, fill_color={"field": "value", "transform": shade},
                      line_color=None, selection_line_color="#d62728", selection_line_width=3,
                      nonselection_fill_alpha=1.0, name="cells")
    cell_pixels = (size - 90) / n  # what the axes, title and colour bar leave of the figure
    plot.text("predicted", "true", text="text", text_color="ink", text_align="center", text_baseline="middle",
              text_font_size=f"{min(12, max(6, round(cell_pixels / 3)))}px", nonselection_text_alpha=1.0,
              source=cells)
    plot.add_tools(HoverTool(renderers=[drawn], tooltips=[("true", "@true"), ("predicted", "@predicted"),
                                                          (label, "@value{0.000}")]))
    plot.add_layout(ColorBar(color_mapper=shade, title=label), "right")
    plot.xaxis.major_label_orientation = np.pi / 4
    plot.grid.visible = False
    plot.axis.axis_line_color = None
    return plot


def tap_to_cell(plot, session: TrainingSession) -> pn.pane.Bokeh:
    """Clicking a cell of a :func:`confusion_figure` picks that (true, predicted) pair in the session, and
    the session's pair is the cell framed in red however it was picked: in this matrix, in the other one
    beside it, in the Misclassifications tab's pair picker or from code. Returns the pane that shows the
    matrix: in Jupyter, a frame changed from Python reaches the page only when that pane is pushed."""
    pane = pn.pane.Bokeh(plot)
    shown_by = weakref.ref(pane)  # as the selection below: the session's watcher must not keep a dropped matrix
    cells = plot.select_one({"name": "cells"}).data_source
    pairs = list(zip(cells.data["true"], cells.data["predicted"]))

    def picked(attr, old, new):
        if new:
            session.cell = pairs[new[0]]

    cells.selected.on_change("indices", picked)
    selection = weakref.ref(cells.selected)

    def frame(*_):
        selected = selection()
        if selected is None:  # the figure was drawn anew (another run) and this one dropped
            session.param.unwatch(watcher)
            return
        framed = [pairs.index(session.cell)] if session.cell in pairs else []

        def show():
            selected.indices = framed
            if (shown := shown_by()) is not None:
                pn.io.push_notebook(shown)

        if selected.indices != framed:  # the cell is also forgotten on the training thread, as it picks its new run
            on_its_loop(selected.document, show)

    watcher = session.param.watch(frame, "cell")
    frame()
    return pane


def fold_bars(report: RunReport):
    """Thesis Figure 18: accuracy, precision, recall and F1 (weighted) of every fold, grouped by fold.

    One bar glyph coloured by score, not one per score: each renderer is a dozen more Bokeh models to
    build, send and draw.
    """
    table = report.folds.loc[report.run.folds, list(FIGURE_18)]
    scores = list(FIGURE_18.values())
    bars = ColumnDataSource({
        "x": [(f"fold {fold}", score) for fold in report.run.folds for score in scores],
        "fold": [f"fold {fold}" for fold in report.run.folds for _ in scores],
        "score": scores * len(report.run.folds),
        "value": table.to_numpy(float).ravel(),
    })
    # the toolbar on the right: above, beside the title, Bokeh folded the hover tool into a "⋮" menu
    plot = plain_figure(x_range=FactorRange(*bars.data["x"]), y_range=Range1d(0, 1), width=670, height=320,
                        title="Per fold (weighted averages; thesis Figure 18)", y_axis_label="score",
                        tools="save,reset", toolbar_location="right", tags=["folds"])
    drawn = plot.vbar("x", top="value", width=0.9, source=bars, name="bars",
                      color=factor_cmap("score", FIGURE_18_COLORS, scores))
    plot.add_tools(HoverTool(tooltips=[("", "@fold @score"), ("score", "@value{0.000}")]))
    # a legend entry per score, in the table's order (Bokeh's legend_group sorts them by name)
    plot.add_layout(Legend(orientation="horizontal", items=[
        LegendItem(label=score, renderers=[drawn], index=i) for i, score in enumerate(scores)]), "above")
    plot.xaxis.major_label_text_font_size = "0pt"  # the legend names the bars; the axis keeps only the folds
    plot.xgrid.visible = False
    return plot


def roc_figure(roc: RocSummary, classes: list[str]):
    """One-vs-rest ROC curve of every class with one (pooled over folds), AUC in the legend, and the
    chance diagonal."""
    macro = f"macro AUC {roc.macro_auc:.3f}" if roc.macro_auc is not None else "no AUC"
    plot = plain_figure(width=680, height=440, x_range=Range1d(0, 1), y_range=Range1d(0, 1.01),
                        x_axis_label="false positive rate", y_axis_label="true positive rate",
                        title=f"ROC, one class vs the rest ({macro})", tools="pan,wheel_zoom,box_zoom,reset,save",
                        tags=["roc"])
    colors = run_colors(classes)
    drawn = [c for c in classes if c in roc.curves]
    # one multi-line glyph for every class, a legend entry per line: with a renderer per class the figure
    # was 137 Bokeh models to build, send and draw, now 56
    curves = plot.multi_line(source=ColumnDataSource({
        "fpr": [roc.curves[c]["fpr"].to_numpy(float) for c in drawn],
        "tpr": [roc.curves[c]["tpr"].to_numpy(float) for c in drawn],
        "class": drawn, "color": [colors[c] for c in drawn]}),
        xs="fpr", ys="tpr", color="color", line_width=2, name="curves")
    chance = plot.line([0, 1], [0, 1], color="grey", line_dash="dashed")
    # beside the plot: inside, ten classes' entries ran off its top and hid the curves' corner
    plot.add_layout(Legend(location="top_left", items=[
        *(LegendItem(label=f"{name} (AUC {roc.auc[name]:.3f})", renderers=[curves], index=i)
          for i, name in enumerate(drawn)),
        LegendItem(label="chance (AUC 0.5)", renderers=[chance])]), "right")
    plot.add_tools(HoverTool(renderers=[curves], tooltips=[("class", "@class"), ("false positive rate", "$x{0.000}"),
                                                           ("true positive rate", "$y{0.000}")]))
    return plot


def reliability_figure(cal: Calibration):
    """Reliability diagram: each occupied confidence bin as a bar of its accuracy, a dot at (mean
    confidence, accuracy), and the diagonal of perfect calibration."""
    plot = plain_figure(width=480, height=520, x_range=Range1d(0, 1.01), y_range=Range1d(0, 1.01),
                        x_axis_label="confidence (probability of the predicted class)", y_axis_label="accuracy",
                        title=f"Reliability (ECE {cal.ece:.3f})", tools="pan,wheel_zoom,box_zoom,reset,save",
                        tags=["reliability"])
    bins = ColumnDataSource(cal.bins[["low", "high", "count", "confidence", "accuracy"]])
    bars = plot.quad(left="low", right="high", bottom=0, top="accuracy", source=bins, color="#1f77b4", alpha=0.6,
                     line_color="white", legend_label="accuracy per bin", name="bins")
    dots = plot.scatter("confidence", "accuracy", source=bins, color="#d62728", size=7,
                        legend_label="(mean confidence, accuracy)", name="dots")
    plot.line([0, 1], [0, 1], color="grey", line_dash="dashed", legend_label="perfectly calibrated")
    plot.add_tools(HoverTool(renderers=[bars, dots], tooltips=[
        ("confidence", "@low{0.0}-@high{0.0}, mean @confidence{0.000}"), ("accuracy", "@accuracy{0.000}"),
        ("stars", "@count")]))
    legend = plot.legend[0]
    plot.center.remove(legend)
    plot.add_layout(legend, "below")
    return plot


def probability_plots(report: RunReport) -> pn.viewable.Viewable:
    """ROC curves and the reliability diagram of the run's saved predictions, or why there are none."""
    run = report.run
    if run.predictions.empty:
        return pn.pane.Markdown("No predictions saved yet: the ROC curves and the reliability diagram appear "
                                "when the run finishes its first fold.")
    try:
        roc, cal = report.roc, report.calibration
    except ValueError as exc:
        return pn.pane.Alert(safe(f"The run's probabilities cannot be scored: {exc}"), alert_type="danger",
                             sizing_mode="stretch_width")
    missing = "; ".join(f"{safe(name)}: {why}" for name, why in roc.undefined.items())
    return pn.Column(
        "### ROC and calibration (all validated stars pooled over the folds)",
        pn.Row(pn.pane.Bokeh(roc_figure(roc, run.classes)), pn.pane.Bokeh(reliability_figure(cal))),
        *([pn.pane.Markdown(f"No ROC curve for {missing}.")] if missing else []),
        sizing_mode="stretch_width",
    )


def scores_table(frame: pd.DataFrame, index_name: str) -> pn.pane.DataFrame:
    """A small score table as plain HTML: it sizes itself, so plots beside and below it never overlap it."""
    return pn.pane.DataFrame(frame.rename_axis(index_name), float_format="{:.3f}".format, sparsify=False,
                             margin=(0, 10))


def runs_table_html(runs: pd.DataFrame) -> str:
    """The saved runs (``TrainingSession.runs``, newest first) as one HTML table for :func:`scrolling_table`;
    run ids and reasons come from files, so they are escaped."""
    shown = runs.drop(columns=["path"]).assign(created=runs["created"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    return shown.to_html(index=False, escape=True, na_rep="", border=0, float_format="{:.3f}".format)


def describe_run(report: RunReport) -> str:
    """One line of what was trained on what, from the run's config."""
    config = report.run.config
    train = config.get("train", {})
    catalog = config.get("catalog_name") or config.get("catalog", "?")
    parts = [f"**{config['model']}**", f"catalogue **{safe(catalog)}**",
             f"classes {config.get('label_map', 'custom')} ({len(report.run.classes)})",
             f"{config.get('n_stars', '?')} stars", f"{config.get('folds', '?')} folds"]
    if config["model"] == BASELINE:  # the run records a training preset too, but no epoch uses it
        parts.append(f"features: {config.get('features') or 'catalog'}")
    elif train:
        parts.append(f"{config.get('preset', '')} preset: {train.get('epochs')} epochs, "
                     f"batch {train.get('batch_size')}, lr {train.get('lr'):g}")
    if "device" in config:
        parts.append(f"device {config['device']}")
    if MODEL_INPUTS.get(config["model"]) == "dmdt":
        parts.append(f"dm-dt {config['dmdt_mode']}")
    return " · ".join(parts)


class ResultsView(View):
    """Saved runs, one in detail, and two side by side."""

    session = param.ClassSelector(class_=TrainingSession)
    compare_a = param.Selector(default=None, objects=[], allow_None=True, doc="First run of the comparison.")
    compare_b = param.Selector(default=None, objects=[], allow_None=True, doc="Second run of the comparison.")
    comparing = param.Boolean(default=False, doc="""
        Draw the comparison: on request, as its two matrices add a third to what the page lays out.""")

    def __init__(self, **params):
        if params.get("session") is None:
            params["session"] = training_session(params["state"])
        super().__init__(**params)
        session = self.session
        refresh = pn.widgets.Button(label="Refresh list", width=120, margin=(27, 10, 5, 10))
        refresh.on_click(lambda _: session.refresh_runs())
        self._runs = scrolling_table(70, css_classes=["vse-runs"])
        self._refresh_runs()  # before the parts below: each would draw again for each run it is given
        self._layout = pn.Column(
            pn.Row(pn.widgets.Select.from_param(session.param.chosen_run, label="Run", width=560), refresh),
            pn.pane.Markdown(f"Runs in `{session.runs_dir}`, newest first (CLI runs written there appear after "
                             "**Refresh list**):", margin=(0, 10)),
            self._runs,
            pn.param.ParamMethod(self._report),
            "## Compare two runs",
            pn.Row(pn.widgets.Select.from_param(self.param.compare_a, label="Run A", width=480),
                   pn.widgets.Select.from_param(self.param.compare_b, label="Run B", width=480),
                   pn.widgets.Toggle.from_param(self.param.comparing, label="Compare", width=120, align="end")),
            pn.param.ParamMethod(self._compare),
            sizing_mode="stretch_width",
        )

    @param.depends("session.runs", watch=True)
    def _refresh_runs(self):
        runs = self.session.runs
        # the header and rows as the served page draws them (about 30 and 27 px), at most ten rows in sight
        self._runs.param.update(height=min(300, 34 + 28 * max(len(runs), 1)), object=runs_table_html(runs))
        choices = run_choices(runs)
        readable = runs.loc[runs["status"] != "corrupt", "run_id"].tolist()
        compared = {}
        for name, default in (("compare_a", readable[1:2]), ("compare_b", readable[:1])):  # A: the run before B
            self.param[name].objects = choices
            current = getattr(self, name)
            compared[name] = current if current in choices.values() else (default[0] if default else None)
        self.param.update(compared)  # one comparison drawn, not one per side

    @param.depends("shown", watch=True)
    def _list_when_shown(self):
        if self.shown:
            self.session.refresh_runs()

    def _open(self, run_id: str | None) -> RunReport | pn.viewable.Viewable:
        """The run's report, a regression run's own view, or a pane saying why there is none."""
        if run_id is None:
            return pn.pane.Markdown("No saved runs yet: train one in the **Training** tab "
                                    "(or with `python -m pipeline train`, into the same runs folder).")
        try:
            run = self.session.saved_run(run_id)
            if is_regression(run):
                return regression_report(run)
            return self.session.report(run_id)
        except (RunError, ValueError, OSError) as exc:
            return pn.pane.Alert(safe(f"Run {run_id} cannot be read: {exc}"), alert_type="danger",
                                 sizing_mode="stretch_width")

    @param.depends("session.chosen_run", "session.runs", "shown")
    def _report(self):
        inputs = self.skip_unless_due("report", self.session.chosen_run, self.session.runs)
        return self.drawn("report", inputs, self._draw_report())

    def _draw_report(self):
        report = self._open(self.session.chosen_run)
        if not isinstance(report, RunReport):
            return report
        parts = [pn.pane.Markdown(f"## {safe(report.run.run_id)}\n{describe_run(report)}", sizing_mode="stretch_width")]
        if report.note:
            parts.append(pn.pane.Alert(safe(report.note), alert_type="warning", sizing_mode="stretch_width",
                                       css_classes=["vse-run-note"]))
        if not report.run.folds:
            return pn.Column(*parts, probability_plots(report), sizing_mode="stretch_width")
        counts = confusion_figure(report.counts, report.run.classes, "Mean confusion counts per fold",
                                  normalised=False)
        normalised = confusion_figure(report.normalised, report.run.classes,
                                      "Row-normalised (recall on the diagonal)", normalised=True)
        counts.css_classes = ["vse-confusion"]  # on the figure: a Bokeh pane draws its figure as is
        matrices = pn.Row(tap_to_cell(counts, self.session), tap_to_cell(normalised, self.session))
        history = report.run.history
        curves = (pn.Row(*[pn.pane.Bokeh(history_figure(metric, history)) for metric in ("loss", "acc")])
                  if len(history)
                  else pn.pane.Markdown(f"No per-epoch curves: {report.run.config['model']} is not trained by epochs."))
        parts += [
            pn.Row(pn.Column("### Per fold", scores_table(report.folds, "fold")), pn.pane.Bokeh(fold_bars(report))),
            pn.Row(pn.Column("### Per class (mean over folds)",
                             scores_table(report.per_class.rename(columns={"support": "support per fold"}), "class")),
                   curves),
            "### Confusion matrices, averaged over folds (click a cell to list those stars in **Misclassifications**)",
            matrices,
            probability_plots(report),
        ]
        return pn.Column(*parts, sizing_mode="stretch_width")

    @param.depends("compare_a", "compare_b", "comparing", "session.runs", "shown")
    def _compare(self):
        inputs = self.skip_unless_due("compare", self.compare_a, self.compare_b, self.comparing, self.session.runs)
        return self.drawn("compare", inputs, self._draw_comparison())

    def _draw_comparison(self):
        if not self.comparing:
            return pn.pane.Markdown("Pick two runs and press **Compare** to see their scores and matrices side by side.")
        if self.compare_b is not None and self.compare_a is None:
            return pn.pane.Markdown("One run saved so far: train another to compare the two here (or pick the "
                                    "same run as **Run A**).")
        reports = [self._open(run_id) for run_id in (self.compare_a, self.compare_b)]
        for report in reports:
            if isinstance(report, pn.Column):  # a regression run's own view
                return pn.pane.Markdown("The comparison is for two classification runs; a regression run is shown "
                                        "on its own above.")
            if not isinstance(report, RunReport):
                return report
        scored = [r for r in reports if r.run.folds]
        if len(scored) < 2:
            return pn.pane.Markdown("Both runs need at least one finished fold to compare.")
        columns = {}
        for side, report in zip("AB", scored):
            table = report.folds
            mean, std = table.loc["mean"], table.loc["std"]
            columns[f"{side}: {report.run.run_id}"] = [
                f"{mean[c]:.3f}" + (f" ± {std[c]:.3f}" if pd.notna(std[c]) else "") for c in FOLD_COLUMNS]
        side_by_side = pd.DataFrame(columns, index=pd.Index(FOLD_COLUMNS, name="score"))
        plots = [confusion_figure(r.normalised, r.run.classes, f"{side}: {r.run.run_id}", normalised=True, size=360)
                 for side, r in zip("AB", scored)]
        notes = [f"**{side}**: {describe_run(r)}" + (f"  \n{safe(r.note)}" if r.note else "")
                 for side, r in zip("AB", scored)]
        return pn.Column(
            pn.pane.Markdown("\n\n".join(notes), sizing_mode="stretch_width"),
            scores_table(side_by_side, "score"),
            pn.Row(*[pn.pane.Bokeh(p) for p in plots]),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return self._layout
