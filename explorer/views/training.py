"""Training: model, preset and hyper-parameters, Start and Stop, live progress and loss/accuracy curves.

Training runs in a process supervised by the session's worker thread (explorer.training); this view
only edits the session's params, presses its buttons and draws what the worker publishes.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from bokeh.core.properties import field
from bokeh.models import ColumnDataSource, DataRange1d, HoverTool, Legend, LegendItem, Range1d
from bokeh.palettes import Category10

from explorer.training import TrainingSession, training_session
from pipeline import ConfigError
from pipeline.representations import LEAK_WARNING

from .common import View, on_its_loop, plain_figure, safe

FOLD_COLORS = Category10[10]
METRIC_LABELS = {"loss": "cross-entropy loss", "acc": "accuracy"}
SPLITS = (("train", "solid", "circle"), ("val", "dashed", "square"))


def history_figure(metric: str, history: pd.DataFrame | None = None):
    """Train (solid, circles) and validation (dashed, squares) ``metric`` per epoch, one colour per fold.

    A plain Bokeh figure, drawing ``history`` if given, whose lines and points change in place
    (:func:`show_history`): an epoch reported during a training sends only new data. The HoloViews
    overlays it replaces cost the server 0.3 s each to build and 0.25 s (both) per epoch, time the page
    waited for while a training ran.
    """
    label = METRIC_LABELS[metric]
    plot = plain_figure(width=440, height=300, title=f"{label}: train solid, validation dashed", x_axis_label="epoch",
                        y_axis_label=label, y_range=Range1d(0, 1) if metric == "acc" else DataRange1d(),
                        tools="pan,wheel_zoom,box_zoom,reset,save", tags=[metric])
    points = []
    for split, dash, marker in SPLITS:
        lines = ColumnDataSource({"epoch": [], "value": [], "color": []})
        plot.multi_line("epoch", "value", line_color="color", line_dash=dash, line_width=2, source=lines,
                        name=f"{metric} {split} lines")
        dots = ColumnDataSource({"epoch": [], "value": [], "fold": [], "split": [], "color": []})
        points.append(plot.scatter("epoch", "value", marker=marker, size=7, color="color", source=dots,
                                   name=f"{metric} {split} points"))
    plot.add_tools(HoverTool(renderers=points, tooltips=[("fold", "@fold"), ("split", "@split"), ("epoch", "@epoch"),
                                                         (label, "@value{0.000}")]))
    plot.add_layout(Legend(items=[LegendItem(label=field("fold"), renderers=[points[0]])]), "right")
    if history is not None:
        show_history(plot, history)
    return plot


def fold_color(fold: int) -> str:
    return FOLD_COLORS[(fold - 1) % len(FOLD_COLORS)]


def show_history(plot, history: pd.DataFrame) -> None:
    """Draw ``history`` (a run's rows: fold, epoch, train_/val_ loss and acc) on a :func:`history_figure`."""
    metric = plot.tags[0]
    sources = {renderer.name: renderer.data_source for renderer in plot.renderers}
    rows = history.assign(fold=history["fold"].astype(int)).sort_values(["fold", "epoch"])
    per_fold = list(rows.groupby("fold"))
    color = [fold_color(f) for f in rows["fold"]]
    for split, _, _ in SPLITS:
        column = f"{split}_{metric}"
        sources[f"{metric} {split} lines"].data = {
            "epoch": [fold["epoch"].to_numpy(float) for _, fold in per_fold],
            "value": [fold[column].to_numpy(float) for _, fold in per_fold],
            "color": [fold_color(f) for f, _ in per_fold],
        }
        sources[f"{metric} {split} points"].data = {
            "epoch": rows["epoch"].to_numpy(float), "value": rows[column].to_numpy(float),
            "fold": [f"fold {f}" for f in rows["fold"]], "split": [split] * len(rows), "color": color,
        }


class TrainingView(View):
    """Settings, Start/Stop, progress and live curves of this session's training."""

    session = param.ClassSelector(class_=TrainingSession)

    def __init__(self, **params):
        if params.get("session") is None:
            params["session"] = training_session(params["state"])
        super().__init__(**params)
        session = self.session
        p = session.param
        self._settings = [
            pn.widgets.Select.from_param(p.model, label="Model", width=280),
            pn.widgets.RadioButtonGroup.from_param(p.preset, width=280),
            pn.widgets.IntInput.from_param(p.epochs, label="Epochs", width=135),
            pn.widgets.IntInput.from_param(p.batch_size, label="Batch size", width=135),
            pn.widgets.FloatInput.from_param(p.lr, label="Learning rate", step=1e-4, format="0.[00000]", width=135),
            pn.widgets.IntInput.from_param(p.folds, label="Folds", width=135),
            pn.widgets.RadioButtonGroup.from_param(p.dmdt_mode, width=280),
            pn.widgets.Select.from_param(p.device, label="Device", width=280),
            pn.widgets.IntInput.from_param(p.members, label="Networks per fold", width=135),
            pn.widgets.Select.from_param(p.augment, label="Augment small classes", width=135),
            pn.widgets.IntInput.from_param(p.max_steps, label="Longest sequence (BiGRU)", width=280),
            pn.widgets.FloatInput.from_param(p.label_smoothing, label="Label smoothing", step=0.05,
                                             format="0.[00]", width=135),
        ]
        self._start = pn.widgets.Button(label="Start training", color="primary", width=135)
        self._stop = pn.widgets.Button(label="Stop", color="danger", width=135, disabled=True)
        self._start.on_click(lambda _: session.start())
        self._stop.on_click(lambda _: session.stop())
        self._bar = pn.indicators.Progress(value=0, max=1000, bar_color="primary", sizing_mode="stretch_width",
                                           height=18, margin=(5, 10))
        self._progress = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["vse-progress"], margin=(0, 10))
        self._leak = pn.pane.Alert(f"**Label leak.** {LEAK_WARNING}", alert_type="danger", sizing_mode="stretch_width")
        self._error = pn.pane.Alert(alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._message = pn.pane.Alert(alert_type="success", visible=False, sizing_mode="stretch_width")
        self._data = pn.pane.Markdown(width=300)
        self._device = pn.pane.Markdown(width=300)
        self._curves = pn.pane.Markdown(width=300)
        self._history = [pn.pane.Bokeh(history_figure(metric)) for metric in ("loss", "acc")]
        s = self._settings
        self._lightcurve_settings = pn.Column(
            "**Light curves** (models on observed curves)", self._curves, pn.Row(s[8], s[9], margin=0), s[10],
            margin=0)
        controls = pn.Column(
            "### Model", s[0], "**Preset** (sets epochs, batch size, learning rate)", s[1],
            pn.Row(s[2], s[3], margin=0), pn.Row(s[4], s[5], margin=0), s[11],
            "**dm-dt images** (dm-dt models)", s[6], self._lightcurve_settings, s[7], self._device, self._data,
            pn.Row(self._start, self._stop, margin=0), width=310,
        )
        live = pn.Column(
            self._leak, self._error, self._message, self._bar, self._progress,
            pn.Row(*self._history),
            sizing_mode="stretch_width",
        )
        self._layout = pn.Row(controls, live, sizing_mode="stretch_width")
        self._document = pn.state.curdoc  # epochs are reported on the worker's thread, drawn on this document's loop
        session.history.add_subscriber(self._epoch_reported)
        self._draw_history()
        self._refresh_running()
        self._refresh_alerts()
        self._refresh_data()
        self._refresh_device()
        self._refresh_curves()

    @param.depends("session.running", "session.fraction", "session.progress", watch=True)
    def _refresh_running(self):
        session = self.session
        for widget in self._settings:
            widget.disabled = session.running
        self._start.disabled = session.running or not self._trainable()
        self._stop.disabled = not session.running
        # -1 animates the bar while the first fold's inputs are built (no batch has run yet)
        self._bar.value = -1 if session.running and session.fraction == 0 else int(round(1000 * session.fraction))
        self._progress.object = session.progress or "Not started. Press **Start training**."

    @param.depends("session.error", "session.message", "session.model", "session.dmdt_mode", watch=True)
    def _refresh_alerts(self):
        session = self.session
        self._error.param.update(object=safe(session.error), visible=bool(session.error))
        self._message.param.update(object=safe(session.message), visible=bool(session.message) and not session.error)
        self._leak.visible = session.leaks_label

    def _epoch_reported(self, data):
        """The worker's thread reports each epoch: a served page's figures change only on its event loop."""
        on_its_loop(self._document, self._draw_history)

    def _draw_history(self):
        for pane in self._history:
            show_history(pane.object, self.session.history.data)
        pn.io.push_notebook(*self._history)  # Jupyter sees a Bokeh model's change only when pushed

    def _trainable(self) -> bool:
        result = self.state.result
        return result is not None and not result.warnings

    @param.depends("state.result", "state.seed", watch=True)
    def _refresh_data(self):
        result = self.state.result
        self._start.disabled = self.session.running or not self._trainable()
        if result is None:
            self._data.object = "No catalogue loaded: load one in **Data & filters**."
            return
        if result.warnings:  # Start would only refuse: say why and what to change instead
            self._data.object = f"**Cannot train on these stars.** {' '.join(result.warnings)} (in **Data & filters**)"
            return
        cap = f"at most {self.state.cap:,}" if self.state.cap else "all kept stars"
        self._data.object = (f"Trains on the **{len(result.data):,} kept stars** of {len(result.classes)} classes "
                             f"({self.state.preset}; {cap} per class, set in **Data & filters**), "
                             f"seed {self.state.seed}."
                             " Fewer stars train faster.")

    @param.depends("session.model", "state.observation_source", "state.survey", "state.survey_seed",
                   "state.lightcurves", watch=True)
    def _refresh_curves(self):
        """Light-curve settings only for models on light curves, with where their curves come from."""
        session = self.session
        self._lightcurve_settings.visible = session.reads_lightcurves
        self._settings[10].visible = session.model in ("bigru_features", "compound_rnn_cnn")
        if session.reads_lightcurves:
            try:
                text = f"Trains on {session.lightcurve_source()[2]} (set in **Observations**)."
            except ConfigError as exc:
                text = f"**Cannot train yet:** {exc}."
            self._curves.object = safe(text)

    @param.depends("session.device_name", watch=True)
    def _refresh_device(self):
        self._device.object = f"Trains on **{self.session.device_name.upper()}**"

    def __panel__(self):
        return self._layout
