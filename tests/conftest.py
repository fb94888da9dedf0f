"""Shared fixtures: the system Chromium for playwright, an offline page that fails on any request off the
local server, small generated catalogues in real formats, and the explorer served by ``panel serve`` in
a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ztf_files import write_mrt, ztf_table

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: As root Chromium needs --no-sandbox; the rest keep it from reaching the network or the GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: Rows of the generated ZTF table: every type present and each threshold removing some stars.
N_STARS = 3000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium (never download one); we run as root, hence --no-sandbox."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


#: Hosts the served app is reached on; a request to any other host would need the internet.
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class PageProblems:
    """What went wrong in the browser: requests off the local server (blocked), console errors, page errors."""

    blocked: list[str]
    console: list[str]
    page_errors: list[str]

    def __bool__(self) -> bool:
        return bool(self.blocked or self.console or self.page_errors)


def guard_page(page) -> PageProblems:
    """Block every request not to the local server (the app must work offline) and record what went wrong."""
    problems = PageProblems([], [], [])

    def route(request_route):
        url = request_route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            request_route.continue_()
        else:
            problems.blocked.append(url)
            request_route.abort("internetdisconnected")

    page.route("**/*", route)
    page.on("console", lambda message: problems.console.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    return problems


@pytest.fixture
def offline_page(page):
    """playwright's page, offline: after the test, no blocked request, console error or page error may remain."""
    problems = guard_page(page)
    page.problems = problems
    yield page
    assert not problems, problems


@pytest.fixture(scope="session")
def ztf_catalog_file(tmp_path_factory) -> Path:
    """A ZTF table2 look-alike as the AAS machine-readable ``Table2.txt`` the journal distributes."""
    return write_mrt(ztf_table(N_STARS, seed=7), tmp_path_factory.mktemp("ztf") / "Table2.txt")


@pytest.fixture(scope="session")
def bad_catalog_file(tmp_path_factory) -> Path:
    """A CSV that is no catalogue: none of the expected columns."""
    path = tmp_path_factory.mktemp("bad") / "observations.csv"
    path.write_text("star,flux,when\nA,1.0,2020-01-01\nB,2.0,2020-01-02\n")
    return path


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """Parsed-catalogue cache of the test session, never the user's."""
    return tmp_path_factory.mktemp("vse-cache")


@pytest.fixture(autouse=True)
def _isolated_cache(cache_dir, monkeypatch):
    monkeypatch.setenv("VSE_CACHE_DIR", str(cache_dir))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@dataclass
class ServedApp:
    url: str
    log_path: Path
    process: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def serve_app(catalog: Path | str | None, log_path: Path, cache: Path, timeout: float = 180.0,
              runs_dir: Path | None = None, serve_args: tuple[str, ...] = (), root: Path = ROOT) -> ServedApp:
    """Serve the explorer as ``make serve`` does (``python -m explorer``: 127.0.0.1 only, drawn once before it
    answers) on a free port, ``serve_args`` passed on to ``panel serve``; return once it answers HTTP.

    ``root`` is the checkout served: another one (a git worktree of an older commit) serves its own code.
    """
    port = free_port()
    env = {**os.environ, "VSE_CACHE_DIR": str(cache)}
    if Path(root).resolve() != ROOT.resolve():
        env["PYTHONPATH"] = str(root)  # its packages before this checkout's (installed in editable mode)
    if runs_dir is not None:
        env["VSE_RUNS_DIR"] = str(runs_dir)
    env.pop("VSE_CATALOG", None)
    if catalog is not None:
        env["VSE_CATALOG"] = str(catalog)
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "explorer", "--port", str(port), *serve_args],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    served = ServedApp(f"http://127.0.0.1:{port}/app", log_path, process)
    wait_until_serving(process, served.url, timeout, served.log)
    return served


def wait_until_serving(process: subprocess.Popen, url: str, timeout: float, log: Callable[[], str]) -> None:
    """Return once ``url`` answers 200; RuntimeError with the server's ``log()`` if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log()}")
        try:
            # One patient request: each GET builds a session, and retrying a slow one piles up more of them
            with urllib.request.urlopen(url, timeout=max(5.0, deadline - time.monotonic())) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{log()}")
        time.sleep(0.2)  # poll interval while waiting for the server to come up


def stop_process(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Terminate, then kill if it does not exit within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def served_app(ztf_catalog_file, cache_dir, tmp_path_factory):
    """The explorer served on the generated ZTF catalogue; its log is ``served_app.log()``."""
    served = serve_app(ztf_catalog_file, tmp_path_factory.mktemp("serve") / "panel.log", cache_dir)
    yield served
    stop_process(served.process)
