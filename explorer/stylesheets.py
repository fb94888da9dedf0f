"""Stylesheets from this server or inline, never a CDN: the explorer works offline (observatories, planes).

Panel points its stylesheets at ``cdn.holoviz.org`` wherever it finds no ``dist_url`` for the page:
in a session whose document was made as the websocket connected, for a model out of the page, and in
Jupyter for a pane updated after it was first shown. The functions here close those gaps. They live
outside the served script because Bokeh empties a session's copy of that module when the session ends,
and the wraps of Panel's ``Reactive._get_properties`` outlive every session.
"""

from __future__ import annotations

import functools

import panel as pn
from bokeh.models import ImportedStyleSheet
from panel.io.notebook import replace_inline_css
from panel.io.resources import CDN_DIST, get_dist_path
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
    _wrap_get_properties("falls_back_to_curdoc", lambda panel_get_properties, self, doc: panel_get_properties(
        self, doc if doc is not None else pn.state.curdoc))


def inline_stylesheets_in_notebooks() -> None:
    """With ``pn.extension(..., inline=True)`` in Jupyter, keep a pane's stylesheets inline when it is updated.

    Panel inlines the stylesheets of a view when it is displayed, but a pane updated later from Python
    (the dm-dt view's explanation when the mode changes, a table's title) gets them back as links to
    ``cdn.holoviz.org`` (holoviz/panel#7073): offline, the pane loses its styling and the browser logs
    a failed request for each. Here they become the inline copies Panel itself makes, new ones at each
    update: one copy kept per document and shared by later updates made BokehJS report "reference ...
    isn't known" after JupyterLab's Run All. Served sessions (and notebooks without ``inline``) are left as
    they are.
    """

    def get_properties(panel_get_properties, self, doc):
        properties = panel_get_properties(self, doc)
        if pn.config.inline and "stylesheets" in properties and doc is not None and doc.session_context is None:
            properties["stylesheets"] = [
                replace_inline_css(sheet) if isinstance(sheet, ImportedStyleSheet) and sheet.url.startswith(CDN_DIST)
                else sheet for sheet in properties["stylesheets"]]
        return properties

    _wrap_get_properties("inlined_in_notebooks", get_properties)


def _wrap_get_properties(mark: str, wrapper) -> None:
    """Wrap Panel's ``Reactive._get_properties`` in ``wrapper(panel_get_properties, self, doc)``, once per process
    (``mark`` names the wrap: the served script runs once per session)."""
    current = Reactive._get_properties
    if getattr(current, mark, False):  # functools.wraps copies the marks of the wraps below
        return

    @functools.wraps(current)
    def get_properties(self, doc):
        return wrapper(current, self, doc)

    setattr(get_properties, mark, True)
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
