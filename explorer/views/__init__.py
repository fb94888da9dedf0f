"""The explorer's views: each a ``pn.viewable.Viewer`` over one shared :class:`ExplorerState`."""

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers the Bokeh plot options the views set

hv.Store.set_current_backend("bokeh")  # without a notebook's hv.extension(), opts would target matplotlib

from explorer.jupyter import enter_commits_in_jupyterlab  # noqa: E402
from explorer.stylesheets import inline_stylesheets_in_notebooks  # noqa: E402

inline_stylesheets_in_notebooks()  # offline Jupyter: pn.extension(..., inline=True) then holds for every update
enter_commits_in_jupyterlab()  # Enter commits a typed number there too

from .common import Alerts, View, safe  # noqa: E402
from .data import DataView  # noqa: E402
from .dmdt import DmdtView  # noqa: E402
from .lightcurves import LightCurveView  # noqa: E402
from .misclassifications import MisclassificationsView  # noqa: E402
from .observations import ObservationsView  # noqa: E402
from .results import ResultsView  # noqa: E402
from .training import TrainingView  # noqa: E402

__all__ = ["Alerts", "DataView", "DmdtView", "LightCurveView", "MisclassificationsView", "ObservationsView",
           "ResultsView", "TrainingView", "View", "safe"]
