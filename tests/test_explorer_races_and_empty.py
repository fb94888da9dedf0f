"""The explorer's views, driven without a server, where they used to break: a preset change redrawing the
period-amplitude diagram, and inputs that leave nothing to show."""

from __future__ import annotations

import logging

import holoviews as hv
import pytest

from explorer.state import ExplorerState
from explorer.views import DataView


@pytest.fixture
def state(ztf_catalog_file) -> ExplorerState:
    state = ExplorerState()
    assert state.load(ztf_catalog_file), state.error
    return state


def test_a_preset_with_more_classes_redraws_the_diagram_without_a_colour_key_error(state, caplog):
    state.preset = "ztf-5"
    view = DataView(state=state)
    plot = hv.renderer("bokeh").get_plot(view._pa_diagram().object)  # drawn with 5 classes
    with caplog.at_level(logging.WARNING):
        state.preset = "ztf-10"  # the drawn plot receives the 10-class result
    assert len(state.result.classes) == 10
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert plot.state is not None


def test_the_diagram_redraws_when_the_filters_remove_every_star(state, caplog):
    view = DataView(state=state)
    plot = hv.renderer("bokeh").get_plot(view._pa_diagram().object)
    with caplog.at_level(logging.WARNING):
        state.min_obs = 100_000
        assert state.result.data.empty and "remove every star" in state.warning
        state.min_obs = 50  # and back
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert plot.state is not None


def test_a_new_threshold_updates_the_funnel_in_place(state):
    """The funnel is one plot for the session: new counts reach its bars, no new figure is built."""
    state.preset = "ztf-5"
    view = DataView(state=state)
    bars = view._funnel.object
    plot = hv.renderer("bokeh").get_plot(bars)
    figure, source = plot.state, plot.handles["source"]
    drawn_before = list(source.data["stars"])
    state.min_obs = 100
    assert view._funnel.object is bars and plot.state is figure and plot.handles["source"] is source
    kept = state.result.report.query("step == 'class_cap'")["after"]
    assert list(source.data["stars"]) != drawn_before
    assert set(kept) <= set(source.data["stars"])  # the last group of bars: the stars now kept per class
    state.preset = "ztf-10"  # more classes: the same figure, a colour for each
    assert plot.state is figure
    assert set(state.result.classes) <= set(plot.handles["color_color_mapper"].factors)


def test_the_funnel_is_drawn_before_a_catalogue_and_fills_when_one_loads(ztf_catalog_file, caplog):
    """A served page is built while its first catalogue loads: the funnel must draw empty, then fill in."""
    state = ExplorerState()
    view = DataView(state=state)
    with caplog.at_level(logging.WARNING):
        plot = hv.renderer("bokeh").get_plot(view._funnel.object)
        assert state.load(ztf_catalog_file), state.error
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert ("catalogue", "CEP") in plot.state.x_range.factors
    assert sum(plot.handles["source"].data["stars"]) > 0
