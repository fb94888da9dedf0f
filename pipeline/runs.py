"""Saved runs: one directory per cross-validated training (or baseline), written as it goes.

Layout of ``<runs_dir>/<run_id>/``::

    config.json          everything to reproduce and rebuild (model, classes, input_shape, ...)
    status.json          state (running | complete | interrupted | failed), pid/host of the writer,
                         folds done with their accuracy, message, error, start and end times
    history.csv          fold, epoch, train_loss, train_acc, val_loss, val_acc
    predictions.parquet  id, fold, true, pred, p_<class> per class; one row per validated star
                         (a regression run, config task "regression", has no classes and adds
                         sigma and weight)
    confusion.npz        counts (n_folds_done, C, C), folds (n_folds_done,), classes (C,)
    metrics.json         whatever the metrics code computed, written by ``finish``
    model_fold<k>.pt     state_dict of fold k (networks only)

Every file is replaced atomically (temp file in the same directory, fsync, ``os.replace``), so a
crash or Ctrl-C never leaves half a file: a reader sees the previous version or the new one. The
writer records folds in ``status.json`` last, so a fold counts as done only once all its files are
on disk; a run whose writer died is still "running" on disk and is reported as "interrupted".
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import shutil
import socket
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import torch

from .errors import RunError

DEFAULT_RUNS_DIR = Path("runs")
STATES = ("running", "complete", "interrupted", "failed")
CONFIG, STATUS, HISTORY = "config.json", "status.json", "history.csv"
PREDICTIONS, CONFUSION, METRICS = "predictions.parquet", "confusion.npz", "metrics.json"
HISTORY_COLUMNS = ("fold", "epoch", "train_loss", "train_acc", "val_loss", "val_acc")
PREDICTION_COLUMNS = ("id", "fold", "true", "pred")
#: Packages whose versions go into every config, so a result can be traced to the code that made it.
VERSIONED_PACKAGES = ("variable-star-explorer", "numpy", "pandas", "pyarrow", "scikit-learn", "torch")


def weights_file(fold: int) -> str:
    return f"model_fold{int(fold)}.pt"


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------------
# Atomic writes


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a temp file beside ``path`` and move it into place only if it succeeds.

    On any error the temp file is removed and ``path`` keeps its previous content.
    """
    path = Path(path)
    _remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_WRITER}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; a run's files are shared like any other the user writes
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.filename is None:  # a failed write names no file; the user needs to know which one
            raise OSError(err.errno, err.strerror or str(err), str(path)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _read_umask() -> int:
    """The process's umask. Reading it means setting it, which is not thread-safe, so it is read
    once, at import, before the app or the CLI starts any thread."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
_HOST = "".join(c if c.isalnum() else "-" for c in socket.gethostname())
#: Who writes a temp file, in its name (``host-pid``), so the next writer can tell a dead one's.
_WRITER = f"{_HOST}-{os.getpid()}"


def _remove_stale_temps(path: Path) -> None:
    """Remove temp files of ``path`` left by a writer that was killed mid-write.

    Only those of processes no longer alive on this host: the writer's host and pid are in the temp
    name, so a live writer's file (here or on another machine sharing the folder) is never taken.
    """
    prefix = f".{path.name}.{_HOST}-"
    try:
        leftovers = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return
    for leftover in leftovers:
        pid = leftover.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (not possible on every platform; harmless to skip there)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _jsonable(value: Any) -> Any:
    """JSON fallback for what configs and metrics carry: dataclasses, numpy values, paths."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable: {value!r}")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    # Serialise first: a value that cannot be written must not cost the previous file.
    text = json.dumps(obj, indent=2, default=_jsonable)
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# --------------------------------------------------------------------------------------------------
# Writing


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in str(text)).strip("-") or "run"


