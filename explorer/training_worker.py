"""The training process: one per job started from the explorer, supervised by the session's worker thread.

Why a process and not the worker thread itself: ``torch.set_num_threads`` is process-wide, so two
browser sessions training in one server would change each other's thread count, and a fit's Python
side (the loop, building dm-dt inputs) holds the GIL the Bokeh server needs to answer clicks. In a
process of its own a job has its own torch thread pool and its own GIL. It also runs with
``default_threads()`` torch threads (cores - 1, at least 1) and a lower scheduling priority, so the
server keeps a core and wins the CPU over a busy fit: tab switches stay as quick as when idle.

This module imports only the pipeline and torch (no Panel), so a process starts in a few seconds: it is started
with ``spawn`` (forking a server with live threads and a torch thread pool is unsafe). The process
sends plain tuples back on a queue; :class:`explorer.training.TrainingSession` turns them into the
session's params and history Buffer.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd
import torch

from pipeline import ConfigError, RunError, TrainingError
from pipeline.crossval import CrossValConfig, cross_validate
from pipeline.lightcurves import LightCurves
from pipeline.observed import catalogue_lightcurves
from pipeline.training import Callback, History

#: Seconds between two per-batch messages: the page shows a few updates a second, no more.
BATCH_MESSAGE_INTERVAL = 0.25
#: Niceness added to the training process (POSIX): the server's event loop runs first when both want the CPU.
NICENESS = 10


def default_threads() -> int:
    """Torch CPU threads of a fit started from the app: the cores this process may use, minus one for the server."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@dataclass
class Job:
    """A snapshot of what to train, taken when Start is pressed: later edits do not reach a running fit."""

    stars: pd.DataFrame
    classes: list[str]
    config: CrossValConfig
    run_info: dict
    runs_dir: str
    #: Light-curve models: ``simulate:SURVEY`` (simulated here, in the training process, seeded by
    #: ``lightcurve_seed``) or None with ``lightcurves`` the session's loaded ones.
    lightcurve_source: str | None = None
    lightcurve_seed: int = 0
    lightcurves: LightCurves | None = None


def run_job(job: Job, messages, stop) -> None:
    """The process's body: train ``job`` and report on ``messages``; ``stop`` (an Event) ends it after a batch.

    Messages: a Callback hook's name and arguments, ``("on_fold_start", fold, folds)``,
    ``("on_batch_end", state)`` (throttled), ``("on_epoch_end", state)``, ``("on_fold_end", fold,
    summary)`` (with ``accuracy`` only); then ``("done", run_id, state, folds_done, accuracies)`` or
    ``("error", kind, text, traceback)`` with kind ``"config"`` (a ConfigError, RunError or TrainingError: the user can
    fix it) or ``"bug"``.
    """
    # Ctrl-C in the server's terminal reaches this process too: the server's exit ends it instead, with a
    # SIGTERM (multiprocessing terminates daemonic children), which finishes the batch like the Stop button.
    terminated = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: terminated.set())
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    torch.set_num_threads(job.config.train.num_threads or default_threads())
    try:
        lightcurves = job.lightcurves
        if job.lightcurve_source is not None:
            lightcurves = catalogue_lightcurves(job.lightcurve_source, job.stars, job.lightcurve_seed)
        outcome = cross_validate(job.stars, job.classes, job.config, job.runs_dir, job.run_info,
                                 callbacks=[_Forward(messages)], stop=_Either(stop, terminated), lightcurves=lightcurves)
        run = outcome.run
        messages.put(("done", run.run_id, run.state, len(run.folds), [s.accuracy for s in outcome.summaries]))
    except (ConfigError, RunError, TrainingError) as exc:  # the user can act on these: no traceback
        messages.put(("error", "config", str(exc), ""))
    except Exception as exc:  # a bug or a device failure: the server logs the traceback
        messages.put(("error", "bug", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


class _Either:
    """Set when either event is: the session's Stop (across processes) or this process's SIGTERM."""

    def __init__(self, *events):
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class _Forward(Callback):
    """Training hooks -> messages, per-batch ones throttled."""

    def __init__(self, messages):
        self.messages, self.last = messages, 0.0

    @staticmethod
    def _light(state):
        return dataclasses.replace(state, history=History())  # the per-epoch lists stay in this process

    def on_fold_start(self, fold, folds):
        self.messages.put(("on_fold_start", fold, folds))

    def on_fold_end(self, fold, summary):
        self.messages.put(("on_fold_end", fold, SimpleNamespace(accuracy=float(summary.accuracy))))

    def on_batch_end(self, state):
        if time.monotonic() - self.last >= BATCH_MESSAGE_INTERVAL:
            self.last = time.monotonic()
            self.messages.put(("on_batch_end", self._light(state)))

    def on_epoch_end(self, state):
        self.messages.put(("on_epoch_end", self._light(state)))
