"""The Observations tab served by ``panel serve`` and driven in Chromium: a star picked in the Light
curves tab is simulated with OGLE-III's cadence, and its periodogram and folded curve are drawn; an
uploaded light-curve table is matched to the catalogue and drawn as observed.

Screenshots go to ``$VSE_SHOTS`` (default /tmp/vse_shots) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline.catalogs import read_ogle3
from pipeline.lightcurves import simulate
from tests.conftest import serve_app, stop_process
from tests.ogle_files import star_rows, write_ogle3

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("VSE_SHOTS", "/tmp/vse_shots"))
#: The first page of a fresh server imports the science stack and cleans the catalogue.
FIRST_LOAD_MS = 60_000
#: The first period search and dm-dt image import astropy and may compile numba code.
FIRST_OBSERVATIONS_MS = 60_000


@pytest.fixture(scope="module")
def served(tmp_path_factory, cache_dir):
    """The explorer on a small OGLE-III catalogue (canonical CSV), and a light-curve table of five of
    its stars (generic ``id,time,mag,err,band``) to upload."""
    folder = tmp_path_factory.mktemp("serve-observations")
    catalog = folder / "catalogue.csv"
    stars = read_ogle3(write_ogle3(folder / "ogle3.txt.bz2", star_rows(n_per_kind=6, seed=4)))
    stars.to_csv(catalog, index=False)
    table = folder / "lightcurves.csv"
    simulate(stars.head(5), survey="ogle3", seed=9).data[["id", "time", "mag", "err", "band"]].to_csv(table, index=False)
    app = serve_app(catalog, folder / "panel.log", cache_dir, timeout=180)  # a loaded machine starts slowly
    yield app, table
    stop_process(app.process)


def test_a_picked_star_shows_its_simulated_observations(served, page: Page):
    served, table = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.set_viewport_size({"width": 1400, "height": 1500})
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)  # two shared cores: a re-render can take seconds
    page.goto(served.url)
    expect(page.locator(".vse-summary")).to_contain_text("stars kept", timeout=FIRST_LOAD_MS)

    page.locator(".bk-tab", has_text="Observations").click()
    expect(page.get_by_text("No star picked")).to_be_visible()

    page.locator(".bk-tab", has_text="Light curves").click()
    page.locator(".vse-lc-table .tabulator-row").first.click()
    expect(page.get_by_text("cleaning", exact=True)).to_be_visible()

    page.locator(".bk-tab", has_text="Observations").click()
    expect(page.get_by_text("Simulated OGLE-III observations of")).to_be_visible(timeout=FIRST_OBSERVATIONS_MS)
    expect(page.get_by_text("Simulated, not observed.")).to_be_visible()
    expect(page.locator(".vse-obs-summary")).to_contain_text("Catalogue period")
    for plot in ("vse-obs-time", "vse-obs-periodogram", "vse-obs-folded", "vse-obs-dmdt"):
        expect(page.locator(f".{plot} .bk-Canvas").first).to_be_visible()
    page.screenshot(path=SHOTS / "browser_observations.png", full_page=True)

    # Another survey's cadence: ZTF's two bands.
    page.get_by_label("Survey cadence", exact=True).select_option(label="ZTF (g, r)")
    expect(page.get_by_text("Simulated ZTF observations of")).to_be_visible()
    expect(page.locator(".vse-obs-summary")).to_contain_text("in g")
    page.screenshot(path=SHOTS / "browser_observations_ztf.png", full_page=True)

    # Real light curves: an uploaded table, matched to catalogue stars by id.
    page.get_by_role("button", name="Loaded light curves").click()
    page.locator(".vse-obs-upload input[type=file]").set_input_files(table)
    expect(page.get_by_text("Observed light curve of")).to_be_visible()
    expect(page.get_by_text("5 stars, 5 in the catalogue")).to_be_visible()
    expect(page.locator(".vse-obs-folded .bk-Canvas").first).to_be_visible()
    page.screenshot(path=SHOTS / "browser_observations_loaded.png", full_page=True)

    assert problems == []
    log = served.log()
    assert "Traceback" not in log and "ERROR" not in log, log
