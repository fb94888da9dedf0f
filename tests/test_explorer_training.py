"""Training from the explorer without a server: the session's worker thread and its training process,
saved runs read back by the results view, stop, errors, two sessions at once (thread settings kept
apart), and the misclassification table."""

from __future__ import annotations

import gc
import os
import threading

import torch
import numpy as np
import pandas as pd
import panel as pn
import pytest

from explorer.state import ExplorerState
from explorer.training import TrainingSession, training_session
from explorer.training_worker import default_threads
from explorer.views.misclassifications import MisclassificationsView
from explorer.views.results import ResultsView, confusion_figure, tap_to_cell
from explorer.views.training import FOLD_COLORS, TrainingView
from pipeline.catalogs import read_ogle3
from pipeline.representations import LEAK_WARNING
from pipeline.runs import HISTORY_COLUMNS, list_runs, open_run
from tests.ogle_files import star_rows, write_ogle3

#: Seconds a tiny job (96 stars, 1 epoch, 2 folds) may take on 2 loaded cores, model start-up included.
JOB_TIMEOUT = 120


@pytest.fixture(scope="module")
def catalog_csv(tmp_path_factory):
    """12 stars of every OGLE kind as a canonical CSV: 5 classes of 12 to 36 stars under ogle-5."""
    folder = tmp_path_factory.mktemp("catalogue")
    path = folder / "catalogue.csv"
    read_ogle3(write_ogle3(folder / "ogle3.txt.bz2", star_rows(n_per_kind=12, seed=3))).to_csv(path, index=False)
    return path


def loaded_state(catalog_csv) -> ExplorerState:
    state = ExplorerState()
    assert state.load(catalog_csv), state.error
    state.preset = "ogle-5"
    return state


def tiny_session(state, runs_dir, **settings) -> TrainingSession:
    """A session that trains in seconds: the light-curve network, one torch thread."""
    return TrainingSession(state=state, runs_dir=str(runs_dir), **{
        "model": "cnn_lstm", "epochs": 1, "folds": 2, "batch_size": 16, "threads": 1, **settings})


def finish(session: TrainingSession) -> None:
    assert session.wait(JOB_TIMEOUT), f"training did not finish: {session.progress}"
    assert not session.running


@pytest.fixture
def sessions():
    """Sessions made by a test, shut down (their worker threads joined) after it."""
    made = []
    yield made
    for session in made:
        session.shutdown()
        assert session.join(30)


@pytest.fixture(scope="module")
def trained(catalog_csv, tmp_path_factory):
    """One finished tiny run, shared by the tests that only read it."""
    session = tiny_session(loaded_state(catalog_csv), tmp_path_factory.mktemp("runs"))
    assert session.start(), session.error
    finish(session)
    yield session
    session.shutdown()
    session.join(30)


def confusion_matrices(panel_object) -> list:
    """Every confusion-matrix figure inside a Panel layout."""
    return [pane.object for pane in panel_object.select(pn.pane.Bokeh) if "confusion" in pane.object.tags]


def cells(matrix) -> dict:
    """A confusion figure's cells: true, predicted, value, one row per (true, predicted) pair."""
    return matrix.select_one({"name": "cells"}).data_source.data


def test_a_run_trains_on_the_worker_and_the_results_view_reads_it(trained):
    session = trained
    assert session.error == "" and session.message.startswith(f"Run {session.last_run_id} complete")
    runs = list_runs(session.runs_dir)
    assert runs["run_id"].tolist() == [session.last_run_id] and runs.loc[0, "status"] == "complete"
    assert session.chosen_run == session.last_run_id
    history = session.history.data
    assert sorted(zip(history["fold"], history["epoch"])) == [(1, 1), (2, 1)]  # one row per epoch per fold
    assert session.fraction == 1.0 and session.progress.startswith("Finished")
    assert session.progress.endswith(f"on {session.device_name}.") and session.device_name in ("cpu", "cuda", "mps")

    run = open_run(session.run_path(session.last_run_id))
    assert run.config["train"]["num_threads"] == 1 and run.config["n_stars"] == len(session.state.result.data)
    assert run.config["label_map"] == "ogle-5" and run.config["cleaning"]["classes"] == "ogle-5"

    view = ResultsView(state=session.state, session=session)
    report = view._report()
    classes = run.classes
    matrices = confusion_matrices(report)
    assert len(matrices) == 2  # counts and row-normalised
    for matrix in matrices:
        assert len(cells(matrix)["value"]) == len(classes) ** 2
        assert list(dict.fromkeys(cells(matrix)["true"])) == classes
        assert list(matrix.y_range.factors) == classes[::-1]  # the first class at the top
    np.testing.assert_allclose(np.reshape(cells(matrices[1])["value"], (5, 5)).sum(axis=1), 1.0)
    counts = cells(matrices[0])
    np.testing.assert_allclose(np.reshape(counts["value"], (5, 5)), run.confusion.mean(axis=0))
    matrices[0].select_one({"name": "cells"}).data_source.selected.indices = [1]  # a click on row 1, column 2
    assert session.cell == (classes[0], classes[1]) == (counts["true"][1], counts["predicted"][1])
    session.cell = None
    assert "press **Compare**" in view._compare().object  # drawn on request
    view.comparing = True
    compare = view._compare()
    assert "train another to compare" in compare.object and not confusion_matrices(compare)  # one run so far
    view.compare_a = view.compare_b  # picked by hand: the one run against itself
    assert len(confusion_matrices(view._compare())) == 2
    curves = {pane.object.tags[0]: pane.object for pane in report.select(pn.pane.Bokeh) if pane.object.tags}
    for metric in ("loss", "acc"):  # the run's per-epoch history, as the Training tab drew it
        points = {r.name: r.data_source.data for r in curves[metric].renderers}[f"{metric} val points"]
        assert sorted(zip(points["fold"], points["value"])) == sorted(
            (f"fold {fold}", value) for fold, value in zip(run.history["fold"], run.history[f"val_{metric}"]))


