"""The explorer on the new kinds of run: a light-curve model trained from the Training tab on simulated
observations (seed 001's bagged BiGRU with GP augmentation), and a regression run (seed 003) in Results."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import pytest

from explorer.training import _Progress
from explorer.views.results import ResultsView
from explorer.views.training import TrainingView
from pipeline import RunError
from pipeline import regression as R
from pipeline.runs import open_run
from pipeline.training import FitState
from tests.test_explorer_training import JOB_TIMEOUT, catalog_csv, loaded_state, sessions, tiny_session  # noqa: F401
from tests.test_regression import catalogue


def test_a_bagged_bigru_trains_from_the_app_on_simulated_observations(catalog_csv, tmp_path, sessions):  # noqa: F811
    state = loaded_state(catalog_csv)
    session = tiny_session(state, tmp_path, model="bigru_features", members=2, augment="gp", max_steps=40)
    sessions.append(session)
    view = TrainingView(state=state, session=session)
    assert view._lightcurve_settings.visible and "simulated from each star's row" in view._curves.object
    session.start_worker()
    assert session.start(), session.error
    assert session.wait(3 * JOB_TIMEOUT), session.progress
    assert session.error == "", session.error
    run = open_run(session.run_path(session.last_run_id))
    assert run.state == "complete" and run.config["members"] == 2 and run.config["augment"] == "gp"
    assert run.config["simulated"] is True and run.config["lightcurve_source"] == f"simulate:{state.survey}"
    assert run.config["lightcurves"]["max_steps"] == 40
    report = ResultsView(state=state, session=session)._open(session.last_run_id)
    assert report.run.run_id == session.last_run_id and len(report.summaries) == 2

    session.model = "cnn2d"  # catalogue models hide the light-curve settings
    assert not view._lightcurve_settings.visible
    session.model = "cnn1d_folded"
    state.observation_source = "loaded"  # none loaded: Start says what to do
    assert "none are loaded" in view._curves.object
    assert not session.start() and "load some there" in session.error


def test_the_training_tab_offers_the_compound_model_with_its_sequence_setting(catalog_csv, tmp_path, sessions):  # noqa: F811
    state = loaded_state(catalog_csv)
    session = tiny_session(state, tmp_path, model="compound_rnn_cnn", max_steps=40)
    sessions.append(session)
    view = TrainingView(state=state, session=session)
    assert "compound_rnn_cnn" in session.param["model"].objects and session.reads_lightcurves
    assert view._lightcurve_settings.visible and view._settings[10].visible  # max steps, as for bigru_features
    config = session.config()
    assert config.model == "compound_rnn_cnn" and config.max_steps == 40
    stage = "stage 1/2 (bigru_features)"  # what pipeline.stages tells the callbacks: the progress line says it
    _Progress(session, 2).on_epoch_end(FitState(fold=1, epochs=3, batches=4, device="cpu", n_train=8, n_val=4,
                                                epoch=1, batch=4, val_acc=0.5, stage=stage))
    assert session.progress.startswith(f"Fold 1 of 2 · {stage} · epoch 1 of 3 done"), session.progress
    session.model = "cnn1d_folded"
    assert not view._settings[10].visible and session.config().max_steps is None


def test_a_regression_run_opens_in_results(tmp_path, catalog_csv, sessions):  # noqa: F811
    stars, _ = R.regression_stars(catalogue(), target="feh_spec", sigma="feh_err", cap=None)
    config = R.RegressionConfig(model="trees", target="feh_spec", sigma="feh_err", folds=2)
    run = R.cross_validate(stars, config, runs_dir=tmp_path, run_info={"catalog": "generated"}).run
    state = loaded_state(catalog_csv)
    session = tiny_session(state, tmp_path)
    sessions.append(session)
    view = ResultsView(state=state, session=session)
    shown = view._open(run.run_id)
    assert isinstance(shown, pn.Column)
    points = [e for pane in shown.select(pn.pane.HoloViews) for e in pane.object.traverse(lambda x: x, [hv.Points])]
    assert len(points) == 3  # predicted vs true, residuals against period and against magnitude
    np.testing.assert_allclose(np.sort(points[0].dimension_values("true")), np.sort(stars["feh_spec"]))
    worst = shown.select(pn.widgets.Tabulator)[0].value
    assert len(worst) == 20 and worst["residual"].abs().is_monotonic_decreasing
    shown.get_root()  # renders to Bokeh models, the light curve of the first worst star included
    (curve,) = [e for pane in shown.select(pn.pane.HoloViews) for e in pane.object.traverse(lambda x: x, [hv.Curve])
                if e.vdims[0].name == "star_mag"]
    mags = curve.dimension_values("star_mag")
    assert curve.opts.get().kwargs["invert_yaxis"] and mags[0] == mags.min()  # from maximum light, brighter up
    with pytest.raises(RunError, match="regression run"):
        session.report(run.run_id)  # Misclassifications shows nothing for it instead of failing

