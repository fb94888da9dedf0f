"""What a hostile but realistic user does: absurd values, reordered or foreign columns, bad files and
bad arguments. Every case must end in a clear error or a correct result, never a silent wrong one
or a traceback. The catalogue and argument cases are tables (``CATALOGUE_CASES``, ``ARGUMENT_CASES``)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipeline import CleaningConfig, ConfigError, TrainingError, clean, load_catalog
from pipeline.crossval import CrossValConfig, cross_validate, predict
from pipeline.runs import list_runs, open_run
from pipeline.training import preset
from tests.ztf_files import write_csv, ztf_table


def quick(**overrides):
    return preset("quick", **{"epochs": 1, "batch_size": 16, "num_threads": 1, **overrides})


@pytest.fixture(scope="module")
def ztf_csv(tmp_path_factory):
    """A small two-band (g, r) ZTF CSV export."""
    return write_csv(ztf_table(400, seed=3), tmp_path_factory.mktemp("ztf") / "ztf.csv")


@pytest.fixture(scope="module")
def stars(ztf_csv):
    result = clean(load_catalog(ztf_csv), CleaningConfig(classes="ztf-5", cap=None))
    return result.data.reset_index(drop=True), result.classes


@pytest.fixture(scope="module")
def features_run(stars, tmp_path_factory):
    """A complete cnn2d_features run on the g/r stars (its inputs: 2 bands x 5 classes, 4 features)."""
    data, classes = stars
    runs_dir = tmp_path_factory.mktemp("runs")
    return cross_validate(data, classes, CrossValConfig(model="cnn2d_features", folds=2, train=quick()),
                          runs_dir=runs_dir).run


# -------------------------------------------------------------------------------- silent wrong results

@pytest.mark.parametrize("model, column, named", [
    ("cnn_lstm", "amp_r", r"amp_r=1e\+308"),  # the light curve overflows to inf in float32
    ("cnn2d_features", "amp_g", "feature amp_g"),  # the feature overflows
])
def test_an_absurd_value_is_refused_before_training(stars, tmp_path, model, column, named):
    data, classes = stars
    data = data.copy()
    data.loc[7, column] = 1e308
    with pytest.raises(TrainingError, match=named) as caught:
        cross_validate(data, classes, CrossValConfig(model=model, folds=2, train=quick()), runs_dir=tmp_path)
    assert repr(str(data.loc[7, "id"])) in str(caught.value)
    assert list_runs(tmp_path).empty  # refused before a run directory exists


def test_a_non_finite_loss_fails_the_fold_naming_epoch_and_batch(stars, tmp_path):
    data, classes = stars
    config = CrossValConfig(model="cnn_lstm", folds=2, train=quick(lr=1e30))  # the first step blows the weights up
    with pytest.raises(TrainingError, match=r"fold 1, epoch 1, batch \d+"):
        cross_validate(data, classes, config, runs_dir=tmp_path)
    run = open_run(list_runs(tmp_path).loc[0, "path"])
    assert run.state == "failed" and run.folds == []
    assert "epoch 1, batch" in run.status["error"]


def test_fit_itself_refuses_non_finite_inputs():
    from pipeline.models import build_model
    from pipeline.training import Arrays, fit

    x = np.zeros((4, 1, 360), np.float32)
    x[2, 0, 7] = np.inf
    with pytest.raises(TrainingError, match="training inputs x hold 1 non-finite value.*first in sample 2"):
        fit(build_model("cnn_lstm", 2, (1, 360)), Arrays(x, np.array([0, 1, 0, 1])), None, quick())


def test_a_run_records_its_inputs_in_order(features_run):
    inputs = features_run.config["inputs"]
    assert inputs["amp_bands"] == ["g", "r"] and inputs["band"] == "r"
    assert inputs["channels"][:2] == [f"{features_run.classes[0]}/g", f"{features_run.classes[0]}/r"]
    assert len(inputs["channels"]) == features_run.config["input_shape"][0]
    assert inputs["features"] == ["log_period", "amp_g", "amp_r", "colour"]


def test_predict_builds_inputs_in_the_recorded_order(features_run, stars):
    data, _ = stars
    new = data.drop(columns="label").iloc[:20]
    swapped = new[["id", "raw_label", "period", "r21", "phi21", "r31", "phi31", "amp_r", "amp_g", "mag_r",
                   "mag_g"]]
    a, b = predict(features_run, new), predict(features_run, swapped)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("renamed, missing", [
    ({"amp_g": "amp_V", "amp_r": "amp_I", "mag_g": "mag_V", "mag_r": "mag_I"}, "amp_g, amp_r, mag_r, mag_g"),
    ({"amp_g": "amp_x", "mag_g": "mag_x"}, "amp_g, mag_g"),  # one band short: the channel count would differ
])
def test_predict_refuses_a_catalogue_without_the_trained_bands(features_run, stars, renamed, missing):
    data, _ = stars
    foreign = data.drop(columns="label").iloc[:20].rename(columns=renamed)
    with pytest.raises(ConfigError, match=f"lacks column\\(s\\) {missing} "):
        predict(features_run, foreign)


# -------------------------------------------------------------------------------- catalogue files

def run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=300)


def _boolean_period(folder, csv):
    frame = pd.read_csv(csv)
    frame["Per"] = frame["Per"] > 1
    frame.to_parquet(folder / "boolean.parquet")
    return folder / "boolean.parquet"


def _folder(folder, csv):
    (folder / "catalogue.csv").mkdir()
    return folder / "catalogue.csv"


def _gzip_named_csv(folder, csv):
    (folder / "really-gzip.csv").write_bytes(gzip.compress(csv.read_bytes()))
    return folder / "really-gzip.csv"


def _csv_gz(folder, csv):
    (folder / "table.csv.gz").write_bytes(gzip.compress(csv.read_bytes()))
    return folder / "table.csv.gz"


def _bare_gz(folder, csv):
    (folder / "table.gz").write_bytes(gzip.compress(csv.read_bytes()))
    return folder / "table.gz"


def _truncated_gz(folder, csv):
    (folder / "cut.csv.gz").write_bytes(gzip.compress(csv.read_bytes())[:200])
    return folder / "cut.csv.gz"


#: (case, how to make the file from the reference CSV, expected text in the error; None: it loads)
CATALOGUE_CASES = [
    ("boolean period column", _boolean_period, "column 'Per' (period) holds true/false values"),
    ("folder given as catalogue", _folder, "catalogue.csv: is a folder; expected a catalogue file"),
    ("gzip bytes under .csv", _gzip_named_csv, None),
    (".csv.gz", _csv_gz, None),
    (".gz", _bare_gz, None),
    ("truncated .csv.gz", _truncated_gz, "cannot parse as CSV"),
]


@pytest.mark.parametrize("case, make, expected", CATALOGUE_CASES, ids=[c[0] for c in CATALOGUE_CASES])
def test_hostile_catalogue(tmp_path, ztf_csv, case, make, expected):
    path = make(tmp_path, ztf_csv)
    out = run_cli("clean", "--catalog", path, "--classes", "ztf-5", env={"VSE_CACHE_DIR": str(tmp_path / "cache")})
    assert "Traceback" not in out.stderr
    if expected is None:
        reference = run_cli("clean", "--catalog", ztf_csv, "--classes", "ztf-5",
                            env={"VSE_CACHE_DIR": str(tmp_path / "cache")})
        assert out.returncode == 0, out.stderr
        assert out.stdout == reference.stdout.replace(str(ztf_csv), str(path))
    else:
        assert out.returncode == 2 and out.stderr.startswith("error: ") and expected in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


# -------------------------------------------------------------------------------- arguments and damaged runs

@pytest.fixture(scope="module")
def cli_run(ztf_csv, tmp_path_factory):
    """A complete 2-fold cnn_lstm run trained from the terminal: (runs folder, run id)."""
    runs = tmp_path_factory.mktemp("cli-runs")
    train = run_cli("train", "--catalog", ztf_csv, "--classes", "ztf-5", "--model", "cnn_lstm", "--folds", "2",
                    "--epochs", "1", "--batch-size", "16", "--runs-dir", runs)
    assert train.returncode == 0, train.stderr
    return runs, next(runs.iterdir()).name


def _remove(name):
    return lambda run: (run / name).unlink()


def _garble(name):
    return lambda run: (run / name).write_bytes(b"not what it should be")


#: (case, damage done to a copy of the run or None, arguments ({csv}, {runs}, {run}, {tmp} filled in),
#: expected text in stderr; exit code 2 unless the text is None, then 0)
ARGUMENT_CASES = [
    ("runs-dir is a file", None, "train --catalog {csv} --model cnn_lstm --runs-dir {csv}",
     "is a file; expected a folder for the runs"),
    ("runs-dir below a file", None, "train --catalog {csv} --model cnn_lstm --runs-dir {csv}/runs",
     "is a file, so no folder can be made below it"),
    ("negative seed", None, "clean --catalog {csv} --seed -1", "-1 is not a seed"),
    ("dmdt --out into a missing folder", None, "dmdt --catalog {csv} --out {tmp}/no/images.npz",
     "does not exist; create it first"),
    ("predict --out into a missing folder", None,
     "predict {run} --catalog {csv} --out {tmp}/no/p.csv --runs-dir {runs}", "does not exist; create it first"),
    ("predict --out is the catalogue", None, "predict {run} --catalog {csv} --out {csv} --runs-dir {runs}",
     "is an input"),
    ("predict --out inside the run", None,
     "predict {run} --catalog {csv} --out {runs}/{run}/stars.parquet --runs-dir {runs}", "is inside an input"),
    ("stars.parquet missing", _remove("stars.parquet"),
     "predict {run} --catalog {csv} --out {tmp}/p.csv --runs-dir {runs}", "stars.parquet is missing or corrupt"),
    ("stars.parquet corrupt", _garble("stars.parquet"),
     "predict {run} --catalog {csv} --out {tmp}/p.csv --runs-dir {runs}", "stars.parquet is missing or corrupt"),
    ("weights corrupt", _garble("model_fold2.pt"),
     "predict {run} --catalog {csv} --out {tmp}/p.csv --runs-dir {runs}", "weights file of fold 2 is corrupt"),
    ("report without metrics.json", _remove("metrics.json"), "report {run} --runs-dir {runs}", None),
    ("predict without metrics.json", _remove("metrics.json"),
     "predict {run} --catalog {csv} --out {tmp}/p.csv --runs-dir {runs}", None),
]


@pytest.mark.parametrize("case, damage, args, expected", ARGUMENT_CASES, ids=[c[0] for c in ARGUMENT_CASES])
def test_hostile_arguments(tmp_path, ztf_csv, cli_run, case, damage, args, expected):
    import shutil

    runs, run_id = cli_run
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    if damage is not None:
        damage(copy / run_id)
    argv = args.format(csv=ztf_csv, runs=copy, run=run_id, tmp=tmp_path).split()
    out = run_cli(*argv)
    assert "Traceback" not in out.stderr
    if expected is None:
        assert out.returncode == 0, out.stderr
    else:
        assert out.returncode == 2 and expected in out.stderr, out.stderr
        assert "weights_only" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert [line for line in lines if "error: " in line] == lines[-1:]  # one error line, after argparse's usage
    assert ztf_csv.read_bytes().startswith(b"ID,")  # no case wrote over the catalogue


def test_predict_on_an_interrupted_run_says_it_averaged_only_finished_folds(stars, ztf_csv, tmp_path):
    import json
    import threading

    import pyarrow.parquet as pq

    from pipeline.training import Callback

    class StopInFold2(Callback):
        def __init__(self, stop):
            self.stop = stop

        def on_batch_end(self, state):
            if state.fold == 2:
                self.stop.set()

    data, classes = stars
    stop = threading.Event()
    run = cross_validate(data, classes, CrossValConfig(model="cnn_lstm", folds=3, train=quick()),
                         runs_dir=tmp_path / "runs", callbacks=[StopInFold2(stop)], stop=stop).run
    assert run.state == "interrupted" and run.folds == [1]
    for out in (tmp_path / "p.parquet", tmp_path / "p.csv"):
        predicted = run_cli("predict", run.path, "--catalog", ztf_csv, "--out", out)
        assert predicted.returncode == 0, predicted.stderr
        assert "is interrupted: the probabilities average only its 1 finished fold model(s) (folds 1) of 3" \
            in predicted.stderr
    saved = json.loads(pq.read_schema(tmp_path / "p.parquet").metadata[b"variable_star_explorer"])
    assert saved == {"run_id": run.run_id, "run_state": "interrupted", "folds_averaged": [1], "folds_planned": 3,
                     "classes": classes}
    assert json.loads((tmp_path / "p.csv.json").read_text()) == saved


def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_unshare = pytest.mark.skipif(not _unshare_works(), reason="needs unshare -rm (user and mount namespaces) "
                                   "to mount a small or read-only filesystem without root")


def _in_mount(mount, options, *commands):
    """Run ``python -m pipeline`` commands, each an argument list, with a fresh tmpfs mounted on
    ``mount`` (private to them); each command's exit code follows its output as ``rc=N``."""
    script = " ; ".join(f"{sys.executable} -m pipeline " + " ".join(f"'{a}'" for a in map(str, args))
                        + ' ; echo "rc=$?" >&2' for args in commands)
    return subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o {options} tmpfs {mount} && {script}"],
                          capture_output=True, text=True, env=os.environ, timeout=300)


