"""What every view shares: the state it reads, whether it is on screen, and the session's alerts."""

from __future__ import annotations

import html

import panel as pn
import param
from bokeh.plotting import figure
from panel.viewable import Viewer
from param.parameterized import Skip

from explorer.state import ExplorerState


def safe(text: object) -> str:
    """Text from a file or a run (column names, cell values, star and run ids, error messages that
    quote them), made safe for a Markdown or Alert pane: those render HTML, so a catalogue header
    holding ``<img onerror=...>`` would run script in the page. Markdown emphasis still works."""
    return html.escape(str(text), quote=False)


def plain_figure(**options):
    """A Bokeh figure as the explorer draws them: ``figure(**options)`` without the Bokeh logo in its toolbar."""
    plot = figure(**options)
    plot.toolbar.logo = None
    return plot


def on_its_loop(document, change) -> None:
    """``change()``, a change to Bokeh models of ``document``, where that is safe: on the served
    session's event loop, which Bokeh's ``add_next_tick_callback`` reaches from any thread (a worker's
    report, the training thread picking its new run); at once where there is no session: a notebook, a
    test, a model out of the page, or one of a session that is gone (Bokeh detaches those: nobody
    sees the change); not at all while a session is being destroyed."""
    if document is None or document.session_context is None:
        change()
    elif not document.session_context.destroyed:
        document.add_next_tick_callback(change)


#: A table in a box of fixed height: it scrolls under a header that stays; counts right-aligned, the
#: last column (a rule, a reason) wrapped.
TABLE_CSS = """
:host { overflow: auto; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e5e7eb; text-align: left; white-space: nowrap; }
td:last-child { white-space: normal; }
thead th { position: sticky; top: 0; background: #f8f9fa; z-index: 1; }
tbody th { vertical-align: top; background: white; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
"""


def scrolling_table(height: int, **params) -> pn.pane.HTML:
    """An HTML pane for a table (:data:`TABLE_CSS`), not a Tabulator: the browser builds and lays out a
    tab's components each time the tab comes back into the page, and a Tabulator's measuring of its
    cells took 0.1-0.15 s of each such switch (the cleaning report), 0.05-0.09 s of Results' first paint
    (the run list). Whoever fills it escapes the text in it."""
    return pn.pane.HTML("", height=height, sizing_mode="stretch_width", stylesheets=[TABLE_CSS], **params)


class View(Viewer):
    """Base of the views: one shared state, and whether the app shows the view right now."""

    state = param.ClassSelector(class_=ExplorerState)
    shown = param.Boolean(default=True, doc="""
        False while the view sits in a hidden tab, so costly views wait until they are shown.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._drawn: dict[str, tuple] = {}  # each costly part's inputs when last drawn
        self._reshown: set[str] = set()  # parts whose next draw follows the view being shown again
        self.param.watch(self._hidden, "shown")

    def _hidden(self, event):
        if not event.new:
            self._reshown = set(self._drawn)

    def skip_unless_due(self, part: str, *inputs) -> tuple:
        """Raise param's ``Skip`` (Panel then keeps what ``part`` shows) while the view is hidden, and when
        it is shown again with the inputs ``part`` last drew: a hidden tab computes nothing, and switching
        back to a tab redraws only what changed meanwhile. Inputs compare by identity, or value if plain.
        Returns the inputs, for :meth:`drawn` once the part is drawn (a draw cancelled midway is not)."""
        if not self.shown:
            raise Skip
        if part in self._reshown:
            self._reshown.discard(part)
            last = self._drawn.get(part, ())
            if len(last) == len(inputs) and all(
                    a is b or (isinstance(a, (str, int, float, bool)) and a == b) for a, b in zip(last, inputs)):
                raise Skip
        return inputs

    def drawn(self, part: str, inputs: tuple, content):
        """``content``, now what ``part`` shows for ``inputs``."""
        self._drawn[part] = inputs
        return content


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
