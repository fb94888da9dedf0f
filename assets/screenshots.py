"""The README's screenshots: serve the explorer on the real OGLE-III catalogue and photograph each tab.

    .venv/bin/python assets/screenshots.py [RUNS_DIR]

RUNS_DIR (default ``runs/readme``, see benchmarks/readme_results.sh) feeds the Results and
Misclassifications tabs. Uses Debian's Chromium through Playwright, as the browser tests do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.catalogs import cache_dir  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, serve_app, stop_process  # noqa: E402

SHOTS = ROOT / "assets" / "screenshots"


def main(runs_dir: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = serve_app("ogle3", Path(folder) / "panel.log", cache_dir(), timeout=120, runs_dir=runs_dir.resolve())
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1500, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(app.url)
                expect(page.locator(".vse-summary")).to_contain_text("stars kept", timeout=180_000)
                page.wait_for_timeout(3000)  # datashader's first image
                page.screenshot(path=SHOTS / "data.png")

                canvas = page.locator(".vse-pa .bk-Canvas").first  # box-select the RR Lyrae region
                box = canvas.bounding_box()
                page.mouse.move(box["x"] + 0.30 * box["width"], box["y"] + 0.55 * box["height"])
                page.mouse.down()
                page.mouse.move(box["x"] + 0.40 * box["width"], box["y"] + 0.85 * box["height"], steps=8)
                page.mouse.up()
                page.locator(".bk-tab", has_text="Light curves").click()
                page.locator(".vse-lc-table .tabulator-row").first.click()
                page.wait_for_timeout(3000)
                page.screenshot(path=SHOTS / "lightcurves.png")

                page.locator(".bk-tab", has_text="Observations").click()  # the picked star, simulated
                expect(page.locator(".vse-obs-folded .bk-Canvas").first).to_be_visible(timeout=180_000)
                page.wait_for_timeout(3000)
                page.screenshot(path=SHOTS / "observations.png", full_page=True)

                page.locator(".bk-tab", has_text="dm-dt").click()
                expect(page.get_by_text("Each star paired with the kept")).to_be_visible(timeout=60_000)
                page.wait_for_timeout(5000)
                page.screenshot(path=SHOTS / "dmdt.png")

                for tab, name in (("Training", "training"), ("Results", "results")):
                    page.locator(".bk-tab", has_text=tab).click()
                    page.wait_for_timeout(5000)
                    page.screenshot(path=SHOTS / f"{name}.png")

                page.locator(".bk-tab", has_text="Misclassifications").click()
                expect(page.locator(".vse-misclassification-matrix canvas").first).to_be_visible()
                pairs = page.get_by_label("True class → predicted class", exact=False)
                pairs.select_option(index=1)  # the most frequent mistake (a cell's place depends on the classes)
                page.wait_for_timeout(6000)
                page.screenshot(path=SHOTS / "misclassifications.png", full_page=True)
                browser.close()
        finally:
            stop_process(app.process)
            print(app.log()[-2000:])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/readme"))
