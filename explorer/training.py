"""Training from the explorer: one :class:`TrainingSession` per browser session, and saved runs read back.

The session owns a worker thread that waits for a job and runs each one in a training process of its
own (:mod:`explorer.training_worker` says why a process: its own torch thread count and GIL, cores - 1
threads, lower priority), streaming the process's fold, batch and epoch messages into the session. So
a fit never blocks the page, and two sessions train independently (nothing here is module-level
mutable state). The thread is started from ``pn.state.onload`` (starting it while the page is still
being built races with HoloViews' plot set-up) and stopped by ``pn.state.on_session_destroyed``, or
by :meth:`TrainingSession.shutdown` in a notebook; a stop reaches the process, which finishes its
batch and saves the run as interrupted. The thread touches only this object's params and its
``history`` Buffer; Panel and HoloViews move those updates onto the session's event loop. The
science (folds, training, metrics) is ``pipeline``'s; this module only feeds it the session's cleaned
stars and reads the runs it writes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import param
import torch
from holoviews.streams import Buffer

from explorer.observations import SURVEY_NAMES
from explorer.state import PALETTE, ExplorerState, SharedMemo
from explorer.training_worker import Job, default_threads, run_job
from pipeline import ConfigError, RunError
from pipeline.crossval import LIGHTCURVE_MODEL_CHOICES, MODEL_CHOICES, STARS_FILE, CrossValConfig, read_stars
from pipeline.lightcurves import LightCurves
from pipeline.metrics import ClassificationSummary, average_confusion, classification_summary, fold_table
from pipeline.probability_metrics import Calibration, RocSummary, calibration, roc_summary
from pipeline.regression import is_regression
from pipeline.representations import DMDT_MODES, LEAK_WARNING
from pipeline.runs import HISTORY_COLUMNS, STATUS, Run, list_runs, open_run
from pipeline.schema import primary_band
from pipeline.training import PRESETS, Callback, FitState, preset, select_device

log = logging.getLogger(__name__)

#: Seconds between two per-batch progress updates: a few a second keep the page live without flooding it.
PROGRESS_INTERVAL = 0.25
#: Seconds the worker waits for a message before checking that the training process is still alive.
POLL_INTERVAL = 0.5
#: Seconds a training process may take to exit once it has reported its end.
EXIT_TIMEOUT = 30


def available_devices() -> list[str]:
    """Devices this machine can train on (those select_device accepts); ``auto`` picks CUDA, then MPS, then CPU."""
    devices = ["auto", "cpu"]
    for name in ("cuda", "mps"):
        try:
            select_device(name)
        except ConfigError:
            continue
        devices.append(name)
    if "cuda" in devices and torch.cuda.device_count() > 1:
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return devices


def run_colors(classes) -> dict[str, str]:
    """Class colours of a run, in the order ExplorerState.class_colors() gives the same classes."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(classes)}


def run_choices(runs: pd.DataFrame) -> dict[str, str]:
    """``{label: run_id}`` for run selectors: state, folds and accuracy beside the id (which names the model)."""
    choices = {}
    for row in runs.itertuples():
        if row.status == "corrupt":
            label = f"{row.run_id} (corrupt)"
        else:
            accuracy = "" if pd.isna(row.accuracy) else f", accuracy {row.accuracy:.3f}"
            label = f"{row.run_id} ({row.status}, {row.folds_done}/{row.folds} folds{accuracy})"
        choices[label] = row.run_id
    return choices


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on (thesis-preset runs take hours on a CPU)."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class RunReport:
    """A saved run with the scores the views show, over the folds it finished.

    ``summaries`` are recomputed from the saved predictions so an interrupted run (no metrics.json)
    reads like a complete one; ``folds`` is the per-fold table with mean and std rows.
    """

    run: Run
    summaries: list[ClassificationSummary]
    folds: pd.DataFrame | None
    per_class: pd.DataFrame | None  # precision, recall, f1, support per class: mean over folds
    counts: np.ndarray | None  # mean confusion counts (true x predicted)
    normalised: np.ndarray | None

    @cached_property
    def roc(self) -> RocSummary:
        """ROC curves of the validated stars pooled over the folds: computed once per report, not per draw.

        Raises ValueError when the saved probabilities cannot be scored."""
        return roc_summary(self.run.predictions, self.run.classes)

    @cached_property
    def calibration(self) -> Calibration:
        """Reliability diagram of the pooled validated stars, once per report (raises like :attr:`roc`)."""
        return calibration(self.run.predictions, self.run.classes)

    @property
    def note(self) -> str:
        """What a reader must know before trusting the numbers (interrupted, failed, leaking)."""
        run, notes = self.run, []
        planned = run.config.get("folds")
        if run.state != "complete":
            reason = run.status.get("error") or run.status.get("message") or ""
            done = f"{len(run.folds)} of {planned} folds" if planned else f"{len(run.folds)} folds"
            notes.append(f"This run is **{run.state}**{f' ({reason})' if reason else ''}: "
                         + (f"showing the {done} it finished." if run.folds else "no fold finished, nothing to score."))
        if run.config.get("leaks_label"):
            notes.append(f"**Label leak.** {LEAK_WARNING}")
        return " ".join(notes)


