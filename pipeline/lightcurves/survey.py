"""Per-star work over a whole survey with Dask, partition by partition (issue 10 "Scale"; SPEC section 6).

A survey does not fit one process (ZTF's 781,602 periodic variables at ~500 epochs are ~400 M
rows), but every step here is per star: :func:`simulate`, :func:`find_periods`,
:func:`lightcurve_features` and :func:`dmdt_images` on a few hundred stars give the same answer
for those stars as on all of them. So the stars are cut into partitions (``partition_size`` stars,
sorted by id) and each partition is one ``dask.distributed`` task: catalogue rows in, one
partition of the light-curve store (``store.write_partition``) out, or one store partition in and
one result file out. Memory stays bounded: a worker holds the partitions it works on, the client
the catalogue (for ``simulate``) or the store's id index, and at most two tasks per worker are in
flight. Workers must see the output folder (one machine, or a shared file system on a cluster).

Output folders carry ``_survey.json`` (the step, its settings and whether it finished) and
``_done/part-NNNNN.json`` per finished partition (its stars and counts), written after the
partition's data file. A rerun with the same settings resumes, skipping finished partitions;
different settings are refused (``overwrite=True`` replaces the folder). Results:

- ``simulate``: a light-curve store in the partitioned layout (``read_store`` reads it);
- ``periods`` / ``features``: ``part-NNNNN.parquet`` tables, one row per star (and band), a Parquet
  dataset (``pd.read_parquet(folder)`` skips the ``_`` files) or :func:`read_survey`;
- ``dmdt``: ``part-NNNNN.npz`` with ``ids``, ``images`` ``(stars, bands, n_dm, n_dt)`` and ``bands``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import sys
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import CatalogError, ConfigError, RunError

from .cadence import SURVEYS
from .dmdt import NORMS, PRESETS, dmdt_images
from .features import lightcurve_features
from .periods import find_periods
from .simulate import simulate
from .store import finish_partitions, read_metadata, read_store, store_index, write_partition

STEPS = ("simulate", "periods", "features", "dmdt")
MANIFEST = "_survey.json"
DONE_DIR = "_done"
DEFAULT_PARTITION_SIZE = 1000
#: Per worker: a partition of 1,000 OGLE-III stars (~700k epochs) needs ~200 MB at its peak.
DEFAULT_MEMORY_LIMIT = "1GiB"
#: Seconds to wait for a ``--scheduler`` to answer.
CONNECT_TIMEOUT = 10.0
#: Options each derived step passes on to its single-process function.
STEP_OPTIONS = {
    "periods": ("min_period", "max_period", "samples_per_peak", "per_band", "min_points"),
    "features": ("min_points",),
    "dmdt": ("preset", "norm", "bands"),
}
#: Counts of a simulation's notes that add up over partitions (the other notes are settings).
_SIMULATE_COUNTS = ("dropped_below_depth", "stars_without_values")


def local_cores() -> int:
    """Cores this process may run on (a container's or batch job's share, not the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None, memory_limit: str = DEFAULT_MEMORY_LIMIT,
            connect_timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client``: on a running scheduler at ``scheduler``, or on a new ``LocalCluster``
    of ``workers`` single-threaded processes (default: the local cores) with ``memory_limit`` each,
    listening on 127.0.0.1 only and without a dashboard (``--scheduler`` clusters have their own)."""
    from distributed import Client, LocalCluster

    check_cluster(scheduler, workers, memory_limit, connect_timeout)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc}); expected the address of a running "
                              "dask scheduler, e.g. tcp://10.0.0.5:8786") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=local_cores() if workers is None else workers, threads_per_worker=1,
                      processes=True, memory_limit=memory_limit, host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR,
                      # The scheduler's HTTP routes (health, metrics) on any free loopback port, not 8787.
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as local, \
            Client(local, set_as_default=False) as client:
        yield client


def check_cluster(scheduler: str | None = None, workers: int | None = None,
                  memory_limit: str = DEFAULT_MEMORY_LIMIT, connect_timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse cluster settings that cannot work, before any output folder is made."""
    from dask.utils import parse_bytes

    if scheduler is not None:
        if workers is not None:
            raise ConfigError(f"--workers {workers} with --scheduler {scheduler}: the scheduler's cluster has its "
                              "own workers; give one or the other")
        _check_reachable(scheduler, connect_timeout)
        return
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers}: expected at least 1 worker process")
    try:
        parse_bytes(memory_limit)
    except (ValueError, TypeError):
        raise ConfigError(f"--memory-limit {memory_limit!r}: expected a size such as 1GiB or 800MB") from None


