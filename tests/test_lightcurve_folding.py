"""Folding, seed 002's cleaning and its 512-point phase curves."""

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.lightcurves import LightCurves, clean_seed002, fold, interpolate_phase, phase_curves


def test_fold_phases():
    np.testing.assert_allclose(fold([0.0, 1.0, 2.5, -0.5], 2.0), [0.0, 0.5, 0.25, 0.75])
    np.testing.assert_allclose(fold([1.0], 2.0, t0=1.0), [0.0])
    with pytest.raises(ConfigError, match="cannot fold at period 0"):
        fold([1.0], 0.0)


def frame(n, mag=15.0, err=0.02, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": "a", "time": np.sort(rng.uniform(0, 100, n)), "mag": mag + rng.normal(0, 0.02, n),
                         "err": err, "band": "I"})


def test_seed002_cleaning_order_error_cut_then_50_points_then_3_sigma():
    stars = frame(60)
    stars.loc[:9, "err"] = 99.99  # sentinel errors: gone first, leaving exactly 50
    stars.loc[20, "mag"] = 18.0  # a single-point outlier
    kept = clean_seed002(stars)
    assert len(kept) == 49 and 20 not in kept.index and (kept["err"] < 99).all()
    assert clean_seed002(stars.drop(index=30)) is None  # 49 after the error cut: too few


def test_interpolation_matches_a_sinusoid_and_wraps():
    phase = np.random.default_rng(1).uniform(0, 1, 400)
    curve = interpolate_phase(phase, np.cos(2 * np.pi * phase), 512)
    grid = np.arange(512) / 512
    assert curve.shape == (512,) and np.max(np.abs(curve - np.cos(2 * np.pi * grid))) < 0.01
    # two points only: the wrap joins them linearly across phase 1 -> 0
    np.testing.assert_allclose(interpolate_phase([0.25, 0.75], [1.0, 3.0], 4), [2.0, 1.0, 2.0, 3.0])
    # duplicate phases are averaged
    np.testing.assert_allclose(interpolate_phase([0.0, 0.0, 0.5], [1.0, 3.0, 4.0], 2), [2.0, 4.0])


def test_phase_curves_pick_the_fuller_band_and_count_the_rest():
    period = 0.61
    t = np.sort(np.random.default_rng(2).uniform(0, 300, 200))
    rows = [pd.DataFrame({"id": "a", "time": t, "mag": 15 + 0.3 * np.cos(2 * np.pi * t / period), "err": 0.01,
                          "band": "I"}),
            pd.DataFrame({"id": "a", "time": t[:60], "mag": 16.0, "err": 0.01, "band": "V"}),
            pd.DataFrame({"id": "b", "time": t[:30], "mag": 14.0, "err": 0.01, "band": "I"}),
            pd.DataFrame({"id": "c", "time": t, "mag": 14.0, "err": 0.01, "band": "I"})]
    lcs = LightCurves(pd.concat(rows), "HJD", "t", simulated=True)
    out = phase_curves(lcs, {"a": period, "b": 1.0})
    assert out.ids == ["a"] and out.bands == ["I"] and out.curves.shape == (1, 512) and out.simulated
    assert out.report == {"no_period": 1, "too_few_points": 1, "stars": 1}
    assert np.argmin(out.curves[0]) == 0  # aligned: maximum light (smallest magnitude) at phase 0
    assert out.curves[0].min() == pytest.approx(14.7, abs=0.01) and out.curves[0].max() == pytest.approx(15.3, abs=0.01)
    assert phase_curves(lcs, {"a": period}, band="V").bands == ["V"]
