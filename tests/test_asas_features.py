"""Light-curve features (light-curve package) on generated and real ASAS curves, and the tree baseline on them."""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from pipeline import labels
from pipeline.baseline import tree_baseline
from pipeline.crossval import make_folds
from pipeline.errors import ConfigError
from pipeline.lightcurves import LightCurves, feature_names, lightcurve_features
from pipeline.lightcurves.asas import load_asas


def nightly(star, period, amp, n=300, seed=0, offset=0.0):
    """A sinusoid seen on ``n`` random nights of ~3 years (ASAS-like), within +-5 h of midnight, 0.03 mag noise."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.choice(1100, n, replace=False) + rng.uniform(-0.2, 0.2, n)) + 52000.0
    mag = 11.0 + offset + amp * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.03, n)
    return pd.DataFrame({"id": star, "time": t, "mag": mag, "err": 0.03, "band": "V"})


def test_the_periodogram_reaches_short_periods_under_nightly_sampling():
    """light-curve's default grid stops near 0.5 c/d for one visit a night; ours must find 0.3 d and 0.08 d."""
    lcs = LightCurves(pd.concat([nightly("rr", 0.3, 0.4), nightly("dsct", 0.08, 0.1, seed=1)]), "HJD", "test")
    feats = lightcurve_features(lcs).set_index("id")
    assert list(feats.columns) == ["band", *feature_names()]
    found = 10 ** feats["log10_periodogram_period_0"]
    np.testing.assert_allclose(found[["rr", "dsct"]], [0.3, 0.08], rtol=1e-3)
    assert feats.loc["rr", "amplitude"] == pytest.approx(0.4, abs=0.05)  # half the peak-to-peak range


def test_repeated_times_and_bad_errors_are_dropped_and_counted():
    frame = nightly("s", 2.0, 0.3, n=60)
    frame = pd.concat([frame, frame.iloc[:3]]).sort_values("time")  # three epochs twice
    frame.iloc[10, frame.columns.get_loc("err")] = 0.0
    feats = lightcurve_features(LightCurves(frame, "HJD", "test"))
    assert feats.attrs["dropped_epochs"] == 4 and np.isfinite(feats[feature_names()].to_numpy()).all()


def test_too_few_epochs_names_the_star_and_band():
    lcs = LightCurves(nightly("short", 1.0, 0.3, n=12), "HJD", "test")
    with pytest.raises(ConfigError, match=r"star 'short' band 'V' has 12 usable epochs; expected at least 20"):
        lightcurve_features(lcs)


def test_too_few_epochs_can_be_skipped_and_counted():
    """A survey's faint star leaves a gap, counted, instead of failing the other stars with it."""
    frame = pd.concat([nightly("short", 1.0, 0.3, n=12), nightly("long", 1.0, 0.3, n=40)])
    feats = lightcurve_features(LightCurves(frame, "HJD", "test"), skip_short=True)
    assert list(feats["id"]) == ["long"] and feats.attrs["too_few_points"] == 1


def test_the_tree_baseline_takes_a_features_frame_in_star_order():
    rng = np.random.default_rng(0)
    names = np.repeat(["A", "B"], 30)
    stars = pd.DataFrame({"id": [f"s{i}" for i in range(60)]})
    features = pd.DataFrame({"log10_period": np.where(names == "A", -0.5, 1.0) + rng.normal(0, 0.1, 60),
                             "noise": rng.normal(size=60)})
    folds = make_folds(names, 3, seed=0)
    with threadpool_limits(1):
        result = tree_baseline(stars, names, ["A", "B"], folds, features=features)
    assert result.columns == ["log10_period", "noise"]
    assert min(s.accuracy for s in result.summaries) == 1.0
    with pytest.raises(ConfigError, match="got 59 feature rows for 60 stars"):
        tree_baseline(stars, names, ["A", "B"], folds, features=features.iloc[1:])


def test_features_are_finite_on_real_asas_curves():
    """Two stars of each asas-8 class (the longest and the shortest curve), real ASAS-3 epochs."""
    lcs, raw = load_asas()
    raw = raw.assign(label=labels.apply(raw["raw_label"], "asas-8")).dropna(subset=["label"])
    epochs = lcs.data.groupby("id").size()
    picked = []
    for _, part in raw.groupby("label", observed=True):
        n = epochs[part["id"]]
        picked += [n.idxmin(), n.idxmax()]
    feats = lightcurve_features(lcs.subset(picked))
    assert sorted(feats["id"]) == sorted(picked) and (feats["band"] == "V").all()
    values = feats[feature_names()].to_numpy()
    assert np.isfinite(values).all(), feats.columns[2:][~np.isfinite(values).all(axis=0)].tolist()
    periods = 10 ** feats.set_index("id")["log10_periodogram_period_0"]
    assert periods.between(0.04, 5000).all()