def _check_reachable(address: str, timeout: float) -> None:
    """Fail fast, naming the address, on a malformed one or a TCP port nobody listens on
    (``Client`` itself would retry until its timeout and then print its own teardown errors)."""
    from distributed.comm import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            host, port = parse_host_port(location)
            socket.create_connection((host, port), timeout=timeout).close()
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"--scheduler {address}: cannot connect ({exc}); expected the address of a running dask "
                          "scheduler, e.g. tcp://10.0.0.5:8786") from None


def simulate_survey(catalog: pd.DataFrame, out: str | os.PathLike, survey: str = "ogle3", seed: int = 0,
                    red_noise: float = 0.2, catalog_name: str = "catalogue",
                    partition_size: int = DEFAULT_PARTITION_SIZE, client=None, overwrite: bool = False,
                    progress: bool = True, **cluster_options) -> dict:
    """Simulate every catalogue star with :func:`simulate` into the partitioned store ``out``.

    Stars without a positive period cannot be simulated and are left out, counted in the manifest's
    ``skipped_without_period``; the same seed gives each star the same epochs as ``simulate`` on any
    subset. ``client`` is a ``distributed.Client`` to use; without one, ``cluster_options`` (``scheduler``,
    ``workers``, ``memory_limit``) make one. Returns the manifest.
    """
    if survey not in SURVEYS:
        raise ConfigError(f"unknown survey {survey!r}; expected one of {list(SURVEYS)}")
    if "id" not in catalog or "period" not in catalog:
        raise CatalogError(f"{catalog_name}: columns 'id' and 'period' are needed to simulate; found "
                           f"{list(catalog.columns)}")
    period = pd.to_numeric(catalog["period"], errors="coerce").to_numpy(np.float64)
    usable = np.isfinite(period) & (period > 0)
    stars = catalog.loc[usable]
    stars = stars.iloc[np.argsort(stars["id"].astype(str).to_numpy(), kind="stable")]
    ids = stars["id"].astype(str).to_numpy()
    settings = {"step": "simulate", "catalog": str(catalog_name), "stars": len(ids), "ids_digest": _digest(ids),
                "survey": survey, "seed": int(seed), "red_noise": float(red_noise),
                "partition_size": _positive(partition_size)}
    bounds = _chunks(len(ids), partition_size)
    if client is None:
        check_cluster(**cluster_options)
    root = _prepare(Path(out), settings, overwrite)
    # Each partition's rows are cut from the catalogue only when it is submitted (``_execute``).
    tasks = [(n, _simulate_partition, lambda a=a, b=b, n=n: (stars.iloc[a:b], root, n, survey, seed, red_noise))
             for n, (a, b) in enumerate(bounds)]
    summaries, ran = _execute(tasks, root, "simulate", client, progress, cluster_options)
    first = next((s["notes"] for s in summaries if s["notes"]), {})
    notes = {**first, **{key: _total([s["notes"].get(key, 0) for s in summaries]) for key in _SIMULATE_COUNTS}}
    index = pd.DataFrame({"id": [i for s in summaries for i in s["ids"]],
                          "partition": [s["partition"] for s in summaries for _ in s["ids"]]})
    spec = SURVEYS[survey]
    finish_partitions(root, {"time_scale": spec.time_scale, "source": f"simulated:{survey}", "survey": survey,
                             "simulated": True, "notes": notes}, index)
    return _finish(root, settings, summaries, ran, skipped_without_period=int((~usable).sum()),
                   stars_with_epochs=len(index), epochs=sum(s["epochs"] for s in summaries))


def survey_step(step: str, store: str | os.PathLike, out: str | os.PathLike,
                partition_size: int = DEFAULT_PARTITION_SIZE, client=None, overwrite: bool = False,
                progress: bool = True, options: dict | None = None, **cluster_options) -> dict:
    """Run ``periods``, ``features`` or ``dmdt`` on every star of the light-curve ``store`` into ``out``.

    ``options`` go to the single-process function (:data:`STEP_OPTIONS`). Partitions follow the
    store's own in the partitioned layout, else ``partition_size`` stars by id. Features skip bands
    with too few epochs (counted) instead of failing a whole partition for one faint star. Returns
    the manifest.
    """
    if step not in STEP_OPTIONS:
        raise ConfigError(f"unknown survey step {step!r}; expected one of {list(STEP_OPTIONS)} (or simulate)")
    options = dict(options or {})
    unknown = sorted(set(options) - set(STEP_OPTIONS[step]))
    if unknown:
        raise ConfigError(f"{step}: unknown options {unknown}; expected some of {list(STEP_OPTIONS[step])}")
    store = Path(store).resolve()
    if not store.is_dir():
        raise CatalogError(f"{store}: no such light-curve store; write one with `python -m pipeline survey simulate`")
    simulated = _manifest(store)
    if simulated is not None and not simulated.get("complete"):
        raise CatalogError(f"{store}: its `survey simulate` run has not finished; rerun the same command to resume it")
    meta = read_metadata(store)
    if step == "dmdt":
        options = _dmdt_options(store, meta, options)
    partition_size = _positive(partition_size)
    index = store_index(store)
    own_partitions = bool((index["partition"] >= 0).all())
    if own_partitions:
        groups = [list(g["id"]) for _, g in index.groupby("partition", sort=True)]
    else:
        groups = [list(index["id"].iloc[a:b]) for a, b in _chunks(len(index), partition_size)]
    settings = {"step": step, "store": str(store), "source": meta.get("source"),
                "simulated": bool(meta.get("simulated", False)), "stars": len(index),
                "ids_digest": _digest(index["id"].to_numpy()),
                "partition_size": "the store's" if own_partitions else partition_size, "options": options}
    if client is None:
        check_cluster(**cluster_options)
    root = _prepare(Path(out), settings, overwrite)
    tasks = [(n, _step_partition, lambda n=n, ids=ids: (step, store, ids, root, n, options))
             for n, ids in enumerate(groups)]
    summaries, ran = _execute(tasks, root, step, client, progress, cluster_options)
    counts = sorted({key for s in summaries for key in s} - {"partition"})
    return _finish(root, settings, summaries, ran, **{key: _total([s.get(key, 0) for s in summaries])
                                                      for key in counts})


