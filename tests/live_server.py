"""Start ``streamlit run Home.py`` on a free port: used by the browser tests and the benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling out, and this
# machine's closed network refuses every call.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
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


@contextmanager
def streamlit_server(db_path: Path, log_path: Path, secrets: Path | None = None) -> Iterator[str]:
    """Serve the app on ``db_path``; yields its base URL and stops it afterwards.

    ``secrets``: a secrets.toml of the test's own (e.g. an [smtp] section for a
    test SMTP server) instead of the repository's."""
    port = free_port()
    env = {**os.environ, "CRM_DB_PATH": str(db_path)}
    command = [
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
    ]
    if secrets is not None:
        command.append(f"--secrets.files={secrets}")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
