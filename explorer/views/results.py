"""Results: saved runs (the app's and the CLI's), their per-fold scores (thesis Figure 18), per-class
scores, averaged confusion matrices, training curves, ROC curves and calibration, and two runs side by side.

The run shown is the session's ``chosen_run``; clicking a confusion cell sets the session's ``cell``,
which the Misclassifications tab lists.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from explorer.training import RunReport, TrainingSession, run_choices, training_session
from pipeline import RunError
from pipeline.metrics import FOLD_COLUMNS
from pipeline.models import MODEL_INPUTS
from pipeline.probability_metrics import Calibration, RocSummary, calibration, roc_summary
from pipeline.regression import is_regression
from pipeline.runs import Run, open_run

from .common import View, safe
from .regression import regression_report
from .training import history_figure

#: The per-fold bars: accuracy and the weighted averages the thesis reports.
FIGURE_18 = {"accuracy": "accuracy", "weighted_precision": "precision", "weighted_recall": "recall",
             "weighted_f1": "F1"}
FIGURE_18_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def confusion_plot(matrix: np.ndarray, classes: list[str], title: str, normalised: bool,
                   size: int = 420) -> tuple[hv.Overlay, hv.HeatMap]:
    """A confusion matrix, true class on y (first class at the top), predicted on x, values in the cells.

    Returns the overlay to show and its HeatMap, the source a Tap stream attaches to.
    """
    n = len(classes)
    cells = pd.DataFrame({
        "predicted": np.tile(classes, n), "true": np.repeat(classes, n), "value": np.asarray(matrix, float).ravel()})
    top = 1.0 if normalised else max(float(cells["value"].max()), 1e-9)
    cells["text"] = [f"{v:.2f}" if normalised else f"{v:.3g}" for v in cells["value"]]
    cells["ink"] = np.where(cells["value"] > 0.55 * top, "white", "black")
    axes = [hv.Dimension("predicted", values=list(classes)), hv.Dimension("true", values=list(classes))]
    value = hv.Dimension("value", label="fraction of true" if normalised else "stars per fold")
    heat = hv.HeatMap(cells, axes, [value])
    heat = heat.opts(cmap="Blues", clim=(0, top), colorbar=True, tools=["hover", "tap"], invert_yaxis=True,
                     xrotation=45, width=size + 80, height=size, title=title, xlabel="predicted class",
                     ylabel="true class", nonselection_alpha=1.0, selection_line_color="#d62728",
                     selection_line_width=3)
    labels = hv.Labels(cells, axes, ["text", "ink"]).opts(
        text_color="ink", text_font_size="9pt" if n <= 10 else "7pt")
    return heat * labels, heat


def tap_to_cell(heat: hv.HeatMap, session: TrainingSession) -> None:
    """Clicking a cell of ``heat`` picks that (true, predicted) pair in the session."""
    def picked(x, y):
        if x is not None and y is not None:
            session.cell = (str(y), str(x))

    hv.streams.Tap(source=heat).add_subscriber(picked)


def fold_bars(report: RunReport) -> hv.Bars:
    """Thesis Figure 18: accuracy, precision, recall and F1 (weighted) of every fold."""
    table = report.folds.loc[report.run.folds, list(FIGURE_18)].rename(columns=FIGURE_18)
    long = table.rename_axis("fold").reset_index().melt(id_vars="fold", var_name="score", value_name="value")
    long["fold"] = [f"fold {f}" for f in long["fold"]]
    score = hv.Dimension("score", values=list(FIGURE_18.values()))
    return hv.Bars(long, ["fold", score], "value").opts(
        color="score", cmap=dict(zip(FIGURE_18.values(), FIGURE_18_COLORS)), ylim=(0, 1), width=640, height=320,
        title="Per fold (weighted averages; thesis Figure 18)", xlabel="", ylabel="score", tools=["hover"],
        show_legend=True, legend_position="right", multi_level=True, hooks=[_fold_labels_only])


def roc_plot(roc: RocSummary, classes: list[str]) -> hv.Overlay:
    """One-vs-rest ROC curve of every class with one (pooled over folds), AUC in the legend, and the
    chance diagonal."""
    chance = hv.Curve([(0, 0), (1, 1)], "false positive rate", "true positive rate", label="chance (AUC 0.5)").opts(
        color="grey", line_dash="dashed")
    curves = [hv.Curve(roc.curves[name], "fpr", "tpr", label=f"{name} (AUC {roc.auc[name]:.3f})").opts(
        tools=["hover"]) for name in classes if name in roc.curves]
    macro = f"macro AUC {roc.macro_auc:.3f}" if roc.macro_auc is not None else "no AUC"
    return hv.Overlay([*curves, chance]).opts(
        width=480, height=440, xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate",
        ylabel="true positive rate", legend_position="bottom_right", title=f"ROC, one class vs the rest ({macro})")


def reliability_plot(cal: Calibration) -> hv.Overlay:
    """Reliability diagram: each occupied confidence bin as a bar of its accuracy, a dot at (mean
    confidence, accuracy), and the diagonal of perfect calibration."""
    bins = cal.bins
    bars = hv.Rectangles(
        (bins["low"], np.zeros(len(bins)), bins["high"], bins["accuracy"], bins["count"], bins["confidence"]),
        vdims=["count", "confidence"], label="accuracy per bin").opts(
        color="#1f77b4", alpha=0.6, line_color="white", tools=["hover"])
    dots = hv.Scatter(bins, "confidence", ["accuracy", "count"], label="(mean confidence, accuracy)").opts(
        color="#d62728", size=7, tools=["hover"])
    diagonal = hv.Curve([(0, 0), (1, 1)], "confidence", "accuracy", label="perfectly calibrated").opts(
        color="grey", line_dash="dashed")
    return (bars * dots * diagonal).opts(
        width=480, height=520, xlim=(0, 1.01), ylim=(0, 1.01), legend_position="bottom",
        xlabel="confidence (probability of the predicted class)", ylabel="accuracy",
        title=f"Reliability (ECE {cal.ece:.3f})")


def probability_plots(run: Run) -> pn.viewable.Viewable:
    """ROC curves and the reliability diagram of the run's saved predictions, or why there are none."""
    if run.predictions.empty:
        return pn.pane.Markdown("No predictions saved yet: the ROC curves and the reliability diagram appear "
                                "when the run finishes its first fold.")
    try:
        roc, cal = roc_summary(run.predictions, run.classes), calibration(run.predictions, run.classes)
    except ValueError as exc:
        return pn.pane.Alert(safe(f"The run's probabilities cannot be scored: {exc}"), alert_type="danger",
                             sizing_mode="stretch_width")
    missing = "; ".join(f"{safe(name)}: {why}" for name, why in roc.undefined.items())
    return pn.Column(
        "### ROC and calibration (all validated stars pooled over the folds)",
        pn.Row(pn.pane.HoloViews(roc_plot(roc, run.classes)), pn.pane.HoloViews(reliability_plot(cal))),
        *([pn.pane.Markdown(f"No ROC curve for {missing}.")] if missing else []),
        sizing_mode="stretch_width",
    )


