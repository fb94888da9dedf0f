"""Each cleaning step of SPEC section 2 and its per-class report."""

import numpy as np
import pandas as pd
import pytest

from pipeline import CleaningConfig, ConfigError, clean


def ztf_star(i, raw_label="RR", **overrides):
    star = dict(id=f"ZTFJ{i:06d}", ra=10.0, dec=20.0, period=0.55, r21=0.4, phi21=3.5, r31=np.nan,
                phi31=np.nan, amp_g=0.9, amp_r=0.7, mag_g=15.3, mag_r=15.0, n_obs_g=120.0, n_obs_r=150.0,
                log_fap_g=-8.0, log_fap_r=-9.0, r2_g=0.8, r2_r=0.85, raw_label=raw_label)
    star.update(overrides)
    return star


def catalog(*stars):
    return pd.DataFrame(list(stars))


def step(report, name, label):
    row = report[(report.step == name) & (report.label == label)]
    assert len(row) == 1, row
    return row.iloc[0]


def test_minimum_detections_comparison_is_a_parameter():
    cat = catalog(ztf_star(0, n_obs_g=50.0), ztf_star(1, n_obs_r=49.0), ztf_star(2))
    inclusive = clean(cat, CleaningConfig(classes="ztf-5"))
    assert list(inclusive.data.id) == ["ZTFJ000000", "ZTFJ000002"]
    strict = clean(cat, CleaningConfig(classes="ztf-5", min_obs_comparison=">"))
    assert list(strict.data.id) == ["ZTFJ000002"]
    row = step(strict.report, "min_detections", "RR")
    assert (row.before, row.removed, row.after, row.status) == (3, 2, 1, "applied")
    assert row.rule == "n_obs_g > 50 and n_obs_r > 50"


def test_false_alarm_and_fit_quality_are_strict_in_both_bands():
    cat = catalog(ztf_star(0, log_fap_g=-3.0), ztf_star(1, log_fap_r=-2.0), ztf_star(2, r2_g=0.3),
                  ztf_star(3, r2_r=np.nan), ztf_star(4))
    result = clean(cat, CleaningConfig(classes="ztf-5"))
    assert list(result.data.id) == ["ZTFJ000004"]
    assert step(result.report, "period_confidence", "RR").removed == 2
    assert step(result.report, "goodness_of_fit", "RR").removed == 2
    assert list(result.fate) == ["period_confidence", "period_confidence", "goodness_of_fit", "goodness_of_fit", "kept"]


def test_label_map_merges_classes_and_drops_unmapped():
    cat = catalog(ztf_star(0, "CEPII"), ztf_star(1, "CEP"), ztf_star(2, "Mira"), ztf_star(3, "SR"),
                  ztf_star(4, "EW"), ztf_star(5, "BYDra"))
    result = clean(cat, CleaningConfig(classes="ztf-5"))
    assert result.data.label.value_counts().to_dict() == {"CEP": 2, "LPV": 2, "DSCT": 0, "EA": 0, "RR": 0}
    unmapped = step(result.report, "label_map", "(unmapped)")
    assert (unmapped.before, unmapped.removed) == (2, 2)
    assert result.classes == ["CEP", "DSCT", "EA", "RR", "LPV"]


def test_anomalies_remove_non_physical_and_missing_values():
    cat = catalog(ztf_star(0, period=0.0), ztf_star(1, amp_g=-0.1), ztf_star(2, amp_r=np.inf),
                  ztf_star(3, mag_r=np.nan), ztf_star(4, period=np.nan), ztf_star(5))
    result = clean(cat, CleaningConfig(classes="ztf-5"))
    assert list(result.data.id) == ["ZTFJ000005"]
    assert step(result.report, "anomalies", "RR").removed == 5


def test_class_cap_is_seeded_random_undersampling():
    cat = catalog(*[ztf_star(i, "RR" if i % 3 else "EA") for i in range(300)])
    a = clean(cat, CleaningConfig(classes="ztf-5", cap=50, seed=1))
    b = clean(cat, CleaningConfig(classes="ztf-5", cap=50, seed=1))
    c = clean(cat, CleaningConfig(classes="ztf-5", cap=50, seed=2))
    assert a.data.label.value_counts()[["RR", "EA"]].tolist() == [50, 50]
    assert list(a.data.id) == list(b.data.id)
    assert list(a.data.id) != list(c.data.id)
    assert a.data.index.is_monotonic_increasing  # catalogue order is kept
    assert list(cat.iloc[a.kept_positions()]["id"]) == list(a.data.id)  # the kept rows, by catalogue position
    uncapped = clean(cat, CleaningConfig(classes="ztf-5", cap=None))
    assert len(uncapped.data) == 300
    assert step(uncapped.report, "class_cap", "RR").status == "disabled"


