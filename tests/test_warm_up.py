"""The server is warmed up before it answers (``python -m explorer`` runs explorer/warm_up.py as Panel's
setup): the catalogue the app opens is in the server's memory and datashader's kernels are built."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from explorer.__main__ import WARM_UP, panel_arguments
from tests.conftest import ROOT

#: The warm-up as ``panel serve --setup`` runs it (by path), then what it left in the process.
AFTER_WARM_UP = f"""
import gc, runpy, sys
runpy.run_path({str(WARM_UP)!r})
print("frozen:", gc.get_freeze_count(), "tracked:", len(gc.get_objects()))
from explorer.state import catalog_in_memory
print("in memory:", catalog_in_memory(sys.argv[1]), "kernels:", "datashader.composite" in sys.modules)
"""


def run_warm_up(catalog: str, cache_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "VSE_CATALOG": catalog, "VSE_CACHE_DIR": str(cache_dir)}
    return subprocess.run([sys.executable, "-c", AFTER_WARM_UP, catalog], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env=env)


def test_the_launcher_warms_the_server_up_before_it_answers():
    arguments = panel_arguments(["--port", "5999"])
    assert arguments[arguments.index("--setup") + 1] == str(WARM_UP) and WARM_UP.is_file()


def test_the_warm_up_loads_the_catalogue_and_builds_the_rasterizer(ztf_catalog_file, cache_dir):
    done = run_warm_up(str(ztf_catalog_file), cache_dir)
    assert done.returncode == 0, done.stderr
    assert "warm-up: the explorer drawn once in" in done.stdout
    assert "in memory: True kernels: True" in done.stdout, done.stdout
    # what the warm-up left is out of the garbage collector's full scans: little is tracked after it
    said = re.search(r"warm-up: ([\d,]+) objects kept out of the garbage collector's scans", done.stdout)
    frozen, tracked = map(int, re.search(r"frozen: (\d+) tracked: (\d+)", done.stdout).groups())
    assert said and int(said.group(1).replace(",", "")) > 100_000, done.stdout
    assert frozen > 100_000 and tracked < frozen / 100, done.stdout


def test_a_catalogue_that_fails_to_load_is_reported_and_the_server_still_starts(tmp_path, cache_dir):
    missing = tmp_path / "nowhere" / "Table2.txt"
    done = run_warm_up(str(missing), cache_dir)
    assert done.returncode == 0, done.stderr
    assert "warm-up skipped: Could not load" in done.stderr and str(missing) in done.stderr, done.stderr
    assert "drawn once" not in done.stdout and "in memory: False" in done.stdout