@needs_unshare
def test_a_read_only_runs_dir_is_one_line(tmp_path, ztf_csv):
    mount = tmp_path / "ro"
    mount.mkdir()
    out = _in_mount(mount, "ro,size=1m", ["train", "--catalog", ztf_csv, "--model", "cnn_lstm", "--runs-dir", mount])
    assert "rc=2" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert f"--runs-dir {mount}: cannot write there (read-only file system)" in out.stderr


@needs_unshare
def test_a_full_disk_keeps_the_finished_folds(tmp_path, ztf_csv, cli_run):
    runs, run_id = cli_run
    sizes = {p.name: p.stat().st_size for p in (runs / run_id).iterdir()}
    # Room for everything fold 1 writes, but not for fold 2's weights as well.
    room = sum(sizes.values()) - sizes["metrics.json"] - sizes["model_fold2.pt"] // 2
    mount = tmp_path / "small"
    mount.mkdir()
    train = ["train", "--catalog", ztf_csv, "--classes", "ztf-5", "--model", "cnn_lstm", "--folds", "2", "--epochs",
             "1", "--batch-size", "16", "--runs-dir", mount / "runs"]
    out = _in_mount(mount, f"size={room // 4096 * 4096 + 8192}", train, ["runs", "--runs-dir", mount / "runs"])
    assert "Traceback" not in out.stderr, out.stderr
    train_err, runs_err = out.stderr.split("rc=", 1)
    assert runs_err.startswith("2") and train_err.strip().splitlines()[-1].startswith("error: "), out.stderr
    assert "no space left on device; the run keeps the folds finished before it" in train_err
    listed = [line for line in out.stdout.splitlines() if "cnn_lstm" in line]
    assert len(listed) == 1 and " failed " in listed[0] and " 1 " in listed[0], out.stdout  # fold 1 kept
    assert "No space left on device" in listed[0]


