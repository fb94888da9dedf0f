"""The Dask survey path: partition by partition it gives what the single-process functions give."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.errors import CatalogError, ConfigError
from pipeline.lightcurves import dmdt_images, find_periods, lightcurve_features, read_store, simulate, write_store
from pipeline.lightcurves import survey
from pipeline.lightcurves.store import INDEX_FILE, METADATA_FILE, partition_file, store_index
from tests.lightcurve_stars import catalog as few_stars

PARTITION = 25
#: Periods from 1 day up: a 25 times coarser grid than the default, so the tests stay quick.
PERIODS = {"min_period": 1.0}


def many_stars(copies: int = 8) -> pd.DataFrame:
    """64 stars: the eight typical OGLE-III stars, each repeated with other ids, periods and positions."""
    base = few_stars()
    parts = []
    for k in range(copies):
        part = base.assign(id=base["id"] + f"-{k:03d}", period=base["period"] * (1 + 0.013 * k),
                           ra=(base["ra"] + 7 * k) % 360)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=0)  # not in id order


@pytest.fixture(scope="module")
def client():
    with survey.cluster(workers=1, memory_limit="1GiB") as client:
        yield client


@pytest.fixture(scope="module")
def stars():
    frame = many_stars()
    frame.loc[frame.index[3], "period"] = np.nan  # cannot be simulated: left out and counted
    return frame


@pytest.fixture(scope="module")
def gaia_store(client, stars, tmp_path_factory):
    root = tmp_path_factory.mktemp("survey") / "gaia"
    manifest = survey.simulate_survey(stars, root, survey="gaia", seed=7, partition_size=PARTITION, client=client,
                                      progress=False)
    return root, manifest


def sort(frame, keys=("id", "band", "time")):
    keys = [k for k in keys if k in frame]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def test_simulated_store_equals_simulate_on_the_whole_catalogue(gaia_store, stars):
    root, manifest = gaia_store
    reference = simulate(stars[stars["period"] > 0], "gaia", seed=7)
    back = read_store(root)
    pd.testing.assert_frame_equal(sort(back.data), sort(reference.data))
    assert back.simulated and back.survey == "gaia" and back.time_scale == reference.time_scale
    assert back.notes == json.loads(json.dumps(reference.notes))  # counts added over partitions
    assert manifest["complete"] and manifest["skipped_without_period"] == 1
    assert manifest["partitions"] == int(np.ceil(63 / PARTITION)) == len(list(root.glob("part-*.parquet")))
    assert manifest["stars_with_epochs"] == len(reference.ids) and manifest["epochs"] == len(reference)


def test_partitioned_store_reads_a_subset_from_its_own_partitions_only(gaia_store, tmp_path):
    root, _ = gaia_store
    index = store_index(root)
    wanted = list(index[index["partition"] == 1]["id"].iloc[:3])
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in root.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    partition_file(copy, 0).write_bytes(b"not parquet")  # another partition, broken: not opened
    subset = read_store(copy, ids=wanted)
    assert sorted(subset.ids) == sorted(wanted)
    pd.testing.assert_frame_equal(sort(subset.data), sort(read_store(root).subset(wanted).data))
    with pytest.raises(CatalogError, match="no light curves for ids \\['nobody'\\]"):
        read_store(copy, ids=["nobody"])
    (copy / INDEX_FILE).write_bytes(b"broken")
    with pytest.raises(CatalogError, match="cannot read the store's index"):
        read_store(copy, ids=wanted)


def test_periods_features_and_dmdt_equal_the_single_process_functions(client, gaia_store, stars, tmp_path):
    root, _ = gaia_store
    curves = read_store(root)
    periods = survey.survey_step("periods", root, tmp_path / "periods", client=client, progress=False,
                                 options=PERIODS)
    pd.testing.assert_frame_equal(sort(survey.read_survey(tmp_path / "periods")), sort(find_periods(curves, **PERIODS)))
    assert periods["stars"] == len(curves.ids) and periods["partitions"] == 3

    few = curves.ids[::3]  # features cost ~0.1 s a star: a smaller store of its own
    small = tmp_path / "small"
    survey.simulate_survey(stars[stars["id"].isin(few)], small, survey="gaia", seed=7, partition_size=10,
                           client=client, progress=False)
    survey.survey_step("features", small, tmp_path / "features", client=client, progress=False)
    expected = lightcurve_features(curves.subset(few), skip_short=True)
    pd.testing.assert_frame_equal(sort(survey.read_survey(tmp_path / "features")), sort(expected))
    assert len(expected) >= 15

    survey.survey_step("dmdt", root, tmp_path / "dmdt", client=client, progress=False, options={"preset": "ztf"})
    ids, images = survey.read_survey(tmp_path / "dmdt")
    expected_ids, expected_images = dmdt_images(curves, "ztf", bands=["G"])
    assert ids == expected_ids and images.shape == (len(ids), 1, 26, 26)
    np.testing.assert_array_equal(images, expected_images)


def test_a_per_star_store_is_cut_into_partitions_by_id(client, stars, tmp_path):
    """The store layout of ``write_store`` (one folder per star) works as input too, in
    ``partition_size`` stars; a survey with two bands gives two dm-dt channels."""
    curves = simulate(stars[stars["period"] > 0].iloc[:50], "ztf", seed=1)
    write_store(curves, tmp_path / "store")
    manifest = survey.survey_step("dmdt", tmp_path / "store", tmp_path / "dmdt", partition_size=20, client=client,
                                  progress=False)
    assert manifest["partitions"] == 3 and manifest["settings"]["options"]["bands"] == ["g", "r"]
    assert manifest["settings"]["simulated"]  # simulated data stay marked
    ids, images = survey.read_survey(tmp_path / "dmdt")
    expected_ids, expected_images = dmdt_images(read_store(tmp_path / "store"), bands=["g", "r"])
    assert ids == expected_ids
    np.testing.assert_array_equal(images, expected_images)


def test_a_rerun_resumes_and_other_settings_are_refused(client, gaia_store, tmp_path):
    root, _ = gaia_store
    out = tmp_path / "periods"
    survey.survey_step("periods", root, out, client=client, progress=False, options=PERIODS)
    finished = out / "part-00002.parquet"
    written = finished.stat().st_mtime_ns
    again = survey.survey_step("periods", root, out, client=client, progress=False, options=PERIODS)
    assert again["partitions_this_run"] == 0 and finished.stat().st_mtime_ns == written
    # An interrupted run: one partition's result and record missing; only that one is redone.
    (out / "part-00001.parquet").unlink()
    (out / survey.DONE_DIR / "part-00001.json").unlink()
    resumed = survey.survey_step("periods", root, out, client=client, progress=False, options=PERIODS)
    assert resumed["partitions_this_run"] == 1 and finished.stat().st_mtime_ns == written
    pd.testing.assert_frame_equal(sort(survey.read_survey(out)), sort(find_periods(read_store(root), **PERIODS)))

    with pytest.raises(ConfigError, match="other settings \\(options differ\\).*--overwrite"):
        survey.survey_step("periods", root, out, client=client, progress=False, options={**PERIODS, "per_band": True})
    replaced = survey.survey_step("periods", root, out, client=client, progress=False, overwrite=True,
                                  options={"min_period": 2.0})
    assert replaced["partitions_this_run"] == 3 and replaced["settings"]["options"] == {"min_period": 2.0}


def test_an_interrupted_simulation_is_refused_as_input_and_resumes(client, gaia_store, stars, tmp_path):
    root, _ = gaia_store
    copy = tmp_path / "store"
    shutil.copytree(root, copy)
    # As a crash leaves it: one partition unwritten, no index or metadata yet, the manifest unfinished.
    for path in (partition_file(copy, 1), copy / survey.DONE_DIR / "part-00001.json", copy / INDEX_FILE,
                 copy / METADATA_FILE):
        path.unlink()
    manifest = json.loads((copy / survey.MANIFEST).read_text())
    (copy / survey.MANIFEST).write_text(json.dumps({"settings": manifest["settings"], "complete": False}))
    with pytest.raises(CatalogError, match="has not finished; rerun the same command to resume"):
        survey.survey_step("periods", copy, tmp_path / "periods", client=client, progress=False)
    resumed = survey.simulate_survey(stars, copy, survey="gaia", seed=7, partition_size=PARTITION, client=client,
                                     progress=False)
    assert resumed["partitions_this_run"] == 1 and resumed["complete"]
    pd.testing.assert_frame_equal(sort(read_store(copy).data), sort(read_store(root).data))
    assert read_store(copy).notes == read_store(root).notes


def test_output_that_is_not_a_survey_folder_is_left_alone(client, gaia_store, tmp_path):
    root, _ = gaia_store
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="is not a survey output"):
        survey.survey_step("periods", root, tmp_path / "mine", client=client, progress=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_an_error_in_a_partition_names_it(client, gaia_store, tmp_path):
    root, _ = gaia_store
    with pytest.raises(ConfigError, match="partition 0 \\(.+ \\.\\. .+\\): max_period 5 d is not above"):
        survey.survey_step("periods", root, tmp_path / "p", client=client, progress=False,
                           options={"min_period": 10.0, "max_period": 5.0})


@pytest.mark.parametrize("address, reason", [
    ("tcp://127.0.0.1:1", "cannot connect"),
    ("not an address", "missing port number"),
    ("foo://127.0.0.1:8786", "unknown address scheme"),
])
def test_a_bad_scheduler_address_is_refused_before_any_output(gaia_store, tmp_path, address, reason):
    root, _ = gaia_store
    with pytest.raises(ConfigError, match=f"--scheduler {address}: .*{reason}"):
        survey.survey_step("periods", root, tmp_path / "out", scheduler=address, connect_timeout=2)
    assert not (tmp_path / "out").exists()


def test_bad_options_are_refused(gaia_store, tmp_path):
    root, _ = gaia_store
    with pytest.raises(ConfigError, match="unknown options \\['preset'\\]"):
        survey.survey_step("periods", root, tmp_path / "o", options={"preset": "crts"})
    with pytest.raises(ConfigError, match="unknown dm-dt preset 'lsst'"):
        survey.survey_step("dmdt", root, tmp_path / "o", options={"preset": "lsst"})
    with pytest.raises(ConfigError, match="--workers 0"):
        survey.survey_step("periods", root, tmp_path / "o", workers=0)
    with pytest.raises(ConfigError, match="--memory-limit 'lots'"):
        survey.survey_step("periods", root, tmp_path / "o", memory_limit="lots")
    with pytest.raises(ConfigError, match="--partition-size 0"):
        survey.survey_step("periods", root, tmp_path / "o", partition_size=0)
    with pytest.raises(CatalogError, match="no such light-curve store"):
        survey.survey_step("periods", tmp_path / "missing", tmp_path / "o")


def test_cli_simulates_on_a_running_scheduler_and_says_what_is_wrong(client, stars, tmp_path, capsys):
    """``--scheduler`` joins a running cluster (the module's, so no second one is started)."""
    path = tmp_path / "stars.csv"
    stars.iloc[:40].to_csv(path, index=False)  # the generic catalogue format
    out = tmp_path / "store"
    args = ["survey", "simulate", "--catalog", str(path), "--survey", "gaia", "--seed", "7", "--out", str(out),
            "--scheduler", client.scheduler.address, "--partition-size", "25"]
    assert main(args) == 0
    assert "survey simulate: 2 partitions" in capsys.readouterr().out
    expected = simulate(stars.iloc[:40][stars.iloc[:40]["period"] > 0], "gaia", seed=7)
    pd.testing.assert_frame_equal(sort(read_store(out).data), sort(expected.data))
    assert main(args) == 0
    assert "2 already done by an earlier run, resumed" in capsys.readouterr().out

    assert main(["survey", "periods", str(tmp_path / "nowhere"), "--out", str(tmp_path / "p")]) == 2
    assert "nowhere: no such light-curve store" in capsys.readouterr().err
    assert main(["survey", "periods", str(out), "--out", str(tmp_path / "p"), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "error: --scheduler tcp://127.0.0.1:1: cannot connect" in capsys.readouterr().err
