"""Light curves on disk: Parquet partitioned by star, with the container's metadata beside it.

Two layouts, both read by :func:`read_store`. Per star (hive-style, so ``pyarrow.dataset`` reads it
as one table with an ``id`` column), written by :func:`write_store`::

    store/_lightcurves.json            time scale, source, survey, simulated flag, notes
    store/id=<quoted id>/part-0.parquet time, mag, err, band[, flag] of one star

One directory per star makes a subset cheap: :func:`read_store` with ``ids`` opens exactly those
stars' files, so memory follows the stars in use, not the survey (SPEC section 6). Ids are
percent-quoted in directory names (``urllib.parse.quote``, which pyarrow's hive partitioning
decodes), so any id spelling survives. Metadata is JSON, never pickle.

Per partition of stars, written piece by piece by :func:`write_partition` (the Dask survey path,
``pipeline.lightcurves.survey``): 400k stars as 400k folders take longer to create and list than
to simulate, so a survey's store holds a few hundred files of ~1,000 stars each::

    store/_lightcurves.json            as above, with "layout": "partitions"
    store/_index.parquet               id -> partition, one row per star
    store/part-<NNNNN>.parquet         id, time, mag, err, band[, flag] of the partition's stars

A subset opens only the partitions its stars are in (looked up in the index) and keeps only their
rows; names starting with ``_`` are skipped by Parquet readers, so ``pd.read_parquet(store)``
reads the epochs alone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.errors import CatalogError

from .container import COLUMNS, LightCurves

METADATA_FILE = "_lightcurves.json"
INDEX_FILE = "_index.parquet"
#: ``layout`` in the metadata of a store written per partition.
PARTITIONS_LAYOUT = "partitions"
_PARTITIONING = ds.partitioning(pa.schema([("id", pa.string())]), flavor="hive")


def _star_dir(root: Path, star_id: str) -> Path:
    return root / f"id={quote(str(star_id), safe='')}"


def write_store(lcs: LightCurves, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``lcs`` as a per-star Parquet store at ``path`` (a new folder, or replace it with ``overwrite``)."""
    root = Path(path)
    if root.exists():
        if not overwrite:
            raise CatalogError(f"{root}: already exists; pass overwrite=True to replace the light-curve store")
        if not (root / METADATA_FILE).is_file():
            raise CatalogError(f"{root}: exists and is no light-curve store (no {METADATA_FILE}); not replacing it")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for star_id, frame in lcs.data.groupby("id", sort=True):
        star = _star_dir(root, star_id)
        star.mkdir()
        table = pa.Table.from_pandas(frame.drop(columns="id").sort_values("time", kind="stable"),
                                     preserve_index=False)
        pq.write_table(table, star / "part-0.parquet")
    (root / METADATA_FILE).write_text(json.dumps(lcs.metadata(), indent=1, sort_keys=True))
    return root


def read_metadata(path: str | os.PathLike) -> dict:
    root = Path(path)
    meta = root / METADATA_FILE
    if not meta.is_file():
        raise CatalogError(f"{root}: no {METADATA_FILE}; expected a light-curve store written by write_store")
    try:
        return json.loads(meta.read_text())
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{meta}: not valid JSON ({exc}); expected the store's metadata") from exc


def read_store(path: str | os.PathLike, ids=None) -> LightCurves:
    """Read a store, all of it or only the stars ``ids`` (only their partitions are opened).

    Unknown ids raise, naming them: a typo should not read as "this star has no epochs".
    """
    root = Path(path)
    meta = read_metadata(root)
    if meta.get("layout") == PARTITIONS_LAYOUT:
        data = _read_partitions(root, ids)
    else:
        data = _read_star_folders(root, ids)
    return LightCurves(data, meta["time_scale"], meta["source"], meta.get("survey"),
                       bool(meta.get("simulated", False)), meta.get("notes", {}))


def _unknown_ids(root: Path, unknown: list[str]) -> CatalogError:
    return CatalogError(f"{root}: no light curves for ids {unknown[:10]}"
                        f"{' ...' if len(unknown) > 10 else ''}; expected ids stored in this folder")