# -------------------------------------------------------------------------------- run files

def test_run_files_are_group_readable_and_stale_temps_go(tmp_path):
    from pipeline.runs import _HOST, atomic_write, create

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".status.json.{_HOST}-{int(dead.stdout)}.x1y2.tmp"  # left by a killed writer
    live = tmp_path / f".status.json.{_HOST}-{os.getpid()}.a1b2.tmp"  # a write in progress, not to be touched
    elsewhere = tmp_path / f".status.json.other-host-{int(dead.stdout)}.c3d4.tmp"  # another machine's
    for leftover in (stale, live, elsewhere):
        leftover.write_bytes(b"half")
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "status.json", lambda h: h.write(b"{}"))
        writer = create(tmp_path / "runs", {"model": "cnn_lstm", "classes": ["a", "b"]})
    finally:
        os.umask(old)
    assert not stale.exists() and live.exists() and elsewhere.exists()
    for path in (tmp_path / "status.json", writer.path / "config.json", writer.path / "status.json"):
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_a_runs_folder_inside_the_runs_folder_is_not_a_corrupt_run(tmp_path):
    from pipeline.runs import create

    create(tmp_path / "runs", {"model": "cnn_lstm", "classes": ["a", "b"]})
    inner = create(tmp_path / "runs" / "older", {"model": "cnn2d", "classes": ["a", "b"]})
    (tmp_path / "runs" / "broken").mkdir()  # a folder with nothing of a run: still reported
    listing = list_runs(tmp_path / "runs")
    assert sorted(listing["status"]) == ["corrupt", "running"] and "older" not in set(listing["run_id"])
    assert list_runs(tmp_path / "runs" / "older")["run_id"].tolist() == [inner.run_id]


