"""The explorer's state and views driven without a server: settings re-clean, bad input keeps what
was loaded, a selection feeds the light curves, thesis mode shows the leak warning."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import pytest
from bokeh.core.validation import check_integrity
from bokeh.document import Document
from panel.io.state import set_curdoc
from panel.links import Callback
from param.parameterized import Skip

import pipeline
from explorer.app import App
from explorer.state import ExplorerState, catalog_in_memory
from explorer.views import Alerts, DataView, DmdtView, LightCurveView, View
from explorer.views.data import STATUS_STYLE, cleaning_report_html
from explorer.views.dmdt import color_range


@pytest.fixture
def state(ztf_catalog_file) -> ExplorerState:
    state = ExplorerState()
    assert state.load(ztf_catalog_file), state.error
    return state


def step_rows(state: ExplorerState, step: str) -> pd.DataFrame:
    return state.result.report.query("step == @step")


def test_loading_a_ztf_file_picks_a_preset_and_cleans(state, ztf_catalog_file):
    assert state.preset == "ztf-10"  # the preset that claims every ZTF type
    assert state.message.startswith(f"Loaded {ztf_catalog_file}: 3,000 stars")
    assert not state.error and not state.warning
    assert 0 < len(state.result.data) < len(state.catalog)
    steps = state.result.steps["status"]
    assert set(steps[["min_detections", "period_confidence", "goodness_of_fit", "label_map"]]) == {"applied"}
    assert steps["period_precision"] == steps["region"] == "not applicable"  # OGLE-III's columns


def test_a_threshold_change_recleans_and_the_report_follows(state):
    before = step_rows(state, "min_detections")
    kept = len(state.result.data)
    state.min_obs = 200
    after = step_rows(state, "min_detections")
    assert after["removed"].sum() > before["removed"].sum()
    assert len(state.result.data) < kept
    assert after["rule"].iloc[0] == "n_obs_g >= 200 and n_obs_r >= 200"
    assert state.message.endswith(f"label preset {state.preset}, {len(state.result.data):,} stars kept.")
    state.min_obs_comparison = ">"
    assert step_rows(state, "min_detections")["rule"].iloc[0] == "n_obs_g > 200 and n_obs_r > 200"


def test_switching_steps_off(state):
    state.param.update(min_r2=None, cap=None)
    assert set(step_rows(state, "goodness_of_fit")["status"]) == {"disabled"}
    assert set(step_rows(state, "class_cap")["rule"]) == {"uncapped"}


def test_the_data_view_follows_the_state(state):
    view = DataView(state=state)
    kept_text = view._summary.object
    assert f"{len(state.result.data):,} of 3,000 stars kept" in kept_text
    slider = view._settings["min_obs"].slider
    slider.value = 250
    assert state.min_obs == 50  # a drag does nothing until the handle is released
    with param.edit_constant(slider):
        slider.value_throttled = 250
    assert state.min_obs == 250 and view._summary.object != kept_text
    view._settings["min_obs"].toggle.value = False
    assert state.min_obs is None
    assert view._report.object == cleaning_report_html(state.result.report)


def test_a_typed_threshold_pushes_at_once_and_widens_its_slider(state):
    view = DataView(state=state)
    setting = view._settings["min_obs"]
    (box,) = setting.boxes
    assert box.value == setting.slider.value == state.min_obs == 50
    box.value = 400  # beyond the slider's end (300)
    assert state.min_obs == 400 and setting.slider.end == 400 and setting.slider.value == 400
    box.value = None  # an emptied box: the slider's value comes back, the state keeps its threshold
    assert box.value == 400 and state.min_obs == 400
    setting.slider.value = 250  # a drag shows in the box, and re-cleans only on release
    assert box.value == 250 and state.min_obs == 400
    state.min_obs = 20  # set elsewhere (a preset, a notebook): slider and box follow
    assert setting.slider.value == box.value == 20

    mags = view._settings["mag_range"]
    assert all(b.disabled for b in mags.boxes)  # the step is off: nothing to type
    state.mag_range = (12.0, 19.0)
    assert [b.value for b in mags.boxes] == [12.0, 19.0] and not any(b.disabled for b in mags.boxes)
    mags.boxes[1].value = 30.0
    assert state.mag_range == (12.0, 30.0) and mags.slider.end == 30.0
    mags.boxes[0].value = 31.0  # the range the wrong way round: refused, the boxes show the range kept
    assert state.mag_range == (12.0, 30.0) and [b.value for b in mags.boxes] == [12.0, 30.0]


def test_the_app_links_no_javascript_callbacks(state):
    """While a page holds a Panel JavaScript link, Panel walks the page's whole model graph on every layout
    change (a tab switch: 0.1 s more on the server); Panel's editable sliders make one each."""
    app = App(state=state)
    for tab in range(len(app.tabs)):
        app.tabs.active = tab
    widgets = [w for view in app.views.values() for w in view.__panel__().select(pn.widgets.Widget)]
    assert len(app.views) == len(app.tabs) and len(widgets) > 30
    assert not [type(w).__name__ for w in widgets if w in Callback.registry]