def _claim_run_dir(runs_dir: Path, stem: str) -> Path:
    """Create a fresh run directory; ``os.mkdir`` is exclusive, so two writers never share one."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = runs_dir / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RunError(f"{runs_dir}: could not find a free run directory name for {stem!r}")


class RunWriter:
    """Writes one run incrementally; use :func:`create` to start one.

    As a context manager it records how the block ended: an exception marks the run failed, a
    ``KeyboardInterrupt`` interrupted; leaving the block normally without :meth:`finish` leaves it
    as it is (the caller decides).
    """

    def __init__(self, path: Path, config: dict, status: dict):
        self.path = path
        self.config = config
        self._status = status
        self._classes = [str(c) for c in config["classes"]]
        self._history = pd.DataFrame(columns=list(HISTORY_COLUMNS))
        self._predictions: list[pd.DataFrame] = []
        self._confusion: list[np.ndarray] = []

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        return self._status["state"]

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or self.state != "running":
            return
        try:
            if issubclass(exc_type, KeyboardInterrupt):
                self.mark_interrupted("interrupted by the user (KeyboardInterrupt)")
            else:
                self.mark_failed(f"{exc_type.__name__}: {exc}")
        except OSError:
            # The disk that failed the run (full, gone read-only) may refuse the status too; the run
            # then stays "running" on disk, read back as interrupted with its finished folds kept,
            # and the original error is the one the caller sees.
            pass

    def _write_status(self, **changes) -> None:
        status = {**self._status, **changes}
        write_json(self.path / STATUS, status)
        self._status = status  # only once on disk, so memory never runs ahead of the file

    def _check_running(self, what: str) -> None:
        if self.state != "running":
            raise RunError(f"{self.path}: cannot {what}, the run is already {self.state}")

    def append_history(self, fold: int, frame: pd.DataFrame) -> None:
        """Add (or replace) fold ``fold``'s per-epoch curves; ``frame`` as ``History.to_frame()``."""
        self._check_running("append history")
        missing = [c for c in HISTORY_COLUMNS[1:] if c not in frame.columns]
        if missing:
            raise RunError(f"{self.path / HISTORY}: history of fold {fold} lacks columns {missing}")
        # A model trained in stages (pipeline.stages) says which stage each epoch was.
        columns = [*HISTORY_COLUMNS, *(["stage"] if "stage" in frame.columns else [])]
        rows = frame[columns[1:]].assign(fold=int(fold))[columns]
        kept = self._history[self._history["fold"] != int(fold)]
        history = pd.concat([kept, rows], ignore_index=True) if len(kept) else rows.reset_index(drop=True)
        atomic_write(self.path / HISTORY, lambda h: history.to_csv(h, index=False))
        self._history = history

    def save_fold(
        self,
        fold: int,
        weights: Mapping[str, torch.Tensor] | None,
        predictions: pd.DataFrame,
        confusion: np.ndarray,
    ) -> None:
        """Record a finished fold: weights (``None`` for models without, e.g. trees), its validation
        predictions (columns id, fold, true, pred, p_<class>) and its (C, C) confusion counts."""
        self._check_running("save a fold")
        fold = int(fold)
        if fold in self._status["folds_done"]:
            raise RunError(f"{self.path}: fold {fold} was already saved")
        predictions = self._check_predictions(fold, predictions)
        counts = np.asarray(confusion).astype(np.int64)
        n = len(self._classes)
        if counts.shape != (n, n):
            raise RunError(
                f"{self.path / CONFUSION}: fold {fold} confusion must be ({n}, {n}) for classes "
                f"{self._classes}, got shape {counts.shape}"
            )
        if weights is not None:
            # Serialised in memory first: torch.save turns a full disk into an opaque RuntimeError,
            # a plain write gives the OSError that says "no space left on device".
            buffer = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in weights.items()}, buffer)
            atomic_write(self.path / weights_file(fold), lambda h: h.write(buffer.getbuffer()))
        all_predictions = pd.concat([*self._predictions, predictions], ignore_index=True)
        atomic_write(self.path / PREDICTIONS, lambda h: all_predictions.to_parquet(h, index=False))
        stacked = np.stack([*self._confusion, counts])
        folds = np.array([*self._status["folds_done"], fold], dtype=np.int64)
        atomic_write(
            self.path / CONFUSION,
            lambda h: np.savez(h, counts=stacked, folds=folds, classes=np.array(self._classes)),
        )
        self._predictions.append(predictions)
        self._confusion.append(counts)
        total = counts.sum()
        if not total:  # a run without classes (a regression) has no accuracy to record
            self._write_status(folds_done=folds.tolist())
            return
        accuracy = float(np.trace(counts) / total)
        self._write_status(
            folds_done=folds.tolist(), fold_accuracy={**self._status["fold_accuracy"], str(fold): accuracy}
        )

    def _check_predictions(self, fold: int, frame: pd.DataFrame) -> pd.DataFrame:
        expected = [*PREDICTION_COLUMNS, *(f"p_{c}" for c in self._classes)]
        missing = [c for c in expected if c not in frame.columns]
        if missing:
            raise RunError(
                f"{self.path / PREDICTIONS}: predictions of fold {fold} lack columns {missing}; "
                f"expected {expected}"
            )
        if not (frame["fold"] == fold).all():
            raise RunError(f"{self.path / PREDICTIONS}: predictions passed for fold {fold} carry other folds")
        return frame[expected + [c for c in frame.columns if c not in expected]].reset_index(drop=True)

    def finish(self, metrics: Mapping[str, Any], message: str = "") -> None:
        """Write metrics.json and mark the run complete."""
        self._check_running("finish")
        write_json(self.path / METRICS, metrics)
        self._write_status(state="complete", message=message, ended=_now())

    def mark_interrupted(self, reason: str) -> None:
        """Stopped on purpose (Stop button, Ctrl-C): the folds done so far stay usable."""
        self._check_running("mark it interrupted")
        self._write_status(state="interrupted", message=reason, ended=_now())

    def mark_failed(self, error_text: str) -> None:
        self._check_running("mark it failed")
        self._write_status(state="failed", error=error_text, ended=_now())