def read_survey(out: str | os.PathLike):
    """A finished ``periods``/``features`` folder as one table, or a ``dmdt`` folder as ``(ids, images)``.

    All of it in memory: for a whole survey's dm-dt images read the ``part-*.npz`` files one by one.
    """
    root = Path(out)
    manifest = _manifest(root)
    if manifest is None or not manifest.get("complete"):
        raise ConfigError(f"{root}: no finished survey step here ({MANIFEST} missing or not complete); run or "
                          "resume it with `python -m pipeline survey ...`")
    step = manifest["settings"]["step"]
    if step == "simulate":
        return read_store(root)
    files = sorted(root.glob("part-*.npz" if step == "dmdt" else "part-*.parquet"))
    if step != "dmdt":
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    ids, images = [], []
    for f in files:
        with np.load(f, allow_pickle=False) as part:
            ids.extend(part["ids"].tolist())
            images.append(part["images"])
    return ids, np.concatenate(images)


# --- partitions (run on the workers) ----------------------------------------------------------------------


def _simulate_partition(stars: pd.DataFrame, root: Path, number: int, survey: str, seed: int, red_noise: float):
    with _naming(number, stars["id"]):
        lcs = simulate(stars, survey, seed=seed, red_noise=red_noise)
        write_partition(lcs, root, number)
    return _done(root, number, {"ids": sorted(lcs.ids), "epochs": len(lcs), "notes": lcs.notes})


def _step_partition(step: str, store: Path, ids: list[str], root: Path, number: int, options: dict):
    with _naming(number, ids):
        lcs = read_store(store, ids=ids)
        target = root / f"part-{number:05d}.{'npz' if step == 'dmdt' else 'parquet'}"
        partial = target.with_name(f".{target.name}.partial")
        if step == "dmdt":
            found, images = dmdt_images(lcs, **options)
            with open(partial, "wb") as handle:
                np.savez_compressed(handle, ids=np.asarray(found, dtype=str), images=images,
                                    bands=np.asarray(options["bands"], dtype=str))
            counts = {"stars": len(found)}
        else:
            table = find_periods(lcs, **options) if step == "periods" else \
                lightcurve_features(lcs, skip_short=True, **options)
            table.to_parquet(partial, index=False)
            counts = {"stars": int(table["id"].nunique()), "rows": len(table),
                      "too_few_points": int(table.attrs["too_few_points"])}
        partial.replace(target)
    return _done(root, number, counts)


@contextmanager
def _naming(number: int, ids):
    """Errors of a partition say which one, so the star can be found (and the rest resumed)."""
    try:
        yield
    except (CatalogError, ConfigError) as exc:
        ids = list(ids)
        span = f"{ids[0]} .. {ids[-1]}" if ids else "no stars"
        raise type(exc)(f"partition {number} ({span}): {exc}") from exc


def _done(root: Path, number: int, summary: dict) -> dict:
    summary = {"partition": number, **summary}
    path = root / DONE_DIR / f"part-{number:05d}.json"
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(summary))
    partial.replace(path)
    return summary


# --- the client's side -----------------------------------------------------------------------------------