@pytest.mark.parametrize("damage, shown", [
    ("garbled", "stars.parquet is missing or corrupt"),
    ("removed", "has no stars.parquet: its stars cannot be drawn"),
])
def test_the_misclassifications_view_says_when_stars_parquet_is_damaged(tmp_path, cli_run, damage, shown):
    import shutil

    import panel as pn

    from explorer.state import ExplorerState
    from explorer.training import TrainingSession
    from explorer.views.misclassifications import MisclassificationsView

    runs, run_id = cli_run
    shutil.copytree(runs, tmp_path / "runs")
    stars_file = tmp_path / "runs" / run_id / "stars.parquet"
    stars_file.write_bytes(b"PAR1 truncated") if damage == "garbled" else stars_file.unlink()
    session = TrainingSession(state=ExplorerState(), runs_dir=str(tmp_path / "runs"))
    try:
        view = MisclassificationsView(state=session.state, session=session)
        predictions = open_run(tmp_path / "runs" / run_id).predictions
        session.cell = tuple(predictions[["true", "pred"]].iloc[0])
        detail = view._detail() if view.star else None
        texts = " ".join(str(p.object) for p in [view._title, *(detail.select(pn.pane.Alert) if detail else [])])
        assert shown in texts
    finally:
        session.shutdown()
        assert session.join(30)


