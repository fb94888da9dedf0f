"""The served explorer exposes nothing it should not: it listens on this machine only unless told
otherwise, its file field reads below the data folders only, uploads are bounded, and text from
files is never run as HTML in the page."""

from __future__ import annotations

import importlib
import os
import pkgutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from explorer import uploads
from explorer.state import ExplorerState
from tests.conftest import ROOT, free_port
from tests.ztf_files import write_csv, ztf_table


@pytest.fixture(scope="module")
def ztf_csv(tmp_path_factory):
    return write_csv(ztf_table(300, seed=4), tmp_path_factory.mktemp("ztf") / "ztf.csv")


# -------------------------------------------------------------------------------- the server-file field

@pytest.fixture
def data_folder(tmp_path, monkeypatch, ztf_csv):
    """A data folder holding a catalogue; beside it, outside, a catalogue-shaped file with a secret."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "ztf.csv").write_bytes(ztf_csv.read_bytes())
    outside = tmp_path / "private.csv"
    outside.write_text("SECRET-HEADER,password\nSECRET-VALUE,hunter2\n")
    (data / "link.csv").symlink_to(outside)
    monkeypatch.setenv("VSE_DATA_DIRS", str(data))
    return data, outside


def test_the_file_field_reads_below_the_data_folders(data_folder):
    data, _ = data_folder
    state = ExplorerState()
    assert state.load_server_file(str(data / "ztf.csv")), state.error
    assert state.source_name == str(data / "ztf.csv")


@pytest.mark.parametrize("typed", ["{outside}", "{data}/link.csv", "{data}/../private.csv", "{data}/missing.csv",
                                   "/etc/passwd", "{data}"])
def test_outside_or_missing_files_get_one_message_and_no_content(data_folder, typed):
    data, outside = data_folder
    state = ExplorerState()
    assert state.load(data / "ztf.csv")
    text = typed.format(outside=outside, data=data)
    assert not state.load_server_file(text)
    assert state.error.startswith(f"No catalogue file {text} below the data folders ({data})")
    assert "SECRET" not in state.error and "hunter2" not in state.error
    assert state.source_name == str(data / "ztf.csv")  # what was loaded stays loaded


def test_default_data_folders_are_data_and_the_runs_folder(monkeypatch):
    from explorer.state import data_dirs

    monkeypatch.delenv("VSE_DATA_DIRS", raising=False)
    monkeypatch.setenv("VSE_RUNS_DIR", "/srv/runs")
    assert [str(p) for p in data_dirs()] == ["data", "/srv/runs"]


# -------------------------------------------------------------------------------- uploads

def test_uploads_refuse_nameless_and_oversized_files(ztf_csv):
    state = ExplorerState()
    assert not state.load_upload({"": ztf_csv.read_bytes()})
    assert state.error.startswith("Upload refused: a file without a name")
    big = b"x" * (uploads.UPLOAD_LIMIT_BYTES + 1)
    assert not state.load_upload({"huge.csv": big})
    assert f"more than the {uploads.limit_text()} an upload may have" in state.error
    assert state.catalog is None


def test_the_message_size_the_launcher_sets_carries_the_largest_upload():
    from explorer.__main__ import panel_arguments

    arguments = panel_arguments(["--port", "5999"])
    size = int(next(a for a in arguments if a.startswith("--websocket-max-message-size=")).split("=")[1])
    assert size >= 4 * ((uploads.UPLOAD_LIMIT_BYTES + 2) // 3) + 64 * 1024  # base64 and the message around it


def test_upload_cache_is_keyed_by_content_and_bounded(ztf_csv, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"  # its own: other tests' uploads share the session's cache
    monkeypatch.setenv("VSE_CACHE_DIR", str(cache_dir))
    state = ExplorerState()
    data = ztf_csv.read_bytes()
    assert state.load_upload({"a.csv": data})
    first = state.catalog
    assert state.load_upload({"a.csv": data})
    folders = lambda: [p for p in (cache_dir / "uploads").iterdir() if not p.name.startswith(".")]  # noqa: E731
    same = len(folders())
    for k in range(uploads.CACHE_ENTRIES + 3):  # different content each time
        assert state.load_upload({"a.csv": data + b"\n" * (k + 1)}), state.error  # blank lines: same stars
    assert same == 1 and len(folders()) == uploads.CACHE_ENTRIES
    assert len(first) == len(state.catalog)


# -------------------------------------------------------------------------------- where the server listens

def _outside_address() -> str | None:
    """An address of this machine that is not loopback, as another machine would reach it."""
    try:
        names = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    except OSError:
        return None
    return next((a for a in names if "." in a and not a.startswith("127.")), None)


OUTSIDE = _outside_address()
needs_outside = pytest.mark.skipif(OUTSIDE is None, reason="this machine has no non-loopback address")


def _start(command: list[str], port: int, log, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=5):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # poll interval while the server starts
    process.terminate()
    raise RuntimeError("the server did not answer")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@needs_outside
def test_python_m_explorer_listens_on_this_machine_only(tmp_path, ztf_csv, cache_dir):
    port = free_port()
    with open(tmp_path / "log", "w") as log:
        process = _start([sys.executable, "-m", "explorer", "--port", str(port)], port, log,
                         {"VSE_CATALOG": str(ztf_csv), "VSE_CACHE_DIR": str(cache_dir)})
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((OUTSIDE, port), timeout=5).close()
    finally:
        _stop(process)


def _session_texts(url: str) -> list[str]:
    """The text of every model of a session, pulled as a script would (no browser, no Origin)."""
    from bokeh.client import pull_session

    for module in pkgutil.iter_modules(importlib.import_module("panel.models").__path__):
        importlib.import_module(f"panel.models.{module.name}")  # the model types the document holds
    with pull_session(url=url) as session:
        return [str(m.text) for m in session.document.models if isinstance(getattr(m, "text", None), str)]


@needs_outside
def test_bare_panel_serve_shows_other_machines_nothing(tmp_path, ztf_csv, cache_dir):
    port = free_port()
    with open(tmp_path / "log", "w") as log:  # what the README used to show: no --address, every interface
        process = _start([sys.executable, "-m", "panel", "serve", "explorer/app.py", "--port", str(port)], port, log,
                         {"VSE_CATALOG": str(ztf_csv), "VSE_CACHE_DIR": str(cache_dir)})
    try:
        remote = " ".join(_session_texts(f"http://{OUTSIDE}:{port}/app"))
        local = " ".join(_session_texts(f"http://127.0.0.1:{port}/app"))
    finally:
        _stop(process)
    assert "serves only the machine it runs on" in remote and "Cleaning report" not in remote
    assert "Cleaning report" in local and "serves only" not in local
