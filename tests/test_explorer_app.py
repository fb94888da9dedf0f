"""The app in a served session: a click on a tab, and Bokeh models changed from another thread."""

from __future__ import annotations

import asyncio
import inspect
import weakref
from concurrent.futures import ThreadPoolExecutor

import panel as pn
from bokeh.document import Document
from bokeh.models import ColumnDataSource
from bokeh.server.callbacks import NextTickCallback, TimeoutCallback
from bokeh.server.contexts import BokehSessionContext
from bokeh.server.session import ServerSession
from bokeh.util.token import generate_jwt_token, generate_session_id
from panel.io.state import set_curdoc
from tornado.ioloop import IOLoop

from explorer.app import Tabs
from explorer.views.common import on_its_loop


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


def test_a_change_from_another_thread_waits_for_the_sessions_loop_and_a_gone_session_is_left_alone():
    """What the training view does with each epoch a worker reports, and a matrix with a cell forgotten on
    the training thread: on a Bokeh server session of its own (a real one, on a tornado loop)."""

    def served_session():
        loop = IOLoop(make_current=False)
        doc, source = Document(), ColumnDataSource({"x": [0]})
        doc.add_root(source)
        session_id = generate_session_id()
        session = ServerSession(session_id, doc, io_loop=loop, token=generate_jwt_token(session_id))
        context = BokehSessionContext(session_id, None, doc)
        context._set_session(session)
        doc._session_context = weakref.ref(context)
        ran = []
        on_its_loop(doc, lambda: ran.append(source.data["x"]))
        waited = list(ran)  # nothing yet: the change is the loop's next tick
        loop.run_sync(lambda: asyncio.sleep(0.05))
        ticked = list(ran)
        session.destroy()
        gone = source.document  # Bokeh detaches a destroyed session's models
        on_its_loop(gone, lambda: source.data.update(x=[1]))
        loop.close()
        return waited, ticked, gone, source.data["x"]

    with ThreadPoolExecutor(1) as loop_thread:  # a thread of its own: the browser tests leave a loop in this one
        waited, ticked, gone, last = loop_thread.submit(served_session).result()
    assert waited == [] and ticked == [[0]]
    assert gone is None and last == [1]  # at once, on a model nobody sees any more

    ran = []
    on_its_loop(Document(), lambda: ran.append("now"))  # no server: a notebook, a test
    assert ran == ["now"]
