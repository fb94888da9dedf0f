"""Simulated survey observations: cadence statistics, noise, seeding, the star's own shape."""

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import CatalogError, ConfigError
from pipeline.lightcurves import SURVEYS, best_period, phase_curves, read_store, simulate, write_store
from pipeline.representations import reconstruct
from tests.lightcurve_stars import catalog, constant_stars

MINUTE = 1 / 1440


def many(n=24):
    """n RRab-like stars spread over the sky (right ascension sets a ground survey's season)."""
    rows = catalog().iloc[[0]].loc[[0] * n].reset_index(drop=True)
    return rows.assign(id=[f"S{k}" for k in range(n)], ra=np.linspace(0, 345, n), mag_I=15.0, mag_V=15.5)


def per_star(lc, band):
    return [g.sort_values("time") for _, g in lc.data[lc.data["band"] == band].groupby("id")]


def test_ogle3_seasons_and_epochs():
    lc = simulate(many(), "ogle3", seed=1)
    assert lc.bands == ["I"] and lc.time_scale == "HJD"
    for star in per_star(lc, "I"):
        t = star["time"].to_numpy()
        assert 400 <= len(t) <= 1000
        assert 52072 <= t.min() and t.max() <= 54955  # 2001 June - 2009 May
        gaps = np.diff(t)
        assert 7 <= (gaps > 60).sum() <= 9  # one gap between each of the ~8 yearly seasons
        seasons = np.split(t, np.flatnonzero(gaps > 60) + 1)
        assert max(s[-1] - s[0] for s in seasons) <= 241  # ~8-month seasons


def test_ztf_three_day_cadence_in_g_and_r_with_seasonal_gaps():
    lc = simulate(many(), "ztf", seed=2)
    assert lc.bands == ["g", "r"] and lc.time_scale == "MJD"
    for band in ("g", "r"):
        for star in per_star(lc, band):
            t = star["time"].to_numpy()
            assert 100 <= len(t) <= 600
            gaps = np.diff(t)
            assert 2.5 <= np.median(gaps) <= 4.5 and (gaps > 100).sum() >= 3


def test_gaia_epochs_come_in_pairs_106_minutes_apart():
    lc = simulate(many(), "gaia", seed=3)
    assert lc.bands == ["G"] and lc.time_scale == "BJD"
    for star in per_star(lc, "G"):
        t = star["time"].to_numpy()
        assert 40 <= len(t) <= 70 and t.max() - t.min() <= 34 * 30.6
        partner = np.isclose(np.abs(t[:, None] - t[None, :]), 106.5 * MINUTE, atol=1e-9).any(axis=1)
        assert partner.all()


def test_asassn_v_every_two_to_three_days_then_g():
    lc = simulate(many(), "asassn", seed=4)
    for star in per_star(lc, "V"):
        t = star["time"].to_numpy()
        assert 100 <= len(t) <= 600 and 2.0 <= np.median(np.diff(t)) <= 4.0 and t.max() < 58424
    assert all(star["time"].min() >= 58027 for star in per_star(lc, "g"))


def test_crts_four_visits_ten_minutes_apart_every_two_weeks():
    lc = simulate(many(), "crts", seed=5)
    for star in per_star(lc, "V"):
        t = star["time"].to_numpy()
        assert 120 <= len(t) <= 450 and len(t) % 4 == 0
        visits = t.reshape(-1, 4)
        np.testing.assert_allclose(np.diff(visits, axis=1), 10 * MINUTE, atol=1e-9)
        assert 14 <= np.median(np.diff(visits[:, 0])) <= 42


def test_noise_grows_with_magnitude_from_the_floor_and_matches_the_scatter():
    mags = np.array([14.0, 16.0, 18.0, 20.0])
    lc = simulate(constant_stars(mags, band="r"), "ztf", seed=6)
    rows = lc.data[(lc.data["band"] == "r") & (lc.data["flag"] == 0)]
    err = rows.groupby("id")["err"].median().loc[[f"CONST-{k}" for k in range(4)]].to_numpy()
    assert np.all(np.diff(err) > 0)
    floor = SURVEYS["ztf"].noise["r"].floor
    assert floor <= err[0] < 1.3 * floor and 0.05 < err[-1] < 0.2
    pulls = (rows["mag"] - rows["id"].map(dict(zip([f"CONST-{k}" for k in range(4)], mags)))) / rows["err"]
    assert np.std(pulls) == pytest.approx(1.0, abs=0.08)


