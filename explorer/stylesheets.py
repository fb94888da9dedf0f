"""Stylesheets from this server, never a CDN: the served app works offline (observatories, planes).

Panel points its stylesheets at ``cdn.holoviz.org`` wherever it finds no ``dist_url`` for the page:
in a session whose document was made as the websocket connected, and for a model out of the page.
The two functions here close both gaps. They live outside the served script because Bokeh empties a
session's copy of that module when the session ends, and the second one's wrap outlives every session.
"""

from __future__ import annotations

import functools

import panel as pn
from panel.io.resources import get_dist_path
from panel.reactive import Reactive
from panel.theme import Bootstrap


def resources_from_this_server() -> None:
    """Make the session's stylesheets come from this server, however the session began.

    Panel points a component's stylesheets at the page's ``dist_url``, which it sets while rendering
    the HTML page, and at ``cdn.holoviz.org`` where a document has none. A document has none when
    Bokeh makes the session as the websocket connects: the page's own session was discarded unused
    (``--unused-session-lifetime``, 15 s by default), which happens when the browser needs longer than
    that to load the page's scripts, as on a busy machine. Offline, such a page then lost every stylesheet.
    """
    pn.state.curdoc._template_variables.setdefault("dist_url", get_dist_path())


def restyle_with_the_session_document() -> None:
    """Style a model out of the page (a hidden dynamic tab's) as one in it: with this server's stylesheets.

    Panel 1.9 restyles an updated pane with ``model.document``, which is None once its tab left the
    page; it then takes ``cdn.holoviz.org`` as the stylesheets' home and rewrites the session's shared
    stylesheet objects to point there (the loading spinner's and Markdown's, on every tab), and the
    theme's too. Offline, a tab shown again lost its styling. In a session's callback the document
    being served is ``pn.state.curdoc``; this gives Panel that one when the model has none.
    """
    if getattr(Reactive._get_properties, "falls_back_to_curdoc", False):
        return  # the app script runs once per session: wrap once per process
    panel_get_properties = Reactive._get_properties

    @functools.wraps(panel_get_properties)
    def get_properties(self, doc):
        return panel_get_properties(self, doc if doc is not None else pn.state.curdoc)

    get_properties.falls_back_to_curdoc = True
    Reactive._get_properties = get_properties


class LeanBootstrap(Bootstrap):
    """The Bootstrap design with Bootstrap's *Reboot* (10 kB) inside each component, not all of Bootstrap.

    Panel's Bootstrap design links ``bootstrap.min.css`` (220 kB) into the shadow root of every
    component made once the template exists (every tab's but the first, as views are made when their
    tab is first shown; 30 in the Results tab): Chromium then parses and matches the whole of
    Bootstrap once per component, every time a tab's components arrive in the page. What the
    explorer's components take from it is Reboot's part (headings, paragraphs, code, tables, form
    controls); the page itself keeps the full stylesheet for the template. Measured side by side in
    Chromium (2 cores): opening the Training tab 0.73 -> 0.62 s; the served pages look the same, pixel
    for pixel, but for anti-aliasing. ``_get_modifiers`` is Panel's (private) hook for this;
    tests/test_explorer_stylesheets.py fails if it stops being called.
    """

    FULL, REBOOT = "bootstrap5/css/bootstrap.min.css", "bootstrap5/css/bootstrap-reboot.min.css"

    @classmethod
    def _get_modifiers(cls, viewable, theme=None, isolated=True):
        modifiers, child_modifiers = super()._get_modifiers(viewable, theme, isolated)
        if "stylesheets" in modifiers:
            modifiers["stylesheets"] = [sheet.replace(cls.FULL, cls.REBOOT) if isinstance(sheet, str) else sheet
                                        for sheet in modifiers["stylesheets"]]
        return modifiers, child_modifiers
