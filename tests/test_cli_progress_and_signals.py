"""``python -m pipeline train`` outside a terminal: one progress line per epoch, and SIGTERM handled
like Ctrl-C (the batch finishes, the run is marked interrupted, the finished folds are kept)."""

from __future__ import annotations

import io
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.progress import LineProgress, TqdmProgress, progress
from pipeline.runs import STATUS
from tests.ogle_files import star_rows, write_ogle3

#: Bound on every wait for the training subprocess (seconds on 2 idle cores; minutes on a loaded machine).
WAIT_S = 600


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    bar = progress(2, _Terminal())
    try:
        assert isinstance(bar, TqdmProgress)
    finally:
        bar.close()
    assert isinstance(progress(2, io.StringIO()), LineProgress)


@pytest.fixture
def ogle_csv(tmp_path) -> Path:
    from pipeline.catalogs import read_ogle3
    path = tmp_path / "ogle_small.csv"
    read_ogle3(write_ogle3(tmp_path / "ogle3.txt.bz2", star_rows(n_per_kind=8))).to_csv(path, index=False)
    return path


def _train(ogle_csv: Path, tmp_path: Path, epochs: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "train", "--catalog", str(ogle_csv), "--classes", "ogle-5",
         "--model", "cnn_lstm", "--folds", "2", "--epochs", str(epochs), "--batch-size", "8",
         "--runs-dir", str(tmp_path / "runs")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "VSE_CACHE_DIR": str(tmp_path / "cache")},
    )


def _read_until(process: subprocess.Popen, wanted: str) -> list[str]:
    """Lines of the process's stderr up to the first one containing ``wanted`` (bounded by WAIT_S)."""
    lines, deadline = [], time.monotonic() + WAIT_S
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if wanted in line:
                return lines
    process.kill()
    pytest.fail(f"no line with {wanted!r} within {WAIT_S} s; stderr so far:\n{''.join(lines)}")


def test_progress_in_a_pipe_is_one_line_per_epoch(ogle_csv, tmp_path):
    process = _train(ogle_csv, tmp_path, epochs=2)
    stdout, stderr = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, stderr
    assert "\r" not in stderr
    epochs = [line for line in stderr.splitlines() if " epoch " in line]
    assert [line.split(" [")[0] for line in epochs] == [
        "fold 1/2 epoch 1/2", "fold 1/2 epoch 2/2", "fold 2/2 epoch 1/2", "fold 2/2 epoch 2/2"]
    assert all("val acc" in line for line in epochs)
    assert "(complete)" in stdout


def test_sigterm_finishes_the_batch_and_keeps_the_finished_folds(ogle_csv, tmp_path):
    # Sent as soon as fold 1 is saved: fold 2 still has all of its epochs ahead of it.
    process = _train(ogle_csv, tmp_path, epochs=3)
    try:
        _read_until(process, "fold 1: accuracy")
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    status = json.loads((run_dir / STATUS).read_text())
    assert status["state"] == "interrupted" and status["folds_done"] == [1], status
    assert "stopped after 1 of 2 folds" in status["message"]
    assert f"run {run_dir.name} (interrupted)" in stdout and "folds done [1]" in stdout
