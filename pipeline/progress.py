"""Training progress for the CLI: a tqdm bar on a terminal, one plain line per epoch elsewhere.

A bar redraws itself with carriage returns many times a second; in a log file or a CI job those
redraws pile up as thousands of fragments of one line. When the stream is not a terminal the CLI
writes one complete line per epoch (and per fold) instead, which reads well in a log and in ``tail -f``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm.auto import tqdm

from .training import Callback


def progress(folds: int, stream: TextIO | None = None) -> TqdmProgress | LineProgress:
    """The progress reporter for ``stream`` (default ``sys.stderr``): a bar on a TTY, else lines."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return TqdmProgress(folds, stream)
    return LineProgress(folds, stream)


def _stage(state) -> str:
    """`` stage 1/2 (bigru_features)`` when the fit is one stage of several, else nothing."""
    return f" {state.stage}" if state.stage else ""


def _scores(summary) -> str:
    """A finished fold's scores: a regression's own description, or a classification's accuracy."""
    return summary.describe() if hasattr(summary, "describe") else f"accuracy {summary.accuracy:.4f}"


class TqdmProgress(Callback):
    """A progress bar over every batch of every fold, with the fold, epoch and scores beside it."""

    def __init__(self, folds: int, stream: TextIO | None = None):
        self.folds, self.bar = folds, tqdm(unit="batch", dynamic_ncols=True, file=stream)

    def on_fold_start(self, fold, folds):
        self.bar.set_description(f"fold {fold}/{folds} preparing inputs")

    def on_fit_start(self, state):
        if self.bar.total is None:
            self.bar.total = self.folds * state.epochs * state.batches
            self.bar.refresh()

    def on_epoch_start(self, state):
        self.bar.set_description(f"fold {state.fold}/{self.folds}{_stage(state)} epoch {state.epoch}/{state.epochs} "
                                 f"[{state.device}]")

    def on_batch_end(self, state):
        self.bar.update(1)

    def on_epoch_end(self, state):
        self.bar.set_postfix(loss=f"{state.train_loss:.3f}", val_acc=f"{state.val_acc:.3f}")

    def on_fold_end(self, fold, summary):
        self.bar.write(f"fold {fold}: {_scores(summary)}")

    def close(self):
        self.bar.close()


class LineProgress(Callback):
    """One flushed line per fold start, finished epoch and finished fold: for logs and CI."""

    def __init__(self, folds: int, stream: TextIO | None = None):
        self.folds, self.stream = folds, sys.stderr if stream is None else stream
        self._epoch_started = time.monotonic()

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def on_fold_start(self, fold, folds):
        self._line(f"fold {fold}/{folds}: preparing inputs")

    def on_epoch_start(self, state):
        self._epoch_started = time.monotonic()

    def on_epoch_end(self, state):
        self._line(f"fold {state.fold}/{self.folds}{_stage(state)} epoch {state.epoch}/{state.epochs} [{state.device}]: "
                   f"loss {state.train_loss:.3f}, acc {state.train_acc:.3f}, val loss {state.val_loss:.3f}, "
                   f"val acc {state.val_acc:.3f} ({time.monotonic() - self._epoch_started:.1f} s)")

    def on_fold_end(self, fold, summary):
        self._line(f"fold {fold}: {_scores(summary)}")

    def close(self):
        """Nothing to tear down (the bar's counterpart); every line was flushed when written."""
