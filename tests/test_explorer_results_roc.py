"""The Results view's ROC curves and reliability diagram, built for saved runs without a browser."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest

from explorer.state import ExplorerState
from explorer.training import TrainingSession
from explorer.views.results import ResultsView
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


def elements(layout, kind):
    found = []
    for pane in layout.select(pn.pane.HoloViews):
        found += pane.object.traverse(lambda element: element, [kind])
    return found


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
    curves = {c.label: c for c in elements(report, hv.Curve)}
    for name in CLASSES:
        curve = curves[f"{name} (AUC {pooled.auc[name]:.3f})"]
        np.testing.assert_allclose(curve.dimension_values("tpr"), pooled.curves[name]["tpr"])
    assert "chance (AUC 0.5)" in curves and "perfectly calibrated" in curves
    overlays = [pane.object for pane in report.select(pn.pane.HoloViews) if isinstance(pane.object, hv.Overlay)]
    titles = [o.opts.get().kwargs.get("title", "") for o in overlays]
    assert f"ROC, one class vs the rest (macro AUC {pooled.macro_auc:.3f})" in titles
    assert any(t.startswith("Reliability (ECE ") for t in titles)
    bars = elements(report, hv.Rectangles)[0]
    assert bars.dimension_values("count").sum() == sum(len(f) for f in folds.values())
    assert np.isfinite(bars.dimension_values("y1")).all()
    assert report.get_root() is not None  # Bokeh builds the plots (no server)


def test_a_run_without_predictions_says_so(session, tmp_path):
    save_run(tmp_path, {}, finish=False)  # still running, no fold saved
    session.refresh_runs()
    report = ResultsView(state=session.state, session=session)._report()
    assert not elements(report, hv.Curve)
    texts = " ".join(str(p.object) for p in report.select(pn.pane.Markdown))
    assert "No predictions saved yet" in texts
