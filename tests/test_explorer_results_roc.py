"""The Results view's ROC curves and reliability diagram, built for saved runs without a browser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import pytest

from explorer.state import ExplorerState
from explorer.training import TrainingSession
from explorer.views.results import ResultsView, runs_table_html
from pipeline import runs
from pipeline.metrics import classification_summary
from pipeline.probability_metrics import roc_summary

CLASSES = ["CEP", "LPV", "RR"]


def fold_predictions(fold: int, true: list[str], probs: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"f{fold}s{i}" for i in range(len(true))], "fold": fold, "true": true,
                         "pred": np.array(CLASSES)[probs.argmax(axis=1)],
                         **{f"p_{c}": probs[:, i] for i, c in enumerate(CLASSES)}})


def save_run(runs_dir, folds: dict[int, pd.DataFrame], finish: bool = True) -> str:
    """A run in the saved format, written by the pipeline's own run writer (no network needed)."""
    writer = runs.create(runs_dir, {"model": "tree_baseline", "classes": CLASSES, "label_map": "ogle-3",
                                    "folds": 2})
    with writer:
        for fold, frame in folds.items():
            matrix = classification_summary(frame["true"], frame["pred"], CLASSES).confusion
            writer.save_fold(fold, None, frame, matrix)
        if finish:
            writer.finish({})
    return writer.run_id


@pytest.fixture
def session(tmp_path):
    made = TrainingSession(state=ExplorerState(), runs_dir=str(tmp_path))
    yield made
    made.shutdown()
    assert made.join(30)


def figures(layout) -> dict:
    """The Bokeh figures inside a Panel layout, by their first tag (what they draw)."""
    return {pane.object.tags[0]: pane.object for pane in layout.select(pn.pane.Bokeh) if pane.object.tags}


def legend_renderers(plot) -> dict:
    """Each legend entry's label and the renderer it names."""
    return {item.label.value: item.renderers[0] for item in plot.legend[0].items}


def legend_lines(plot) -> dict:
    """Each legend entry's label and the columns of the line it names (one line of a multi-line by its index)."""
    lines = {}
    for item in plot.legend[0].items:
        data = item.renderers[0].data_source.data
        lines[item.label.value] = (data if item.index is None
                                   else {column: values[item.index] for column, values in data.items()})
    return lines


def test_results_view_draws_roc_curves_and_the_reliability_diagram(session, tmp_path):
    rng = np.random.default_rng(0)
    true = [c for c in CLASSES for _ in range(6)]
    folds = {}
    for fold in (1, 2):
        probs = rng.dirichlet([1, 1, 1], size=len(true))
        probs[np.arange(len(true)), np.repeat([0, 1, 2], 6)] += 1.0
        folds[fold] = fold_predictions(fold, true, probs / probs.sum(axis=1, keepdims=True))
    # fold 2 validates no RR star at all: the pooled ROC still has it
    folds[2] = folds[2][folds[2]["true"] != "RR"].reset_index(drop=True)
    run_id = save_run(tmp_path, folds)
    session.refresh_runs()
    assert session.chosen_run == run_id

    report = ResultsView(state=session.state, session=session)._report()
    pooled = roc_summary(pd.concat(folds.values(), ignore_index=True), CLASSES)
    plots = figures(report)
    curves = legend_lines(plots["roc"])
    for name in CLASSES:
        curve = curves[f"{name} (AUC {pooled.auc[name]:.3f})"]
        assert curve["class"] == name
        np.testing.assert_allclose(curve["fpr"], pooled.curves[name]["fpr"])
        np.testing.assert_allclose(curve["tpr"], pooled.curves[name]["tpr"])
    assert "chance (AUC 0.5)" in curves and "perfectly calibrated" in legend_renderers(plots["reliability"])
    assert plots["roc"].title.text == f"ROC, one class vs the rest (macro AUC {pooled.macro_auc:.3f})"
    assert plots["reliability"].title.text.startswith("Reliability (ECE ")
    bins = plots["reliability"].select_one({"name": "bins"}).data_source.data
    assert bins["count"].sum() == sum(len(f) for f in folds.values())
    assert np.isfinite(bins["accuracy"]).all() and (np.asarray(bins["high"]) > np.asarray(bins["low"])).all()
    assert report.get_root() is not None  # Bokeh builds the plots (no server)

    # thesis Figure 18: a bar per fold and score, the legend in the table's order
    bars = legend_lines(plots["folds"])
    assert list(bars) == ["accuracy", "precision", "recall", "F1"]
    drawn = plots["folds"].select_one({"name": "bars"}).data_source.data
    table = session.report(run_id).folds
    for fold, score, value in zip(drawn["fold"], drawn["score"], drawn["value"]):
        column = {"accuracy": "accuracy", "precision": "weighted_precision", "recall": "weighted_recall",
                  "F1": "weighted_f1"}[score]
        assert value == pytest.approx(table.loc[int(fold.removeprefix("fold ")), column])
    assert len(drawn["value"]) == 4 * 2  # two folds


