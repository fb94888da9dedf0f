"""Harmonic reconstruction against hand-computed values; dm-dt modes on hand-checkable sets."""

import math

import numpy as np
import pandas as pd
import pytest

from pipeline import ConfigError, dmdt_images, reconstruct
from pipeline.representations import DM_EDGES, DT_EDGES, catalog_features, class_mean_images, dense_features


def stars(**columns):
    base = dict(id=[f"s{i}" for i in range(len(next(iter(columns.values()))))])
    base.update(columns)
    return pd.DataFrame(base)


def test_reconstruction_matches_the_formula_by_hand():
    s = stars(mag_r=[15.0], amp_r=[0.8], r21=[0.5], phi21=[math.pi / 2], r31=[0.2], phi31=[0.0])
    curve = reconstruct(s, n_points=4)
    # phases 0, 1/4, 1/2, 3/4; A1 = 0.4, A2 = 0.2: m = 15 + 0.4 cos(2 pi p) + 0.2 cos(4 pi p - pi/2)
    assert curve.dtype == np.float32 and curve.shape == (1, 4)
    np.testing.assert_allclose(curve[0], [15.4, 15.0, 14.6, 15.0], atol=1e-6)
    third = reconstruct(s, n_points=4, harmonics=3)  # + 0.08 cos(6 pi p)
    np.testing.assert_allclose(third[0], [15.48, 15.0, 14.52, 15.0], atol=1e-6)


def test_reconstruction_default_grid_and_missing_harmonics():
    s = stars(mag_I=[17.0, 17.0], amp_I=[1.0, 1.0], r21=[np.nan, 0.3], phi21=[np.nan, 1.0])
    curves = reconstruct(s)
    assert curves.shape == (2, 360)
    phase = np.arange(360) / 360
    np.testing.assert_allclose(curves[0], 17 + 0.5 * np.cos(2 * np.pi * phase), atol=1e-5)  # missing R21 -> 0
    # the catalogue convention (cos+ without a phase_convention column) adds the phase ...
    np.testing.assert_allclose(
        curves[1], 17 + 0.5 * np.cos(2 * np.pi * phase) + 0.15 * np.cos(4 * np.pi * phase + 1.0), atol=1e-5)
    # ... the thesis's printed formula subtracts it, and so does a cos- catalogue
    thesis = reconstruct(s, convention="thesis")
    np.testing.assert_allclose(
        thesis[1], 17 + 0.5 * np.cos(2 * np.pi * phase) + 0.15 * np.cos(4 * np.pi * phase - 1.0), atol=1e-5)
    np.testing.assert_array_equal(reconstruct(s.assign(phase_convention="cos-")), thesis)
    with pytest.raises(ConfigError):
        reconstruct(s, harmonics=4)
    with pytest.raises(ConfigError, match="unknown phase convention"):
        reconstruct(s, convention="sine")


def labelled(periods, amps, labels, **extra):
    return stars(period=periods, amp_g=[a[0] for a in amps], amp_r=[a[1] for a in amps],
                 label=pd.Categorical(labels, categories=sorted(set(labels))), **extra)


def test_thesis_mode_counts_pairs_within_the_class():
    s = labelled([1.0, 3.0, 1.05, 50.0], [(0.2, 0.1), (1.2, 0.4), (0.25, 0.1), (2.0, 1.0)], ["A", "A", "A", "B"])
    images = dmdt_images(s, mode="thesis")
    assert images.shape == (4, 2, 11, 22)
    # star 0 vs star 1: dt = 2 (bin [1.5, 2.5) = 6), dm_g = 1.0 (bin [1, 1.5) = 5), dm_r = 0.3 (bin [0.3, 0.5) = 3)
    # star 0 vs star 2: dt = 0.05 (bin [3/145, 4/145)? no: 0.05 in [1/25, 2/25) = 3), dm_g = 0.05 (0), dm_r = 0 (0)
    expected = np.zeros((2, 11, 22), np.float32)
    expected[0, 5, 6] += 0.5
    expected[1, 3, 6] += 0.5
    expected[0, 0, 3] += 0.5
    expected[1, 0, 3] += 0.5
    np.testing.assert_array_equal(images[0], expected)
    assert images[3].sum() == 0  # alone in its class: nothing to pair with


