"""Saved runs: written incrementally and atomically, read back equal, and every broken run a RunError."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline.errors import RunError
from pipeline.models import build_model
from pipeline.runs import (
    CONFIG,
    CONFUSION,
    PREDICTIONS,
    STATUS,
    create,
    list_runs,
    open_run,
    write_json,
)

CLASSES = ["CEP", "RR", "LPV"]


def config(**extra):
    return {"model": "cnn_lstm", "classes": CLASSES, "label_map": "ogle-5", "folds": 2, "seed": 42,
            "input_shape": [1, 16], "n_features": 0, "training": {"epochs": 2, "lr": 2e-4}, **extra}


def history(fold, epochs=2):
    return pd.DataFrame({
        "epoch": range(1, epochs + 1),
        "train_loss": [1.0 / (e + fold + 1) for e in range(epochs)],
        "train_acc": [0.1 * (e + 1) + 0.01 * fold for e in range(epochs)],
        "val_loss": [1.5 / (e + 1) for e in range(epochs)],
        "val_acc": [0.2 * (e + 1) for e in range(epochs)],
    })


def predictions(fold, n=6):
    rng = np.random.default_rng(fold)
    proba = rng.dirichlet(np.ones(len(CLASSES)), size=n)
    frame = pd.DataFrame({
        "id": [f"star-{fold}-{i}" for i in range(n)],
        "fold": fold,
        "true": [CLASSES[i % 3] for i in range(n)],
        "pred": [CLASSES[k] for k in proba.argmax(axis=1)],
    })
    for k, name in enumerate(CLASSES):
        frame[f"p_{name}"] = proba[:, k]
    return frame


def confusion(frame):
    index = {c: i for i, c in enumerate(CLASSES)}
    counts = np.zeros((3, 3), dtype=np.int64)
    for t, p in zip(frame["true"], frame["pred"]):
        counts[index[t], index[p]] += 1
    return counts


def linear_weights(seed):
    torch.manual_seed(seed)
    return torch.nn.Linear(4, 3).state_dict()


def save_folds(writer, folds):
    for fold in folds:
        writer.append_history(fold, history(fold))
        frame = predictions(fold)
        writer.save_fold(fold, linear_weights(fold), frame, confusion(frame))


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def temp_files(path):
    return [p.name for p in path.rglob("*") if p.name.endswith(".tmp")]


def test_run_round_trip(tmp_path):
    writer = create(tmp_path, config())
    assert writer.run_id.endswith("-cnn_lstm-ogle-5")
    assert open_run(writer.run_id, runs_dir=tmp_path).state == "running"
    save_folds(writer, [0, 1])
    metrics = {"accuracy": {"mean": 0.5, "std": 0.1}, "folds": [{"accuracy": 0.4}, {"accuracy": 0.6}]}
    writer.finish(metrics, message="done")

    run = open_run(writer.path)
    assert run.state == "complete" and run.status["message"] == "done" and run.status["ended"]
    assert run.classes == CLASSES and run.folds == [0, 1]
    assert {k: run.config[k] for k in config()} == config()
    assert {"run_id", "created", "versions"} <= set(run.config) and run.config["versions"]["torch"]
    expected_history = pd.concat([history(f).assign(fold=f) for f in (0, 1)], ignore_index=True)
    pd.testing.assert_frame_equal(run.history, expected_history[run.history.columns])
    pd.testing.assert_frame_equal(
        run.predictions, pd.concat([predictions(0), predictions(1)], ignore_index=True)
    )
    np.testing.assert_array_equal(run.confusion, np.stack([confusion(predictions(f)) for f in (0, 1)]))
    assert run.metrics == metrics
    for fold in (0, 1):
        saved = torch.load(run.path / f"model_fold{fold}.pt", weights_only=True)
        for name, value in linear_weights(fold).items():
            assert torch.equal(saved[name], value)
    assert temp_files(tmp_path) == []


def test_history_of_a_fold_is_replaced_not_duplicated(tmp_path):
    writer = create(tmp_path, config())
    writer.append_history(0, history(0, epochs=1))
    writer.append_history(0, history(0, epochs=3))
    assert open_run(writer.path).history["epoch"].tolist() == [1, 2, 3]


def test_load_model_rebuilds_the_network(tmp_path):
    torch.manual_seed(0)
    model = build_model("cnn_lstm", len(CLASSES), (1, 16))
    writer = create(tmp_path, config())
    frame = predictions(0)
    writer.save_fold(0, model.state_dict(), frame, confusion(frame))
    loaded = open_run(writer.path).load_model(0)
    assert not loaded.training
    x = torch.randn(2, 1, 16)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x))


def test_load_model_without_weights_names_the_file(tmp_path):
    writer = create(tmp_path, config(model="tree_baseline"))
    frame = predictions(0)
    writer.save_fold(0, None, frame, confusion(frame))
    with pytest.raises(RunError, match="model_fold0.pt"):
        open_run(writer.path).load_model(0)


def test_dead_writer_reads_as_interrupted_with_finished_folds(tmp_path):
    writer = create(tmp_path, config())
    save_folds(writer, [0])
    writer.append_history(1, history(1, epochs=1))  # fold 1 started, never finished
    status = json.loads((writer.path / STATUS).read_text())
    write_json(writer.path / STATUS, {**status, "pid": dead_pid()})

    run = open_run(writer.path)
    assert run.state == "interrupted" and "ended without finishing" in run.status["message"]
    assert run.folds == [0] and set(run.predictions["fold"]) == {0}
    assert run.confusion.shape == (1, 3, 3) and run.metrics is None
    assert sorted(run.history["fold"].unique()) == [0, 1]
    assert list_runs(tmp_path).loc[0, "status"] == "interrupted"


def test_live_writer_reads_as_running(tmp_path):
    writer = create(tmp_path, config())
    assert open_run(writer.path).state == "running"


def test_context_manager_records_failure_and_interruption(tmp_path):
    with pytest.raises(ValueError):
        with create(tmp_path, config(label_map="a")) as failing:
            raise ValueError("bad batch")
    with pytest.raises(KeyboardInterrupt):
        with create(tmp_path, config(label_map="b")) as stopped:
            save_folds(stopped, [0])
            raise KeyboardInterrupt
    failed, interrupted = open_run(failing.path), open_run(stopped.path)
    assert failed.state == "failed" and failed.status["error"] == "ValueError: bad batch"
    assert interrupted.state == "interrupted" and interrupted.folds == [0]


def test_mark_interrupted_then_no_more_writes(tmp_path):
    writer = create(tmp_path, config())
    writer.mark_interrupted("Stop pressed")
    assert open_run(writer.path).status["message"] == "Stop pressed"
    with pytest.raises(RunError, match="already interrupted"):
        writer.finish({})


def test_save_fold_checks_what_it_is_given(tmp_path):
    writer = create(tmp_path, config())
    frame = predictions(0)
    with pytest.raises(RunError, match=r"\(3, 3\)"):
        writer.save_fold(0, None, frame, np.zeros((2, 2)))
    with pytest.raises(RunError, match="p_LPV"):
        writer.save_fold(0, None, frame.drop(columns="p_LPV"), confusion(frame))
    writer.save_fold(0, None, frame, confusion(frame))
    with pytest.raises(RunError, match="already saved"):
        writer.save_fold(0, None, frame, confusion(frame))


def test_run_ids_are_unique(tmp_path):
    ids = {create(tmp_path, config()).run_id for _ in range(3)}
    assert len(ids) == 3


def _delete_config(path):
    (path / CONFIG).unlink()


def _garbage_config(path):
    (path / CONFIG).write_text("{not json")


def _truncate_predictions(path):
    data = (path / PREDICTIONS).read_bytes()
    (path / PREDICTIONS).write_bytes(data[: len(data) // 2])


def _garbage_status(path):
    (path / STATUS).write_text('{"state": "exploded", "folds_done": []}')


def _wrong_confusion(path):
    np.savez(path / CONFUSION, counts=np.zeros((1, 2, 2)), folds=np.array([0]), classes=np.array(["a", "b"]))


@pytest.mark.parametrize(
    "damage, file",
    [
        (_delete_config, CONFIG),
        (_garbage_config, CONFIG),
        (_truncate_predictions, PREDICTIONS),
        (_garbage_status, STATUS),
        (_wrong_confusion, CONFUSION),
    ],
)
def test_corrupt_run_raises_run_error_naming_dir_and_file(tmp_path, damage, file):
    writer = create(tmp_path, config())
    save_folds(writer, [0])
    damage(writer.path)
    with pytest.raises(RunError) as info:
        open_run(writer.run_id, runs_dir=tmp_path)
    message = str(info.value)
    assert str(writer.path) in message and file in message and "expected" in message


def test_unknown_run_id_raises_run_error(tmp_path):
    with pytest.raises(RunError, match="no-such-run"):
        open_run("no-such-run", runs_dir=tmp_path)


def test_list_runs_newest_first_with_corrupt_ones(tmp_path):
    older = create(tmp_path, config(label_map="ogle-10"))
    cfg = json.loads((older.path / CONFIG).read_text())
    write_json(older.path / CONFIG, {**cfg, "created": "2020-01-01T00:00:00+00:00"})
    newer = create(tmp_path, config())
    save_folds(newer, [0, 1])
    newer.finish({})
    broken = create(tmp_path, config())
    _garbage_config(broken.path)

    table = list_runs(tmp_path)
    assert list(table.columns[:8]) == ["run_id", "created", "model", "classes", "status", "folds_done",
                                       "folds", "accuracy"]
    rows = table.set_index("run_id")
    assert rows.loc[broken.run_id, "status"] == "corrupt" and CONFIG in rows.loc[broken.run_id, "reason"]
    assert rows.loc[newer.run_id, "status"] == "complete" and rows.loc[newer.run_id, "folds_done"] == 2
    expected = np.mean([np.trace(confusion(predictions(f))) / 6 for f in (0, 1)])
    assert rows.loc[newer.run_id, "accuracy"] == pytest.approx(expected)
    assert rows.loc[older.run_id, "classes"] == "ogle-10" and np.isnan(rows.loc[older.run_id, "accuracy"])
    assert table["run_id"].iloc[-1] == older.run_id


def test_list_runs_of_missing_dir_is_empty(tmp_path):
    assert list_runs(tmp_path / "nothing").empty


def test_failed_write_keeps_previous_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"accuracy": 0.9})
    with pytest.raises(TypeError):
        write_json(target, {"accuracy": object()})
    assert json.loads(target.read_text()) == {"accuracy": 0.9}
    assert temp_files(tmp_path) == []


def test_failed_finish_keeps_run_running_and_intact(tmp_path):
    writer = create(tmp_path, config())
    save_folds(writer, [0])
    with pytest.raises(TypeError):
        writer.finish({"model": object()})
    run = open_run(writer.path)
    assert run.state == "running" and run.folds == [0] and not (writer.path / "metrics.json").exists()
    assert temp_files(tmp_path) == []


def test_unserialisable_config_leaves_no_run_behind(tmp_path):
    with pytest.raises(TypeError):
        create(tmp_path, config(extra=object()))
    assert list(tmp_path.iterdir()) == []