def test_the_live_curves_draw_each_fold_in_place_as_epochs_arrive(catalog_csv, tmp_path, sessions):
    session = TrainingSession(state=loaded_state(catalog_csv), runs_dir=str(tmp_path))
    sessions.append(session)
    view = TrainingView(state=session.state, session=session)
    loss, acc = (pane.object for pane in view._history)
    assert (acc.y_range.start, acc.y_range.end) == (0, 1)
    # (fold, epoch, train_loss, train_acc, val_loss, val_acc) as the worker reports them, from its own thread:
    # fold 2's first epoch (folds may report out of order) before fold 1's second
    for row in [(1, 1, 1.2, .4, 1.3, .35), (2, 1, 1.5, .3, 1.6, .2), (1, 2, .9, .6, 1.0, .5), (2, 2, 1.1, .5, 1.2, .45)]:
        reporter = threading.Thread(target=session.history.send, args=(pd.DataFrame([row], columns=HISTORY_COLUMNS),))
        reporter.start()
        reporter.join()
    drawn = {r.name: r.data_source.data for plot in (loss, acc) for r in plot.renderers}
    assert [list(epochs) for epochs in drawn["loss train lines"]["epoch"]] == [[1, 2], [1, 2]]  # one line per fold
    assert [list(values) for values in drawn["loss val lines"]["value"]] == [[1.3, 1.0], [1.6, 1.2]]
    assert drawn["acc train lines"]["color"] == [FOLD_COLORS[0], FOLD_COLORS[1]]
    assert list(drawn["acc train points"]["value"]) == [.4, .6, .3, .5]
    assert drawn["acc val points"]["fold"] == ["fold 1", "fold 1", "fold 2", "fold 2"]
    assert drawn["acc val points"]["color"] == [FOLD_COLORS[0]] * 2 + [FOLD_COLORS[1]] * 2
    assert [pane.object for pane in view._history] == [loss, acc]  # the same figures, changed in place

    session.history.clear()  # a new training starts with empty curves
    assert all(len(r.data_source.data["epoch"]) == 0 for plot in (loss, acc) for r in plot.renderers)


def test_misclassification_filter_returns_exactly_that_pair(trained):
    session = trained
    predictions = open_run(session.run_path(session.chosen_run)).predictions
    pairs = predictions.groupby(["true", "pred"]).size()
    for (true, pred), count in pairs.items():
        table = session.misclassified(true, pred)
        expected = predictions[(predictions["true"] == true) & (predictions["pred"] == pred)]
        assert len(table) == count
        assert sorted(table["id"]) == sorted(expected["id"])
        assert sorted(zip(table["id"], table["fold"])) == sorted(zip(expected["id"], expected["fold"]))
        assert table["period"].notna().all() and table["amplitude"].notna().all()
        np.testing.assert_allclose(sorted(table["p_pred"]), sorted(expected[f"p_{pred}"]))
    assert session.misclassified(*pairs.index[0]).columns.tolist() == [
        "id", "fold", "period", "amplitude", "p_true", "p_pred"]

    view = MisclassificationsView(state=session.state, session=session)
    true, pred = pairs.idxmax()
    session.cell = (true, pred)
    assert sorted(view._table.value["id"]) == sorted(session.misclassified(true, pred)["id"])
    assert view.star == view._table.value["id"].iloc[0]  # the first row is shown at once
    detail = view._detail()
    plots = [pane.object for pane in detail.select(pn.pane.Bokeh)]
    assert [plot.tags[:1] for plot in plots[:2]] == [["star curve"], ["probabilities"]]
    assert len(plots) == 7  # curves, probabilities, one dm-dt image per reference class
    assert plots[0].y_range.flipped  # brighter up
    drawn = {renderer.name for renderer in plots[0].renderers}
    assert drawn == {"star", "median true"} | ({"median predicted"} if true != pred else set())
    probabilities = plots[1].select_one({"name": "bars"}).data_source.data
    assert probabilities["class"] == open_run(session.run_path(session.chosen_run)).classes
    assert sum(probabilities["probability"]) == pytest.approx(1.0, abs=1e-4)
    view._table.selection = [len(view._table.value) - 1]
    assert view.star == view._table.value["id"].iloc[-1]


