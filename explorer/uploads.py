"""Uploaded catalogues: the size limit the transport really has, and a bounded on-disk cache.

An upload reaches the server base64-encoded (4 bytes for every 3) inside one websocket message, so
the largest file is about 3/4 of the server's maximum message size; bigger messages make the server
drop the connection. ``python -m explorer`` and ``make serve`` set that size from
:data:`UPLOAD_LIMIT_BYTES`, and the app refuses, with a message, any upload above the limit.

Uploads are kept under the catalogue cache folder, one folder per content hash, so loading the same
file twice parses it once (the parsed-catalogue cache is keyed by path) and a session's many uploads
cost at most :data:`CACHE_ENTRIES` folders.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pipeline.catalogs import cache_dir

#: Largest upload, all files together (a CDS table2.dat with its ReadMe travels in one message).
UPLOAD_LIMIT_BYTES = 15 * 1024 * 1024
#: base64 of the limit plus room for the message's JSON around it.
WEBSOCKET_MAX_MESSAGE_BYTES = UPLOAD_LIMIT_BYTES * 4 // 3 + 1024 * 1024
#: Upload folders kept; the least recently used go first.
CACHE_ENTRIES = 8


def limit_text() -> str:
    return f"{UPLOAD_LIMIT_BYTES / 1024 ** 2:.0f} MB"


def upload_folder(files: Mapping[str, bytes]) -> Path:
    """A folder holding ``files`` under their own names, shared by every upload of the same content.

    Names must be plain, non-empty file names (the caller checks); the folder is made atomically
    (written as a temp folder, then renamed), so a reader never sees half an upload.
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    root = cache_dir() / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    folder = root / digest.hexdigest()[:32]
    if folder.is_dir():
        os.utime(folder)  # recently used: evicted last
    else:
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".incoming-"))
        try:
            for name, data in files.items():
                (staging / name).write_bytes(data)
            os.replace(staging, folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not folder.is_dir():  # another session made the same folder first: use it
                raise
    _evict(root, keep=folder)
    return folder


def _evict(root: Path, keep: Path) -> None:
    """Remove the least recently used upload folders beyond :data:`CACHE_ENTRIES`."""
    folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[CACHE_ENTRIES - 1:]:
        shutil.rmtree(old, ignore_errors=True)
