"""dm-dt: each class's mean image side by side and the picked star's image, in reference or thesis mode.

Cells are drawn on a uniform grid, as the networks see them, with the real (non-uniform) bin edges
as tick labels. Images are computed off the event loop and only while the view is shown, since a
few thousand stars take a second or two.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
import panel as pn
import param
from bokeh.models import ColorBar, FixedTicker, HoverTool, LogColorMapper, LogTicker
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

import pipeline
from explorer.state import SUMMARY_PER_CLASS
from pipeline.representations import DM_EDGES, DT_EDGES

from .common import View, safe

N_DM, N_DT = len(DM_EDGES) - 1, len(DT_EDGES) - 1


def edge_ticks(edges: np.ndarray) -> list[tuple[int, str]]:
    """(cell index, label) at every bin edge: images are drawn on uniform cells, labelled with the real edges."""
    return [(i, f"{edge:.2g}" if edge < 1 else f"{edge:g}") for i, edge in enumerate(edges)]


def color_range(images) -> tuple[float, float]:
    """Shared log colour range: the smallest non-zero pair fraction to the largest (empty cells stay white)."""
    values = np.concatenate([np.ravel(image) for image in images])
    positive = values[values > 0]
    return (float(positive.min()), float(positive.max())) if positive.size else (1e-3, 1.0)


def dmdt_image(image: np.ndarray, title: str, clim: tuple[float, float], frame_width: int = 190,
               colorbar: bool = False):
    """One ``(n_dm, n_dt)`` image on the uniform cell grid, ticks labelled with the real bin edges; a log
    colour scale over ``clim``, cells below it (no pairs) white.

    A plain Bokeh figure: the HoloViews image it replaces took the server 0.13 s to build (five per
    channel, class cap or preset), a plain figure a third of that.
    """
    colors = LogColorMapper(palette=Viridis256, low=clim[0], high=clim[1], low_color="white", nan_color="white")
    plot = figure(title=title, frame_width=frame_width, frame_height=150, x_range=(0, N_DT), y_range=(0, N_DM),
                  x_axis_label="dt = |ΔP| [d]", y_axis_label="dm = |ΔA| [mag]", toolbar_location=None, tools="")
    cells = plot.image(image=[np.asarray(image, float)], x=0, y=0, dw=N_DT, dh=N_DM, color_mapper=colors)
    plot.add_tools(HoverTool(renderers=[cells], tooltips=[("pair fraction", "@image{0.[0000]}")]))
    for axis, edges, size in ((plot.xaxis, DT_EDGES, "7pt"), (plot.yaxis, DM_EDGES, "8pt")):
        ticks = edge_ticks(edges)
        axis.ticker = FixedTicker(ticks=[cell for cell, _ in ticks])
        axis.major_label_overrides = dict(ticks)
        axis.major_label_text_font_size = size
        axis.axis_label_text_font_size = "9pt"
    plot.xaxis.major_label_orientation = math.pi / 2
    plot.title.text_font_size = "10pt"
    plot.grid.visible = False
    if colorbar:
        plot.add_layout(ColorBar(color_mapper=colors, ticker=LogTicker(), width=10, title="pair fraction"), "right")
    return plot


class DmdtView(View):
    """Per-class mean dm-dt images and the picked star's image; thesis mode shows the leak warning."""

    reference_class = param.Selector(default=None, objects=[], doc="Reference-mode channel: pairs with this class.")
    band = param.Selector(default=None, objects=[], doc="Amplitude band of the channel shown.")

    def __init__(self, **params):
        super().__init__(**params)
        self._leak = pn.pane.Alert(f"**Label leak.** {pipeline.LEAK_WARNING}", alert_type="danger",
                                   sizing_mode="stretch_width")
        self._mode = pn.widgets.RadioButtonGroup.from_param(self.state.param.dmdt_mode, label="dm-dt mode", width=220)
        self._reference = pn.widgets.Select.from_param(self.param.reference_class, label="Reference class (channel)",
                                                       width=220)
        self._band = pn.widgets.Select.from_param(self.param.band, label="Band", width=120)
        #: One pane whose text changes: a new pane per preset or channel made Bokeh recompute the page's models.
        self._explanation = pn.pane.Markdown(sizing_mode="stretch_width")
        self._update_choices()  # before the images below first evaluate
        self._explain()
        self._layout = pn.Column(
            self._leak,
            pn.Row(pn.Column("**Mode**", self._mode), self._reference, self._band),
            self._explanation,
            pn.param.ParamMethod(self._class_means),
            "### Picked star",
            pn.param.ParamMethod(self._star_image),
            sizing_mode="stretch_width",
        )
        self._update_mode()

    @param.depends("state.result", watch=True)
    def _update_choices(self):
        result = self.state.result
        if result is None:
            return
        classes = list(result.classes)
        bands = pipeline.schema.bands(self.state.catalog, "amp")
        self.param.reference_class.objects = classes
        self.param.band.objects = bands
        self.param.update(reference_class=self.reference_class if self.reference_class in classes else classes[0],
                          band=self.band if self.band in bands else bands[0])

    @param.depends("state.dmdt_mode", watch=True)
    def _update_mode(self):
        thesis = self.state.dmdt_mode == "thesis"
        self._leak.visible = thesis
        self._reference.visible = not thesis

    @property
    def leak_warning_visible(self) -> bool:
        return self._leak.visible

    def channel(self, means_channels: list[tuple[str | None, str]]) -> int:
        """Index of the channel the selectors point at."""
        wanted = (None if self.state.dmdt_mode == "thesis" else self.reference_class, self.band)
        return means_channels.index(wanted)

    @param.depends("state.dmdt_mode", "reference_class", "band", watch=True)
    def _explain(self):
        if self.state.dmdt_mode == "thesis":
            text = (f"Each star paired with the other stars **of its own class** (band {self.band}); "
                    "means over each class's kept stars.")
        else:
            text = (f"Each star paired with the kept **{self.reference_class}** stars (band {self.band}), counts "
                    "divided by that class's size: one channel of the honest reference images. "
                    "Pick another reference class to see the other channels.")
        self._explanation.object = text + f" At most {SUMMARY_PER_CLASS} stars per class (seeded sample)."

    @param.depends("state.result", "state.dmdt_mode", "state.seed", "reference_class", "band", "shown")
    async def _class_means(self):
        state = self.state
        inputs = self.skip_unless_due("class_means", state.result, state.dmdt_mode, state.seed, self.reference_class,
                                      self.band)
        if state.result is None:
            return self.drawn("class_means", inputs, pn.pane.Markdown(""))
        means = await asyncio.to_thread(state.dmdt_class_means)
        if not means.images:
            return self.drawn("class_means", inputs, pn.pane.Markdown("No kept stars: loosen the filters."))
        index = self.channel(means.channels)
        images = {cls: image[index] for cls, image in means.images.items()}
        clim = color_range(images.values())
        last = len(images) - 1  # one colour scale, shared by every class
        plots = [dmdt_image(image, f"{cls} (n={means.counts[cls]:,})", clim, colorbar=i == last)
                 for i, (cls, image) in enumerate(images.items())]
        return self.drawn("class_means", inputs, pn.GridBox(*map(pn.pane.Bokeh, plots), ncols=5))

    @param.depends("state.selected_star", "state.result", "state.dmdt_mode", "reference_class", "band", "shown")
    async def _star_image(self):
        state = self.state
        inputs = self.skip_unless_due("star_image", state.selected_star, state.result, state.dmdt_mode,
                                      self.reference_class, self.band)
        if state.result is None or state.selected_star is None:
            return self.drawn("star_image", inputs,
                              pn.pane.Markdown("Pick a star in the Light curves tab to see its image here."))
        try:
            image = await asyncio.to_thread(state.dmdt_star_image)
        except pipeline.ConfigError as exc:
            return self.drawn("star_image", inputs, pn.pane.Alert(safe(exc), alert_type="warning"))
        index = self.channel(state.dmdt_channels())
        title = f"{state.selected_star}" + ("" if state.dmdt_mode == "thesis" else f" vs {self.reference_class}")
        image = dmdt_image(image[index], title, color_range([image[index]]), frame_width=330, colorbar=True)
        return self.drawn("star_image", inputs, pn.pane.Bokeh(image))

    def __panel__(self):
        return self._layout
