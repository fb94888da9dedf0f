"""A served page's stylesheets come from its own server, also for a pane updated while its tab is out of
the page (dynamic tabs), and a notebook's stay inline: the browser side of this is in test_browser.py and
test_browser_jupyter.py."""

from __future__ import annotations

import inspect

import panel as pn
import pytest
from bokeh.document import Document
from panel.io.resources import CDN_DIST, get_dist_path
from panel.io.state import set_curdoc
from panel.reactive import Reactive
from panel.theme import Bootstrap
from pyviz_comms import Comm

from explorer.stylesheets import LeanBootstrap, restyle_with_the_session_document


@pytest.fixture
def restyled(monkeypatch):
    """The served app's fix installed for this test only (Panel's own method comes back afterwards)."""
    monkeypatch.setattr(Reactive, "_get_properties", Reactive._get_properties)
    restyle_with_the_session_document()
    restyle_with_the_session_document()  # once per session in the app: wraps once
    return Reactive._get_properties


def stylesheet_urls(model) -> list[str]:
    return [str(sheet.url) for sheet in model.stylesheets if hasattr(sheet, "url")]


def test_a_pane_updated_out_of_the_page_keeps_this_servers_stylesheets(restyled):
    doc = Document()
    doc._template_variables["dist_url"] = get_dist_path()  # what the served app gives each session
    summary, other = pn.pane.Markdown("first"), pn.pane.Markdown("another tab")
    tabs = pn.Tabs(("Summary", summary), ("Other", other), dynamic=True)
    with set_curdoc(doc):  # as in a session's callback
        root = tabs.get_root(doc)
        doc.add_root(root)
        model = summary._models[root.ref["id"]][0]
        shown = stylesheet_urls(model)
        tabs.active = 1
        assert model.document is None  # out of the page
        summary.object = "updated out of the page"
        tabs.active = 0
        assert summary._models[root.ref["id"]][0] is model
    assert "updated out of the page" in model.text
    assert shown and not [url for url in shown if url.startswith(CDN_DIST)], shown
    # Before the fix: loading.css, markdown.css and the theme's stylesheets at cdn.holoviz.org
    assert stylesheet_urls(model) == shown
    assert stylesheet_urls(other._models[root.ref["id"]][0])[0] == shown[0]  # the shared spinner sheet too
    assert not hasattr(restyled.__wrapped__, "falls_back_to_curdoc"), "wrapped twice"


def test_the_apps_design_links_bootstraps_reboot_into_components_not_all_of_bootstrap():
    def linked(design) -> list[str]:
        """The stylesheets of a Markdown pane made once the served template exists, as the app makes each
        tab's view the first time the tab is shown (the template styles the page's first components)."""
        doc, later = Document(), pn.Column()
        with set_curdoc(doc):
            pn.template.BootstrapTemplate(main=[later], design=design).server_doc(doc)
            pane = pn.pane.Markdown("## a heading")
            later.objects = [pane]
        return [url for model, _ in pane._models.values() for url in stylesheet_urls(model)]

    full, lean = linked(Bootstrap), linked(LeanBootstrap)
    assert any(LeanBootstrap.FULL in url for url in full)  # Panel's design: all of Bootstrap in each component
    assert any(LeanBootstrap.REBOOT in url for url in lean) and not any(LeanBootstrap.FULL in url for url in lean)
    assert len(full) == len(lean)  # nothing else dropped


@pytest.mark.parametrize("explorer_fix", [True, False])
def test_in_jupyter_with_inline_resources_an_updated_pane_keeps_its_stylesheets_inline(explorer_fix, monkeypatch):
    """``pn.extension(inline=True)`` in a notebook: Panel inlines a pane's stylesheets when it is displayed and,
    on its own, links them to its CDN again when the pane is updated from Python (holoviz/panel#7073; offline,
    the pane loses its style). With the explorer's views imported they stay inline. The case without the fix
    shows Panel's behaviour: once it fails, Panel has fixed it and the wrap can go."""
    import explorer.views  # noqa: F401  installs the wrap, as a notebook importing a view does

    if not explorer_fix:
        monkeypatch.setattr(Reactive, "_get_properties", inspect.unwrap(Reactive._get_properties))
    pane, doc = pn.pane.Markdown("first"), Document()
    with pn.config.set(inline=True):
        root = pane.get_root(doc, comm=Comm())  # shown as in Jupyter: through a comm, in no server session
        doc.add_root(root)
        pane.object = "second"
    assert "second" in root.text
    from_cdn = [url for url in stylesheet_urls(root) if url.startswith(CDN_DIST)]
    assert bool(from_cdn) != explorer_fix, from_cdn
