"""The Dask survey path on simulated OGLE-III: stars per second per step on one core and on all local
cores, and the peak memory beside the 4 GB target (issue 10 "Scale").

Part of ``make benchmark``: the whole catalogue (~400k stars) through ``simulate``, and every step
on a subset (the search steps cost ~0.1 s a star, hours for the whole catalogue on a laptop).
``python -m benchmarks.survey --stars N`` runs N stars (drawn with a fixed seed) through the
``--steps`` asked for. One core is timed on ``--one-core-stars`` of them. ``CPU/star`` is the
workers' CPU time per star on all cores: on a shared machine the wall-clock rates also count the
other users, and ``cores / CPU per star`` is what a quiet machine would reach.

Peak memory is what the run holds at most: the client process's peak resident set (it loads the
catalogue and runs the scheduler and the nannies) plus every worker process's, on a fresh cluster
per step. A sum of peaks, so an upper bound of what was ever resident at once.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pipeline
from pipeline.lightcurves import survey

STEPS = survey.STEPS
#: The issue's bound on the whole run's memory, bytes.
TARGET_BYTES = 4e9
#: The OGLE-III catalogue's size, for the extrapolated time of a whole-catalogue step.
OGLE3_STARS = 399_679


def _peak_rss() -> int:
    """This process's peak resident set, bytes: Linux's ``VmHWM``. Not ``getrusage``'s ``ru_maxrss``,
    which a spawned worker inherits from the client it was forked from (it survives ``execve``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: an upper bound


def _step(step: str, stars, folder: Path, workers: int) -> tuple[int, float, float, int]:
    """``(stars done, seconds, worker CPU seconds, peak bytes of client + workers)`` of one step on a
    fresh cluster. CPU seconds stand for a quiet machine: on a shared one the wall clock also counts
    the other users' share of the cores."""
    with survey.cluster(workers=workers) as client:
        cpu = sum(client.run(time.process_time).values())
        start = time.perf_counter()
        if step == "simulate":
            # At least four partitions a worker, so that a subset keeps every worker busy to the end.
            size = max(1, min(survey.DEFAULT_PARTITION_SIZE, len(stars) // (4 * workers)))
            manifest = survey.simulate_survey(stars, folder / "store", catalog_name="ogle3 benchmark",
                                              partition_size=size, client=client)
            done = manifest["settings"]["stars"]
        else:
            manifest = survey.survey_step(step, folder / "store", folder / step, client=client)
            done = manifest["settings"]["stars"]
        seconds = time.perf_counter() - start
        cpu = sum(client.run(time.process_time).values()) - cpu
        workers_peak = sum(client.run(_peak_rss).values())
    return done, seconds, cpu, workers_peak + _peak_rss()  # LocalCluster's nannies live in the client's process


def run(catalog, stars: int | None = None, steps=STEPS, one_core_stars: int = 1000, workers: int | None = None,
        folder: Path | None = None) -> None:
    steps = [s for s in STEPS if s in steps]
    if stars is not None and stars < len(catalog):
        catalog = catalog.sample(stars, random_state=0)
    workers = workers or survey.local_cores()
    print(f"survey path (Dask LocalCluster), {len(catalog):,} OGLE-III stars simulated with OGLE-III cadence; "
          f"1 core on {min(one_core_stars, len(catalog)):,} of them, {workers} cores on all")
    print(f"{'step':<10} {'stars':>8} {'1 core':>14} {f'{workers} cores':>14} {'CPU/star':>10} "
          f"{'whole OGLE-III':>16} {'peak memory':>12}  target")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        rates = {}
        one_core = catalog.sample(min(one_core_stars, len(catalog)), random_state=1)
        for cores, sample, name in ((1, one_core, "one"), (workers, catalog, "all")):
            (Path(tmp) / name).mkdir()
            for step in steps:
                done, seconds, cpu, peak = _step(step, sample, Path(tmp) / name, cores)
                rates[step, cores] = (done, done / seconds, cpu / done, peak)
        for step in steps:
            _, one, _, _ = rates[step, 1]
            done, rate, cpu, peak = rates[step, workers]
            hours = OGLE3_STARS / rate / 3600
            print(f"{step:<10} {done:>8,} {one:>9.1f} st/s {rate:>9.1f} st/s {cpu * 1e3:>7.1f} ms {hours:>13.2f} h "
                  f"{peak / 1e9:>9.2f} GB  < {TARGET_BYTES / 1e9:.0f} GB{'' if peak < TARGET_BYTES else '  MISSED'}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.survey", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stars", type=int, default=None, help="stars of OGLE-III to run (default: all)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {','.join(STEPS)}")
    parser.add_argument("--one-core-stars", type=int, default=1000, help="stars the one-core figures are timed on")
    parser.add_argument("--workers", type=int, default=None, help="all cores' worker count (default: local cores)")
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the stores (default: the system's)")
    args = parser.parse_args(argv)
    unknown = set(args.steps.split(",")) - set(STEPS)
    if unknown:
        parser.error(f"--steps: unknown {sorted(unknown)}; expected some of {list(STEPS)}")
    run(pipeline.load_catalog("ogle3"), args.stars, args.steps.split(","), args.one_core_stars, args.workers, args.tmp)


if __name__ == "__main__":
    main()
