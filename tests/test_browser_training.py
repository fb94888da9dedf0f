"""The training, results and misclassification views served by ``panel serve`` and driven in Chromium:
a tiny run trains with visible progress, its confusion matrix appears, and a cell lists its stars.

Screenshots go to ``$VSE_SHOTS`` (default /tmp/vse_shots) for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline.catalogs import read_ogle3
from pipeline.runs import list_runs
from tests.conftest import serve_app, stop_process
from tests.ogle_files import star_rows, write_ogle3

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("VSE_SHOTS", "/tmp/vse_shots"))

#: Collects every distinct text of the progress line, sampled every 20 ms, into ``window.vseProgress``.
WATCH_PROGRESS = """() => {
  const find = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.classList && el.classList.contains('vse-progress')) return el;
      if (el.shadowRoot) { const hit = find(el.shadowRoot); if (hit) return hit; }
    }
    return null;
  };
  window.vseProgress = [];
  setInterval(() => {
    const el = find(document);
    const paragraph = el && (el.shadowRoot || el).querySelector('p');
    const text = paragraph ? paragraph.textContent.trim() : '';
    if (text && window.vseProgress[window.vseProgress.length - 1] !== text) window.vseProgress.push(text);
  }, 20);
}"""
#: Epochs drawn in the Training view's live validation curves (loss, accuracy), in whichever document has them.
EPOCHS_DRAWN = """() => ["loss", "acc"].map((metric) => {
  const model = Bokeh.documents.map((doc) => doc.get_model_by_name(`${metric} val points`)).find((m) => m);
  if (!model) return -1;
  const data = model.data_source.data;
  return Array.from(data instanceof Map ? data.get("epoch") : data.epoch).length;
})"""


def start_quick_training(page: Page, start) -> None:
    """Click ``start`` for the light-curve network (seconds), 1 epoch, batch 16, 2 folds, each number typed and
    committed with Enter; ``window.vseProgress`` collects the progress lines."""
    page.get_by_label("Model", exact=True).select_option("cnn_lstm")
    for label, value in (("Epochs", "1"), ("Batch size", "16"), ("Folds", "2")):
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
    page.evaluate(WATCH_PROGRESS)
    start.click()


@pytest.fixture(scope="module")
def served(tmp_path_factory, cache_dir):
    """The explorer on a small OGLE-III catalogue (canonical CSV), saving runs in a folder of its own."""
    folder = tmp_path_factory.mktemp("serve-training")
    catalog = folder / "catalogue.csv"
    read_ogle3(write_ogle3(folder / "ogle3.txt.bz2", star_rows(n_per_kind=12, seed=3))).to_csv(catalog, index=False)
    app = serve_app(catalog, folder / "panel.log", cache_dir, runs_dir=folder / "runs")
    yield app, folder / "runs"
    stop_process(app.process)


def test_train_watch_progress_and_inspect_the_confusion_matrix(served, offline_page: Page):
    app, runs_dir = served
    page = offline_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app.url)

    # Five classes (not the ten the catalogue suggests) keep every confusion cell populated.
    expect(page.locator(".vse-summary")).to_contain_text("classes (ogle-10)", timeout=60_000)  # loaded, preset
    preset = page.get_by_label("Label preset", exact=True)
    expect(preset).to_have_value("ogle-10")  # the load's suggestion has reached the widget: it cannot undo ours
    preset.select_option("ogle-5")
    expect(page.locator(".vse-summary")).to_contain_text("classes (ogle-5)")
    page.locator(".bk-tab", has_text="Training").click()
    expect(page.get_by_text(re.compile(r"kept stars of 5 classes"))).to_be_visible(timeout=20_000)
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_enabled(timeout=60_000)
    expect(page.get_by_text(re.compile(r"Trains on (CPU|CUDA|MPS)"))).to_be_visible()
    start_quick_training(page, start)
    expect(page.get_by_role("button", name="Stop")).to_be_enabled(timeout=10_000)
    expect(page.get_by_text("Finished in")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    page.wait_for_timeout(500)  # let the last epoch's curves draw before the picture
    page.screenshot(path=SHOTS / "training_done.png", full_page=True)
    # The live curves got every epoch: reported on the worker's thread, drawn through the session's event loop
    assert page.evaluate(EPOCHS_DRAWN) == [2, 2]  # 1 epoch in each of 2 folds

    seen = page.evaluate("window.vseProgress")
    folds_seen = [text for text in seen if "of 2 ·" in text]
    assert any(text.startswith("Fold 1 of 2") for text in folds_seen), seen
    assert any(text.startswith("Fold 2 of 2") for text in folds_seen), seen
    assert seen[-1].startswith("Finished in") and all(" · device " in text for text in folds_seen), seen
    runs = list_runs(runs_dir)
    assert runs["status"].tolist() == ["complete"] and runs.loc[0, "folds_done"] == 2

    page.locator(".bk-tab", has_text="Results").click()
    expect(page.get_by_role("heading", name=runs.loc[0, "run_id"])).to_be_visible(timeout=30_000)
    expect(page.locator(".vse-confusion canvas").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "results.png", full_page=True)

    page.locator(".bk-tab", has_text="Misclassifications").click()
    matrix = page.locator(".vse-misclassification-matrix canvas").first
    expect(matrix).to_be_visible(timeout=30_000)
    box = matrix.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)  # a cell of the first rows
    expect(page.get_by_role("heading", name="stars:")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"predicted \w+ by the fold \d model"))).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)  # let the star's plots draw before the picture
    page.screenshot(path=SHOTS / "misclassifications.png", full_page=True)

    assert not page.problems, page.problems
    log = app.log()
    assert "Traceback" not in log and "ERROR" not in log, log