def create(runs_dir: str | os.PathLike, config: Mapping[str, Any]) -> RunWriter:
    """Start a run: claim ``<runs_dir>/<run_id>/``, write config.json and status "running".

    ``config`` needs ``model`` (name) and ``classes`` (list); ``label_map`` (preset name) goes into
    the run id. To rebuild a network later it should also carry ``input_shape`` and ``n_features``.
    ``run_id``, ``created`` and ``versions`` are added here.
    """
    missing = [k for k in ("model", "classes") if k not in config]
    if missing:
        raise RunError(f"run config lacks {missing}; it needs at least 'model' and 'classes'")
    started = datetime.now(timezone.utc).astimezone()
    stem = f"{started:%Y%m%d-%H%M%S}-{_slug(config['model'])}-{_slug(config.get('label_map', 'custom'))}"
    path = _claim_run_dir(Path(runs_dir), stem)
    full = {
        **config,
        "classes": [str(c) for c in config["classes"]],
        "run_id": path.name,
        "created": started.isoformat(timespec="seconds"),
        "versions": config.get("versions") or package_versions(),
    }
    status = {
        "state": "running",
        "message": "",
        "error": None,
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "started": full["created"],
        "ended": None,
        "folds_done": [],
        "fold_accuracy": {},
    }
    try:
        write_json(path / CONFIG, full)
    except BaseException:
        # The folder is ours alone (claimed above) and holds at most the config: an unwritable or
        # interrupted config leaves no half run behind, and the original error is the one raised.
        shutil.rmtree(path, ignore_errors=True)
        raise
    writer = RunWriter(path, full, status)
    writer._write_status()
    return writer


# --------------------------------------------------------------------------------------------------
# Reading