def _fold_labels_only(plot, element):
    """The legend names the bars; the axis keeps only the fold under each group."""
    plot.state.xaxis.major_label_text_font_size = "0pt"


def scores_table(frame: pd.DataFrame, index_name: str) -> pn.pane.DataFrame:
    """A small score table as plain HTML: it sizes itself, so plots beside and below it never overlap it."""
    return pn.pane.DataFrame(frame.rename_axis(index_name), float_format="{:.3f}".format, sparsify=False,
                             margin=(0, 10))


def describe_run(report: RunReport) -> str:
    """One line of what was trained on what, from the run's config."""
    config = report.run.config
    train = config.get("train", {})
    catalog = config.get("catalog_name") or config.get("catalog", "?")
    parts = [f"**{config['model']}**", f"catalogue **{safe(catalog)}**",
             f"classes {config.get('label_map', 'custom')} ({len(report.run.classes)})",
             f"{config.get('n_stars', '?')} stars", f"{config.get('folds', '?')} folds"]
    if train:
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

    def __init__(self, **params):
        if params.get("session") is None:
            params["session"] = training_session(params["state"])
        super().__init__(**params)
        session = self.session
        refresh = pn.widgets.Button(label="Refresh list", width=120, margin=(27, 10, 5, 10))
        refresh.on_click(lambda _: session.refresh_runs())
        self._runs = pn.widgets.Tabulator(
            pd.DataFrame(), show_index=False, disabled=True, layout="fit_data_table",
            sizing_mode="stretch_width", selectable=False,
            formatters={"accuracy": {"type": "money", "precision": 3, "symbol": ""}},
        )
        self._layout = pn.Column(
            pn.Row(pn.widgets.Select.from_param(session.param.chosen_run, label="Run", width=560), refresh),
            pn.pane.Markdown(f"Runs in `{session.runs_dir}`, newest first (CLI runs written there appear after "
                             "**Refresh list**):", margin=(0, 10)),
            self._runs,
            pn.param.ParamMethod(self._report, loading_indicator=True),
            "## Compare two runs",
            pn.Row(pn.widgets.Select.from_param(self.param.compare_a, label="Run A", width=480),
                   pn.widgets.Select.from_param(self.param.compare_b, label="Run B", width=480)),
            pn.param.ParamMethod(self._compare, loading_indicator=True),
            sizing_mode="stretch_width",
        )
        self._refresh_runs()

    @param.depends("session.runs", watch=True)
    def _refresh_runs(self):
        runs = self.session.runs
        # the header and rows as the served page draws them (56 and 36 px): at 40 + 30 px a lone run was cut in half
        self._runs.height = min(290, 60 + 36 * max(len(runs), 1))
        self._runs.value = runs.drop(columns=["path"]).assign(created=runs["created"].dt.strftime("%Y-%m-%d %H:%M:%S"))
        choices = run_choices(runs)
        readable = runs.loc[runs["status"] != "corrupt", "run_id"].tolist()
        for name, default in (("compare_a", readable[1:2] or readable[:1]), ("compare_b", readable[:1])):
            self.param[name].objects = choices
            current = getattr(self, name)
            setattr(self, name, current if current in choices.values() else (default[0] if default else None))

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
            run = open_run(self.session.run_path(run_id))
            if is_regression(run):
                return regression_report(run)
            return self.session.report(run_id, run)
        except (RunError, ValueError, OSError) as exc:
            return pn.pane.Alert(safe(f"Run {run_id} cannot be read: {exc}"), alert_type="danger",
                                 sizing_mode="stretch_width")

    @param.depends("session.chosen_run", "session.runs", "shown")
    def _report(self):
        if not self.shown:
            return pn.pane.Markdown("")
        report = self._open(self.session.chosen_run)
        if not isinstance(report, RunReport):
            return report
        parts = [pn.pane.Markdown(f"## {safe(report.run.run_id)}\n{describe_run(report)}", sizing_mode="stretch_width")]
        if report.note:
            parts.append(pn.pane.Alert(safe(report.note), alert_type="warning", sizing_mode="stretch_width",
                                       css_classes=["vse-run-note"]))
        if not report.run.folds:
            return pn.Column(*parts, probability_plots(report.run), sizing_mode="stretch_width")
        counts, counts_heat = confusion_plot(report.counts, report.run.classes, "Mean confusion counts per fold",
                                             normalised=False)
        normalised, normalised_heat = confusion_plot(report.normalised, report.run.classes,
                                                     "Row-normalised (recall on the diagonal)", normalised=True)
        tap_to_cell(counts_heat, self.session)
        tap_to_cell(normalised_heat, self.session)
        history = report.run.history
        curves = (pn.Row(*[pn.pane.Bokeh(history_figure(metric, history)) for metric in ("loss", "acc")])
                  if len(history)
                  else pn.pane.Markdown(f"No per-epoch curves: {report.run.config['model']} is not trained by epochs."))
        parts += [
            pn.Row(pn.Column("### Per fold", scores_table(report.folds, "fold")), pn.pane.HoloViews(fold_bars(report))),
            pn.Row(pn.Column("### Per class (mean over folds)",
                             scores_table(report.per_class.rename(columns={"support": "support per fold"}), "class")),
                   curves),
            "### Confusion matrices, averaged over folds (click a cell to list those stars in **Misclassifications**)",
            pn.Row(pn.pane.HoloViews(counts, css_classes=["vse-confusion"]), pn.pane.HoloViews(normalised)),
            probability_plots(report.run),
        ]
        return pn.Column(*parts, sizing_mode="stretch_width")

    @param.depends("compare_a", "compare_b", "session.runs", "shown")
    def _compare(self):
        if not self.shown:
            return pn.pane.Markdown("")
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
        plots = [confusion_plot(r.normalised, r.run.classes, f"{side}: {r.run.run_id}", normalised=True, size=360)[0]
                 for side, r in zip("AB", scored)]
        notes = [f"**{side}**: {describe_run(r)}" + (f"  \n{safe(r.note)}" if r.note else "")
                 for side, r in zip("AB", scored)]
        return pn.Column(
            pn.pane.Markdown("\n\n".join(notes), sizing_mode="stretch_width"),
            scores_table(side_by_side, "score"),
            pn.Row(*[pn.pane.HoloViews(p) for p in plots]),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return self._layout
