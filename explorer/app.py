"""Variable Star Explorer: ``panel serve explorer/app.py`` (or ``make serve``).

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

from explorer.state import ExplorerState  # noqa: E402
from explorer.views import (  # noqa: E402
    Alerts, DataView, DmdtView, LightCurveView, MisclassificationsView, ObservationsView, ResultsView,
    TrainingView,
)

#: The app's tabs in order: a new view over the same state is one more entry here.
TABS = (("Data & filters", DataView), ("Light curves", LightCurveView), ("dm-dt", DmdtView),
        ("Observations", ObservationsView), ("Training", TrainingView), ("Results", ResultsView),
        ("Misclassifications", MisclassificationsView))


class App(Viewer):
    """All views over one session's state, as tabs; a template when served."""

    state = param.ClassSelector(class_=ExplorerState)
    source = param.String(default="ogle3", doc="Catalogue opened when the state has none yet.")

    def __init__(self, **params):
        params.setdefault("state", ExplorerState())
        params.setdefault("source", os.environ.get("VSE_CATALOG") or "ogle3")
        super().__init__(**params)
        self.views = [view(state=self.state) for _, view in TABS]
        self.tabs = pn.Tabs(*[(title, view) for (title, _), view in zip(TABS, self.views)], dynamic=True,
                            sizing_mode="stretch_width")
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
        for i, view in enumerate(self.views):
            view.shown = i == self.tabs.active

    def servable(self, title: str | None = None, **kwargs):
        """In a server session, the template holding the app; in Jupyter, the plain layout.

        (``pn.state.served`` would not do: it asks whether the *calling* module is the served script.)
        """
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            # Bootstrap: its resources are bundled with Panel, so the app loads with no internet access
            template = pn.template.BootstrapTemplate(
                title=title or "Variable Star Explorer", main=[self._layout], header_background="#1f4e79",
                collapsed_sidebar=True,
            )
            return template.servable(**kwargs)
        return self

    def __panel__(self):
        return self._layout


if SERVED_AS_SCRIPT:  # not on import: a notebook or another served script sets up its own page
    pn.extension("tabulator", sizing_mode="fixed")
    App().servable()