def test_every_tab_passes_bokehs_checks(state):
    """Bokeh logs a warning for each page holding a fixed-size layout without a width and a height (W-1005);
    an empty layout (W-1002) is silenced by Panel itself."""
    app, doc = App(state=state), Document()
    with set_curdoc(doc):
        doc.add_root(app.__panel__().get_root(doc))
        for tab in range(len(app.tabs)):
            app.tabs.active = tab
            warnings = {(w.code, w.name) for w in check_integrity(list(doc.models)).warning}
            assert warnings <= {(1002, "EMPTY_LAYOUT")}, (app.tabs._names[tab], warnings)


def test_steps_a_catalogue_cannot_apply_are_folded_away_with_the_reason(state):
    ogle_like = state.catalog.drop(columns=[c for c in state.catalog if c.startswith(("n_obs", "log_fap", "r2_"))])
    assert state.load_upload({"ogle_like.csv": ogle_like.to_csv(index=False).encode()}), state.error
    view = DataView(state=state)
    assert set(step_rows(state, "min_detections")["status"]) == {"not applicable"}
    shown = view._applicable.objects
    assert view._step_controls["min_detections"] not in shown and view._step_controls["min_amplitude"] in shown
    assert view._inapplicable.visible and view._inapplicable.collapsed
    assert view._inapplicable.title == "Not applicable to this catalogue (5)"
    lines = view._inapplicable_lines.object
    assert "**detections**: needs n_obs_&lt;band&gt; columns" in lines and "**region**: needs region" in lines


def test_a_one_band_filter_says_partial_in_the_view(state):
    one_band = state.catalog.drop(columns=["n_obs_r"])
    assert state.load_upload({"g_only.csv": one_band.to_csv(index=False).encode()}), state.error
    view = DataView(state=state)
    assert set(step_rows(state, "min_detections")["status"]) == {"partial"}
    note = view._settings["min_obs"].note
    assert note.visible and "band r unchecked" in note.object


def test_ranges_are_added_and_removed_from_the_view(state):
    view = DataView(state=state)
    ranges = view._ranges
    column, low, high, add = ranges.column, ranges.low, ranges.high, ranges.add
    assert "period" in column.options and "raw_label" not in column.options
    assert column.value == column.options[0]  # what the browser shows chosen is what Add uses
    low.value = 0.0
    add.clicks += 1
    assert state.ranges == {column.options[0]: (0.0, None)} and not state.error
    state.remove_range(column.options[0])
    column.value, low.value, high.value = "period", 0.2, 1.0
    add.clicks += 1
    assert state.ranges == {"period": (0.2, 1.0)}
    assert state.result.data["period"].between(0.2, 1.0).all()
    assert "range:period" in set(state.result.report["step"])
    listing = ranges.listing
    assert len(listing.objects) == 1 and "0.2 ≤ period ≤ 1" in listing.objects[0].objects[0].object
    listing.objects[0].objects[1].clicks += 1  # remove it
    assert state.ranges == {} and "range:period" not in set(state.result.report["step"])
    low.value = high.value = None
    add.clicks += 1
    assert "Give a min or a max" in state.error


