"""The CLI as a user runs it: a subprocess on generated files in real formats."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.ogle_files import star_rows, write_ogle3


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture
def ogle_csv(tmp_path):
    """A canonical-column CSV made from a real-format OGLE-III file."""
    from pipeline.catalogs import read_ogle3
    path = tmp_path / "ogle_small.csv"
    read_ogle3(write_ogle3(tmp_path / "ogle3.txt.bz2", star_rows(n_per_kind=8))).to_csv(path, index=False)
    return path


def test_catalogs_lists_ogle3():
    out = run_cli("catalogs")
    assert out.returncode == 0 and out.stdout.startswith("ogle3")


def test_clean_prints_table_and_json(ogle_csv, tmp_path):
    env = {"VSE_CACHE_DIR": str(tmp_path / "cache")}
    table = run_cli("clean", "--catalog", ogle_csv, "--classes", "ogle-10", "--cap", "5", env=env)
    assert table.returncode == 0, table.stderr
    assert "not applicable" in table.stdout and "class_cap" in table.stdout
    as_json = run_cli("clean", "--catalog", ogle_csv, "--classes", "ogle-10", "--cap", "5", "--json", env=env)
    payload = json.loads(as_json.stdout)
    assert payload["kept"]["RRab"] == 5 and payload["kept"]["Mira"] == 5
    cap_rows = [r for r in payload["report"] if r["step"] == "class_cap" and r["label"] == "CEP_F"]
    assert cap_rows == [{"step": "class_cap", "label": "CEP_F", "before": 8, "removed": 3, "after": 5,
                         "status": "applied", "rule": "at most 5 per class, seed 42 (a child seed per class)"}]


def test_clean_takes_ranges_and_the_catalogue_filters(ogle_csv, tmp_path):
    env = {"VSE_CACHE_DIR": str(tmp_path / "cache")}
    out = run_cli("clean", "--catalog", ogle_csv, "--classes", "ogle-10", "--range", "period:0.2:1.0",
                  "--range", "mag_I::16.5", "--region", "LMC", "--max-period-rel-err", "1e-3", "--json", env=env)
    assert out.returncode == 0, out.stderr
    steps = {r["step"]: r for r in json.loads(out.stdout)["report"]}
    assert steps["range:period"]["rule"].startswith("0.2 <= period <= 1")
    assert steps["range:mag_I"]["rule"].startswith("mag_I <= 16.5")
    assert steps["region"]["status"] == steps["period_precision"]["status"] == "applied"
    kept = json.loads(out.stdout)["kept"]
    assert kept.get("Mira", 0) == 0 and kept["RRab"] > 0  # Miras have periods of hundreds of days
    bad = run_cli("clean", "--catalog", ogle_csv, "--range", "period:x:1", env=env)
    assert bad.returncode == 2 and "MIN and MAX must be numbers or empty" in bad.stderr
    unknown = run_cli("clean", "--catalog", ogle_csv, "--range", "nope:0:1", env=env)
    assert unknown.returncode == 2 and "unknown column(s) nope" in unknown.stderr


def test_bad_input_is_one_clear_line(tmp_path):
    missing = run_cli("clean", "--catalog", tmp_path / "nope.csv")
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and "nope.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
    preset = run_cli("clean", "--classes", "ztf-7")
    assert preset.returncode == 2 and "unknown label preset 'ztf-7'" in preset.stderr


def test_thesis_dmdt_warns_about_the_leak(ogle_csv, tmp_path):
    out_file = tmp_path / "images.npz"
    out = run_cli("dmdt", "--catalog", ogle_csv, "--classes", "ogle-5", "--mode", "thesis", "--out", out_file,
                  env={"VSE_CACHE_DIR": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr
    assert "leaks the label" in out.stderr
    saved = np.load(out_file)
    assert saved["images"].shape[1:] == (1, 11, 22) and len(saved["ids"]) == len(saved["labels"])


def test_train_runs_report_and_predict(ogle_csv, tmp_path):
    """A tiny run from the terminal: the metrics table, the run listed, reported and applied to stars."""
    env = {"VSE_CACHE_DIR": str(tmp_path / "cache")}
    runs = tmp_path / "runs"
    train = run_cli("train", "--catalog", ogle_csv, "--classes", "ogle-5", "--model", "cnn_lstm", "--folds", "2",
                    "--epochs", "1", "--batch-size", "8", "--label-smoothing", "0.1", "--runs-dir", runs, env=env)
    assert train.returncode == 0, train.stderr
    assert "fold 2/2" in train.stderr  # tqdm's progress
    assert "weighted_f1" in train.stdout and "confusion matrix, mean over folds" in train.stdout
    run_id = re.search(r"^run (\S+) \(complete\)", train.stdout, re.MULTILINE).group(1)
    assert f"run directory: {runs / run_id}" in train.stdout
    assert json.loads((runs / run_id / "config.json").read_text())["train"]["label_smoothing"] == 0.1

    listing = run_cli("runs", "--runs-dir", runs)
    assert run_id in listing.stdout and "complete" in listing.stdout
    report = run_cli("report", run_id, "--runs-dir", runs)
    assert report.returncode == 0 and "row-normalised" in report.stdout

    out = tmp_path / "predictions.csv"
    predict = run_cli("predict", run_id, "--catalog", ogle_csv, "--out", out, "--runs-dir", runs, env=env)
    assert predict.returncode == 0, predict.stderr
    predictions = pd.read_csv(out)
    classes = ["CEP", "DSCT", "RR", "RRc", "LPV"]
    np.testing.assert_allclose(predictions[[f"p_{c}" for c in classes]].sum(axis=1), 1.0, rtol=1e-5)
    assert len(predictions) == len(pd.read_csv(ogle_csv))

    wrong = run_cli("predict", run_id, "--catalog", ogle_csv, "--out", tmp_path / "p.xlsx", "--runs-dir", runs,
                    env=env)
    assert wrong.returncode == 2 and "expected a .csv or .parquet" in wrong.stderr
    missing = run_cli("report", "no-such-run", "--runs-dir", runs)
    assert missing.returncode == 2 and "no-such-run" in missing.stderr and "Traceback" not in missing.stderr


def test_reference_dmdt_against_a_training_file(ogle_csv, tmp_path, monkeypatch):
    from pipeline import CleaningConfig, clean, dmdt_images, load_catalog

    env = {"VSE_CACHE_DIR": str(tmp_path / "cache")}
    monkeypatch.setenv("VSE_CACHE_DIR", env["VSE_CACHE_DIR"])
    training = tmp_path / "training.csv"
    pd.read_csv(ogle_csv).iloc[::2].to_csv(training, index=False)
    assert "--reference" in run_cli("dmdt", "--help").stdout

    itself, against = tmp_path / "itself.npz", tmp_path / "against.npz"
    out = run_cli("dmdt", "--catalog", ogle_csv, "--classes", "ogle-5", "--out", itself, env=env)
    assert out.returncode == 0, out.stderr
    assert "all " in str(np.load(itself)["reference"]) and "--reference" in str(np.load(itself)["reference"])
    out = run_cli("dmdt", "--catalog", ogle_csv, "--classes", "ogle-5", "--reference", training, "--out", against,
                  env=env)
    assert out.returncode == 0, out.stderr
    saved = np.load(against)
    assert str(training) in str(saved["reference"])
    config = CleaningConfig(classes="ogle-5")
    stars, reference = clean(load_catalog(ogle_csv), config), clean(load_catalog(training), config).data
    np.testing.assert_array_equal(saved["images"], dmdt_images(stars.data, reference=reference, classes=stars.classes))
    assert list(saved["classes"]) == list(stars.classes) and saved["images"].shape[1] == len(stars.classes)
    assert not np.array_equal(saved["images"], np.load(itself)["images"])

    thesis = run_cli("dmdt", "--catalog", ogle_csv, "--mode", "thesis", "--reference", training, "--out", against,
                     env=env)
    assert thesis.returncode == 2 and "--reference is for --mode reference" in thesis.stderr


def test_se_resnet_trains_and_report_gives_auc_and_ece(ogle_csv, tmp_path):
    """The SE-ResNet from the terminal; ``report`` prints the AUC and ECE of the run's saved predictions."""
    from pipeline.probability_metrics import calibration, roc_summary
    from pipeline.runs import open_run

    runs = tmp_path / "runs"
    train = run_cli("train", "--catalog", ogle_csv, "--classes", "ogle-5", "--model", "se_resnet", "--folds", "2",
                    "--epochs", "1", "--batch-size", "8", "--runs-dir", runs,
                    env={"VSE_CACHE_DIR": str(tmp_path / "cache")})
    assert train.returncode == 0, train.stderr
    run_id = re.search(r"^run (\S+) \(complete\)", train.stdout, re.MULTILINE).group(1)
    run = open_run(run_id, runs_dir=runs)
    assert any("widths 32/64/128" in c for c in run.config["model_choices"])
    roc, cal = roc_summary(run.predictions, run.classes), calibration(run.predictions, run.classes)
    report = run_cli("report", run_id, "--runs-dir", runs)
    assert report.returncode == 0, report.stderr
    assert re.search(rf"^  macro +{roc.macro_auc:.4f}  \(per fold [0-9.]+ ± [0-9.]+, 2 folds\)$", report.stdout,
                     re.MULTILINE)
    for name in run.classes:
        assert re.search(rf"^  {name} +{roc.auc[name]:.4f}$", report.stdout, re.MULTILINE)
    assert f"occupied): {cal.ece:.4f}" in report.stdout