def build_report(run: Run) -> RunReport:
    """Per-fold scores, per-class means and averaged confusion of ``run``'s finished folds."""
    if not run.folds:
        return RunReport(run, [], None, None, None, None)
    summaries = [classification_summary(group["true"], group["pred"], run.classes)
                 for _, group in run.predictions.groupby("fold", sort=True)]
    per_class = pd.concat([s.per_class for s in summaries]).groupby(level=0, sort=False).mean().reindex(run.classes)
    counts, normalised = average_confusion(list(run.confusion))
    return RunReport(run, summaries, fold_table(summaries, folds=run.folds), per_class, counts, normalised)


#: Saved runs read back with their reports, shared by every session like the catalogues (explorer.state):
#: a new page's Results tab then reads no file and scores nothing again (0.35 s for a 10-class run).
SAVED_RUNS = SharedMemo(16)


def read_run(path: Path) -> tuple[Run, RunReport | None]:
    """The run at ``path`` and its report; None for a regression run, which is scored by its own view."""
    run = open_run(path)
    return run, None if is_regression(run) else build_report(run)


class _Progress(Callback):
    """Training hooks -> the session's params (throttled) and one history row per epoch."""

    def __init__(self, session: TrainingSession, folds: int):
        self.session, self.folds = session, folds
        self.started = self.last = time.monotonic()

    def _show(self, state: FitState | None, fold: int, what: str, fold_done: bool = False) -> None:
        done = fold / self.folds if fold_done else 0.0  # a model trained without batches: whole folds
        what = f"{state.stage} · {what}" if state is not None and state.stage else what  # a model trained in stages
        if state is not None and state.batches:
            per_fold = state.epochs * state.batches
            done = ((fold - 1) * per_fold + (state.epoch - 1) * state.batches + state.batch) / (self.folds * per_fold)
        elapsed = time.monotonic() - self.started
        eta = f" · ETA {format_duration(elapsed * (1 - done) / done)}" if done > 0 else ""
        self.session.param.update(
            fraction=min(max(done, self.session.fraction), 1.0),
            progress=f"Fold {fold} of {self.folds} · {what}{eta} · elapsed {format_duration(elapsed)} · "
                     f"device {self.session.device_name}",
        )
        self.last = time.monotonic()

    def on_fold_start(self, fold, folds):
        self._show(None, fold, "building inputs")

    def on_batch_end(self, state):
        if time.monotonic() - self.last >= PROGRESS_INTERVAL:
            self._show(state, state.fold, f"epoch {state.epoch} of {state.epochs} · batch {state.batch} of "
                                          f"{state.batches} · loss {state.train_loss:.3f}")

    def on_epoch_end(self, state):
        self.session.history.send(pd.DataFrame([{
            "fold": state.fold, "epoch": state.epoch, "train_loss": state.train_loss, "train_acc": state.train_acc,
            "val_loss": state.val_loss, "val_acc": state.val_acc}], columns=list(HISTORY_COLUMNS)))
        self._show(state, state.fold, f"epoch {state.epoch} of {state.epochs} done · val acc {state.val_acc:.3f}")

    def on_fold_end(self, fold, summary):
        self._show(None, fold, f"fold done, accuracy {summary.accuracy:.3f}", fold_done=True)


