"""Variable Star Explorer: ``python -m explorer``, ``make serve`` or ``panel serve explorer/app.py``.

Opens the catalogue named by ``$VSE_CATALOG`` (default ``ogle3``, the built-in OGLE-III), once the
page is up; in Jupyter, ``App()`` displays as a plain layout (see notebooks/explorer.ipynb).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SERVED_AS_SCRIPT = __name__.startswith("bokeh_app_")  # `panel serve explorer/app.py` runs this file per session
if SERVED_AS_SCRIPT and str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, so `explorer` imports

import panel as pn  # noqa: E402
import param  # noqa: E402
from panel.viewable import Viewer  # noqa: E402

from explorer.state import ExplorerState, catalog_in_memory  # noqa: E402
from explorer.stylesheets import LeanBootstrap, resources_from_this_server, restyle_with_the_session_document  # noqa: E402
from explorer.views import (  # noqa: E402
    Alerts, DataView, DmdtView, LightCurveView, MisclassificationsView, ObservationsView, ResultsView,
    TrainingView, View,
)
from explorer.views.data import warm_up_rasterizer  # noqa: E402

#: The app's tabs in order: a new view over the same state is one more entry here.
TABS = (("Data & filters", DataView), ("Light curves", LightCurveView), ("dm-dt", DmdtView),
        ("Observations", ObservationsView), ("Training", TrainingView), ("Results", ResultsView),
        ("Misclassifications", MisclassificationsView))


class Tabs(pn.Tabs):
    """Panel's tabs, a click on a tab handled at once. Panel handles a change from the page 50 ms late
    (``Syncable._debounce``) in case more follow, as when a slider is dragged; a tab is clicked once, and
    its switch is a round trip users wait for. ``_priority_changes`` is Panel's (private) exemption;
    tests/test_explorer_app.py fails if Panel stops honouring it."""

    _priority_changes = ["active"]


class App(Viewer):
    """All views over one session's state, as tabs; a template when served."""

    state = param.ClassSelector(class_=ExplorerState)
    source = param.String(default="ogle3", doc="Catalogue opened when the state has none yet.")

    def __init__(self, **params):
        params.setdefault("state", ExplorerState())
        params.setdefault("source", os.environ.get("VSE_CATALOG") or "ogle3")
        super().__init__(**params)
        if self.state.catalog is None and catalog_in_memory(self.source):
            self.state.load(self.source)  # at once: the page is then built once, with its content
        #: Each tab's view, made the first time the tab is shown (a page draws one tab, not seven).
        self.views: dict[int, View] = {}
        #: Each tab's content; its class (vse-tab-<position>) lets a test or benchmark find what a tab shows.
        self._slots = [pn.Column(sizing_mode="stretch_width", css_classes=["vse-tab", f"vse-tab-{i}"])
                       for i in range(len(TABS))]
        # Dynamic: only the shown tab is in the browser's page. Panel hides the other tabs with `visibility:
        # hidden`, which keeps them in Chromium's layout: with every tab seen, a class-cap change took
        # 10-16 s (README, UI benchmark, run 6). Switching back rebuilds no view, but sends the tab's models
        # to the page again: 0.31-0.41 s (run 15), a third on the server, the rest building in the browser.
        self.tabs = Tabs(*[(title, slot) for (title, _), slot in zip(TABS, self._slots)],
                         sizing_mode="stretch_width", dynamic=True)
        self.tabs.param.watch(self._show_active, "active")
        self._show_active()
        self._layout = pn.Column(Alerts(state=self.state), self.tabs, sizing_mode="stretch_width")
        if self.state.catalog is None:
            self._layout.loading = True
            pn.state.onload(self._open)

    def _open(self):
        """Load the first catalogue once the page is up, so a slow first parse shows a spinner."""
        try:
            self.state.load(self.source)
        finally:
            self._layout.loading = False

    def _show_active(self, *_):
        active = self.tabs.active
        if active not in self.views:
            self.views[active] = TABS[active][1](state=self.state)
            self._slots[active].objects = [self.views[active]]
        for i, view in self.views.items():
            view.shown = i == active

    def servable(self, title: str | None = None, **kwargs):
        """In a server session, the template holding the app; in Jupyter, the plain layout.

        (``pn.state.served`` would not do: it asks whether the *calling* module is the served script.)
        """
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            # Bootstrap: its resources are bundled with Panel, so the app loads with no internet access
            template = pn.template.BootstrapTemplate(
                title=title or "Variable Star Explorer", main=[self._layout], header_background="#1f4e79",
                collapsed_sidebar=True, design=LeanBootstrap,
            )
            pn.state.onload(warm_up_rasterizer)  # once per server, in the background
            return template.servable(**kwargs)
        return self

    def __panel__(self):
        return self._layout


#: Set to 1 to serve clients on other machines even when ``panel serve`` was given no ``--address``.
ALLOW_REMOTE_ENV = "VSE_ALLOW_REMOTE"
LOOPBACK = ("127.", "::1", "::ffff:127.")


def remote_allowed(argv: list[str] | None = None) -> bool:
    """Whoever started the server chose to serve other machines: an explicit ``--address`` (the
    interface is then their decision) or ``$VSE_ALLOW_REMOTE=1``.

    Bare ``panel serve explorer/app.py`` listens on every interface (Bokeh's default), which an
    app cannot change once the server is up; it then serves only this machine's own clients.
    """
    argv = sys.argv if argv is None else argv
    explicit = any(a == "--address" or a.startswith("--address=") for a in argv)
    return explicit or os.environ.get(ALLOW_REMOTE_ENV, "").strip().lower() in {"1", "true", "yes"}


def client_is_local() -> bool:
    request = pn.state.curdoc.session_context.request if pn.state.curdoc and pn.state.curdoc.session_context else None
    remote = getattr(request, "remote_ip", None) or ""
    return remote.startswith(LOOPBACK) or remote == "localhost"


REFUSED = ("This explorer serves only the machine it runs on. To share it, its operator starts it with an "
           "explicit address and authentication (see the README, \"Serving the explorer to others\").")


if SERVED_AS_SCRIPT:  # not on import: a notebook or another served script sets up its own page
    pn.extension("tabulator", sizing_mode="fixed")
    resources_from_this_server()
    restyle_with_the_session_document()
    if remote_allowed() or client_is_local():
        App().servable()
    else:  # nothing of the app (catalogue, runs) is loaded for this session
        pn.pane.Markdown(REFUSED, css_classes=["vse-refused"]).servable()