def test_thesis_mode_leaks_the_label():
    s = labelled([0.5, 0.52, 300.0, 310.0], [(0.3, 0.3)] * 4, ["A", "A", "B", "B"])
    relabelled = s.assign(label=pd.Categorical(["A", "B", "B", "B"], categories=["A", "B"]))
    before, after = dmdt_images(s, mode="thesis"), dmdt_images(relabelled, mode="thesis")
    assert not np.array_equal(before[1], after[1])  # same star, same numbers, new label: new image


def test_reference_mode_is_blind_to_query_labels():
    rng = np.random.default_rng(0)
    n = 60
    ref = labelled(10 ** rng.uniform(-1, 2, n), rng.uniform(0.05, 2, (n, 2)).tolist(),
                   list(rng.choice(["A", "B", "C"], n)))
    query = ref.iloc[:25].copy()
    shuffled = query.assign(label=query["label"].sample(frac=1, random_state=3).to_numpy())
    dropped = query.drop(columns="label")
    a = dmdt_images(query, mode="reference", reference=ref)
    np.testing.assert_array_equal(a, dmdt_images(shuffled, mode="reference", reference=ref))
    np.testing.assert_array_equal(a, dmdt_images(dropped, mode="reference", reference=ref))
    assert a.shape == (25, 3 * 2, 11, 22)


def test_reference_mode_matches_histogram2d_and_excludes_the_star_itself():
    rng = np.random.default_rng(1)
    n = 40
    ref = labelled(10 ** rng.uniform(-1.5, 3, n), rng.uniform(0, 3, (n, 2)).tolist(), list(rng.choice(["A", "B"], n)))
    images = dmdt_images(ref, mode="reference")
    for i in (0, 7, 33):
        for k, cls in enumerate(["A", "B"]):
            members = (ref["label"] == cls).to_numpy()
            others = members.copy()
            others[i] = False
            for b, band in enumerate(["amp_g", "amp_r"]):
                hist, _, _ = np.histogram2d(np.abs(ref[band][i] - ref[band][others]),
                                            np.abs(ref["period"][i] - ref["period"][others]),
                                            bins=[DM_EDGES, DT_EDGES])
                np.testing.assert_allclose(images[i, 2 * k + b], hist / members.sum(), rtol=1e-6)


def test_reference_mode_channel_order_follows_classes():
    ref = labelled([1.0, 2.0], [(0.1, 0.1), (0.5, 0.5)], ["A", "B"])
    query = stars(period=[1.2], amp_g=[0.1], amp_r=[0.1])
    forward = dmdt_images(query, reference=ref, classes=["A", "B"])
    backward = dmdt_images(query, reference=ref, classes=["B", "A"])
    np.testing.assert_array_equal(forward[:, :2], backward[:, 2:])
    with pytest.raises(ConfigError, match="unknown dm-dt mode"):
        dmdt_images(query, mode="lightcurves")


def test_class_means_and_features():
    images = np.arange(3 * 1 * 2 * 2, dtype=np.float32).reshape(3, 1, 2, 2)
    means = class_mean_images(images, pd.Series(["A", "B", "A"]), ["A", "B", "C"])
    assert set(means) == {"A", "B"}
    np.testing.assert_array_equal(means["A"], (images[0] + images[2]) / 2)
    s = stars(period=[10.0], amp_I=[0.5], mag_I=[16.0], mag_V=[17.0], r21=[np.nan], phi21=[1.0])
    table = catalog_features(s)
    assert table.loc[0, "log_period"] == 1.0 and table.loc[0, "colour"] == 1.0 and np.isnan(table.loc[0, "r21"])
    assert list(dense_features(s).columns) == ["log_period", "amp_I", "colour"]