def _read_star_folders(root: Path, ids) -> pd.DataFrame:
    if ids is None:
        source = str(root)
    else:
        ids = [str(i) for i in ids]
        dirs = [_star_dir(root, i) for i in ids]
        unknown = [i for i, d in zip(ids, dirs) if not d.is_dir()]
        if unknown:
            raise _unknown_ids(root, unknown)
        source = [str(d / "part-0.parquet") for d in dirs]
    try:
        dataset = ds.dataset(source, format="parquet", partitioning=_PARTITIONING,
                             partition_base_dir=str(root), exclude_invalid_files=False)
        table = dataset.to_table()
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{root}: cannot read the light-curve store ({exc})") from exc
    return _frame(table)


def _frame(table: pa.Table) -> pd.DataFrame:
    data = table.to_pandas() if table.num_rows else pd.DataFrame(columns=list(COLUMNS))  # a store of no stars
    data["id"] = data["id"].astype(str)
    return data


def partition_file(path: str | os.PathLike, number: int) -> Path:
    """Where partition ``number`` of a store written per partition lives."""
    return Path(path) / f"part-{int(number):05d}.parquet"


def write_partition(lcs: LightCurves, path: str | os.PathLike, number: int) -> Path:
    """Write one partition's stars into the store folder ``path``, atomically (a crash leaves no half file).

    The store is complete, and readable, once :func:`finish_partitions` has written its index and metadata.
    """
    target = partition_file(path, number)
    partial = target.with_name(f".{target.name}.partial")
    data = lcs.data.sort_values(["id", "time"], kind="stable")
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), partial)
    partial.replace(target)
    return target


def finish_partitions(path: str | os.PathLike, metadata: dict, index: pd.DataFrame) -> Path:
    """Close a store written by :func:`write_partition`: ``index`` (``id``, ``partition``) and the metadata."""
    root = Path(path)
    missing = sorted({int(n) for n in index["partition"]} - {int(p.stem[5:]) for p in root.glob("part-*.parquet")})
    if missing:
        raise CatalogError(f"{root}: partitions {missing[:10]} are missing; expected every indexed partition's file")
    table = pa.Table.from_pandas(index[["id", "partition"]].astype({"id": str, "partition": "int64"}),
                                 preserve_index=False)
    pq.write_table(table, root / INDEX_FILE)
    (root / METADATA_FILE).write_text(json.dumps({**metadata, "layout": PARTITIONS_LAYOUT}, indent=1, sort_keys=True))
    return root


def store_index(path: str | os.PathLike) -> pd.DataFrame:
    """``id`` and ``partition`` of every stored star, sorted by id (``partition`` is -1 in the per-star layout)."""
    root = Path(path)
    if read_metadata(root).get("layout") == PARTITIONS_LAYOUT:
        try:
            index = pq.read_table(root / INDEX_FILE).to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise CatalogError(f"{root / INDEX_FILE}: cannot read the store's index ({exc})") from exc
    else:
        with os.scandir(root) as entries:
            ids = [unquote(e.name[3:]) for e in entries if e.is_dir() and e.name.startswith("id=")]
        index = pd.DataFrame({"id": ids, "partition": -1})
    return index.sort_values("id", kind="stable").reset_index(drop=True)


def _read_partitions(root: Path, ids) -> pd.DataFrame:
    index = store_index(root)
    if ids is None:
        files, keep = sorted(root.glob("part-*.parquet")), None
    else:
        ids = [str(i) for i in ids]
        where = index.set_index("id")["partition"]
        unknown = [i for i in ids if i not in where.index]
        if unknown:
            raise _unknown_ids(root, unknown)
        files = [partition_file(root, n) for n in sorted(set(where.loc[ids]))]
        keep = pc.field("id").isin(pa.array(ids, type=pa.string()))
    try:
        table = ds.dataset([str(f) for f in files], format="parquet", exclude_invalid_files=False).to_table(filter=keep)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{root}: cannot read the light-curve store ({exc})") from exc
    return _frame(table)
