"""notebooks/explorer.ipynb run in a live JupyterLab and driven in headless Chromium, offline: every cell runs
without an error, nothing is fetched off this machine (Panel's and Bokeh's scripts and stylesheets come
inline, also for panes updated after they were shown), a click on a confusion-matrix cell goes through
the kernel and back (the Misclassifications view lists that cell's stars and every matrix frames it),
numbers typed into a view's boxes and committed with Enter reach the kernel, and a training started in the
Training view draws its live curves.
Screenshots go to ``$VSE_SHOTS`` (default /tmp/vse_shots) for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT, free_port, stop_process, wait_until_serving
from tests.test_browser_training import EPOCHS_DRAWN, start_quick_training

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("VSE_SHOTS", "/tmp/vse_shots"))
#: Seconds for the whole notebook (a catalogue, every view, a 3-fold tree baseline) on 2 busy cores.
RUN_ALL_S = 300
NOTEBOOK = "window.jupyterapp.shell.currentWidget"  # the notebook shown
KERNEL_READY = f"() => window.jupyterapp && {NOTEBOOK}?.sessionContext?.session?.kernel?.status === 'idle'"
#: Every code cell has run and the kernel is idle again.
ALL_RUN = f"""() => {{
  const notebook = {NOTEBOOK};
  const cells = notebook.content.widgets.filter((cell) => cell.model.type === 'code');
  return cells.every((cell) => cell.model.executionCount !== null)
    && notebook.sessionContext.session.kernel.status === 'idle';
}}"""
#: The error outputs of every cell, as "ename: evalue".
ERRORS = f"""() => {NOTEBOOK}.content.widgets.flatMap((cell) => cell.model.type === 'code'
  ? cell.model.outputs.toJSON().filter((o) => o.output_type === 'error').map((o) => o.ename + ': ' + o.evalue)
  : [])"""
#: Whether a BokehJS model is a confusion matrix (some of Panel's models have ``tags`` unset: reading throws).
IS_MATRIX = "(model) => { try { return (model.tags ?? []).includes('confusion'); } catch { return false; } }"
#: The (true, predicted) pair framed in each confusion matrix of the page (null: none framed).
FRAMED = f"""() => {{
  const framed = [];
  for (const doc of Bokeh.documents)
    for (const model of doc.all_models)
      if (({IS_MATRIX})(model)) {{
        const cells = model.renderers.find((r) => r.name === 'cells').data_source;
        const [i] = cells.selected.indices;
        framed.push(i === undefined ? null : [cells.data.true[i], cells.data.predicted[i]]);
      }}
  return framed;
}}"""
#: The first class of the matrix drawn on ``canvas``, and where in the page the centre of its cell on the
#: diagonal (top left: true class down from the top, predicted across from the left) is.
TOP_LEFT_CELL = f"""(canvas) => {{
  const holds = (el, node) => {{  // through shadow roots: the canvas sits in its plot's
    for (let at = node; at; at = at.getRootNode().host) if (el.contains(at)) return true;
    return false;
  }};
  const view = [...Bokeh.index.query((view) => ({IS_MATRIX})(view.model))].find((view) => holds(view.el, canvas));
  const frame = view.frame.bbox, box = canvas.getBoundingClientRect();
  const classes = view.model.x_range.factors, n = classes.length;
  return [classes[0], box.left + frame.left + frame.width / n / 2, box.top + frame.top + frame.height / n / 2];
}}"""


@pytest.fixture(scope="module")
def jupyter_lab(ztf_catalog_file, cache_dir, tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a copy of the notebook (JupyterLab saves what it runs), with its own
    settings folders; the kernel reads the generated ZTF catalogue. Yields the notebook's URL."""
    folder = tmp_path_factory.mktemp("jupyter")
    shutil.copy(ROOT / "notebooks" / "explorer.ipynb", folder / "explorer.ipynb")
    news = folder / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # "never fetch Jupyter's news": no popup asking, over the screenshots
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "VSE_CATALOG": str(ztf_catalog_file), "VSE_CACHE_DIR": str(cache_dir),
           **{f"JUPYTER_{kind}_DIR": str(folder / kind.lower()) for kind in ("CONFIG", "DATA", "RUNTIME")}}
    log_path = folder / "jupyter.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
             "--LabApp.expose_app_in_browser=True"],  # window.jupyterapp: run the cells, read their outputs
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(process, f"{base}/api/status?token={token}", 120, log_path.read_text)
    yield f"{base}/lab/tree/explorer.ipynb?token={token}"
    stop_process(process)


def test_the_notebook_runs_offline_in_jupyterlab_and_what_is_clicked_or_typed_reaches_the_kernel(
        jupyter_lab, offline_page: Page):
    page = offline_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(jupyter_lab)
    page.wait_for_function(KERNEL_READY, timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RUN, timeout=RUN_ALL_S * 1000, polling=500)
    assert page.evaluate(ERRORS) == []

    # The newest run's matrices (Results: counts and fractions) and the Misclassifications view's, which
    # the notebook pointed at its most frequent confusion from code.
    title = page.locator(".jp-OutputArea-output").get_by_role("heading", name=re.compile(r"[\d,]+ stars: "))
    expect(title).to_contain_text("predicted")
    framed = page.evaluate(FRAMED)
    assert len(framed) == 3 and framed[0] is not None and all(pair == framed[0] for pair in framed), framed

    matrix = page.locator(".vse-confusion canvas").first
    matrix.scroll_into_view_if_needed()
    expect(matrix).to_be_in_viewport(ratio=1)  # wholly shown before the click is placed on it
    first_class, x, y = matrix.evaluate(TOP_LEFT_CELL)
    page.mouse.click(x, y)
    expect(title).to_contain_text(f"{first_class} classified correctly", timeout=30_000)
    diagonal = json.dumps([first_class, first_class], separators=(",", ":"))  # as JSON.stringify writes it
    page.wait_for_function(f"() => ({FRAMED})().every((pair) => JSON.stringify(pair) === {diagonal!r})",
                           timeout=30_000)
    matrix.screenshot(path=SHOTS / "jupyter_matrix.png")
    title.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "jupyter_misclassifications.png")

    # Numbers typed into boxes and committed with Enter reach the kernel (JupyterLab cancels the line break
    # of an Enter pressed in a cell, and without it a box raises no change event): a training started in
    # the Training view runs 2 folds, not the default 5, and its live curves get every epoch from the
    # training thread.
    start = page.get_by_role("button", name="Start training")
    start.scroll_into_view_if_needed()
    expect(start).to_be_enabled(timeout=60_000)
    start_quick_training(page, start)
    expect(page.get_by_text("Finished in")).to_be_visible(timeout=120_000)
    seen = page.evaluate("window.vseProgress")
    assert any(text.startswith("Fold 2 of 2") for text in seen) and not any(" of 5 " in text for text in seen), seen
    page.wait_for_function(f"() => ({EPOCHS_DRAWN})().join() === '2,2'", timeout=10_000)  # 1 epoch in each fold
    page.get_by_text("Finished in").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "jupyter_training.png")

    field = page.locator(".vse-min-obs input").first
    field.scroll_into_view_if_needed()
    field.fill("200")
    field.press("Enter")
    expect(page.get_by_text("n_obs_g >= 200 and n_obs_r >= 200").first).to_be_attached(timeout=30_000)
