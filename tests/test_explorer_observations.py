"""The Observations view driven without a server: a picked OGLE-III star is simulated with OGLE-III's
cadence and its period found, loaded files are matched to catalogue stars by id, and each empty
state says what to do."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest
from param.parameterized import Skip

from explorer.observations import NoObservations, ObservationCache, fold_with_reconstruction
from explorer.state import ExplorerState
from explorer.views import Alerts, ObservationsView
from pipeline.catalogs import read_ogle3
from pipeline.lightcurves import simulate
from tests.ogle_files import star_rows, write_ogle3
from tests.test_explorer_state import run_async


@pytest.fixture(scope="module")
def ogle_catalog_file(tmp_path_factory):
    """A small OGLE-III catalogue in the canonical CSV (every kind of OGLE-III star, 4 each)."""
    folder = tmp_path_factory.mktemp("ogle-obs")
    path = folder / "catalogue.csv"
    read_ogle3(write_ogle3(folder / "ogle3.txt.bz2", star_rows(n_per_kind=4, seed=11))).to_csv(path, index=False)
    return path


@pytest.fixture
def state(ogle_catalog_file) -> ExplorerState:
    state = ExplorerState()
    assert state.load(ogle_catalog_file), state.error
    return state


def star_of(state: ExplorerState, raw_label: str, k: int = 0) -> str:
    return str(state.catalog.loc[state.catalog["raw_label"] == raw_label, "id"].iloc[k])


def plots(content: pn.Column) -> dict[str, hv.core.Dimensioned]:
    """The drawn HoloViews objects by the css class of their pane."""
    return {pane.css_classes[0]: pane.object for pane in content.select(pn.pane.HoloViews)}


def titles(content: pn.Column) -> list[str]:
    return [pane.object.opts.get().kwargs["title"] for pane in content.select(pn.pane.HoloViews)]


def test_an_rrab_is_simulated_with_ogle3_and_its_period_found(state):
    assert state.survey == "ogle3"  # the OGLE catalogue's own cadence
    view = ObservationsView(state=state)
    state.selected_star = star_of(state, "RRLyr/RRab")
    content = run_async(view._content())
    obs = view.observations()
    catalogue_period = float(state.star()["period"].iloc[0])
    assert obs.simulated and obs.band == "I"
    assert obs.found_period == pytest.approx(catalogue_period, rel=0.01)

    headline = content.objects[0].object
    assert headline.startswith("## Simulated OGLE-III observations of OGLE-LMC-RRLYR-")
    assert all(title.startswith("Simulated OGLE-III:") for title in titles(content))
    drawn = plots(content)
    assert set(drawn) == {"vse-obs-time", "vse-obs-periodogram", "vse-obs-folded", "vse-obs-dmdt"}
    for name in ("vse-obs-time", "vse-obs-folded"):
        assert drawn[name].opts.get().kwargs["invert_yaxis"]  # brighter up
    assert "ErrorBars" in {type(layer).__name__ for layer in drawn["vse-obs-time"]}
    spikes = [layer for layer in drawn["vse-obs-periodogram"] if isinstance(layer, hv.Spikes)]
    assert [s.label.split()[0] for s in spikes] == ["catalogue", "found"]
    assert spikes[0].data["period"].iloc[0] == pytest.approx(catalogue_period)
    model = [layer for layer in drawn["vse-obs-folded"] if isinstance(layer, hv.Curve)]
    assert len(model) == 1 and model[0].label == "catalogue model"
    # The reconstruction, slid along phase onto the points, follows them to about the survey noise.
    assert "catalogue I reconstruction" in content.objects[2].object
    folded = fold_with_reconstruction(obs, state.star(), obs.found_period)
    model_at_points = np.interp(folded.phase, folded.model_phase, folded.model, period=1.0)
    assert np.median(np.abs(obs.lcs.data["mag"] - model_at_points)) < 3 * obs.lcs.data["err"].median()
    assert len(obs.periods) <= 3000 and obs.power.max() == pytest.approx(obs.searches["power"].max(), rel=0.05)


def test_observations_are_cached_per_star_survey_and_seed(state):
    view = ObservationsView(state=state)
    state.selected_star = star_of(state, "Cep/F")
    first = view.observations()
    assert view.observations() is first
    state.survey_seed = 1
    assert view.observations() is not first and len(view.cache) == 2
    state.survey = "ztf"
    ztf = view.observations()
    assert ztf.lcs.survey == "ztf" and ztf.lcs.bands == ["g", "r"]
    assert "Bands the catalogue lacks: g from mag_V and amp_I" in view.draw(ztf).objects[1].object
    state.survey_seed = 0
    state.survey = "ogle3"
    assert view.observations() is first

    cache = ObservationCache(size=2)
    cache.get("a", lambda: 1), cache.get("b", lambda: 2), cache.get("a", lambda: 0), cache.get("c", lambda: 3)
    assert cache.get("a", lambda: 0) == 1 and cache.get("b", lambda: 0) == 0  # "b" was the least recently used
    assert cache.get("d", lambda: cache.clear() or 4) == 4 and len(cache) == 0  # computed from data now gone


def test_empty_states_say_what_to_do(state):
    view = ObservationsView(state=state)
    assert "Pick a star in the Light curves tab" in run_async(view._content()).object
    hidden = ObservationsView(state=state, shown=False)
    with pytest.raises(Skip):  # nothing computed in a hidden tab: Panel keeps what it showed
        run_async(hidden._content())
    state.selected_star = star_of(state, "RRLyr/RRab")
    state.observation_source = "loaded"
    assert "No light curves are loaded" in run_async(view._content()).object


def write_generic(path, lcs) -> None:
    lcs.data[["id", "time", "mag", "err", "band"]].to_csv(path, index=False)


def test_loaded_light_curves_are_matched_by_id(state, tmp_path):
    stars = state.catalog[state.catalog["raw_label"].isin(["RRLyr/RRab", "Cep/F"])].head(3)
    lcs = simulate(stars, survey="ogle3", seed=5)
    foreign = lcs.data[lcs.data["id"] == lcs.ids[0]].assign(id="NOT-IN-THE-CATALOGUE")
    table = tmp_path / "observed.csv"
    pd.concat([lcs.data, foreign]).to_csv(table, index=False)

    view = ObservationsView(state=state)
    assert state.load_lightcurves(table), state.error
    assert state.observation_source == "loaded" and state.selected_star == lcs.ids[0]
    assert "4 stars, 3 in the catalogue" in state.message
    assert view._picker.options == ["", *lcs.ids] and view._picker.value == lcs.ids[0]
    obs = view.observations()
    assert not obs.simulated
    assert obs.found_period == pytest.approx(float(state.star()["period"].iloc[0]), rel=0.01)
    content = view.draw(obs)
    assert content.objects[0].object.startswith("## Observed light curve of")
    assert all(title.startswith("Observed (") for title in titles(content))

    view._picker.value = lcs.ids[1]
    assert state.selected_star == lcs.ids[1]
    state.selected_star = star_of(state, "LPV/Mira")  # no file for it
    with pytest.raises(NoObservations, match="No loaded light curve for star OGLE-LMC-LPV-.*3 loaded stars"):
        view.observations()
    assert view._picker.value == ""


def test_files_without_catalogue_stars_or_with_too_few_points(state, tmp_path):
    assert not state.load_lightcurves(tmp_path / "missing.csv")
    assert state.error.startswith("Could not read light curves from")
    assert state.error.endswith("no such file or folder. No light curves are loaded.")
    strangers = pd.DataFrame({"id": "<b>x</b>", "time": np.arange(20.0), "mag": 15.0, "err": 0.01, "band": "I"})
    assert not state.load_lightcurves_upload({"<img src=x>.csv": strangers.to_csv(index=False).encode()})
    assert "No star of <img src=x>.csv is in" in state.error and "<b>x</b>" in state.error
    shown = Alerts(state=state)._error.object  # the alerts escape what files and runs put in messages
    assert "No star of &lt;img src=x&gt;.csv is in" in shown and "&lt;b&gt;x&lt;/b&gt;" in shown
    assert state.lightcurves is None

    star_id = star_of(state, "RRLyr/RRab")
    few = strangers.head(5).assign(id=star_id, mag=15.0 + 0.1 * np.arange(5))
    assert state.load_lightcurves_upload({"few.csv": few.to_csv(index=False).encode()}), state.error
    content = run_async(ObservationsView(state=state)._content())
    problem = [pane.object for pane in content.select(pn.pane.Alert) if "vse-obs-empty" in pane.css_classes]
    assert problem == ["Too few points for a period search: 5 in I; it needs at least 10 in one band. "
                       "Pick a brighter star or another survey."]
    assert set(plots(content)) == {"vse-obs-time"}  # the few points are still drawn


def test_a_star_too_faint_for_the_survey(state):
    view = ObservationsView(state=state)
    state.selected_star = star_of(state, "RRLyr/RRab")
    star = state.star().assign(mag_I=24.0)  # OGLE-III reaches I ~ 21
    with pytest.raises(NoObservations, match="has no epochs: it is fainter than OGLE-III's detection limit"):
        view._simulated(star, "ogle3", 0)


def test_an_ogle_folder_on_the_server_is_loaded_by_path(state, tmp_path, tmp_path_factory, monkeypatch):
    """OGLE's own layout, ``I/<id>.dat`` with ``HJD-2450000 mag err`` lines, read from a path."""
    stars = state.catalog[state.catalog["raw_label"] == "RRLyr/RRab"].head(2)
    folder = tmp_path / "ogle" / "I"
    folder.mkdir(parents=True)
    for star_id, frame in simulate(stars, survey="ogle3", seed=3).data.groupby("id"):
        short_hjd = frame["time"] - (2450000.0 - 2400000.5)
        lines = [f"{t:.5f} {m:.3f} {e:.3f}" for t, m, e in zip(short_hjd, frame["mag"], frame["err"])]
        (folder / f"{star_id}.dat").write_text("\n".join(lines) + "\n")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.setenv("VSE_DATA_DIRS", str(elsewhere))  # the typed path reads below the data folders only
    assert not state.load_lightcurves_server_path(str(tmp_path / "ogle"))
    forbidden = state.error
    assert not state.load_lightcurves_server_path(str(elsewhere / "missing"))
    assert forbidden.replace(str(tmp_path / "ogle"), "X") == state.error.replace(str(elsewhere / "missing"), "X")
    assert state.lightcurves is None
    monkeypatch.setenv("VSE_DATA_DIRS", str(tmp_path))
    assert state.load_lightcurves_server_path(str(tmp_path / "ogle")), state.error
    assert state.lightcurves.time_scale == "HJD" and sorted(state.lightcurve_matches()) == sorted(stars["id"])
    obs = ObservationsView(state=state).observations()
    assert obs.band == "I" and obs.found_period == pytest.approx(float(state.star()["period"].iloc[0]), rel=0.01)
