"""What the views need from a JupyterLab page that Panel does not set up: Enter in their boxes."""

from __future__ import annotations

import panel as pn
from bokeh.models import UIElement
from panel.viewable import Viewable

#: The ``onbeforeinput`` handler of each Panel output's root element in a notebook. Made with the element, it
#: runs before the handler JupyterLab adds to that element on every key press, and ends the event there.
KEEP_LINE_BREAKS = "if (event.inputType === 'insertLineBreak') event.stopImmediatePropagation()"


def _keep_line_breaks(viewable, root) -> None:
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        return  # served: no JupyterLab around the page
    if isinstance(root, UIElement) and root.html_attributes.get("onbeforeinput") != KEEP_LINE_BREAKS:
        root.html_attributes = {**root.html_attributes, "onbeforeinput": KEEP_LINE_BREAKS}


def enter_commits_in_jupyterlab() -> None:
    """Let a number typed into a view's box in JupyterLab be committed with Enter, as in the served app.

    A box commits its number on the browser's ``change`` event, which Enter raises unless the line
    break it would insert is cancelled. On every key pressed in a notebook cell, JupyterLab 4 cancels
    that line break (so that its shortcuts can take Enter), in the cell's output too: a typed number
    stayed uncommitted until the box lost focus (a Folds box showing 2 trained 5 folds). Line breaks
    typed in a Panel output are now the output's; JupyterLab works as before everywhere else. Served
    sessions are left as they are. Installed once per process, as one of Panel's preprocessing hooks.
    """
    if _keep_line_breaks not in Viewable._preprocessing_hooks:
        Viewable._preprocessing_hooks.append(_keep_line_breaks)
