import numpy as np
import pandas as pd
import pytest

from pipeline import ConfigError, labels


def test_ogle_presets_map_type_and_subtype():
    raw = pd.Series(["Cep/F", "Cep/1", "T2Cep/WVir", "RRLyr/RRab", "RRLyr/RRe", "DSCT", "LPV/SRV", "LPV/OSARG"])
    assert list(labels.apply(raw, "ogle-5").astype(object).fillna("-")) == [
        "CEP", "CEP", "CEP", "RR", "-", "DSCT", "LPV", "-"]
    assert list(labels.apply(raw, "ogle-10").astype(object).fillna("-")) == [
        "CEP_F", "CEP_1O", "CEPII", "RRab", "-", "DSCT", "SR", "OSARG"]


def test_ztf5_merges_cepii_and_long_period_variables():
    raw = pd.Series(["CEPII", "CEP", "Mira", "SR", "EW"])
    assert list(labels.apply(raw, "ztf-5").astype(object).fillna("-")) == ["CEP", "CEP", "LPV", "LPV", "-"]


def test_user_map_and_errors():
    assert labels.class_names({"fast": ["RR*"], "slow": "LPV/*"}) == ["fast", "slow"]
    with pytest.raises(ConfigError, match="unknown label preset 'ztf-3'"):
        labels.resolve("ztf-3")
    with pytest.raises(ConfigError, match="matches several classes"):
        labels.apply(pd.Series(["RRLyr/RRab"]), {"a": ["RRLyr/*"], "b": ["*RRab"]})


def test_encode_follows_class_order():
    assert list(labels.encode(pd.Series(["b", "a", "b"]), ["b", "a"])) == [0, 1, 0]
    with pytest.raises(ConfigError, match=r"\['c'\]"):
        labels.encode(pd.Series(["c"]), ["a", "b"])


def test_missing_raw_labels_stay_unclassed_and_the_rows_keep_their_index():
    raw = pd.Series(["RRLyr/RRab", None, "DSCT", np.nan, "LPV/Mira", "RRLyr/RRab"], index=[7, 3, 9, 1, 4, 2],
                    dtype="string")
    mapped = labels.apply(raw, "ogle-5")
    assert list(mapped.cat.categories) == labels.class_names("ogle-5")
    assert list(mapped.index) == [7, 3, 9, 1, 4, 2] and mapped.name == "label"
    assert list(mapped.astype(object).fillna("-")) == ["RR", "-", "DSCT", "-", "LPV", "RR"]