def test_the_pair_picker_shows_the_cell_clicked_in_a_matrix_the_diagonal_included(trained):
    session = trained
    view = MisclassificationsView(state=session.state, session=session)
    listed = [label for label, pair in view._listed.items() if pair is not None]
    assert listed and all(view._listed[label][0] != view._listed[label][1] for label in listed)  # mistakes only
    true = open_run(session.run_path(session.chosen_run)).classes[0]
    session.cell = (true, true)  # a click on the diagonal: the stars classified correctly
    assert view._pairs[view._pair.value] == (true, true) and view._pair.value.endswith("per fold, correct)")
    assert view._pair.options == [*view._listed, view._pair.value]
    view._pair.value = listed[0]  # a listed mistake picked from the list: the diagonal's entry goes
    assert session.cell == view._pairs[listed[0]] and view._pair.options == list(view._listed)
    session.cell = None
    assert view._pair.value == "(click a cell or pick a pair)"


def test_the_sessions_cell_is_framed_in_every_matrix_however_it_was_picked(trained):
    session = trained
    results = ResultsView(state=session.state, session=session)
    misclassifications = MisclassificationsView(state=session.state, session=session)
    counts, normalised = [pane.object for pane in results._draw_report().select(pn.pane.Bokeh)
                          if "confusion" in pane.object.tags]
    matrices = [counts, normalised, misclassifications._matrix().object]

    def framed() -> list[list[int]]:
        return [list(plot.select_one({"name": "cells"}).data_source.selected.indices) for plot in matrices]

    cells = counts.select_one({"name": "cells"}).data_source
    pairs = list(zip(cells.data["true"], cells.data["predicted"]))
    cells.selected.indices = [1]  # a click on the first row's second cell of the counts matrix
    assert session.cell == pairs[1]
    assert framed() == [[1]] * 3

    mistake = next(label for label, pair in misclassifications._listed.items() if pair not in (None, pairs[1]))
    misclassifications._pair.value = mistake  # picked from the list, not clicked
    assert framed() == [[pairs.index(misclassifications._listed[mistake])]] * 3

    session.cell = None
    assert framed() == [[]] * 3


def test_a_dropped_matrix_stops_following_the_sessions_cell(trained):
    session = trained
    report = session.report()

    def watching() -> int:
        return len(session.param.watchers.get("cell", {}).get("value", []))

    diagonal = (report.run.classes[0], report.run.classes[0])
    gc.collect()  # matrices the other tests dropped: their watchers go at the next change of cell
    session.cell = diagonal
    session.cell = None
    before = watching()
    tap_to_cell(confusion_figure(report.counts, report.run.classes, "a matrix", normalised=False), session)
    assert watching() == before + 1
    gc.collect()  # the figure was never kept: its selection is gone
    session.cell = diagonal
    assert watching() == before
    session.cell = None


def test_stop_mid_run_saves_an_interrupted_run(catalog_csv, tmp_path, sessions):
    session = tiny_session(loaded_state(catalog_csv), tmp_path, epochs=4)
    sessions.append(session)

    def stop_in_fold_two(data):  # runs on the worker as an epoch's end is reported: the process stops within
        # a batch of receiving it (epochs to spare, as the message and the stop take a moment to travel)
        if (data["fold"] == 2).any():
            session.stop()

    session.history.add_subscriber(stop_in_fold_two)
    assert session.start()
    finish(session)
    run = open_run(session.run_path(session.last_run_id))
    assert run.state == "interrupted" and run.folds == [1]
    assert "stopped after 1 of 2 folds" in run.status["message"]
    assert "interrupted" in session.message and session.error == ""
    note = session.report().note
    assert "interrupted" in note and "showing the 1 of 2 folds it finished" in note


