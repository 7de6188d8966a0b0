"""Fixtures shared by the three tiers: seeded databases, the app, a live server.

Every test gets its own DuckDB file, copied from one database the seed
generator built for the session, so tests never share state and never mock.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from crm import db
from crm.seed import seed_database

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "tests" / "screenshots"
SEED = 7
CUSTOMERS = 300
# The data is laid out relative to today so "visited in the last 30 days" finds people.
AS_OF = date.today()

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database seeded once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "crm.duckdb"
    seed_database(path, customers=CUSTOMERS, seed=SEED, as_of=AS_OF)
    return path


@pytest.fixture
def db_path(seeded_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the seeded database."""
    path = tmp_path / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    return path


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def app_env(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app (AppTest runs it in this process) at this test's database."""
    monkeypatch.setenv("CRM_DB_PATH", str(db_path))
    return db_path


# --- Browser tier ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling a server that is starting, not waiting in a test
    raise RuntimeError(f"streamlit did not answer at {url} within {timeout} s")


@pytest.fixture(scope="session")
def live_server(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run Home.py`` on a free port, on its own copy of the seeded database."""
    path = tmp_path_factory.mktemp("live") / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    port = _free_port()
    env = {**os.environ, "CRM_DB_PATH": str(path)}
    log = (tmp_path_factory.getbasetemp() / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "Home.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's ``page.goto("/")`` resolves against the live server."""
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    # Playwright cannot download its own browser here: use Debian's Chromium.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where browser tests save the pictures a person looks at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
