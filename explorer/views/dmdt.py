"""dm-dt: each class's mean image side by side and the picked star's image, in reference or thesis mode.

Cells are drawn on a uniform grid, as the networks see them, with the real (non-uniform) bin edges
as tick labels. Images are computed off the event loop and only while the view is shown, since a
few thousand stars take a second or two.
"""

from __future__ import annotations

import asyncio

import holoviews as hv
import numpy as np
import panel as pn
import param

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


def dmdt_image(image: np.ndarray, title: str, clim: tuple[float, float], frame_width: int = 190) -> hv.Image:
    """One ``(n_dm, n_dt)`` image on the uniform cell grid, ticks labelled with the real bin edges."""
    cells = hv.Image((np.arange(N_DT) + 0.5, np.arange(N_DM) + 0.5, image), kdims=["dt cell", "dm cell"],
                     vdims=["pair fraction"])
    return cells.opts(
        cmap="viridis", cnorm="log", clim=clim, clipping_colors={"min": "white", "NaN": "white"},
        frame_width=frame_width, frame_height=150, title=title, tools=["hover"], xticks=edge_ticks(DT_EDGES),
        yticks=edge_ticks(DM_EDGES), xrotation=90, xlabel="dt = |ΔP| [d]", ylabel="dm = |ΔA| [mag]",
        fontsize={"xticks": 7, "yticks": 8, "title": 10, "labels": 9}, colorbar=False,
    )


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
            pn.param.ParamMethod(self._class_means, loading_indicator=True),
            "### Picked star",
            pn.param.ParamMethod(self._star_image, loading_indicator=True),
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
        plots = [dmdt_image(image, f"{cls} (n={means.counts[cls]:,})", clim) for cls, image in images.items()]
        plots[-1] = plots[-1].opts(colorbar=True)  # one colour scale, shared by every class
        return self.drawn("class_means", inputs, pn.GridBox(
            *(pn.pane.HoloViews(plot.opts(toolbar=None), linked_axes=False) for plot in plots), ncols=5))

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
        image = dmdt_image(image[index], title, color_range([image[index]]), frame_width=330).opts(colorbar=True)
        return self.drawn("star_image", inputs, pn.pane.HoloViews(image, linked_axes=False))

    def __panel__(self):
        return self._layout
