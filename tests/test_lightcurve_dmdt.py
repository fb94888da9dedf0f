"""Mahabal dm-dt images of one light curve: counts by hand, presets, normalisations."""

import light_curve
import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.lightcurves import LightCurves, dmdt_image, dmdt_images
from pipeline.lightcurves.dmdt import PRESETS


def cell(preset, dm, dt):
    """The (dm, dt) cell a pair falls in, found by reading the edges by eye (see the comments)."""
    edges = PRESETS[preset]
    return (np.searchsorted(edges["dm"], dm, side="right") - 1, np.searchsorted(edges["dt"], dt, side="right") - 1)


def test_preset_shapes():
    assert dmdt_image([0, 1], [0, 0], "crts").shape == (22, 24)
    assert dmdt_image([0, 1], [0, 0], "ztf").shape == (26, 26)


def test_counts_by_hand_on_a_four_point_curve():
    # Epochs (given out of order): t = 0, 0.005, 2, 2 (a repeated epoch), m = 15.0, 15.25, 14.4, 15.0;
    # equal times keep their given order (2 at 14.4 before 2' at 15.0).
    # Pairs, later minus earlier:
    #   (0 -> 0.005): dt 0.005 in [0, 1/145),  dm +0.25 in [0.2, 0.3)   -> dm cell 13, dt cell 0
    #   (0 -> 2):     dt 2 in [1.5, 2.5),       dm -0.6 in [-1, -0.5)   -> dm 6,  dt 8
    #   (0 -> 2'):    dt 2,                     dm 0 in [0, 0.1)         -> dm 11, dt 8
    #   (0.005 -> 2): dt 1.995 in [1.5, 2.5),   dm -0.85 in [-1, -0.5)   -> dm 6,  dt 8
    #   (0.005 -> 2'):dt 1.995,                 dm -0.25 in [-0.3, -0.2) -> dm 8,  dt 8
    #   (2 -> 2'):    dt 0 in [0, 1/145),       dm +0.6 in [0.5, 1)      -> dm 15, dt 0
    t = np.array([2.0, 0.0, 2.0, 0.005])
    m = np.array([14.4, 15.0, 15.0, 15.25])
    counts = dmdt_image(t, m, "crts", norm="counts")
    expected = np.zeros((22, 24))
    for dm_cell, dt_cell in [(13, 0), (6, 8), (11, 8), (6, 8), (8, 8), (15, 0)]:
        expected[dm_cell, dt_cell] += 1
    assert cell("crts", 0.25, 0.005) == (13, 0) and cell("crts", -0.6, 2) == (6, 8)
    np.testing.assert_array_equal(counts, expected)
    # 8-bit stretch: p = 4 * 3 / 2 = 6 pairs; fix(255 * 2 / 6 + 0.999) = 85, fix(255 / 6 + 0.999) = 43.
    stretched = dmdt_image(t, m, "crts", norm="stretch")
    assert stretched[6, 8] == 85 and stretched[13, 0] == 43 and stretched.sum() == 85 + 4 * 43
    l2 = dmdt_image(t, m, "crts", norm="l2")
    assert l2[6, 8] == pytest.approx(2 / np.sqrt(4 + 4)) and np.linalg.norm(l2) == pytest.approx(1.0)


def test_pairs_outside_the_edges_are_not_counted_but_stretch_divides_by_all_pairs():
    # dm = 9 mag is beyond the +-8 edge; the other pair counts, p = 3.
    counts = dmdt_image([0, 1, 2], [10.0, 19.0, 10.0], "crts", norm="counts")
    assert counts.sum() == 1  # only (0 -> 2): dm 0; the two 9-mag jumps fall outside
    assert dmdt_image([0, 1, 2], [10.0, 19.0, 10.0], "crts")[11, 8] == np.fix(255 / 3 + 0.999)


def test_same_counts_as_the_light_curve_package_on_distinct_times():
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 3000, 300))
    m = 15 + 0.6 * np.sin(2 * np.pi * t / 0.61) + rng.normal(0, 0.05, 300)
    for preset in ("crts", "ztf"):
        edges = PRESETS[preset]
        ref = light_curve.DmDt(dt=np.array(edges["dt"], float), dm=np.array(edges["dm"], float),
                               dt_type="asis", dm_type="asis", norm=[]).points(t, m)
        np.testing.assert_array_equal(dmdt_image(t, m, preset, norm="counts"), ref.T)


def test_images_stack_bands_as_channels():
    data = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 2, "time": [0, 1, 2, 0, 1.0], "mag": [1, 1.05, 1, 2, 2.0],
                         "err": 0.01, "band": ["g", "g", "r", "r", "r"]})
    ids, images = dmdt_images(LightCurves(data, "MJD", "t"), "ztf", "counts")
    assert ids == ["a", "b"] and images.shape == (2, 2, 26, 26)
    assert images[0, 0].sum() == 1 and images[0, 1].sum() == 0 and images[1, 0].sum() == 0 and images[1, 1].sum() == 1
    with pytest.raises(ConfigError, match="unknown dm-dt preset"):
        dmdt_image([0, 1], [0, 0], "sdss")
    with pytest.raises(ConfigError, match="unknown dm-dt normalisation"):
        dmdt_image([0, 1], [0, 0], "crts", norm="max")
