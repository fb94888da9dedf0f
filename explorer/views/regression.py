"""A regression run (seed 003, ``pipeline.regression``) in the Results tab: its scores per fold, predicted
against true with the 1:1 line, residuals against period and magnitude, and the worst-predicted stars,
each linked to its catalogue light curve (the regression counterpart of Misclassifications)."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from pipeline import regression
from pipeline.runs import Run

from .common import safe

WORST = 20
PLOT = {"width": 380, "height": 320, "tools": ["hover"], "show_grid": True}


def describe(run: Run) -> str:
    config = run.config
    relation = config.get("relation") or {}
    target = f"{config.get('target')}" + (f" = {relation['formula']} ({relation['reference']})" if relation else "")
    inputs = config.get("inputs") or {}
    simulated = " Inputs: **simulated** light curves." if inputs.get("simulated") else ""
    return safe(f"Regression of **{target}** with **{config['model']}** on {config.get('catalog', '?')}, "
                f"{config.get('n_stars', '?')} stars, {len(run.folds)} folds done.{simulated}")


def predicted_vs_true(table: pd.DataFrame, target: str) -> hv.Overlay:
    low, high = float(min(table["true"].min(), table["pred"].min())), float(max(table["true"].max(), table["pred"].max()))
    points = hv.Points(table, ["true", "pred"], ["id", "fold"]).opts(size=3, alpha=0.4, color="#1f77b4", **PLOT)
    identity = hv.Curve([(low, low), (high, high)]).opts(color="black", line_dash="dashed")
    return (points * identity).opts(title="predicted vs true (dashed: 1:1)", xlabel=f"true {target}",
                                    ylabel=f"predicted {target}")


def residuals_against(table: pd.DataFrame, column: str, label: str, logx: bool = False) -> hv.Overlay:
    points = hv.Points(table.dropna(subset=[column]), [column, "residual"], ["id"]).opts(
        size=3, alpha=0.4, color="#ff7f0e", logx=logx, **PLOT)
    return (points * hv.HLine(0).opts(color="black", line_dash="dashed")).opts(
        title=f"residual against {label}", xlabel=label, ylabel="residual (predicted - true)")


def star_curve(run: Run, star_id: str) -> pn.pane.HoloViews | pn.pane.Markdown:
    """The picked star's catalogue light curve (3-harmonic reconstruction, from maximum light, brighter up)."""
    stars = regression.read_stars(run)
    row = stars[stars["id"].astype(str) == str(star_id)]
    if row.empty:
        return pn.pane.Markdown(safe(f"Star {star_id} is not in the run's stars."))
    curve = regression.reconstructed_curves(row)[0]
    phase = np.linspace(0, 1, len(curve), endpoint=False)
    # Own dimension names: a curve's "mag_I" would share its range with the residual plot's x axis.
    return pn.pane.HoloViews(hv.Curve((phase, curve), "phase", hv.Dimension("star_mag", label="I (mag)")).opts(
        invert_yaxis=True, width=420, height=300, title=f"{star_id} (I, brighter up)"), linked_axes=False)


def regression_report(run: Run) -> pn.Column:
    """Everything the Results tab shows for a regression run."""
    parts = [pn.pane.Markdown(f"## {safe(run.run_id)}\n{describe(run)}", sizing_mode="stretch_width")]
    if not run.folds:
        return pn.Column(*parts, pn.pane.Markdown("No fold finished: nothing to score."), sizing_mode="stretch_width")
    scores = regression.summarise(run)
    folds = pd.DataFrame(scores["folds"]).set_index("fold")
    pooled = pd.DataFrame([scores["pooled"]], index=pd.Index(["pooled out-of-fold"], name="scores"))
    if "n" in pooled:
        pooled["n"] = pooled["n"].astype(int)
    table = regression.prediction_table(run)
    target = str(run.config.get("target", "target"))
    plots = [predicted_vs_true(table, target)]
    if "period" in table:
        plots.append(residuals_against(table, "period", "period (d)", logx=True))
    magnitude = next((c for c in table.columns if c.startswith("mag_")), None)
    if magnitude is not None:
        plots.append(residuals_against(table, magnitude, magnitude))
    worst = regression.worst_predicted(run, WORST)
    shown = [c for c in ("id", "true", "pred", "residual", "sigma", "period", magnitude, "region") if c and c in worst]
    picker = pn.widgets.Tabulator(worst[shown], show_index=False, disabled=True, selectable=1, height=320,
                                  layout="fit_data_table", css_classes=["vse-worst"])
    picker.selection = [0]
    curve = pn.bind(lambda selection: star_curve(run, worst["id"].iloc[selection[0]]) if selection
                    else pn.pane.Markdown("Pick a star in the table."), picker.param.selection)
    parts += [
        pn.Row(pn.Column("### Per fold (mean and std rows)", pn.pane.DataFrame(folds, float_format="{:.3f}".format)),
               pn.Column("### Pooled", pn.pane.DataFrame(pooled, float_format="{:.3f}".format))),
        pn.Row(*[pn.pane.HoloViews(p) for p in plots]),
        f"### The {WORST} worst-predicted stars (pick one to see its light curve)",
        pn.Row(picker, pn.panel(curve)),
    ]
    return pn.Column(*parts, sizing_mode="stretch_width")
