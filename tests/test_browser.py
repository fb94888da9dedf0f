"""The explorer served by ``panel serve`` on a generated ZTF table, driven in headless Chromium.

Screenshots go to ``$VSE_SHOTS`` (default /tmp/vse_shots) for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from explorer.views.data import DIAGRAM_FRAME

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("VSE_SHOTS", "/tmp/vse_shots"))
#: The first page of a fresh server imports the science stack and cleans the catalogue.
FIRST_LOAD_MS = 60_000


#: Every stylesheet linked inside the page's shadow roots (where Panel puts each component's).
SHADOW_STYLESHEETS = """() => {
  const hrefs = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (!el.shadowRoot) continue;
      for (const link of el.shadowRoot.querySelectorAll("link[rel=stylesheet]")) hrefs.push(link.href);
      walk(el.shadowRoot);
    }
  };
  walk(document);
  return hrefs;
}"""


#: The plot frame (inner width and height, pixels) of the page's Bokeh plot whose title starts with the argument.
PLOT_FRAME = """(title) => {
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      if (String(model.title?.text ?? "").startsWith(title)) return [model.inner_width, model.inner_height];
  return null;
}"""


@pytest.fixture
def app_page(offline_page: Page, served_app):
    """The served app, loaded offline; afterwards, no server error may have occurred (the offline page
    checks the browser side)."""
    page = offline_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1500, "height": 1700})
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    assert "warm-up: the explorer drawn once" in served_app.log()  # served as `make serve` serves it
    page.goto(served_app.url)
    expect(page.locator(".vse-summary")).to_contain_text("stars kept", timeout=FIRST_LOAD_MS)
    yield page
    log = served_app.log()
    assert "Traceback" not in log and "ERROR" not in log, log


def kept_count(page: Page) -> int:
    summary = page.locator(".vse-summary h3")
    expect(summary).to_contain_text("stars kept")
    text = summary.inner_text()
    return int(re.search(r"([\d,]+) of [\d,]+ stars kept", text).group(1).replace(",", ""))


def test_filters_tabs_selection_and_errors(app_page: Page, bad_catalog_file):
    page = app_page
    expect(page.locator(".vse-report").get_by_text("min_detections")).to_be_visible()
    page.screenshot(path=SHOTS / "browser_data.png")

    # A threshold typed into the editable slider re-cleans: counts and report rule change.
    kept = kept_count(page)
    field = page.locator(".vse-min-obs input")
    field.fill("200")
    field.press("Enter")
    expect(page.get_by_text("n_obs_g >= 200 and n_obs_r >= 200").first).to_be_visible()
    expect(page.locator(".vse-summary")).not_to_contain_text(f"{kept:,} of")
    assert kept_count(page) < kept
    page.screenshot(path=SHOTS / "browser_data_min_obs_200.png")

    # The diagram's layers are shaded at its plot frame's size from the start: a frame of another size
    # (other axes, fonts or figure size) would show them stretched until DIAGRAM_FRAME is measured again.
    assert page.evaluate(PLOT_FRAME, "Period-amplitude") == list(DIAGRAM_FRAME)

    # Box select in the period-amplitude diagram selects stars.
    canvas = page.locator(".vse-pa .bk-Canvas").first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.25 * box["width"], box["y"] + 0.55 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.9 * box["height"], steps=8)
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"[\d,]+ stars selected"))).to_be_visible()
    page.screenshot(path=SHOTS / "browser_selection.png")

    # Light curves of the selection; a table row picks a star.
    page.get_by_text("Light curves", exact=True).click()
    expect(page.get_by_text(re.compile(r"Selected stars \([\d,]+\)"))).to_be_visible()
    page.locator(".vse-lc-table .tabulator-row").first.click()
    expect(page.get_by_text("cleaning", exact=True)).to_be_visible()
    page.screenshot(path=SHOTS / "browser_lightcurves.png")

    # dm-dt: per-class images, the picked star's image, and the leak warning in thesis mode.
    page.get_by_text("dm-dt", exact=True).click()
    expect(page.get_by_text("Each star paired with the kept")).to_be_visible()
    expect(page.get_by_text("Pick a star in the Light curves tab")).to_have_count(0)
    expect(page.get_by_text("leaks the label")).to_be_hidden()
    page.screenshot(path=SHOTS / "browser_dmdt_reference.png")
    page.get_by_role("button", name="thesis").click()
    expect(page.get_by_text("leaks the label")).to_be_visible()
    expect(page.get_by_text("of its own class", exact=True)).to_be_visible()
    page.screenshot(path=SHOTS / "browser_dmdt_thesis.png")
    # Inside the components of a tab built after the page (this one), Bootstrap's Reboot, not the whole
    # of Bootstrap (explorer.stylesheets.LeanBootstrap; Panel's design linked it into every component)
    linked = page.evaluate(SHADOW_STYLESHEETS)
    assert any("bootstrap-reboot.min.css" in href for href in linked), linked
    assert not any("bootstrap.min.css" in href for href in linked), linked

    # A bad upload says why and keeps the loaded catalogue.
    page.get_by_text("Data & filters", exact=True).click()
    kept = kept_count(page)
    page.locator("input[type=file]").set_input_files(bad_catalog_file)
    # Longer than the default: on a 2-core CI machine Chromium may still be drawing the thesis-mode
    # heatmaps (one Bokeh figure per class, rebuilt on a mode change) when the file is read and sent.
    expect(page.get_by_text(re.compile(r"Could not load observations\.csv.*stays loaded"))).to_be_visible(
        timeout=60_000)
    assert kept_count(page) == kept
    page.screenshot(path=SHOTS / "browser_bad_upload.png")

    # A threshold changed while the Light curves and Training tabs are out of the page (dynamic tabs:
    # Training's summary is rewritten meanwhile), then those tabs again: they come back with their
    # content and this server's stylesheets (Panel 1.9 pointed such a pane's, and every pane's spinner
    # stylesheet, at cdn.holoviz.org: the offline fixture fails on the blocked request).
    page.locator(".bk-tab", has_text="Training").click()
    expect(page.get_by_text(f"Trains on the {kept:,} kept stars")).to_be_visible()
    page.locator(".bk-tab", has_text="Data & filters").click()
    field.fill("150")
    field.press("Enter")
    expect(page.get_by_text("n_obs_g >= 150 and n_obs_r >= 150").first).to_be_visible()
    kept = kept_count(page)
    page.get_by_text("Light curves", exact=True).click()
    expect(page.get_by_text(re.compile(r"Selected stars \([\d,]+\)")).filter(visible=True)).to_be_visible()
    expect(page.get_by_text("cleaning", exact=True).filter(visible=True)).to_be_visible()
    page.locator(".bk-tab", has_text="Training").click()
    expect(page.get_by_text(f"Trains on the {kept:,} kept stars")).to_be_visible()


def test_empty_filter_result_and_preset_changes_say_what_to_do(app_page: Page, served_app):
    """A preset with more classes, then a filter that removes every star: each tab says what to do and the
    server logs no traceback (the app_page fixture checks the log and the browser)."""
    page = app_page
    preset = page.get_by_label("Label preset", exact=True)
    expect(preset).to_have_value("ztf-10")  # the load's suggestion has reached the widget
    for name, classes in (("ztf-5", 5), ("ztf-10", 10)):  # 5 -> 10 classes used to fail the colour key
        preset.select_option(name)
        expect(page.locator(".vse-summary")).to_contain_text(f"{classes} classes ({name})")
    page.locator(".vse-pa .bk-Canvas").first.wait_for()

    field = page.locator(".vse-min-obs input")
    field.fill("100000")
    field.press("Enter")
    expect(page.locator(".vse-summary")).to_contain_text("0 of 3,000 stars kept")
    expect(page.get_by_text("The filters remove every star: loosen a threshold")).to_be_visible()
    page.screenshot(path=SHOTS / "browser_empty_data.png")
    for tab, advice in (("Light curves", "No kept stars: loosen the filters."),
                        ("dm-dt", "No kept stars: loosen the filters."),
                        ("Training", "Cannot train on these stars.")):
        page.locator(".bk-tab", has_text=tab).click()
        expect(page.get_by_text(advice).filter(visible=True).first).to_be_visible()  # the shown tab's
        page.screenshot(path=SHOTS / f"browser_empty_{tab.split()[0].lower()}.png")
    expect(page.get_by_role("button", name="Start training")).to_be_disabled()