# -------------------------------------------------------------------------------- Ctrl-C

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to see what a process reads")


def _wait_until(condition, process, timeout=120.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the process never got there"
        time.sleep(0.02)  # poll interval


@needs_proc
def test_ctrl_c_while_loading_stops_promptly_in_one_line(tmp_path, ztf_csv):
    import signal
    import time

    table = pd.read_csv(ztf_csv, dtype=str)
    big = tmp_path / "big.csv"
    pd.concat([table.assign(ID=table["ID"] + f"-{k}") for k in range(500)]).to_csv(big, index=False)
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "clean", "--catalog", big], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "VSE_CACHE_DIR": str(tmp_path / "cache")})
    fds = f"/proc/{process.pid}/fd"

    def reading():
        try:
            return any(os.readlink(os.path.join(fds, fd)) == str(big) for fd in os.listdir(fds))
        except OSError:  # a descriptor closed while looking
            return False

    _wait_until(reading, process)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 5  # a whole read of this file takes longer on a loaded machine
    assert process.returncode == 130 and err == "interrupted\n", err


def test_ctrl_c_twice_during_training_ends_cleanly_keeping_the_run(tmp_path, ztf_csv):
    import signal
    import threading

    runs = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "train", "--catalog", ztf_csv, "--classes", "ztf-5", "--model", "cnn_lstm",
         "--folds", "2", "--epochs", "50", "--batch-size", "8", "--runs-dir", runs],
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    training, stopping, lines = threading.Event(), threading.Event(), []

    def read_stderr():  # by character: the progress bar rewrites its line with \r
        for char in iter(lambda: process.stderr.read(1), ""):
            lines.append(char)
            text = "".join(lines[-400:])
            if "fold 1/2 epoch 1/50" in text:
                training.set()
            if "stopping after the current step" in text:
                stopping.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    assert training.wait(120), "".join(lines)
    process.send_signal(signal.SIGINT)
    assert stopping.wait(60), "".join(lines)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    reader.join(10)
    assert process.returncode == 130 and "Traceback" not in "".join(lines), "".join(lines)
    assert list_runs(runs).loc[0, "status"] == "interrupted"