def test_a_bad_file_keeps_the_loaded_catalogue(state, bad_catalog_file):
    catalog, result = state.catalog, state.result
    assert not state.load(bad_catalog_file)
    assert "observations.csv" in state.error and "stays loaded" in state.error
    assert state.catalog is catalog and state.result is result
    assert not state.load_upload({"notes.txt": b"not a table at all\n"})
    assert "notes.txt" in state.error and "/vse-upload-" not in state.error
    assert state.catalog is catalog
    alerts = Alerts(state=state)
    assert alerts._error.visible and alerts._error.object == state.error


def test_an_upload_loads_and_two_tables_are_refused(state, ztf_catalog_file):
    assert not state.load_upload({"a.csv": b"x\n1\n", "b.csv": b"x\n2\n"})
    assert "Upload one catalogue file" in state.error
    assert state.load_upload({"Table2.txt": ztf_catalog_file.read_bytes()}), state.error
    assert state.source_name == "Table2.txt" and state.source == "upload:Table2.txt" and not state.error


def test_a_setting_the_pipeline_rejects_is_reverted(state, monkeypatch):
    result = state.result

    def reject(catalog, config):
        raise pipeline.ConfigError(f"min_obs {config.min_obs} is not allowed here")

    monkeypatch.setattr(pipeline, "clean", reject)
    state.min_obs = 77
    assert "min_obs 77 is not allowed here" in state.error
    assert state.min_obs == 50 and state.result is result


def test_filters_that_empty_a_class_or_everything_warn(state):
    state.preset = "ogle-5"  # only its DSCT class matches ZTF labels
    assert "No stars are left in class(es) CEP, RR, RRc, LPV" in state.warning
    state.preset = "ztf-10"
    assert not state.warning
    state.min_obs = 100_000
    assert state.warning.startswith("The filters remove every star")
    assert state.result.data.empty
    for view in (DataView(state=state), LightCurveView(state=state), DmdtView(state=state)):
        pn.panel(view).get_root()  # every view still renders on an empty set


def test_a_box_selection_feeds_the_light_curve_view(state):
    view = LightCurveView(state=state)
    assert view._table.value["fate"].eq("kept").all()  # no selection: the kept stars
    points = state.points()
    n = state.select_region(-1.0, 1.5, 0.0, 1.0)
    inside = points["log_period"].between(-1.0, 1.5) & points["amp"].between(0.0, 1.0)
    assert n == inside.sum() > view.draw_limit
    assert state.selection_bounds == (-1.0, 0.0, 1.5, 1.0)
    assert len(view._table.value) == n and set(view._table.value["fate"]) > {"kept"}
    kept_first = view._table.value["fate"].eq("kept").to_numpy()
    assert kept_first[: kept_first.sum()].all()  # the kept stars head the table

    plot = view._selection_plot().object
    assert isinstance(plot, hv.NdOverlay) and len(plot) == view.draw_limit
    assert set(plot.keys()) <= set(view._table.value["id"])
    assert plot.opts.get().kwargs["invert_yaxis"]
    kept_selected = int((state.result.fate.iloc[state.selection] == "kept").sum())
    drawn_kept = min(kept_selected, view.draw_limit)  # kept stars are drawn first
    assert plot.opts.get().kwargs["title"].startswith(
        f"50 of {n:,} selected stars: {drawn_kept} kept (solid), {50 - drawn_kept} removed (dashed)")

    view._table.selection = [3]
    picked = view._table.value["id"].iloc[3]
    assert state.selected_star == picked and view._id_input.value == picked
    assert picked in view._star_info().object
    curve = view._star_plot().object
    assert curve.opts.get().kwargs["invert_yaxis"]

    state.clear_selection()
    assert len(state.selection) == 0 and view._table.value["fate"].eq("kept").all()


def test_each_class_plot_draws_its_median_and_band_brighter_up(state):
    view = LightCurveView(state=state)
    plots = [pane.object for pane in view._class_plots()]
    summaries = state.class_curves()
    assert [plot.title.text for plot in plots] == [f"{cls} (n={s.n:,})" for cls, s in summaries.items()]
    for plot, (cls, summary) in zip(plots, summaries.items()):
        drawn = {r.name: r for r in plot.renderers}
        np.testing.assert_array_equal(drawn["median"].data_source.data["y"], summary.median)
        np.testing.assert_array_equal(drawn["band"].data_source.data["y1"], summary.low)
        assert drawn["median"].glyph.line_color == drawn["band"].glyph.fill_color == state.class_colors()[cls]
        assert plot.y_range.flipped  # magnitudes: brighter up