def test_report_chains_steps_and_marks_missing_columns_not_applicable():
    ogle_like = pd.DataFrame({"id": ["a", "b", "c"], "period": [0.5, 0.6, 100.0], "r21": [0.4, 0.5, np.nan],
                              "phi21": [3.0, 3.1, np.nan], "amp_I": [0.6, 0.7, 2.0], "mag_I": [17.0, 17.1, 14.0],
                              "raw_label": ["RRLyr/RRab", "RRLyr/RRab", "LPV/Mira"]})
    result = clean(ogle_like, CleaningConfig(classes="ogle-5"))
    report = result.report
    for name in ("min_detections", "period_confidence", "goodness_of_fit"):
        assert set(report[report.step == name].status) == {"not applicable"}
    for cls in ("RR", "LPV"):
        rows = report[report.label == cls]
        assert (rows.before.iloc[1:].to_numpy() == rows.after.iloc[:-1].to_numpy()).all()
        assert (rows.before - rows.removed == rows.after).all()
    assert "1 kept stars have no second-harmonic" in result.notes[0]
    assert list(report.columns) == ["step", "label", "before", "removed", "after", "status", "rule"]


def test_disabled_thresholds_and_untouched_input():
    cat = catalog(ztf_star(0, n_obs_g=3.0), ztf_star(1))
    before = cat.copy()
    result = clean(cat, CleaningConfig(classes="ztf-5", min_obs=None))
    assert len(result.data) == 2
    assert step(result.report, "min_detections", "RR").status == "disabled"
    pd.testing.assert_frame_equal(cat, before)


def test_warnings_for_empty_classes_and_empty_result():
    cat = catalog(ztf_star(0, "RR"), ztf_star(1, "EA"))
    partial = clean(cat, CleaningConfig(classes="ztf-5"))
    assert partial.empty_classes == ["CEP", "DSCT", "LPV"]
    assert "CEP, DSCT, LPV" in partial.warnings[0]
    nothing = clean(cat, CleaningConfig(classes="ztf-5", min_r2=0.99))
    assert nothing.data.empty and "remove every star" in nothing.warnings[0]


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="min_obs_comparison"):
        CleaningConfig(min_obs_comparison="=>")
    with pytest.raises(ConfigError, match="cap"):
        CleaningConfig(cap=0)
    with pytest.raises(ConfigError, match="unknown label preset"):
        CleaningConfig(classes="nope")


def test_a_filter_with_one_band_only_is_partial_and_names_the_missing_band():
    cat = catalog(ztf_star(0, n_obs_g=10.0), ztf_star(1)).drop(columns=["n_obs_r"])
    result = clean(cat, CleaningConfig(classes="ztf-5"))
    row = step(result.report, "min_detections", "RR")
    assert row.status == "partial" and row.removed == 1
    assert "band r unchecked" in row.rule and "n_obs_r" in row.rule
    assert step(result.report, "period_confidence", "RR").status == "applied"  # both bands there


@pytest.mark.parametrize("column", ["period", "amp_g", "amp_r", "mag_r", "mag_g", "r21", "phi21"])
def test_absurd_finite_values_are_removed_and_counted(column):
    cat = catalog(ztf_star(0, **{column: 1e308}), ztf_star(1, **{column: -1e30}), ztf_star(2))
    result = clean(cat, CleaningConfig(classes="ztf-5"))
    assert list(result.data.id) == ["ZTFJ000002"]
    row = step(result.report, "anomalies", "RR")
    assert row.removed == 2 and column.split("_")[0] in row.rule
    # what survives cleaning is finite as the float32 a model reads
    numbers = result.data.select_dtypes("number").to_numpy(np.float64)
    assert np.isfinite(numbers[~np.isnan(numbers)].astype(np.float32)).all()


def test_thesis_steps_on_ztf_stay_exactly_the_thesis():
    cat = catalog(ztf_star(0), ztf_star(1, log_fap_r=-2.0))
    result = clean(cat, CleaningConfig(classes="ztf-5"))
    steps = result.steps
    assert [s for s in steps.index if steps.loc[s, "status"] in {"applied", "partial"}][:3] == [
        "min_detections", "period_confidence", "goodness_of_fit"]
    assert steps.loc["period_precision", "status"] == "not applicable"
    assert steps.loc["region", "status"] == "not applicable"
    assert steps.loc["min_detections", "rule"] == "n_obs_g >= 50 and n_obs_r >= 50"