def test_a_failing_job_reports_and_leaves_the_session_usable(catalog_csv, tmp_path, sessions):
    session = tiny_session(loaded_state(catalog_csv), tmp_path, folds=20)  # classes of 12 cannot make 20 folds
    sessions.append(session)
    view = TrainingView(state=session.state, session=session)
    assert session.start()
    finish(session)
    assert "20-fold cross-validation needs at least 20 stars per class" in session.error
    assert view._error.visible and not view._start.disabled and view._stop.disabled
    assert list_runs(tmp_path).empty  # nothing was written

    session.folds = 2
    assert session.start() and session.error == ""
    finish(session)
    assert session.error == "" and open_run(session.run_path(session.last_run_id)).state == "complete"
    assert not view._error.visible


def test_start_refuses_what_cannot_train(catalog_csv, tmp_path, sessions):
    empty = TrainingSession(state=ExplorerState(), runs_dir=str(tmp_path))
    sessions.append(empty)
    assert not empty.start() and "no catalogue is loaded" in empty.error and not empty.running

    session = tiny_session(loaded_state(catalog_csv), tmp_path)
    sessions.append(session)
    session.shutdown()
    assert session.join(30)
    assert not session.start() and "worker has ended" in session.error


def test_two_sessions_train_independently(catalog_csv, tmp_path, sessions):
    # Long enough that the stop, sent after its first streamed epoch, lands while it still trains,
    # however far the training process has run ahead of the session thread on loaded cores.
    first = tiny_session(loaded_state(catalog_csv), tmp_path / "a", epochs=60)
    fit_threads = torch.get_num_threads() + 1  # unlike the server's, so a leak into this process would show
    second = tiny_session(loaded_state(catalog_csv), tmp_path / "b", model="cnn2d", threads=fit_threads)
    sessions += [first, second]
    first_started = threading.Event()
    server_threads = torch.get_num_threads()
    seen_threads = []

    def stop_first(data):  # the first one only, after its first epoch
        if len(data):
            first_started.set()
            first.stop()

    first.history.add_subscriber(stop_first)
    second.history.add_subscriber(lambda data: seen_threads.append(torch.get_num_threads()))
    assert first.start() and second.start()
    finish(first)
    finish(second)
    assert first_started.is_set()
    assert open_run(first.run_path(first.last_run_id)).state == "interrupted"
    assert open_run(second.run_path(second.last_run_id)).state == "complete"
    assert max(first.history.data["epoch"]) < 60 and len(second.history.data) == 2
    # Each fit sets torch threads in its own process: the server's setting never moves.
    assert seen_threads and set(seen_threads) == {server_threads} == {torch.get_num_threads()}
    assert open_run(second.run_path(second.last_run_id)).config["train"]["num_threads"] == fit_threads
    assert first.history is not second.history and first.last_run_id != second.last_run_id
    assert list_runs(tmp_path / "a")["run_id"].tolist() == [first.last_run_id]


def test_settings_presets_and_the_leak_warning(catalog_csv, tmp_path, sessions):
    state = loaded_state(catalog_csv)
    session = training_session(state)
    sessions.append(session)
    assert training_session(state) is session  # one per state, shared by the views
    view = TrainingView(state=state)
    assert view.session is session
    assert session.config().train.num_threads == default_threads() == max(1, len(os.sched_getaffinity(0)) - 1)
    assert session.config().train.label_smoothing == 0
    session.label_smoothing = 0.1
    assert session.config().train.label_smoothing == 0.1

    session.preset = "thesis"
    assert (session.epochs, session.batch_size, session.lr) == (100, 32, 2e-4)
    session.preset = "quick"
    assert (session.epochs, session.batch_size) == (3, 64)

    session.model = "cnn2d"
    assert not session.leaks_label and not view._leak.visible
    state.dmdt_mode = "thesis"  # the dm-dt tab's mode is followed
    assert session.dmdt_mode == "thesis" and session.leaks_label and view._leak.visible
    assert LEAK_WARNING in view._leak.object
    session.model = "cnn_lstm"  # light curves read no dm-dt images
    assert not view._leak.visible


def test_corrupt_runs_are_listed_with_their_reason(trained, tmp_path, sessions):
    broken = tmp_path / "20200101-000000-cnn2d-ogle-5"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    session = TrainingSession(state=trained.state, runs_dir=str(tmp_path))
    sessions.append(session)
    runs = session.runs
    assert runs.loc[0, "status"] == "corrupt" and "config.json is not valid JSON" in runs.loc[0, "reason"]
    assert session.chosen_run is None  # nothing readable to show
    view = ResultsView(state=trained.state, session=session)
    session.chosen_run = broken.name
    shown = view._report()
    assert isinstance(shown, pn.pane.Alert) and "not valid JSON" in shown.object


def test_the_views_render_without_a_server(trained):
    """What Jupyter does with a Viewer: build its Bokeh model, no server and no template."""
    for view in (TrainingView, ResultsView, MisclassificationsView):
        model = pn.panel(view(state=trained.state, session=trained)).get_root()
        assert model is not None