def test_selecting_by_id_and_an_unknown_star(state):
    ids = state.catalog["id"].iloc[[5, 7, 11]].tolist()
    assert state.select_ids([*ids, "no-such-star"]) == 3
    state.selected_star = f"  {ids[0]} "
    assert state.selected_star == ids[0] and not state.error
    state.selected_star = "no-such-star"
    assert state.selected_star is None and "no-such-star" in state.error


def test_class_curves_summarise_each_kept_class(state):
    curves = state.class_curves()
    assert list(curves) == state.result.classes
    for summary in curves.values():
        assert summary.median.shape == (360,) and np.all(summary.low <= summary.high)


def test_dmdt_modes_and_the_leak_warning(state):
    view = DmdtView(state=state)
    assert not view.leak_warning_visible
    means = state.dmdt_class_means()
    assert means.channels == [(c, b) for c in state.result.classes for b in ("g", "r")]
    assert {image.shape for image in means.images.values()} == {(20, 11, 22)}
    state.selected_star = state.result.data["id"].iloc[0]
    assert state.dmdt_star_image().shape == (20, 11, 22)

    state.dmdt_mode = "thesis"
    assert view.leak_warning_visible and pipeline.LEAK_WARNING in view._leak.object
    assert state.dmdt_class_means().channels == [(None, "g"), (None, "r")]
    assert state.dmdt_star_image().shape == (2, 11, 22)
    unmapped = state.catalog.index[state.result.fate == "label_map"]
    if len(unmapped):  # a star no class claims has no thesis-mode image, and says why
        state.selected_star = state.catalog["id"].iloc[unmapped[0]]
        with pytest.raises(pipeline.ConfigError, match="no class"):
            state.dmdt_star_image()
    state.dmdt_mode = "reference"
    assert not view.leak_warning_visible


