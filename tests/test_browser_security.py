"""Text from a file is shown as text: an uploaded catalogue whose name and header hold HTML with
script must not run that script in the page (the explorer served by ``panel serve``, in Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

#: Valid inline HTML for Markdown (a quoted attribute), recording where it ran.
IMG = """<img src=x onerror="window.__vse_xss=(window.__vse_xss||[]).concat('{}')">"""


def test_file_text_never_runs_as_script(page: Page, served_app):
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    page.goto(served_app.url)
    expect(page.locator(".vse-summary")).to_contain_text("stars kept", timeout=60_000)

    header = IMG.format("header")
    quoted = '"' + header.replace('"', '""') + '"'  # a CSV field holding quotes
    page.locator("input[type=file]").set_input_files(
        {"name": IMG.format("name") + ".csv", "mimeType": "text/csv", "buffer": f"ID,{quoted},Per\nA,1,2\n".encode()})
    expect(page.get_by_text("required columns missing", exact=False)).to_be_visible()
    field = page.get_by_placeholder("Table2.txt", exact=False)
    field.fill(IMG.format("path"))
    page.get_by_role("button", name="Load file").click()
    expect(page.get_by_text("below the data folders", exact=False)).to_be_visible()

    assert page.evaluate("window.__vse_xss === undefined"), f"script ran from: {page.evaluate('window.__vse_xss')}"
    assert page.locator("img[src=x]").count() == 0
    expect(page.get_by_text("No catalogue file <img src=x", exact=False)).to_be_visible()  # shown as text
