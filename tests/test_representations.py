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
                # i is not its own partner: divided by the others of the class
                np.testing.assert_allclose(images[i, 2 * k + b], hist / others.sum(), rtol=1e-6)


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


def pair_loop(stars, mode, reference=None, classes=None, dt_edges=DT_EDGES):
    """The pair loop written out, to check the counting against: every (star, partner) pair of a
    channel binned by ``np.histogram2d`` on the float64 ``|differences|``; a pair exists in a band when
    both stars have a finite period and amplitude there; each channel divided by its number of pairs."""
    amp_cols = ["amp_g", "amp_r"]
    if mode == "thesis":
        groups = [[np.flatnonzero((stars["label"] == stars["label"].iloc[i]).to_numpy()
                                  & (np.arange(len(stars)) != i))] for i in range(len(stars))]
        pool = stars
    else:
        pool = stars if reference is None else reference
        classes = classes or list(pool["label"].cat.categories)
        groups = [[np.flatnonzero(((pool["label"] == c) & (pool["id"] != stars["id"].iloc[i])).to_numpy())
                   for c in classes] for i in range(len(stars))]
    out = np.zeros((len(stars), len(groups[0]) * 2, len(DM_EDGES) - 1, len(dt_edges) - 1))
    for i, star_groups in enumerate(groups):
        star = stars.iloc[i]
        for k, partners in enumerate(star_groups):
            others = pool.iloc[partners]
            for b, band in enumerate(amp_cols):
                valid = (np.isfinite(others["period"]) & np.isfinite(others[band])).to_numpy()
                if not (np.isfinite(star["period"]) and np.isfinite(star[band])):
                    continue
                hist, _, _ = np.histogram2d(np.abs(star[band] - others[band].to_numpy()[valid]),
                                            np.abs(star["period"] - others["period"].to_numpy()[valid]),
                                            bins=[DM_EDGES, dt_edges])
                out[i, 2 * k + b] = hist / max(valid.sum(), 1)
    return out


def edge_case_stars(n, seed, nan=False):
    """Stars whose period and amplitude differences fall on bin edges, tie, or repeat exactly."""
    rng = np.random.default_rng(seed)
    on_dt_edge = rng.choice([0.5, 1.0, 3.0, 100.0], n) + rng.choice(np.r_[0.0, DT_EDGES[:14], 4000.0], n)
    period = np.where(rng.random(n) < 0.6, on_dt_edge, 10 ** rng.uniform(-1, 3.5, n))
    amp = rng.choice([0.0, 0.25, 0.5, 1.0], (n, 2)) + rng.choice(np.r_[DM_EDGES, 0.07, 0.33], (n, 2))
    amp[: n // 10] = amp[n // 10: 2 * (n // 10)]  # exact twins in both bands
    period[: n // 20] = period[n // 20: 2 * (n // 20)]
    if nan:
        amp[rng.random((n, 2)) < 0.1] = np.nan
        period[rng.choice(n, 3, replace=False)] = np.nan
    return labelled(period, amp.tolist(), list(rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])))


@pytest.mark.parametrize("nan", [False, True], ids=["finite", "with-nan"])
def test_counts_equal_the_pair_loop_on_ties_and_bin_edges(nan):
    s = edge_case_stars(300, seed=11, nan=nan)
    np.testing.assert_array_equal(dmdt_images(s, mode="thesis"), pair_loop(s, "thesis").astype(np.float32))
    # reference mode: 150 training stars (in the reference, one listed twice) and 150 others
    reference = pd.concat([s.iloc[:150], s.iloc[[3]]])
    np.testing.assert_array_equal(dmdt_images(s, mode="reference", reference=reference),
                                  pair_loop(s, "reference", reference).astype(np.float32))
    # a first dt edge at 0 puts the pair of a star with itself (dt = dm = 0) in a bin: still never counted
    zero_first = np.r_[0.0, DT_EDGES]
    np.testing.assert_array_equal(dmdt_images(s, mode="thesis", dt_edges=zero_first),
                                  pair_loop(s, "thesis", dt_edges=zero_first).astype(np.float32))
    np.testing.assert_array_equal(
        dmdt_images(s, mode="reference", reference=reference, dt_edges=zero_first, classes=["C", "A"]),
        pair_loop(s, "reference", reference, classes=["C", "A"], dt_edges=zero_first).astype(np.float32))


def test_a_nan_amplitude_makes_no_pair_in_that_band():
    # amplitudes are exact binary fractions, so every |dAmp| is exact
    s = labelled([1.0, 3.0, 3.5, np.nan], [(0.25, np.nan), (0.5, 0.125), (0.75, 0.125), (0.5, 0.125)],
                 ["A", "A", "A", "A"])
    for images in (dmdt_images(s, mode="thesis"), dmdt_images(s, mode="reference")):
        expected = np.zeros((2, 11, 22), np.float32)
        expected[0, 2, 6] = expected[0, 2, 5] = 0.5  # band g vs s0 (dt 2, dm 0.25) and s2 (dt 0.5, dm 0.25)
        expected[1, 0, 5] = 1.0  # band r: s0 has no r amplitude, s2 is the one partner (dt 0.5, dm 0)
        np.testing.assert_array_equal(images[1], expected)
        assert images[0, 1].sum() == 0 and images[0, 0].sum() == 1.0  # s0: nothing in r, two g pairs
        assert images[3].sum() == 0  # no period: no partner, and no partner of anyone above


def test_reference_mode_divides_by_the_partners_the_star_had():
    # T is a training star (in the reference), V a validation star with T's numbers
    ref = labelled([1.0, 3.0, 5.0, 9.0, 2.0, 4.0], [(0.25, 0.25), (0.5, 0.5), (1.0, 1.0), (2.0, 2.0),
                                                    (0.5, 0.5), (1.0, 1.0)], ["A", "A", "A", "A", "B", "B"])
    query = pd.concat([ref.iloc[[0]], ref.iloc[[0]].assign(id="V")], ignore_index=True)
    images = dmdt_images(query, reference=ref)
    # class A: T pairs with its 3 classmates, V with those 3 and T itself (dt = 0: below the first edge)
    assert images[0, 0].sum() == pytest.approx(3 / 3) and images[1, 0].sum() == pytest.approx(3 / 4)
    np.testing.assert_allclose(images[0, :2] * 3, images[1, :2] * 4, rtol=1e-6)
    np.testing.assert_array_equal(images[0, 2:], images[1, 2:])  # class B: neither is in it, both /2
    assert images[0, 2].sum() == pytest.approx(1.0)
    # thesis mode: a class-mate without an amplitude in band r is no partner there
    s = labelled([1.0, 3.0, 5.0], [(0.25, 0.25), (0.5, np.nan), (1.0, 1.0)], ["A"] * 3)
    thesis = dmdt_images(s, mode="thesis")
    assert thesis[0, 0].sum() == pytest.approx(1.0) and thesis[0, 1].sum() == pytest.approx(1.0)
    assert np.count_nonzero(thesis[0, 0]) == 2 and np.count_nonzero(thesis[0, 1]) == 1
