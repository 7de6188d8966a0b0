"""Another process that keeps a DuckDB file open, as a second running app would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Opens the file (taking DuckDB's lock), says so, and keeps it open until stdin closes.
_HOLD = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('holding', flush=True)\n"
    "sys.stdin.read()\n"
    "con.close()\n"
)


@contextmanager
def held_open(path: Path) -> Iterator[int]:
    """``path`` open in a second Python process for the ``with`` block; yields its PID."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc.pid
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
