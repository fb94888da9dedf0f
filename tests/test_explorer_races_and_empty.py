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
