"""The explorer's views, driven without a server, where they used to break: a preset change redrawing the
period-amplitude diagram, and inputs that leave nothing to show."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import holoviews as hv
import pytest

from explorer.state import ExplorerState
from explorer.views import DataView
from explorer.views.data import DIAGRAM_FRAME, FUNNEL_FLOOR, SHADED


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


def test_the_funnel_changes_its_bars_in_place_for_any_result(state, caplog):
    """One figure whatever the result: a class cap changes the heights, a preset with other classes and a
    step switched off change the bars; the factors always match the data (a mismatch was "Size mismatch"
    in the browser) and a bar of 0 stars stays on the log axis."""
    state.cap = 500
    view = DataView(state=state)
    figure = view._funnel.object
    source = figure.renderers[0].data_source
    before = list(source.data["stars"])
    with caplog.at_level(logging.WARNING):
        state.cap = 200
        after = list(source.data["stars"])
        assert view._funnel.object is figure and figure.renderers[0].data_source is source
        assert len(after) == len(before) and after != before
        assert max(after) == max(before)  # the catalogue's own bars stay
        class_cap = [n for n, step in zip(after, source.data["step"]) if step == "class cap"]
        assert class_cap and max(class_cap) == 200

        state.preset = "ztf-10"
        assert view._funnel.object is figure
        assert set(source.data["class"]) == set(state.result.classes) and len(state.result.classes) == 10
        assert figure.x_range.factors == list(zip(source.data["step"], source.data["class"]))
        steps = set(source.data["step"])
        state.min_obs = None
        assert set(source.data["step"]) == steps - {"detections"} and "detections" in steps
        assert figure.x_range.factors == list(zip(source.data["step"], source.data["class"]))
        state.min_obs = 100_000  # every star removed: bars of 0 drawn empty, not off the log axis
        assert 0 in list(source.data["stars"]) and min(source.data["top"]) == FUNNEL_FLOOR
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_the_rasterizer_warm_up_runs_once_per_process_and_builds_the_spreading_kernel():
    """In a fresh interpreter: datashader's compositing and spreading kernel are not there until the
    warm-up thread (started once, however many sessions ask) has shaded its two stars."""
    script = """
import inspect, sys
from explorer.views.data import warm_up_rasterizer
import datashader.transfer_functions as tf
kernels = inspect.getclosurevars(tf._build_spread_kernel).nonlocals["cache"]
before = ("datashader.composite" in sys.modules, len(kernels))
thread = warm_up_rasterizer()
assert thread is warm_up_rasterizer(), "a second session started a second warm-up"
thread.join(300)
print(before, thread.is_alive(), "datashader.composite" in sys.modules, len(kernels))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(False,", "0)", "False", "True", "1"], done.stdout


def test_the_diagram_is_shaded_once_per_view_for_every_session(state, ztf_catalog_file):
    """A second session on the same catalogue and settings draws the layers the first one shaded (the
    server shaded the whole catalogue for every page opened); a zoom shades its own range."""
    SHADED.clear()
    first = hv.renderer("bokeh").get_plot(DataView(state=state)._pa_diagram().object)
    assert len(SHADED) == 2  # the grey layer and the kept one
    other = ExplorerState()
    assert other.load(ztf_catalog_file) and other.result is state.result  # results are shared
    second = hv.renderer("bokeh").get_plot(DataView(state=other)._pa_diagram().object)
    assert len(SHADED) == 2

    def frames(plot):
        return [layer.current_frame for layer in plot.subplots.values() if isinstance(layer.current_frame, hv.RGB)]

    assert len(frames(first)) == 2
    assert all(a is b for a, b in zip(frames(first), frames(second)))
    # at the plot frame's size from the start: the browser's report of the plot's size shades nothing again
    width, height = DIAGRAM_FRAME
    assert [frame.dimension_values(2, flat=False).shape for frame in frames(first)] == [(height, width)] * 2

    zoom = [s for s in second.streams if isinstance(s, hv.streams.RangeXY)]
    assert zoom
    for stream in zoom:
        stream.event(x_range=(-0.5, 0.0), y_range=(0.1, 0.6))
    assert len(SHADED) == 4
    assert [frame.bounds.lbrt() for frame in frames(second)] == [(-0.5, 0.1, 0.0, 0.6)] * 2
