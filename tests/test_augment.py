"""Seed 001's GP augmentation and balanced bags on generated light curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.lightcurves import LightCurves, fold
from pipeline.lightcurves.augment import augment, balanced_bags, prototype_of

PERIOD = 0.55


def _sawtooth_star(star_id: str, rng: np.random.Generator, n: int = 120) -> pd.DataFrame:
    """An RRab-like curve (fast rise, slow decline) with 0.02 mag errors at irregular times."""
    time = np.sort(rng.uniform(0, 200, n))
    phase = fold(time, PERIOD)
    shape = np.where(phase < 0.15, 1 - phase / 0.15, (phase - 0.15) / 0.85)  # 0 at maximum light
    err = np.full(n, 0.02)
    return pd.DataFrame({"id": star_id, "time": time, "mag": 15.0 + 0.8 * shape + rng.normal(0, err),
                         "err": err, "band": "V"})


@pytest.fixture(scope="module")
def stars():
    rng = np.random.default_rng(3)
    data = pd.concat([_sawtooth_star(f"s{k}", rng) for k in range(3)], ignore_index=True)
    return LightCurves(data, "MJD", "generated"), {f"s{k}": PERIOD for k in range(3)}


def _shape_match(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Best correlation, over phase shifts, of the two curves binned in 20 phase bins."""
    def binned(frame):
        bins = (fold(frame["time"], PERIOD) * 20).astype(int)
        return frame.groupby(bins)["mag"].mean().reindex(range(20)).interpolate().bfill().ffill().to_numpy()
    a, b = binned(real), binned(synthetic)
    return max(np.corrcoef(a, np.roll(b, k))[0, 1] for k in range(20))


def test_gp_draws_are_new_curves_of_the_same_star(stars):
    lcs, periods = stars
    out = augment(lcs, periods, ["s0", "s0", "s1"], seed=7)
    assert sorted(out.ids) == ["s0#gp0", "s0#gp1", "s1#gp0"]
    assert out.simulated and out.notes["augmentation"] == "gp"
    for synthetic_id in out.ids:
        real, synthetic = lcs.star(prototype_of(synthetic_id)), out.star(synthetic_id)
        np.testing.assert_array_equal(synthetic["time"], real["time"])  # the star's own times and errors
        np.testing.assert_array_equal(synthetic["err"], real["err"])
        assert not np.allclose(synthetic["mag"], real["mag"])  # a draw, not the code's duplicate
        assert abs(synthetic["mag"].mean() - real["mag"].mean()) < 0.1
        assert 0.7 < np.ptp(synthetic["mag"]) / np.ptp(real["mag"]) < 1.3
        assert _shape_match(real, synthetic) > 0.9  # the same light-curve shape, shifted in phase
    assert not np.allclose(out.star("s0#gp0")["mag"], out.star("s0#gp1")["mag"])


def test_duplicate_switch_reproduces_the_public_code(stars):
    lcs, periods = stars
    out = augment(lcs, periods, ["s2"], seed=0, duplicate=True)
    assert out.ids == ["s2#dup0"] and out.notes["augmentation"] == "duplicate"
    np.testing.assert_array_equal(out.star("s2#dup0")["mag"], lcs.star("s2")["mag"])


def test_draws_are_seeded_and_fits_reused(stars):
    lcs, periods = stars
    fitted: dict = {}
    first = augment(lcs, periods, ["s1"], seed=5, fitted=fitted, tag="b1-")
    assert list(fitted) == [("s1", "V")]
    again = augment(lcs, periods, ["s1"], seed=5, fitted=fitted, tag="b1-")
    other = augment(lcs, periods, ["s1"], seed=6, fitted=fitted, tag="b2-")
    assert first.ids == ["s1#gpb1-0"] and other.ids == ["s1#gpb2-0"]
    np.testing.assert_array_equal(first.data["mag"], again.data["mag"])
    assert not np.allclose(first.data["mag"], other.data["mag"])


def test_unknown_prototypes_are_refused(stars):
    lcs, periods = stars
    with pytest.raises(ConfigError, match="no period for prototype"):
        augment(lcs, periods, ["nope"], seed=0)
    with pytest.raises(ConfigError, match="no light curve"):
        augment(lcs, {**periods, "ghost": 1.0}, ["ghost"], seed=0)


def test_balanced_bags_undersample_large_and_top_up_small_classes():
    ids = [f"a{k}" for k in range(10)] + [f"b{k}" for k in range(3)]
    labels = ["A"] * 10 + ["B"] * 3
    bags = balanced_bags(ids, labels, per_class=5, n_bags=4, seed=1)
    assert len(bags) == 4
    for bag in bags:
        chosen = np.asarray(labels)[bag.real]
        assert (chosen == "A").sum() == 5 and (chosen == "B").sum() == 3
        assert len(bag.prototypes) == 2 and set(bag.prototypes) <= {"b0", "b1", "b2"}
        assert len(set(bag.prototypes)) == 2  # prototypes cycle through the class before repeating
    assert len({tuple(bag.real) for bag in bags}) > 1  # a fresh under-sample per bag
    with pytest.raises(ConfigError, match="per_class >= 1"):
        balanced_bags(ids, labels, per_class=0, n_bags=1, seed=0)
