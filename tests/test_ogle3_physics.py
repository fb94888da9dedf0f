"""The built-in OGLE-III catalogue as an astronomer checks it: its extra columns, light curves the
right way round in phase, and quality filters that do something on it (SPEC sections 1-3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pipeline
from pipeline import CleaningConfig, clean, reconstruct
from pipeline.schema import bands


@pytest.fixture(scope="module")
def ogle3() -> pd.DataFrame:
    return pipeline.load_catalog("ogle3")


def test_delta_scuti_fourier_columns_are_the_right_way_round(ogle3):
    dsct = ogle3[ogle3.raw_label.str.startswith("DSCT")].dropna(subset=["r21"])
    assert len(dsct) > 2500
    assert dsct.r21.max() < 1.0 and dsct.r21.median() < 0.5  # a ratio of amplitudes
    assert dsct.phi21.max() > 3.0 and dsct.phi21.max() <= 2 * np.pi + 1e-3  # a phase


def rise_fraction(curves: np.ndarray) -> np.ndarray:
    """Fraction of the cycle from faintest (largest magnitude) to brightest light."""
    faintest, brightest = curves.argmax(axis=1), curves.argmin(axis=1)
    return ((brightest - faintest) % curves.shape[1]) / curves.shape[1]


def median_star(catalog: pd.DataFrame, raw_label: str) -> pd.DataFrame:
    """One row holding the class's median Fourier parameters, amplitude and magnitude."""
    members = catalog[(catalog.raw_label == raw_label) & catalog.r21.notna() & catalog.phi21.notna()]
    row = members.iloc[:1].copy()
    for col in ("r21", "phi21", "r31", "phi31", "amp_I", "mag_I"):
        row[col] = members[col].median()
    return row


def test_loader_keeps_what_ogle3_carries(ogle3):
    assert len(ogle3) == 399_679
    assert bands(ogle3, "amp") == ["I"]  # amp_2/amp_3 are secondary-period amplitudes, not bands
    assert set(ogle3.region.dropna()) == {"LMC", "SMC", "BLG"} and ogle3.region.notna().all()
    first = ogle3.set_index("id").loc["OGLE-LMC-ACEP-001"]  # the catalogue's first line
    assert (first.field, first.region) == ("LMC150.6", "LMC")
    assert first.period_err == pytest.approx(8e-7) and first.t0 == pytest.approx(2171.18383)
    rr = ogle3[ogle3.raw_label == "RRLyr/RRab"]
    assert rr.period_err.notna().mean() > 0.99 and (rr.period_err / rr.period).median() < 1e-5
    lpv = ogle3[ogle3.raw_label.str.startswith("LPV")]
    assert lpv.period_err.isna().all()  # OGLE-III gives no dP_1 for its LPVs
    multi = ogle3.dropna(subset=["period_2"])
    assert len(multi) > 10_000 and (multi.amp_2 > 0).mean() > 0.99
    assert set(ogle3.phase_convention) == {"cos+"}


@pytest.mark.parametrize("raw_label", ["RRLyr/RRab", "Cep/F"])
def test_rrab_and_fundamental_cepheids_rise_fast_and_fade_slowly(ogle3, raw_label):
    typical = median_star(ogle3, raw_label)
    for harmonics in (2, 3):
        assert rise_fraction(reconstruct(typical, harmonics=harmonics))[0] < 0.40
        # the thesis's printed formula draws the same star reversed in time
        assert rise_fraction(reconstruct(typical, harmonics=harmonics, convention="thesis"))[0] > 0.60
    members = ogle3[(ogle3.raw_label == raw_label) & ogle3.r21.notna()]
    assert np.median(rise_fraction(reconstruct(members))) < 0.40


def test_rrc_stays_near_sinusoidal(ogle3):
    curve = reconstruct(median_star(ogle3, "RRLyr/RRc"))
    assert 0.40 <= rise_fraction(curve)[0] <= 0.60
    amp = median_star(ogle3, "RRLyr/RRc").amp_I.iloc[0]
    assert np.ptp(curve) == pytest.approx(amp, rel=0.05)


