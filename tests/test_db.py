"""The database file: who may open it, and its write-ahead log folded back in.

A DuckDB file has one writing process. A second one gets a sentence naming
the holder (crm.errors.DatabaseInUse). Changes go to ``<file>.wal`` first;
it must not grow without bound (it is replayed on every open).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from db_holder import held_open

from crm import db
from crm.errors import CrmError, DatabaseInUse

ROOT = Path(__file__).resolve().parent.parent


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _wal_size(path: Path) -> int:
    wal = _wal(path)
    return wal.stat().st_size if wal.exists() else 0


def _run_python(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _count_named(path: Path, first_name: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM customers WHERE first_name = $name", {"name": first_name}
        ).fetchone()
    assert row is not None
    return int(row[0])


# --- A file another process has open ---------------------------------------------------


def test_a_file_in_use_is_a_sentence_naming_the_process(db_path: Path) -> None:
    with held_open(db_path) as pid, pytest.raises(DatabaseInUse) as caught:
        db.connect(db_path)
    problem = caught.value
    assert isinstance(problem, CrmError)
    assert problem.pid == pid
    sentence = str(problem)
    assert f"process id {pid}" in sentence
    assert str(db_path) in sentence
    assert "in use by another" in sentence
    assert "IO Error" not in sentence  # DuckDB's own wording stays in the log


def test_the_file_opens_once_the_other_process_is_gone(db_path: Path) -> None:
    with held_open(db_path), pytest.raises(DatabaseInUse):
        db.connect(db_path)
    con = db.connect(db_path)
    try:
        assert con.execute("SELECT count(*) FROM customers").fetchone() is not None
    finally:
        con.close()


# --- The write-ahead log ---------------------------------------------------------------

# Writes in a second process; the connection is still referenced when the
# program ends, by a daemon thread (as Streamlit's session threads are), so
# nothing but the exit hook closes it.
_WRITE_THEN_EXIT = """
import sys, threading
from crm import db
con = db.connect(sys.argv[1])
for i in range(50):
    with db.transaction(con) as cur:
        cur.execute("UPDATE customers SET first_name = 'Exited' WHERE id = $id", {"id": i + 1})
def hold(cursor):
    threading.Event().wait()
threading.Thread(target=hold, args=(con.cursor(),), daemon=True).start()
"""


def test_a_clean_exit_folds_the_wal_back(db_path: Path) -> None:
    done = _run_python(_WRITE_THEN_EXIT, db_path)
    assert done.returncode == 0, done.stderr
    assert _wal_size(db_path) == 0
    assert _count_named(db_path, "Exited") == 50


_WRITE_THEN_CRASH = """
import os, signal, sys
from crm import db
con = db.connect(sys.argv[1])
for i in range(50):
    with db.transaction(con) as cur:
        cur.execute("UPDATE customers SET first_name = 'Crashed' WHERE id = $id", {"id": i + 1})
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_wal_left_by_a_crash_is_folded_in_when_the_file_is_opened(db_path: Path) -> None:
    done = _run_python(_WRITE_THEN_CRASH, db_path)
    assert done.returncode == -9
    assert _wal_size(db_path) > 0  # what the killed process committed is only in the WAL
    con = db.connect(db_path)
    try:
        assert _wal_size(db_path) == 0
    finally:
        con.close()
    assert _count_named(db_path, "Crashed") == 50


def test_many_writes_keep_the_wal_under_the_threshold(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> None:
    customers = [row[0] for row in con.execute("SELECT id FROM customers").fetchall()]
    largest = grown = rounds = 0
    # Enough writes to fill the log three times over (DuckDB's default, 16 MiB, is far off).
    while grown < 3 * db.CHECKPOINT_THRESHOLD_BYTES:
        rounds += 1
        for customer_id in customers:
            before = _wal_size(db_path)
            with db.transaction(con) as cur:
                cur.execute(
                    "UPDATE customers SET street = $street WHERE id = $id",
                    {"street": f"{rounds} Long Road " + "x" * 2000, "id": customer_id},
                )
            after = _wal_size(db_path)
            grown += after - before if after >= before else after  # smaller: checkpointed
            largest = max(largest, after)
    assert 0 < largest <= db.CHECKPOINT_THRESHOLD_BYTES