@dataclass
class Run:
    """A saved run as read back; ``status["state"]`` is the effective state (see :func:`open_run`)."""

    path: Path
    config: dict
    status: dict
    history: pd.DataFrame
    predictions: pd.DataFrame
    confusion: np.ndarray
    folds: list[int]
    classes: list[str]

    @property
    def run_id(self) -> str:
        return self.path.name

    @functools.cached_property
    def metrics(self) -> dict | None:
        """metrics.json of a complete run (None before): read on first use, so a report or a
        prediction, which recompute or need nothing of it, still works when it is lost."""
        if self.status["state"] != "complete":
            return None
        return _read_json(self.path / METRICS, "the run's metrics (a JSON object)")

    @property
    def state(self) -> str:
        return self.status["state"]

    def load_model(self, fold: int) -> torch.nn.Module:
        """The network of fold ``fold``, rebuilt from config.json and loaded with its weights (eval mode)."""
        from .models import build_model  # imported here: most readers of runs never need torch models

        path = self.path / weights_file(fold)
        if not path.is_file():
            raise RunError(
                f"{path}: no weights for fold {fold} (model {self.config.get('model')!r}, folds with "
                f"results: {self.folds}); expected a state_dict saved by the run writer"
            )
        missing = [k for k in ("input_shape",) if k not in self.config]
        if missing:
            raise RunError(f"{self.path / CONFIG}: cannot rebuild the model, config lacks {missing}")
        if self.config.get("task") == "regression":
            from .regression import SeedGRU

            model = SeedGRU(int(self.config["input_shape"][-1]))
        else:
            model = build_model(
                self.config["model"],
                len(self.classes),
                tuple(self.config["input_shape"]),
                int(self.config.get("n_features") or 0),
                members=int(self.config.get("members") or 1),
                image_shape=self.config.get("image_shape"),
            )
        try:
            state = torch.load(path, weights_only=True, map_location="cpu")
        except Exception:  # torch's text would advise weights_only=False, which runs code from the file
            raise RunError(f"{path}: the weights file of fold {fold} is corrupt or not a state_dict saved by "
                           f"this program; train the run again") from None
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RunError(f"{path}: the weights do not fit model {self.config['model']!r} as config.json "
                           f"describes it ({first})") from None
        return model.eval()


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise RunError(f"{path.parent}: {path.name} is missing; expected {what}")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunError(f"{path.parent}: {path.name} is not valid JSON ({err}); expected {what}") from None
    if not isinstance(value, dict):
        raise RunError(f"{path.parent}: {path.name} holds a {type(value).__name__}; expected {what}")
    return value


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _effective_status(status: dict) -> dict:
    """A "running" run whose writer process is gone (same host) was interrupted by a crash or kill."""
    if status.get("state") != "running" or status.get("hostname") != socket.gethostname():
        return status
    pid = status.get("pid")
    if isinstance(pid, int) and not _process_alive(pid):
        return {
            **status,
            "state": "interrupted",
            "message": f"the writing process (pid {pid} on {status['hostname']}) ended without finishing",
        }
    return status


def _read_header(path: Path) -> tuple[dict, dict]:
    """config.json and the effective status.json, checked enough to list the run."""
    if not path.is_dir():
        raise RunError(f"{path}: no such run directory")
    config = _read_json(path / CONFIG, "the run's configuration (a JSON object with 'model' and 'classes')")
    missing = [k for k in ("model", "classes") if k not in config]
    if missing:
        raise RunError(f"{path}: {CONFIG} lacks {missing}")
    status = _read_json(path / STATUS, f"the run's status (a JSON object with 'state' in {STATES})")
    if status.get("state") not in STATES or not isinstance(status.get("folds_done"), list):
        raise RunError(
            f"{path}: {STATUS} has state {status.get('state')!r} and folds_done "
            f"{status.get('folds_done')!r}; expected a state in {STATES} and a list of folds"
        )
    if status["folds_done"]:
        _check_parquet_footer(path / PREDICTIONS)
    return config, _effective_status(status)


def _check_parquet_footer(path: Path) -> None:
    """Cheap integrity check (reads the footer only): catches missing and truncated files."""
    try:
        pq.read_metadata(path)
    except (OSError, pyarrow.ArrowException) as err:
        raise RunError(f"{path.parent}: {path.name} is missing or corrupt ({err}); expected a Parquet "
                       "table of predictions with columns id, fold, true, pred, p_<class>") from None


def _resolve(path_or_id: str | os.PathLike, runs_dir: str | os.PathLike) -> Path:
    """A run id names a directory under ``runs_dir``; anything else is taken as a path."""
    under = Path(runs_dir) / path_or_id
    return under if under.is_dir() or not Path(path_or_id).is_dir() else Path(path_or_id)


def open_run(path_or_id: str | os.PathLike, runs_dir: str | os.PathLike = DEFAULT_RUNS_DIR) -> Run:
    """Read a run (a directory path, or a run id under ``runs_dir``), with only its completed folds.

    Raises :class:`RunError` naming the directory and file when anything is missing or unreadable.
    """
    path = _resolve(path_or_id, runs_dir)
    config, status = _read_header(path)
    classes = [str(c) for c in config["classes"]]
    folds = [int(f) for f in status["folds_done"]]
    history = _read_history(path / HISTORY)
    if folds:
        predictions = _read_predictions(path / PREDICTIONS, classes, folds)
        confusion = _read_confusion(path / CONFUSION, classes, folds)
    else:
        columns = [*PREDICTION_COLUMNS, *(f"p_{c}" for c in classes)]
        predictions = pd.DataFrame(columns=columns)
        confusion = np.zeros((0, len(classes), len(classes)), dtype=np.int64)
    return Run(path, config, status, history, predictions, confusion, folds, classes)


