"""The served explorer exposes nothing it should not: it listens on this machine only unless told
otherwise, its file field reads below the data folders only, uploads are bounded, and text from
files is never run as HTML in the page."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import uploads
from explorer.state import ExplorerState
from tests.conftest import ROOT, wait_until_serving
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

#: "Another machine", played inside a private network namespace: an address of the namespace's own
#: loopback device, so no test traffic reaches any real interface of this machine.
OTHER_MACHINE = "10.200.0.1"


def _namespace_works() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "ip", "addr", "add", f"{OTHER_MACHINE}/32", "dev", "lo"],
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_namespace = pytest.mark.skipif(not _namespace_works(), reason="needs unshare -rn and ip (a network namespace)")


def _in_namespace(code: str, env: dict) -> str:
    """Run ``code`` (Python) in a fresh network namespace whose loopback also holds OTHER_MACHINE."""
    setup = f"ip link set lo up && ip addr add {OTHER_MACHINE}/32 dev lo && exec {sys.executable} -c \"$0\""
    out = subprocess.run(["unshare", "-rn", "sh", "-c", setup, code], cwd=ROOT, env={**os.environ, **env},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _start(command: list[str], port: int, log, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    wait_until_serving(process, f"http://127.0.0.1:{port}/app", 90, lambda: Path(log.name).read_text(errors="replace"))
    return process


#: Inside the namespace: serve ``COMMAND`` on PORT, then report what "another machine" and this one see.
NAMESPACE_CHECK = """
import json, os, socket, subprocess, sys
sys.path.insert(0, os.getcwd())
from tests.test_served_app_security import OTHER_MACHINE, _session_texts, _start
from tests.conftest import stop_process
port, command = int(os.environ["CHECK_PORT"]), json.loads(os.environ["CHECK_COMMAND"])
with open(os.environ["CHECK_LOG"], "w") as log:
    process = _start(command + ["--port", str(port)], port, log, {})
try:
    try:
        socket.create_connection((OTHER_MACHINE, port), timeout=5).close()
        reachable = True
    except ConnectionRefusedError:
        reachable = False
    remote = " ".join(_session_texts(f"http://{OTHER_MACHINE}:{port}/app")) if reachable else ""
    local = " ".join(_session_texts(f"http://127.0.0.1:{port}/app"))
finally:
    stop_process(process)
print(json.dumps({"reachable": reachable, "remote": remote, "local": local}))
"""


def _serve_and_look(command: list[str], tmp_path, ztf_csv, cache_dir) -> dict:
    import json

    env = {"CHECK_PORT": "5123", "CHECK_COMMAND": json.dumps(command), "CHECK_LOG": str(tmp_path / "log"),
           "VSE_CATALOG": str(ztf_csv), "VSE_CACHE_DIR": str(cache_dir)}
    return json.loads(_in_namespace(NAMESPACE_CHECK, env).strip().splitlines()[-1])


@needs_namespace
def test_python_m_explorer_listens_on_this_machine_only(tmp_path, ztf_csv, cache_dir):
    seen = _serve_and_look([sys.executable, "-m", "explorer"], tmp_path, ztf_csv, cache_dir)
    assert not seen["reachable"] and "Cleaning report" in seen["local"]


def _session_texts(url: str) -> list[str]:
    """The text of every model of a session, pulled as a script would (no browser, no Origin)."""
    from bokeh.client import pull_session

    for module in pkgutil.iter_modules(importlib.import_module("panel.models").__path__):
        importlib.import_module(f"panel.models.{module.name}")  # the model types the document holds
    with pull_session(url=url) as session:
        return [str(m.text) for m in session.document.models if isinstance(getattr(m, "text", None), str)]


@needs_namespace
def test_bare_panel_serve_shows_other_machines_nothing(tmp_path, ztf_csv, cache_dir):
    # what the README used to show: no --address, so Bokeh listens on every interface
    seen = _serve_and_look([sys.executable, "-m", "panel", "serve", "explorer/app.py"], tmp_path, ztf_csv, cache_dir)
    assert seen["reachable"]
    assert "serves only the machine it runs on" in seen["remote"] and "Cleaning report" not in seen["remote"]
    assert "Cleaning report" in seen["local"] and "serves only" not in seen["local"]