def _execute(tasks, root: Path, step: str, client, progress: bool, cluster_options: dict) -> tuple[list[dict], int]:
    """Run the partitions not yet done, at most two per worker at a time, with a progress bar.

    ``tasks`` are ``(number, function, arguments)``, ``arguments()`` building the arguments when the
    partition is submitted. Returns every partition's summary (earlier runs' too) in partition order,
    and how many partitions this call ran.
    """
    from distributed import KilledWorker, as_completed
    from tqdm.auto import tqdm

    summaries = {}
    for path in (root / DONE_DIR).glob("part-*.json"):
        summary = json.loads(path.read_text())
        summaries[summary["partition"]] = summary
    todo = [task for task in tasks if task[0] not in summaries]
    if not todo:
        return [summaries[n] for n in sorted(summaries)], 0
    with (nullcontext(client) if client is not None else cluster(**cluster_options)) as client:
        slots = 2 * max(1, len(client.scheduler_info()["workers"]))
        queue = iter(todo)
        running = as_completed(loop=client.loop)
        futures = []

        def submit_next():
            task = next(queue, None)
            if task is not None:
                number, function, arguments = task
                futures.append(client.submit(function, *arguments(), key=f"{step}-{number}-{uuid.uuid4().hex}",
                                             retries=0))
                running.add(futures[-1])

        for _ in range(slots):
            submit_next()
        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), unit="partition", desc=f"survey {step}",
                   file=sys.stderr, disable=not progress, mininterval=0.5 if sys.stderr.isatty() else 30)
        try:
            for future in running:
                summary = future.result()
                summaries[summary["partition"]] = summary
                future.release()
                bar.update(1)
                submit_next()
        except KilledWorker as exc:
            client.cancel(futures)
            raise RunError(f"{root}: a worker died running {exc.task} (killed over its memory limit, or crashed); "
                           "the finished partitions are kept: rerun the same command to resume, with a larger "
                           "--memory-limit or a smaller --partition-size if memory was the cause") from None
        except BaseException:
            client.cancel(futures)
            raise
        finally:
            bar.close()
    return [summaries[n] for n in sorted(summaries)], len(todo)


def _prepare(root: Path, settings: dict, overwrite: bool) -> Path:
    """The output folder (absolute, for the workers), new or resumable with the same settings;
    anything else is refused."""
    root = root.resolve()
    manifest = _manifest(root)
    if root.exists() and manifest is None:
        if not root.is_dir() or any(root.iterdir()):
            raise ConfigError(f"{root}: exists and is not a survey output ({MANIFEST} missing); not writing into it")
    elif manifest is not None and overwrite:
        shutil.rmtree(root)
    elif manifest is not None and manifest["settings"] != settings:
        changed = sorted(k for k in set(settings) | set(manifest["settings"])
                         if settings.get(k) != manifest["settings"].get(k))
        raise ConfigError(f"{root}: holds a {manifest['settings'].get('step')} run with other settings "
                          f"({', '.join(changed)} differ); choose another output folder or pass --overwrite to "
                          "replace it")
    (root / DONE_DIR).mkdir(parents=True, exist_ok=True)
    if _manifest(root) is None:
        _write_manifest(root, {"settings": settings, "complete": False})
    return root


def _finish(root: Path, settings: dict, summaries: list[dict], ran: int, **totals) -> dict:
    manifest = {"settings": settings, "complete": True, "partitions": len(summaries), "partitions_this_run": ran,
                **totals}
    _write_manifest(root, manifest)
    return manifest


def _manifest(root: Path) -> dict | None:
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); expected a survey run's manifest") from exc


def _write_manifest(root: Path, manifest: dict) -> None:
    partial = root / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    partial.replace(root / MANIFEST)


def _dmdt_options(store: Path, meta: dict, options: dict) -> dict:
    """Fixed channels for every partition: the given bands, else the store's survey's."""
    preset, norm = options.setdefault("preset", "crts"), options.setdefault("norm", "stretch")
    if preset not in PRESETS:
        raise ConfigError(f"unknown dm-dt preset {preset!r}; expected one of {list(PRESETS)}")
    if norm not in NORMS:
        raise ConfigError(f"unknown dm-dt normalisation {norm!r}; expected one of {list(NORMS)}")
    if not options.get("bands"):
        if meta.get("survey") not in SURVEYS:
            raise ConfigError(f"{store}: survey {meta.get('survey')!r} has no known bands; pass the bands to stack "
                              "as dm-dt channels (--bands)")
        options["bands"] = list(SURVEYS[meta["survey"]].bands)
    options["bands"] = [str(b) for b in options["bands"]]
    return options


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    size = _positive(size)
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _positive(size: int) -> int:
    if int(size) < 1:
        raise ConfigError(f"--partition-size {size}: expected at least 1 star per partition")
    return int(size)


def _digest(ids) -> str:
    """Which stars, in short: a changed catalogue must not resume an old run."""
    return hashlib.blake2b("\0".join(map(str, ids)).encode(), digest_size=12).hexdigest()


def _total(values):
    """Counts over partitions; per-band counts (dicts) add up band by band."""
    if values and all(isinstance(v, dict) for v in values):
        keys = sorted({k for v in values for k in v})
        return {k: _total([v.get(k, 0) for v in values]) for k in keys}
    return sum(values)