def run_async(coroutine):
    """Await a view's async method; on its own thread, as pytest-playwright's browser tests leave an
    event loop running on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_dmdt_images_wait_until_shown_and_label_the_real_edges(state, monkeypatch):
    # The view's methods are awaited directly: whether Panel evaluates them itself on a change depends
    # on an event loop running in this thread (pytest-playwright leaves one), not on the view.
    view = DmdtView(state=state, shown=False)
    computed = []
    means = state.dmdt_class_means
    monkeypatch.setattr(state, "dmdt_class_means", lambda: computed.append(1) or means())
    with pytest.raises(Skip):  # Panel keeps what the hidden view showed
        run_async(view._class_means())
    assert not computed
    view.shown = True
    images = [pane.object for pane in run_async(view._class_means())]
    assert computed and len(images) == len(state.result.classes)
    dt_labels, dm_labels = (list(axis.major_label_overrides.values()) for axis in (images[0].xaxis[0], images[0].yaxis[0]))
    assert dt_labels[:3] == ["0.0069", "0.014", "0.028"] and dm_labels[-3:] == ["3", "5", "8"]
    assert images[0].xaxis[0].ticker.ticks == list(range(len(dt_labels)))  # the cells' edges, uniformly drawn
    mapper = images[0].renderers[0].glyph.color_mapper  # one log scale for all, from the smallest non-zero fraction
    assert (mapper.low, mapper.high) == color_range(plot.renderers[0].data_source.data["image"][0] for plot in images)
    state.dmdt_mode = "thesis"
    assert view.leak_warning_visible and "leaks the label" in view._leak.object
    state.dmdt_mode = "reference"


def test_a_hidden_light_curve_view_redraws_its_star_and_selection_only_once_shown(state):
    """A class cap changed while the Light curves tab is hidden redraws nothing there (each redrawn plot
    also made Bokeh recompute the whole page's models); shown again, each part follows the new result."""
    view = LightCurveView(state=state)
    state.select_region(-1.0, 1.5, 0.0, 1.0)
    state.selected_star = view._table.value["id"].iloc[0]
    parts = {method.__name__: pane for pane in view._layout.select(pn.param.ParamMethod)
             for method in [pane.object] if method.__name__ in ("_selection_plot", "_star_plot", "_star_info")}
    assert len(parts) == 3
    drawn = {name: pane._inner_layout.objects[0] for name, pane in parts.items()}
    view.shown = False
    state.cap = 3
    assert {name: pane._inner_layout.objects[0] for name, pane in parts.items()} == drawn  # nothing redrawn
    view.shown = True
    redrawn = {name: pane._inner_layout.objects[0] for name, pane in parts.items()}
    assert all(redrawn[name] is not drawn[name] for name in parts)
    assert "| cleaning |" in redrawn["_star_info"].object


def test_the_dmdt_explanation_is_one_pane_whose_text_follows_the_channel(state):
    view = DmdtView(state=state)
    pane, other = view._explanation, state.result.classes[-1]
    view.reference_class = other
    assert view._explanation is pane and f"kept **{other}** stars" in pane.object
    state.dmdt_mode = "thesis"
    assert view._explanation is pane and "**of its own class**" in pane.object


def test_a_view_shown_again_redraws_only_what_changed(state):
    view = View(state=state, shown=False)
    with pytest.raises(Skip):  # hidden: nothing is computed
        view.skip_unless_due("images", "reference", 42)
    view.shown = True
    view.drawn("images", view.skip_unless_due("images", "reference", 42), "drawn")
    view.shown = False
    view.shown = True
    with pytest.raises(Skip):  # shown again with the inputs it last drew
        view.skip_unless_due("images", "reference", 42)
    view.shown = False
    view.shown = True
    assert view.skip_unless_due("images", "thesis", 42) == ("thesis", 42)  # an input changed meanwhile


def test_the_app_is_a_plain_layout_outside_a_server(state):
    app = App(state=state)
    assert app.servable() is app
    assert app.tabs._names == ["Data & filters", "Light curves", "dm-dt", "Observations", "Training", "Results",
                               "Misclassifications"]
    assert list(app.views) == [0]  # the other tabs' views are made when first shown
    app.tabs.active = 3
    app.tabs.active = 2
    assert {i: view.shown for i, view in app.views.items()} == {0: False, 3: False, 2: True}
    assert [slot.objects for slot in app._slots[4:]] == [[], [], []]
    assert app._slots[2].css_classes == ["vse-tab", "vse-tab-2"]  # what the UI benchmark finds a tab's plots by


def test_sessions_share_the_catalogue_cleaning_results_and_summaries(state, ztf_catalog_file):
    """A second browser session (another state) opens the same source: nothing is parsed, cleaned or
    reconstructed again, and settings met before in any session come back as the same result."""
    curves = state.class_curves()
    other = ExplorerState()
    assert catalog_in_memory(ztf_catalog_file) and other.load(ztf_catalog_file), other.error
    assert other.catalog is state.catalog and other.result is state.result
    assert other.class_curves() is curves
    first = state.result
    other.cap = 100
    assert other.result is not first and state.result is first  # a session's settings stay its own
    state.cap = 100
    assert state.result is other.result
    other.cap = 1000
    assert other.result is first


def test_the_cleaning_report_is_one_table_a_block_per_step_with_file_text_escaped():
    report = pd.DataFrame({
        "step": ["min_detections", "min_detections", "class_cap"], "label": ["RR", "<img src=x onerror=alert(1)>", "RR"],
        "before": [31382, 7, 1200], "removed": [0, 7, 200], "after": [31382, 0, 1000],
        "status": ["not applicable", "applied", "applied"], "rule": ["needs n_obs_<band> columns", "n >= 5", "at most 1000"],
    })
    html = cleaning_report_html(report)
    assert html.count("<th rowspan=") == 2  # one header cell per step, spanning its rows
    assert '<th rowspan="2">min_detections</th>' in html and '<th rowspan="1">class_cap</th>' in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "needs n_obs_&lt;band&gt; columns" in html and "n &gt;= 5" in html
    assert '<td class="count">31,382</td>' in html  # counts with thousands separators, right-aligned by class
    assert f'<td style="{STATUS_STYLE["not applicable"]}">not applicable</td>' in html
    assert html.count("<tr>") == 1 + len(report)  # the header row and one per report row