def _read_history(path: Path) -> pd.DataFrame:
    if not path.is_file():  # nothing trained yet (or a model without epochs)
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    try:
        history = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise RunError(f"{path.parent}: {path.name} is unreadable ({err}); expected CSV columns "
                       f"{list(HISTORY_COLUMNS)}") from None
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise RunError(f"{path.parent}: {path.name} lacks columns {missing}; expected {list(HISTORY_COLUMNS)}")
    return history


def _read_predictions(path: Path, classes: list[str], folds: list[int]) -> pd.DataFrame:
    expected = [*PREDICTION_COLUMNS, *(f"p_{c}" for c in classes)]
    try:
        frame = pd.read_parquet(path)
    except (OSError, pyarrow.ArrowException) as err:
        raise RunError(f"{path.parent}: {path.name} is missing or corrupt ({err}); expected a Parquet "
                       f"table with columns {expected}") from None
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise RunError(f"{path.parent}: {path.name} lacks columns {missing}; expected {expected}")
    return frame[frame["fold"].isin(folds)].reset_index(drop=True)


def _read_confusion(path: Path, classes: list[str], folds: list[int]) -> np.ndarray:
    what = f"an .npz with counts (k, {len(classes)}, {len(classes)}), folds (k,) and classes"
    try:
        with np.load(path, allow_pickle=False) as data:
            counts, saved_folds, saved_classes = data["counts"], data["folds"], data["classes"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise RunError(f"{path.parent}: {path.name} is missing or corrupt ({err}); expected {what}") from None
    index = {int(f): i for i, f in enumerate(saved_folds)}
    if [str(c) for c in saved_classes] != classes or any(f not in index for f in folds):
        raise RunError(
            f"{path.parent}: {path.name} holds classes {list(saved_classes)} and folds "
            f"{list(saved_folds)}; expected classes {classes} and folds {folds}"
        )
    return counts[[index[f] for f in folds]]


def _is_runs_folder(path: Path) -> bool:
    """A folder of runs kept inside the runs folder (no run files of its own, runs below): not a run."""
    if (path / CONFIG).exists() or (path / STATUS).exists():
        return False
    try:
        return any((child / CONFIG).is_file() for child in path.iterdir() if child.is_dir())
    except OSError:
        return False


def list_runs(runs_dir: str | os.PathLike = DEFAULT_RUNS_DIR) -> pd.DataFrame:
    """One row per run directory, newest first; unreadable ones as status "corrupt" with a reason.

    Columns: run_id, created, model, classes (label-map preset), status, folds_done, folds (planned),
    accuracy (mean over the folds done), reason, path.
    """
    columns = ["run_id", "created", "model", "classes", "status", "folds_done", "folds", "accuracy",
               "reason", "path"]
    runs_dir = Path(runs_dir)
    rows = []
    paths = runs_dir.iterdir() if runs_dir.is_dir() else ()
    for path in sorted(p for p in paths if p.is_dir() and not p.name.startswith(".")):
        if _is_runs_folder(path):
            continue
        try:
            config, status = _read_header(path)
        except RunError as err:
            created = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
            rows.append({"run_id": path.name, "created": created, "status": "corrupt",
                         "reason": str(err), "path": str(path)})
            continue
        accuracies = [float(v) for v in status.get("fold_accuracy", {}).values()]
        rows.append({
            "run_id": path.name,
            "created": pd.to_datetime(config.get("created"), utc=True, errors="coerce"),
            "model": config["model"],
            "classes": config.get("label_map", "custom"),
            "status": status["state"],
            "folds_done": len(status["folds_done"]),
            "folds": config.get("folds"),
            "accuracy": float(np.mean(accuracies)) if accuracies else float("nan"),
            "reason": status.get("error") or status.get("message") or "",
            "path": str(path),
        })
    table = pd.DataFrame(rows, columns=columns)
    table["created"] = pd.to_datetime(table["created"], utc=True)
    return table.sort_values(["created", "run_id"], ascending=False, na_position="last").reset_index(drop=True)
