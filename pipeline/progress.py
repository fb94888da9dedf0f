"""Training progress for a terminal: a tqdm bar over every batch of every fold."""

from __future__ import annotations

from tqdm.auto import tqdm

from .training import Callback


class TqdmProgress(Callback):
    """A progress bar over every batch of every fold, with the fold, epoch and scores beside it."""

    def __init__(self, folds: int):
        self.folds, self.bar = folds, tqdm(unit="batch", dynamic_ncols=True)

    def on_fold_start(self, fold, folds):
        self.bar.set_description(f"fold {fold}/{folds} preparing inputs")

    def on_fit_start(self, state):
        if self.bar.total is None:
            self.bar.total = self.folds * state.epochs * state.batches
            self.bar.refresh()

    def on_epoch_start(self, state):
        self.bar.set_description(f"fold {state.fold}/{self.folds} epoch {state.epoch}/{state.epochs} [{state.device}]")

    def on_batch_end(self, state):
        self.bar.update(1)

    def on_epoch_end(self, state):
        self.bar.set_postfix(loss=f"{state.train_loss:.3f}", val_acc=f"{state.val_acc:.3f}")

    def on_fold_end(self, fold, summary):
        self.bar.write(f"fold {fold}: accuracy {summary.accuracy:.4f}")

    def close(self):
        self.bar.close()
