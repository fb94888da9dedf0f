"""Draw the explorer once before the server answers: ``panel serve explorer/app.py --setup explorer/warm_up.py``
(``python -m explorer`` and ``make serve`` add it).

Without it, the server's first page paid for reading the catalogue, numba compiling datashader's kernels and
HoloViews' first plots, with the rasterizer's warm-up thread competing for the same cores: about 10 s to the
first page against 4 s for the next ones (UI benchmark). Here the server starts that much later, once, and the
first visitor meets a warm one. A catalogue that fails to load is reported and left to the page to say again.
What the server holds by then is kept out of Python's garbage collector (:func:`freeze_what_is_loaded`).
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run by path, as `panel serve --setup` does
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bokeh.document import Document  # noqa: E402
from panel.io.state import set_curdoc  # noqa: E402

from explorer.app import App  # noqa: E402
from explorer.views.data import warm_up_rasterizer  # noqa: E402


def warm_up() -> None:
    """Load the catalogue the app opens into the server's shared memory and draw its first tab in a scratch
    document; say how long it took, or why the catalogue could not be loaded."""
    start = time.perf_counter()
    doc = Document()
    with set_curdoc(doc):
        app = App()
        if app.state.catalog is None and not app.state.load(app.source):
            print(f"warm-up skipped: {app.state.error}", file=sys.stderr, flush=True)
            return
        doc.add_root(app.__panel__().get_root(doc))
    warm_up_rasterizer().join()
    print(f"warm-up: the explorer drawn once in {time.perf_counter() - start:.1f} s", flush=True)


def freeze_what_is_loaded() -> int:
    """Collect the warm-up's garbage, then keep every object left (the libraries' modules, the catalogue, the
    shared caches: 500,000-650,000 objects) out of all later garbage collections; returns how many.

    Each full collection scanned them all, 0.23-0.26 s during which the server answered nobody, every few
    pages opened: a stall that fell on whichever click was waiting. Now a full collection scans what the
    sessions made since (30-90 ms). Reference counting still frees these objects; only one caught in a
    reference cycle that the server drops later (an evicted cache entry) is never freed.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


warm_up()
print(f"warm-up: {freeze_what_is_loaded():,} objects kept out of the garbage collector's scans", flush=True)
