"""Offline on a slow machine: a page whose websocket connects after its session was discarded.

Bokeh discards a session nobody has connected to after ``--unused-session-lifetime`` (15 s by
default) and makes a new one when the websocket finally connects. On a busy machine the full
OGLE-III page took longer than that to load its scripts, and the new session's stylesheets (the
loading overlay's ``loading.css``, the Markdown panes' ``markdown.css``, the theme) pointed at
``cdn.holoviz.org``. Here the lifetime is half a second and the browser is held back until the
server has discarded the page's session, so the same thing happens in a few seconds.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import serve_app, stop_process

pytestmark = pytest.mark.browser

DISCARDED = "Discarding session"
#: Bound on waiting for the server to discard the page's session (it checks every 250 ms here).
DISCARD_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def impatient_app(ztf_catalog_file, cache_dir, tmp_path_factory):
    """The explorer with unused sessions discarded after 0.5 s; its debug log says when one is."""
    served = serve_app(ztf_catalog_file, tmp_path_factory.mktemp("impatient") / "panel.log", cache_dir,
                       serve_args=("--unused-session-lifetime", "500", "--check-unused-sessions", "250",
                                   "--log-level", "debug"))
    yield served
    stop_process(served.process)


def test_a_session_made_when_the_websocket_connects_loads_nothing_from_a_cdn(offline_page: Page, impatient_app):
    page = offline_page
    held = []

    def hold_panel_script(route):
        """Panel's script waits until the page's session is gone, so the websocket meets a new one."""
        discarded = impatient_app.log().count(DISCARDED)
        deadline = time.monotonic() + DISCARD_TIMEOUT_S
        while impatient_app.log().count(DISCARDED) <= discarded and time.monotonic() < deadline:
            time.sleep(0.05)  # poll interval while the server's cleanup runs
        held.append(impatient_app.log().count(DISCARDED) > discarded)
        route.fallback()  # on to the offline fixture's route, which lets local requests through

    page.route("**/panel.min.js*", hold_panel_script)
    page.goto(impatient_app.url)
    # The new session loads the catalogue under the loading overlay, then shows the Markdown summary
    expect(page.locator(".vse-summary")).to_contain_text("stars kept", timeout=60_000)
    expect(page.locator(".vse-report").get_by_text("min_detections")).to_be_visible()
    assert held == [True], "the page's session was not discarded before its websocket connected"
    assert "Traceback" not in impatient_app.log()
    # the offline fixture fails the test on any request off the local server (cdn.holoviz.org before the fix)
