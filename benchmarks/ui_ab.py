"""The explorer's pages before and after a change, side by side in real Chromium (not a test).

Serves two checkouts at once on the full OGLE-III catalogue, as ``make serve`` does: this working
tree ("new") and a git ref in a temporary worktree ("base", default ``HEAD``). Each repetition opens a
fresh page on both, in alternating order, so both meet the same machine load; it prints the medians
side by side. Times the page's opening (to the Data tab drawn), a tab's first paint (from the click
to every plot of the tab drawn) and switches Data <-> the tab on one page. Two servers on one machine
halve nothing: the one not measured sits idle. The two 10-class runs of ``benchmarks.ui`` are saved
first and served by both, so the Results and Misclassifications tabs have a run to show.

    python -m benchmarks.ui_ab [--base REF] [--tabs Results,Training] [--repeats 6] [--no-switch]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.ui import SAVED_RUNS, STEP_TIMEOUT_S, TABS, Bench
from pipeline.catalogs import cache_dir
from tests.conftest import CHROMIUM_ARGS, ROOT, serve_app, stop_process

#: Pause after a page is ready and after it is closed, so a measure does not start on the last one's work.
SETTLE_S = 0.5


def worktree(ref: str, folder: Path) -> Path:
    """A checkout of ``ref`` in ``folder``, for the base server."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref], check=True,
                   stdout=subprocess.DEVNULL)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui_ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git ref served as the base (default: HEAD)")
    parser.add_argument("--tabs", default="Results,Training", help=f"tabs to time, of {', '.join(TABS[1:])}")
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--no-switch", action="store_true", help="first paints only")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    tabs = args.tabs.split(",")
    unknown = set(tabs) - set(TABS[1:])
    if unknown:
        parser.error(f"--tabs: {', '.join(sorted(unknown))} not among {', '.join(TABS[1:])}")

    folder = Path(tempfile.mkdtemp(prefix="vse-benchmark-ab-"))
    for saved in SAVED_RUNS:
        subprocess.run([sys.executable, "-m", "pipeline", "train", "--catalog", "ogle3", *saved,
                        "--runs-dir", str(folder / "runs")], check=True, stdout=subprocess.DEVNULL)
    roots = {"base": worktree(args.base, folder / "base"), "new": ROOT}
    servers = {}
    try:
        for name, root in roots.items():
            servers[name] = serve_app("ogle3", folder / f"panel-{name}.log", cache_dir(), timeout=STEP_TIMEOUT_S,
                                      runs_dir=folder / "runs", root=root)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            benches = {name: Bench(browser, served.url) for name, served in servers.items()}
            for bench in benches.values():  # each checkout's plots per tab when drawn (a change may add one)
                page, _ = bench.open()
                bench.learn_tabs(page, tabs=[TABS[0], *tabs])
                page.close()
            times: dict[tuple[str, str], dict[str, list[float]]] = {}
            for repeat in range(args.repeats):
                order = list(benches.items()) if repeat % 2 == 0 else list(benches.items())[::-1]
                for tab in tabs:
                    for name, bench in order:
                        page, opened = bench.open()
                        times.setdefault(("first page", tab), {}).setdefault(name, []).append(opened)
                        time.sleep(SETTLE_S)
                        times.setdefault(("first paint", tab), {}).setdefault(name, []).append(bench.switch(page, tab))
                        if not args.no_switch:
                            for target in (TABS[0], tab):
                                time.sleep(SETTLE_S)
                                times.setdefault((f"switch to {target}", tab), {}).setdefault(name, []).append(
                                    bench.switch(page, target))
                        page.close()
                        time.sleep(SETTLE_S)
            browser.close()
    finally:
        for served in servers.values():
            stop_process(served.process, 60)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(roots["base"])], check=False)

    print(f"\nmedian of {args.repeats}, seconds; base = {args.base}, new = this working tree")
    print(f"{'measure':<48} {'base':>7} {'new':>7}")
    for (what, tab), measured in times.items():
        label = f"{what} ({tab})" if what != f"switch to {tab}" else f"switch back to {tab} from Data"
        print(f"{label:<48} {statistics.median(measured['base']):7.2f} {statistics.median(measured['new']):7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