def test_a_run_without_predictions_says_so(session, tmp_path):
    save_run(tmp_path, {}, finish=False)  # still running, no fold saved
    session.refresh_runs()
    report = ResultsView(state=session.state, session=session)._report()
    assert "roc" not in figures(report) and "reliability" not in figures(report)
    texts = " ".join(str(p.object) for p in report.select(pn.pane.Markdown))
    assert "No predictions saved yet" in texts


def test_two_runs_are_compared_the_newest_as_run_b(session, tmp_path):
    rng = np.random.default_rng(1)
    true = [c for c in CLASSES for _ in range(4)]
    older, newer = (save_run(tmp_path, {1: fold_predictions(1, true, rng.dirichlet([1, 1, 1], size=len(true)))})
                    for _ in range(2))
    session.refresh_runs()
    view = ResultsView(state=session.state, session=session)
    assert (view.compare_a, view.compare_b) == (older, newer) and session.chosen_run == newer
    view.comparing = True
    compare = view._compare()
    matrices = [pane.object for pane in compare.select(pn.pane.Bokeh)]
    assert [m.title.text for m in matrices] == [f"A: {older}", f"B: {newer}"]
    table = compare.select(pn.pane.DataFrame)[0].object
    assert list(table.columns) == [f"A: {older}", f"B: {newer}"]
    notes = compare.select(pn.pane.Markdown)[0].object  # what each run is: a tree baseline trains no epochs
    assert notes.count("**tree_baseline**") == 2 and "features: catalog" in notes and "epochs" not in notes


def test_the_run_list_is_one_table_newest_first_with_file_text_escaped(tmp_path):
    rng = np.random.default_rng(2)
    true = [c for c in CLASSES for _ in range(4)]
    scored = save_run(tmp_path, {1: fold_predictions(1, true, rng.dirichlet([1, 1, 1], size=len(true)))})
    hostile = tmp_path / "20991231-000000-<img src=x onerror=alert(1)>"
    hostile.mkdir()
    (hostile / "config.json").write_text("{not json")  # a corrupt run: its reason quotes the file
    table = runs_table_html(runs.list_runs(tmp_path))
    assert "<img" not in table and "&lt;img src=x onerror=alert(1)&gt;" in table
    assert table.index("onerror") < table.index(scored)  # newest first (the corrupt one is dated now)
    assert f"<td>{scored}</td>" in table and "<td>complete</td>" in table
    accuracy = runs.list_runs(tmp_path).set_index("run_id").loc[scored, "accuracy"]
    assert f"<td>{accuracy:.3f}</td>" in table
    empty = runs_table_html(runs.list_runs(tmp_path / "no runs yet"))  # a folder not made yet: the header alone
    assert "<th>run_id</th>" in empty and "<td>" not in empty