class TrainingSession(param.Parameterized):
    """Training settings, the worker that trains, and the saved run the result views look at."""

    state = param.ClassSelector(class_=ExplorerState, doc="The session's catalogue and cleaning: what is trained on.")

    model = param.Selector(default="cnn2d_features", objects=[*MODEL_CHOICES, *LIGHTCURVE_MODEL_CHOICES],
                           doc="Catalogue models, or models on the stars' light curves (Observations tab's source).")
    preset = param.Selector(default="quick", objects=list(PRESETS), doc="Choosing one sets epochs, batch size and lr.")
    epochs = param.Integer(default=PRESETS["quick"].epochs, bounds=(1, None))
    batch_size = param.Integer(default=PRESETS["quick"].batch_size, bounds=(1, None))
    lr = param.Number(default=PRESETS["quick"].lr, bounds=(0, None), inclusive_bounds=(False, True))
    label_smoothing = param.Number(default=0.0, bounds=(0, 0.99),
                                   doc="Soften the training targets (seed 001 used 0.1); 0: plain cross-entropy.")
    folds = param.Integer(default=5, bounds=(2, 20))
    dmdt_mode = param.Selector(default="reference", objects=list(DMDT_MODES), doc="Follows the dm-dt tab's mode.")
    device = param.Selector(default="auto", objects=available_devices())
    threads = param.Integer(default=None, allow_None=True, bounds=(1, None),
                            doc="Torch CPU threads of the training process; None: cores - 1 (one kept for the server).")
    runs_dir = param.String(default="runs", doc="Where runs are saved; $VSE_RUNS_DIR when set.")
    # Seed 001's ensemble, for models on light curves (pipeline.bagging)
    members = param.Integer(default=1, bounds=(1, 20), doc="Networks per fold, each on a balanced sub-dataset.")
    augment = param.Selector(default=None, objects={"none": None, "GP draws": "gp", "copies": "duplicate"},
                             allow_None=True, doc="Top small classes up with GP draws (seed 001's paper) or copies "
                                                  "(its public code).")
    max_steps = param.Integer(default=200, allow_None=True, bounds=(2, None),
                              doc="bigru_features: longer sequences keep every k-th epoch (counted in the run).")

    running = param.Boolean(default=False, doc="A job is being trained.")
    progress = param.String(default="", doc="Fold k of K, epoch, ETA, device.")
    fraction = param.Number(default=0.0, bounds=(0, 1), doc="Share of the job's batches done.")
    device_name = param.String(default="", doc="The device of the current or last job ('auto' resolved).")
    error = param.String(default="", doc="Why the last Start or job failed.")
    message = param.String(default="", doc="How the last job ended.")
    last_run_id = param.String(default=None, allow_None=True, doc="Run written by the last job.")

    runs = param.DataFrame(default=None, allow_None=True, doc="list_runs() of runs_dir, refreshed after each job.")
    chosen_run = param.Selector(default=None, objects=[], allow_None=True,
                                doc="Run the results and misclassification views show; one of runs_dir's runs.")
    cell = param.Tuple(default=None, allow_None=True, length=2, doc="(true, predicted) confusion cell picked.")

    def __init__(self, **params):
        params.setdefault("runs_dir", os.environ.get("VSE_RUNS_DIR") or "runs")
        if "state" in params:
            params.setdefault("dmdt_mode", params["state"].dmdt_mode)
        super().__init__(**params)
        self.history = Buffer(pd.DataFrame(columns=list(HISTORY_COLUMNS)), length=100_000, index=False)
        self._wake, self._stop, self._quit, self._idle = (threading.Event() for _ in range(4))
        self._idle.set()
        self._job: Job | None = None
        self._process_stop = None  # the running job's stop Event, shared with its process
        self._thread: threading.Thread | None = None
        self._cache_lock = threading.Lock()
        self._stars: dict[str, pd.DataFrame | None] = {}
        self.device_name = str(select_device(self.device))
        self.refresh_runs()
        pn.state.onload(self.start_worker)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:  # outside a server session this would
            pn.state.on_session_destroyed(self.shutdown)       # register for every future session

    # ------------------------------------------------------------------ settings
    @param.depends("preset", watch=True)
    def _apply_preset(self):
        chosen = PRESETS[self.preset]
        self.param.update(epochs=chosen.epochs, batch_size=chosen.batch_size, lr=chosen.lr)

    @param.depends("state.dmdt_mode", watch=True)
    def _follow_mode(self):
        self.dmdt_mode = self.state.dmdt_mode

    @param.depends("device", watch=True)
    def _resolve_device(self):
        if not self.running:
            self.device_name = str(select_device(self.device))

    def config(self) -> CrossValConfig:
        """The settings as the pipeline's config (raises ConfigError); state.seed seeds folds and fits, as the CLI."""
        train = preset(self.preset, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.state.seed,
                       device=self.device, num_threads=self.threads or default_threads(),
                       label_smoothing=self.label_smoothing)
        on_curves = self.model in LIGHTCURVE_MODEL_CHOICES
        return CrossValConfig(model=self.model, dmdt_mode=self.dmdt_mode, folds=self.folds, seed=self.state.seed,
                              train=train, preset=self.preset, members=self.members if on_curves else 1,
                              augment=self.augment if on_curves else None,
                              max_steps=self.max_steps if self.model in ("bigru_features", "compound_rnn_cnn") else None)

    @property
    def reads_lightcurves(self) -> bool:
        return self.model in LIGHTCURVE_MODEL_CHOICES

    def lightcurve_source(self) -> tuple[str | None, LightCurves | None, str]:
        """Where a light-curve model's curves come from, as the Observations tab says: ``(simulate:SURVEY,
        None, text)`` or ``(None, loaded curves, text)``."""
        state = self.state
        if state.observation_source == "loaded":
            if state.lightcurves is None:
                raise ConfigError("the Observations tab is set to loaded light curves but none are loaded; "
                                  "load some there or choose 'Simulate a survey'")
            return None, state.lightcurves, f"the loaded light curves ({state.lightcurves.source})"
        return (f"simulate:{state.survey}", None,
                f"{SURVEY_NAMES[state.survey]} observations simulated from each star's row (seed {state.survey_seed}), "
                "marked simulated in the run")

    @property
    def leaks_label(self) -> bool:
        """The chosen model would read thesis dm-dt images, which leak the label."""
        return CrossValConfig(model=self.model, dmdt_mode=self.dmdt_mode).leaks_label

    # ------------------------------------------------------------------ the worker
    def start_worker(self) -> None:
        """Start this session's worker thread (from ``pn.state.onload``: the page is live by then)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._quit.clear()
        self._thread = threading.Thread(target=self._work, name=f"vse-training-{id(self):x}", daemon=True)
        self._thread.start()

    def shutdown(self, *_session_context) -> None:
        """Stop a running job (saved as interrupted) and end the worker; the session's end calls this."""
        self._stop.set()
        self._quit.set()
        self._wake.set()
        if self._process_stop is not None:
            self._process_stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end after :meth:`shutdown` (tests, notebooks); True once it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._quit.is_set():
                return
            job, self._job = self._job, None
            if job is not None:
                self._train(job)

    def start(self) -> bool:
        """Give the worker a job: the current cleaned stars and settings; False (and ``error``) if none can start."""
        if self.running:
            return False
        result = self.state.result
        try:
            if result is None:
                raise ConfigError("no catalogue is loaded (Data & filters tab)")
            if result.warnings:
                raise ConfigError(" ".join(result.warnings))
            config = self.config()
            device = select_device(self.device)
            cleaning = self.state.config()
        except ConfigError as exc:
            self.error = f"Cannot start training: {exc}"
            return False
        if self._thread is None or not self._thread.is_alive():
            self.error = "Cannot start training: this session's training worker has ended (reload the page)."
            return False
        run_info = {"catalog": str(self.state.source), "catalog_name": self.state.source_name,
                    "label_map": cleaning.label_map_name, "cleaning": cleaning.to_dict()}
        source, lightcurves = None, None
        if self.reads_lightcurves:
            try:
                source, lightcurves, _ = self.lightcurve_source()
            except ConfigError as exc:
                self.error = f"Cannot start training: {exc}"
                return False
            run_info["lightcurve_source"] = source or lightcurves.source
        self._job = Job(result.data, list(result.classes), config, runs_dir=self.runs_dir, run_info=run_info,
                        lightcurve_source=source, lightcurve_seed=self.state.survey_seed, lightcurves=lightcurves)
        self._stop.clear()
        self._idle.clear()
        self.history.clear()
        self.param.update(running=True, error="", message="", fraction=0.0, device_name=str(device),
                          progress=f"Starting {config.model} on {len(result.data):,} stars, {config.folds} folds, "
                                   f"device {device}")
        self._wake.set()
        return True

    def stop(self) -> None:
        """Ask the running job to stop after its current batch; the finished folds are saved."""
        if self.running:
            self._stop.set()
            if self._process_stop is not None:
                self._process_stop.set()
            self.progress = "Stopping after the current batch…"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is running (tests, notebooks); False on timeout."""
        return self._idle.wait(timeout)

    def _train(self, job: Job) -> None:
        run_id, started = None, time.monotonic()
        try:
            run_id, state, folds_done, scores = self._supervise(job)
            accuracy = f", mean accuracy {np.mean(scores):.3f}" if scores else ""
            self.message = f"Run {run_id} {state}: {folds_done} of {job.config.folds} folds{accuracy}."
        except (ConfigError, RunError) as exc:  # the process's TrainingError arrives as a ConfigError
            log.warning("training could not run: %s", exc)
            self.error = f"Training failed: {exc}"
        except Exception as exc:  # a bug or a device failure: keep the session, log the traceback
            log.exception("training failed")
            self.error = f"Training failed ({type(exc).__name__}: {exc}); the traceback is in the server log."
        finally:
            try:
                self.refresh_runs()
                if run_id is not None:
                    self.param.update(last_run_id=run_id, chosen_run=run_id)
                elapsed = format_duration(time.monotonic() - started)
                self.param.update(running=False, fraction=1.0 if run_id else self.fraction,
                                  progress=f"Finished in {elapsed} on {self.device_name}." if run_id
                                  else f"Failed after {elapsed}.")
            except Exception:
                log.exception("updating the page after training failed")
                self.running = False
            finally:
                self._idle.set()

    def _supervise(self, job: Job) -> tuple[str, str, int, list[float]]:
        """Run ``job`` in a training process and stream its messages into this session until it ends.

        Returns (run id, run state, folds done, fold accuracies); raises ConfigError for what the user
        can fix and RuntimeError for a bug or a process that died without a word.
        """
        context = multiprocessing.get_context("spawn")
        messages, stop = context.Queue(), context.Event()
        self._process_stop = stop
        if self._stop.is_set():
            stop.set()
        process = context.Process(target=run_job, args=(job, messages, stop), daemon=True,
                                  name=f"vse-training-{id(self):x}")
        process.start()
        progress = _Progress(self, job.config.folds)
        try:
            while True:
                try:
                    kind, *payload = messages.get(timeout=POLL_INTERVAL)
                except queue.Empty:
                    if not process.is_alive():
                        raise RuntimeError(f"the training process ended (exit code {process.exitcode}) "
                                           "without saying why") from None
                    continue
                if kind == "done":
                    return tuple(payload)
                if kind == "error":
                    what, text, trace = payload
                    if what == "config":
                        raise ConfigError(text)
                    log.error("the training process failed:\n%s", trace)
                    raise RuntimeError(f"in the training process: {text}")
                getattr(progress, kind)(*payload)  # a Callback hook of _Progress
        finally:
            process.join(EXIT_TIMEOUT)
            if process.is_alive():
                log.warning("training process %s did not exit; terminating it", process.pid)
                process.terminate()
                process.join(EXIT_TIMEOUT)
            messages.close()
            self._process_stop = None

    # ------------------------------------------------------------------ saved runs
    @param.depends("runs_dir", watch=True)
    def refresh_runs(self) -> pd.DataFrame:
        """Re-list runs_dir (runs from the CLI appear too); the chosen run defaults to the newest readable one."""
        runs = list_runs(self.runs_dir)
        readable = runs.loc[runs["status"] != "corrupt", "run_id"].tolist()
        chosen = self.chosen_run if self.chosen_run in runs["run_id"].tolist() else (readable[0] if readable else None)
        self.param.chosen_run.objects = run_choices(runs)
        if self.runs is None or not runs.equals(self.runs):  # unchanged: the views need not redraw
            self.runs = runs
        self.chosen_run = chosen
        return self.runs

    @param.depends("chosen_run", watch=True)
    def _forget_cell(self):
        self.cell = None  # a cell names classes of the run it was picked in

    def run_path(self, run_id: str) -> Path:
        return Path(self.runs_dir) / run_id

    def saved_run(self, run_id: str | None = None) -> Run:
        """The saved run ``run_id`` (default: the chosen run), re-read only when its status file changes.

        Raises RunError naming the file when the run cannot be read.
        """
        return self._read(run_id)[0]

    def report(self, run_id: str | None = None) -> RunReport:
        """The report of ``run_id`` (default: the chosen run), built once per change of its status file.

        Raises RunError naming the file when the run cannot be read, or when it is a regression run.
        """
        run, report = self._read(run_id)
        if report is None:  # scored by explorer.views.regression, not by class
            raise RunError(f"run {run.run_id} is a regression run ({run.config.get('target')}): it has no classes "
                           "or confusion matrix; its scores are in the Results tab")
        return report

    def _read(self, run_id: str | None) -> tuple[Run, RunReport | None]:
        """The run and its report (None for a regression run), kept for every session until its status
        file changes (a run in progress rewrites it after each fold)."""
        run_id = run_id or self.chosen_run
        if run_id is None:
            raise RunError("no run chosen")
        path = self.run_path(run_id)
        try:
            stat = (path / STATUS).stat()
        except OSError:  # no status file to key on: read it, and let open_run say what is wrong
            return read_run(path)
        return SAVED_RUNS.get("run", (str(path.resolve()), stat.st_mtime_ns, stat.st_size), lambda: read_run(path))

    def run_stars(self, run_id: str | None = None) -> pd.DataFrame | None:
        """The run's cleaned stars with their validation fold (stars.parquet), indexed by id; None if it has none.

        Raises RunError naming the file when it is there but unreadable (a damaged run).
        """
        run_id = run_id or self.chosen_run
        with self._cache_lock:
            if run_id in self._stars:
                return self._stars[run_id]
        path = self.run_path(run_id) / STARS_FILE
        stars = None
        if path.exists():
            stars = read_stars(path.parent)
            stars.index = pd.Index(stars["id"].astype(str), name="star")
        with self._cache_lock:
            self._stars[run_id] = stars
        return stars

    def misclassified(self, true: str, pred: str, run_id: str | None = None) -> pd.DataFrame:
        """The chosen run's validated stars of class ``true`` predicted ``pred``: id, fold, period,
        amplitude (primary band), p_true, p_pred, most confident mistakes first."""
        report = self.report(run_id)
        predictions = report.run.predictions
        rows = predictions[(predictions["true"] == true) & (predictions["pred"] == pred)]
        stars = self.run_stars(run_id)
        table = pd.DataFrame({"id": rows["id"].astype(str).to_numpy(), "fold": rows["fold"].to_numpy()})
        if stars is not None:
            found = stars.reindex(table["id"])
            table["period"] = found["period"].to_numpy()
            table["amplitude"] = found[f"amp_{primary_band(stars)}"].to_numpy()
        table["p_true"] = rows[f"p_{true}"].to_numpy()
        table["p_pred"] = rows[f"p_{pred}"].to_numpy()
        return table.sort_values("p_pred", ascending=False, kind="stable").reset_index(drop=True)


def training_session(state: ExplorerState) -> TrainingSession:
    """The state's TrainingSession, made on first use: the training, results and misclassification
    views of one browser session share it."""
    session = getattr(state, "training", None)
    if session is None:
        session = state.training = TrainingSession(state=state)
    return session
