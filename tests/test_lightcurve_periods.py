"""Lomb-Scargle period search on simulated curves: the catalogue period comes back within 1 %."""

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError
from pipeline.lightcurves import LightCurves, best_period, find_periods, periodogram, simulate
from tests.lightcurve_stars import catalog, constant_stars

PULSATORS = ["RRAB-1", "RRAB-2", "RRAB-3", "CEP-1", "CEP-2", "CEP-3"]


@pytest.mark.parametrize("survey", ["ogle3", "ztf"])
def test_catalogue_period_recovered_within_one_percent(survey):
    cat = catalog()
    cat = cat[cat["id"].isin(PULSATORS)]
    found = find_periods(simulate(cat, survey, seed=21)).merge(cat[["id", "period"]], on="id", suffixes=("", "_cat"))
    assert sorted(found["id"]) == sorted(PULSATORS)
    np.testing.assert_allclose(found["period"], found["period_cat"], rtol=0.01)
    assert (found["fap"] < 1e-6).all()
    if survey == "ztf":
        assert set(found["band"]) <= {"g", "r"}  # best of the two bands
        assert len(find_periods(simulate(cat, survey, seed=21), per_band=True)) == 2 * len(PULSATORS)


def test_noise_has_a_high_false_alarm_probability():
    found = find_periods(simulate(constant_stars(np.full(3, 17.0)), "ogle3", seed=22))
    assert (found["fap"] > 0.01).all()


def test_too_few_points_are_skipped_and_counted():
    data = pd.DataFrame({"id": "a", "time": np.arange(5.0), "mag": [1, 2, 1, 2, 1.0], "err": 0.1, "band": "V"})
    found = find_periods(LightCurves(data, "MJD", "t"))
    assert found.empty and found.attrs["too_few_points"] == 1


def test_periodogram_grid_and_errors():
    t = np.linspace(0, 100, 300)
    freq, power = periodogram(t, np.sin(2 * np.pi * t / 2.5), min_period=0.5)
    assert freq[0] == pytest.approx(1 / 100) and freq[-1] == pytest.approx(2.0, rel=1e-3)
    assert 1 / freq[np.argmax(power)] == pytest.approx(2.5, rel=0.01)
    # evenly spaced epochs alias exactly above their Nyquist frequency: search below it
    assert best_period(t, np.sin(2 * np.pi * t / 2.5), min_period=0.5)["period"] == pytest.approx(2.5, rel=1e-4)
    with pytest.raises(ConfigError, match="all times are equal"):
        periodogram(np.zeros(20), np.arange(20.0))
    with pytest.raises(ConfigError, match="is not above min_period"):
        periodogram(t, np.sin(t), min_period=10, max_period=5)
