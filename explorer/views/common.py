"""What every view shares: the state it reads, whether it is on screen, and the session's alerts."""

from __future__ import annotations

import html

import panel as pn
import param
from panel.viewable import Viewer

from explorer.state import ExplorerState


def safe(text: object) -> str:
    """Text from a file or a run (column names, cell values, star and run ids, error messages that
    quote them), made safe for a Markdown or Alert pane: those render HTML, so a catalogue header
    holding ``<img onerror=...>`` would run script in the page. Markdown emphasis still works."""
    return html.escape(str(text), quote=False)


class View(Viewer):
    """Base of the views: one shared state, and whether the app shows the view right now."""

    state = param.ClassSelector(class_=ExplorerState)
    shown = param.Boolean(default=True, doc="""
        False while the view sits in a hidden tab, so costly views wait until they are shown.""")


class Alerts(Viewer):
    """The state's error, warning and last message, shown above every view."""

    state = param.ClassSelector(class_=ExplorerState)

    def __init__(self, **params):
        super().__init__(**params)
        self._error = pn.pane.Alert(alert_type="danger", visible=False, sizing_mode="stretch_width", margin=(5, 10))
        self._warning = pn.pane.Alert(alert_type="warning", visible=False, sizing_mode="stretch_width", margin=(5, 10))
        self._message = pn.pane.Alert(alert_type="info", visible=False, sizing_mode="stretch_width", margin=(5, 10))
        self._layout = pn.Column(self._error, self._warning, self._message, sizing_mode="stretch_width")
        self._refresh()

    @param.depends("state.error", "state.warning", "state.message", watch=True)
    def _refresh(self):
        for pane, text in ((self._error, self.state.error), (self._warning, self.state.warning),
                           (self._message, self.state.message)):
            pane.param.update(object=safe(text), visible=bool(text))

    def __panel__(self):
        return self._layout