def test_display_scaling_matches_the_catalogue_amplitude(ogle3):
    rrab = ogle3[(ogle3.raw_label == "RRLyr/RRab") & ogle3.r21.notna()].head(200)
    thesis_scaled = reconstruct(rrab)
    ratio = np.ptp(thesis_scaled, axis=1) / rrab.amp_I.to_numpy()
    assert np.median(ratio) > 1.15  # A1 = amp/2 with a second harmonic overshoots the amplitude
    shown = reconstruct(rrab, match_amplitude=True)
    np.testing.assert_allclose(np.ptp(shown, axis=1), rrab.amp_I.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(shown.mean(axis=1), thesis_scaled.mean(axis=1), atol=1e-3)  # same mean level
    assert (shown.argmin(axis=1) == thesis_scaled.argmin(axis=1)).mean() > 0.95  # same shape (float32 ties aside)


def test_phases_in_degrees_warn_and_do_not_crash(ogle3):
    typical = median_star(ogle3, "RRLyr/RRab")
    degrees = typical.assign(phi21=np.degrees(typical.phi21))
    with pytest.warns(UserWarning, match="look like degrees"):
        assert reconstruct(degrees).shape == (1, 360)
    assert any("look like degrees" in note for note in clean(degrees, CleaningConfig(cap=None)).notes)


def test_quality_steps_apply_to_ogle3_and_the_funnel_moves(ogle3):
    result = clean(ogle3, CleaningConfig(classes="ogle-5"))
    steps = result.steps
    for name in ("min_detections", "period_confidence", "goodness_of_fit"):
        assert steps.loc[name, "status"] == "not applicable"
    assert steps.loc["period_precision", "status"] == "applied"
    report = result.report.set_index(["step", "label"])
    loose = clean(ogle3, CleaningConfig(classes="ogle-5", max_period_rel_err=1e-4)).report.set_index(["step", "label"])
    strict = clean(ogle3, CleaningConfig(classes="ogle-5", max_period_rel_err=2e-6)).report.set_index(["step", "label"])
    assert strict.loc[("period_precision", "RR"), "removed"] > loose.loc[("period_precision", "RR"), "removed"] + 1000
    assert strict.loc[("period_precision", "LPV"), "removed"] == 0  # LPVs have no dP_1: unchecked, kept
    assert report.loc[("period_precision", "RR"), "removed"] == loose.loc[("period_precision", "RR"), "removed"]

    lmc = clean(ogle3, CleaningConfig(classes="ogle-5", regions=["LMC"], cap=None))
    assert set(lmc.data.region) == {"LMC"}
    assert lmc.steps.loc["region", "status"] == "applied"
    assert lmc.report.set_index(["step", "label"]).loc[("region", "RR"), "removed"] > 10_000  # the bulge's RRab

    fourier = clean(ogle3, CleaningConfig(classes="ogle-5", require_fourier=True, cap=None))
    assert fourier.data.r21.notna().all() and "LPV" in fourier.empty_classes

    faint = clean(ogle3, CleaningConfig(classes="ogle-5", mag_range=(None, 17.0), min_amp=0.1, cap=None))
    assert (faint.data.mag_I <= 17.0).all() and (faint.data.amp_I >= 0.1).all()
    assert {faint.steps.loc[s, "status"] for s in ("mean_magnitude", "min_amplitude")} == {"applied"}


def test_user_ranges_are_steps_of_their_own(ogle3):
    config = CleaningConfig(classes="ogle-10", ranges={"period": (0.2, 1.0), "mag_I": (None, 18)}, cap=None)
    result = clean(ogle3, config)
    assert list(result.steps.index[result.steps.index.str.startswith("range:")]) == ["range:period", "range:mag_I"]
    assert result.data.period.between(0.2, 1.0).all() and (result.data.mag_I <= 18).all()
    assert result.steps.loc["range:period", "rule"].startswith("0.2 <= period <= 1")
    removed = result.report.set_index(["step", "label"]).loc[("range:period", "OSARG"), "removed"]
    assert removed > 100_000  # OSARGs have periods of tens of days
    with pytest.raises(pipeline.ConfigError, match="unknown column.*nope.*period_err"):
        clean(ogle3, CleaningConfig(ranges={"nope": (0, 1)}))
    with pytest.raises(pipeline.ConfigError, match="min 2 is above max 1"):
        CleaningConfig(ranges={"period": (2, 1)})


def test_class_cap_sample_of_one_class_ignores_another_classes_threshold(ogle3):
    base = clean(ogle3, CleaningConfig(classes="ogle-5"))
    # a range that removes only long-period stars (LPVs) leaves the RR and CEP samples as they were
    other = clean(ogle3, CleaningConfig(classes="ogle-5", ranges={"period": (None, 300.0)}))
    for cls in ("RR", "CEP", "DSCT"):
        assert set(base.data.id[base.data.label == cls]) == set(other.data.id[other.data.label == cls])
    assert set(base.data.id[base.data.label == "LPV"]) != set(other.data.id[other.data.label == "LPV"])
