"""The app's tabs, as a served session handles a click on one."""

from __future__ import annotations

import asyncio
import inspect
import weakref
from concurrent.futures import ThreadPoolExecutor

import panel as pn
from bokeh.document import Document
from bokeh.server.callbacks import NextTickCallback, TimeoutCallback
from bokeh.server.contexts import BokehSessionContext
from panel.io.state import set_curdoc

from explorer.app import Tabs


def clicked(tabs: pn.Tabs) -> list:
    """The callbacks a served session schedules when the page reports a click on the second tab."""
    doc = Document()
    context = BokehSessionContext("a session", None, doc)
    doc._session_context = weakref.ref(context)  # what Bokeh's server gives each session's document
    with set_curdoc(doc):
        root = tabs.get_root(doc)
        doc.add_root(root)
    tabs._server_change(doc, root.ref["id"], None, "active", 0, 1)  # Bokeh's call for a change from the page
    return list(doc.session_callbacks)


def test_a_tab_click_is_handled_on_the_next_tick_not_after_panels_debounce():
    tabs = Tabs(("a", pn.pane.Markdown("a")), ("b", pn.pane.Markdown("b")), dynamic=True)
    callbacks = clicked(tabs)
    assert [type(cb) for cb in callbacks] == [NextTickCallback]
    handled = callbacks[0].callback()
    if inspect.isawaitable(handled):  # on a loop of its own: the browser tests leave one running in this thread
        with ThreadPoolExecutor(1) as loop_thread:
            loop_thread.submit(asyncio.run, handled).result()
    assert tabs.active == 1
    # Panel's own tabs wait for its debounce (50 ms); the day they do not, the subclass can go
    assert [type(cb) for cb in clicked(pn.Tabs(("a", "a"), ("b", "b"), dynamic=True))] == [TimeoutCallback]