def test_outliers_are_rare_flagged_and_large():
    lc = simulate(constant_stars(np.full(20, 15.0)), "ogle3", seed=7)
    flagged = lc.data["flag"] == 1
    assert 0.002 < flagged.mean() < 0.01
    assert (np.abs(lc.data.loc[flagged, "mag"] - 15.0) >= 0.29).all()


def test_too_faint_for_the_survey_means_no_epochs():
    lc = simulate(catalog().iloc[[0]].assign(mag_V=19.5), "asassn", seed=0)  # V 19.5 > ASAS-SN's ~17
    assert len(lc) == 0 and lc.notes["dropped_below_depth"] > 0


def test_star_without_a_magnitude_gets_no_epochs_and_is_counted():
    lc = simulate(catalog().iloc[:3].assign(mag_I=[16.5, np.nan, 15.9]), "ogle3", seed=0)
    assert sorted(lc.ids) == ["RRAB-1", "RRAB-3"] and lc.notes["stars_without_values"] == {"I": 1}
    assert lc.notes["dropped_below_depth"] == 0


def test_same_seed_same_curves_and_a_subset_keeps_its_stars_curves(tmp_path):
    cat = catalog()
    first, again, other = simulate(cat, "ztf", seed=11), simulate(cat, "ztf", seed=11), simulate(cat, "ztf", seed=12)
    pd.testing.assert_frame_equal(first.data, again.data)
    assert not first.data["mag"].equals(other.data["mag"])
    part = simulate(cat.iloc[[5, 1]], "ztf", seed=11)
    for star in ("CEP-3", "RRAB-2"):
        pd.testing.assert_frame_equal(part.star(star), first.star(star))
    assert first.simulated and first.survey == "ztf" and first.notes["seed"] == 11
    write_store(first, tmp_path / "sim")
    assert read_store(tmp_path / "sim").simulated  # the flag travels with the data


def test_rrab_folds_to_its_catalogue_shape_rising_fast():
    star = catalog().iloc[[0]]
    lc = simulate(star, "ogle3", seed=8)
    folded = phase_curves(lc, star[["id", "period"]]).curves[0].astype(np.float64)
    smooth = np.convolve(np.concatenate([folded[-15:], folded, folded[:15]]), np.ones(31) / 31, "valid")
    faintest = int(np.argmax(smooth))  # phase 0 = maximum light (align_maximum)
    rise = 1 - faintest / len(smooth)
    assert rise < 0.3  # an RRab rises from minimum to maximum in ~15-20 % of its cycle
    model = reconstruct(star, n_points=512, harmonics=3, band="I", match_amplitude=True)[0]
    best = max(np.corrcoef(np.roll(model, k), smooth)[0, 1] for k in range(512))
    assert best > 0.97
    assert smooth.max() - smooth.min() == pytest.approx(0.65, rel=0.15)


def test_red_noise_only_for_long_period_variables():
    cat = catalog()
    quiet, noisy = simulate(cat, "ogle3", seed=9, red_noise=0.0), simulate(cat, "ogle3", seed=9, red_noise=0.2)
    assert np.array_equal(quiet.star("RRAB-1")["mag"], noisy.star("RRAB-1")["mag"])
    difference = noisy.star("MIRA-1")["mag"] - quiet.star("MIRA-1")["mag"]
    assert 0.1 < np.std(difference) < 1.0  # rms 0.2 x 1.8 mag, correlated over a 310-day time scale


def test_secondary_period_is_added_at_its_period_and_amplitude():
    cat = catalog().iloc[[7]]  # the OSARG: P 25.1 d, P2 45.3 d with amp_2 0.02
    with_second = simulate(cat, "ogle3", seed=10, red_noise=0.0).star("OSARG-1")
    without = simulate(cat.assign(period_2=np.nan), "ogle3", seed=10, red_noise=0.0).star("OSARG-1")
    diff = with_second["mag"] - without["mag"]
    assert best_period(with_second["time"], diff)["period"] == pytest.approx(45.3, rel=0.01)
    assert np.ptp(diff) == pytest.approx(0.02, rel=0.1)


def test_unknown_survey_and_bad_period():
    with pytest.raises(ConfigError, match="unknown survey 'tess'"):
        simulate(catalog(), "tess")
    with pytest.raises(CatalogError, match="'RRAB-1' appears more than once"):
        simulate(catalog().iloc[[0, 0]], "ogle3")
    with pytest.raises(CatalogError, match="'RRAB-1' has period"):
        simulate(catalog().assign(period=0.0), "ogle3")
