"""Light curves on disk: Parquet partitioned by star, with the container's metadata beside it.

Layout (hive-style, so ``pyarrow.dataset`` reads it as one table with an ``id`` column)::

    store/_lightcurves.json            time scale, source, survey, simulated flag, notes
    store/id=<quoted id>/part-0.parquet time, mag, err, band[, flag] of one star

One directory per star makes a subset cheap: :func:`read_store` with ``ids`` opens exactly those
stars' files, so memory follows the stars in use, not the survey (SPEC section 6). Ids are
percent-quoted in directory names (``urllib.parse.quote``, which pyarrow's hive partitioning
decodes), so any id spelling survives. Metadata is JSON, never pickle.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.errors import CatalogError

from .container import COLUMNS, LightCurves

METADATA_FILE = "_lightcurves.json"
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
    if ids is None:
        source = str(root)
    else:
        ids = [str(i) for i in ids]
        dirs = [_star_dir(root, i) for i in ids]
        unknown = [i for i, d in zip(ids, dirs) if not d.is_dir()]
        if unknown:
            raise CatalogError(f"{root}: no light curves for ids {unknown[:10]}"
                               f"{' ...' if len(unknown) > 10 else ''}; expected ids stored in this folder")
        source = [str(d / "part-0.parquet") for d in dirs]
    try:
        dataset = ds.dataset(source, format="parquet", partitioning=_PARTITIONING,
                             partition_base_dir=str(root), exclude_invalid_files=False)
        table = dataset.to_table()
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{root}: cannot read the light-curve store ({exc})") from exc
    data = table.to_pandas() if table.num_rows else pd.DataFrame(columns=list(COLUMNS))  # a store of no stars
    data["id"] = data["id"].astype(str)
    return LightCurves(data, meta["time_scale"], meta["source"], meta.get("survey"),
                       bool(meta.get("simulated", False)), meta.get("notes", {}))
