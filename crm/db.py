"""The DuckDB connection, schema migrations and transactions.

One connection per database per process; every query runs on its own
cursor (DuckDB's threading guide), because Streamlit serves each browser
session on its own thread. The database is a local file or a MotherDuck
database (``crm.config.Database``). A file another process has open is
refused with a sentence (``DatabaseInUse``); the write-ahead log is folded
back into the file when it grows, when the file is opened after a crash and
when the program ends (local files only: MotherDuck keeps its own storage).

Several app instances may write one MotherDuck database, so nothing here may
rely on this process alone: versioned writes say the version in their own
WHERE clause, and every write transaction adds a row to ``committed_changes``
(migration 016), whose count is the key of the app's read caches
(``change_count``), so an instance notices what another one wrote.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from crm import slots
from crm.config import (
    Database,
    LocalDatabase,
    MotherDuckDatabase,
    motherduck_token,
    parse_database,
)
from crm.errors import DatabaseInUse, DatabaseUnavailable

_MIGRATIONS_PACKAGE = "crm.migrations"
_LOG = logging.getLogger(__name__)
_connect_lock = threading.Lock()
# Changes go to "<file>.wal" first; opening the file replays the whole log.
# Measured at 100,000 customers on a busy 2-core machine: replaying customer
# edits costs about 1 s per MB (0.85 MB from 1,000 edits: reopening took
# 0.94 s, 0.03 s without a log); folding the log in (CHECKPOINT, paid by the
# save that crosses the limit) took 0.6-1.6 s whatever its size. 1 MiB (about
# 1,200 edits of ~850 bytes) bounds the replay after a crash to about a second
# and costs one such wait per ~1,200 edits. DuckDB's default, 16 MiB, allows
# ~15 s of replay at every start after a crash.
CHECKPOINT_THRESHOLD_BYTES = 1 << 20
IN_USE_ADVICE = (
    "Stop that process (for example another Customer Hub), or start this one with"
    " CRM_DB_PATH set to another file, then reload the page."
)
# DuckDB's words when another process holds the file's lock, e.g. 'IO Error: Could
# not set lock on file "x.duckdb": Conflicting lock is held in /usr/bin/python3 (PID 42)'.
_LOCK_CONFLICT = re.compile(r"Could not set lock on file")
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
# Connections opened by ``connect`` that are still alive: checkpointed and
# closed at exit (below).
_opened: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
# Writers take turns. DuckDB does not detect two transactions updating the same
# row of a table that has an index (primary key, UNIQUE): both commit and one
# update is silently lost. A local DuckDB file has one writing process, so a
# process-wide lock around each write transaction makes "check the version,
# then update" atomic there. Instances sharing a MotherDuck database do not
# share this lock: there the version in each write's own WHERE clause refuses
# a save made on a version another instance has replaced (tests/test_instances.py).
# Writes take milliseconds; reads never take the lock.
_write_lock = threading.RLock()
# Write transactions committed by this process, to any database. Writes by
# other instances are counted in the database itself (``change_count``).
_committed_writes = 0


def committed_writes() -> int:
    """How many write transactions this process has committed (only ever grows)."""
    return _committed_writes


def change_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many write transactions were ever committed to this database, by any
    instance of the app: one row to read, and it changes with every write."""
    row = con.cursor().execute("SELECT count(*) FROM committed_changes").fetchone()
    return int(row[0]) if row else 0


def wal_path(path: Path) -> Path:
    """Where DuckDB keeps the write-ahead log of the database file ``path``."""
    return path.with_name(path.name + ".wal")


def in_use_error(
    path: Path, error: duckdb.Error, advice: str = IN_USE_ADVICE
) -> DatabaseInUse | None:
    """``DatabaseInUse`` when ``error`` is DuckDB refusing ``path`` because another
    process holds its lock (with that process's id when DuckDB names it), else None."""
    message = str(error)
    if not _LOCK_CONFLICT.search(message):
        return None
    holder = _LOCK_HOLDER.search(message)
    return DatabaseInUse(str(path), int(holder.group(1)) if holder else None, advice)


def connect(
    target: Database | Path | str, *, token: str | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and bring its schema up to date.

    ``target`` is a ``crm.config.Database``, a file path, ``":memory:"`` or an
    ``md:name`` string. A MotherDuck database needs ``token`` (the caller's
    secret) or ``MOTHERDUCK_TOKEN`` in the environment. Raises ``DatabaseInUse``
    when another process has the file open, ``DatabaseUnavailable`` (a
    sentence without the token) when MotherDuck cannot be opened.

    ``read_only`` (``CRM_READ_ONLY``, a public demo): DuckDB refuses every write
    on the connection, so no migration can run either: a database that needs
    one is refused with a sentence (``DatabaseUnavailable``) instead.
    """
    # A path is read like CRM_DB_PATH too: "--db md:customer_hub" reaches here as a Path.
    location = parse_database(str(target)) if isinstance(target, str | Path) else target
    with _connect_lock:
        if isinstance(location, MotherDuckDatabase):
            con = _open_motherduck(location, token, read_only=read_only)
        else:
            con = _open_file(location.path, read_only=read_only)
        # Every query whose row order matters says ORDER BY, so DuckDB need not
        # keep scan order while it materialises a segment's matches: the
        # page + count mix runs ~10 % faster and 8 sessions' p95 ~20 % lower at
        # a million customers. (crm.demo.seed turns it back on for its bulk inserts.)
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            "SET checkpoint_threshold = $bytes", {"bytes": f"{CHECKPOINT_THRESHOLD_BYTES}B"}
        )
        if read_only:
            _refuse_if_migrations_pending(con, location)
            return con  # nothing to fold in or checkpoint: this connection writes nothing
        migrate(con)
        if isinstance(location, LocalDatabase) and not is_in_memory(location):
            _fold_in_wal(con, location.path)
            _opened.add(con)  # checkpointed at exit: a MotherDuck database has no local log
    return con


def is_in_memory(location: LocalDatabase) -> bool:
    return str(location.path) == ":memory:"


def _open_file(target: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not target.is_file():
        raise DatabaseUnavailable(
            f"Customer Hub is set to read-only (CRM_READ_ONLY) and there is no database at "
            f"{target} to read. Create it first (python -m crm.demo.seed, or start the app once "
            "without CRM_READ_ONLY), or point CRM_DB_PATH at an existing one."
        )
    if str(target) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as error:
        in_use = in_use_error(target, error)
        if in_use is None:
            raise
        raise in_use from error


# MotherDuck's published list of the DuckDB clients it accepts.
MOTHERDUCK_CLIENTS = ((1, 4, 0), (1, 5, 6))
NO_TOKEN = (
    "Customer Hub is set to use the MotherDuck database {database} but has no access token."
    " Set MOTHERDUCK_TOKEN in the environment, or token under [motherduck] in"
    " .streamlit/secrets.toml (on Community Cloud: the app's Settings, Secrets)."
)


def motherduck_connection(database: MotherDuckDatabase, token: str | None) -> tuple[str, str]:
    """The connection string ``duckdb.connect`` gets for ``database``, and the token
    to pass in its configuration: never in the string, which DuckDB may repeat in
    an error message. ``DatabaseUnavailable`` without a token: MotherDuck would
    otherwise wait for someone to sign in in a browser."""
    chosen = motherduck_token(token)
    if chosen is None:
        raise DatabaseUnavailable(NO_TOKEN.format(database=database))
    # attach_mode=single: this connection sees the one database and leaves the
    # user's saved MotherDuck workspace (its other attachments) alone.
    return f"{database}?attach_mode=single", chosen


def _open_motherduck(
    database: MotherDuckDatabase, token: str | None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    path, chosen = motherduck_connection(database, token)
    settings: dict[str, str | bool | int | float | list[str]] = {
        "motherduck_token": chosen,
        "custom_user_agent": "customer-hub",
    }
    try:
        con = duckdb.connect(path, read_only=read_only, config=settings)
    except duckdb.Error as error:
        raise motherduck_failure(database, error, chosen) from None
    slots.mark_remote(con)  # its scans run on MotherDuck's machines
    return con


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def motherduck_failure(
    database: MotherDuckDatabase, error: duckdb.Error, token: str, client: str | None = None
) -> DatabaseUnavailable:
    """A sentence for MotherDuck refusing (or never reached by) ``duckdb.connect``:
    DuckDB's own words with the token cut out, and what to check."""
    client = client or duckdb.__version__
    said = str(error).replace(token, "***").strip()
    if len(said) > 400:
        said = said[:400] + "…"
    parts = [f"Could not open the MotherDuck database {database}: {said}"]
    lowest, highest = MOTHERDUCK_CLIENTS
    if not lowest <= _version(client) <= highest:
        parts.append(
            f"MotherDuck accepts DuckDB {'.'.join(map(str, lowest))} to"
            f" {'.'.join(map(str, highest))} and this app runs DuckDB {client}:"
            " pin duckdb==1.5.6 in requirements.txt (see the README, DuckDB versions)."
        )
    if 'extension "motherduck"' in said.lower():
        parts.append(
            "DuckDB downloads its motherduck extension on first use: the machine"
            " needs to reach the internet."
        )
    else:
        parts.append("Check the token, that the database exists in MotherDuck, and the network.")
    return DatabaseUnavailable(" ".join(parts))


def _fold_in_wal(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    # A log still there after the open was left by a process that did not end
    # cleanly (kill -9, power loss). Opening replayed it but keeps it, so without
    # this it would be replayed at every start and grow across crashes (7.5 MB,
    # reopening 0.16 -> 2.2 s). Nothing else runs on a file being opened, so the
    # checkpoint only waits for this process's own writers.
    wal = wal_path(target)
    if wal.exists() and wal.stat().st_size > 0:
        with _write_lock:
            con.execute("CHECKPOINT")


@atexit.register
def _checkpoint_at_exit() -> None:
    """Fold every open connection's log into its file and close it, at a clean exit.

    DuckDB checkpoints when a database is destroyed, but Python does not
    destroy what is still referenced at exit: a connection held by a
    running thread (Streamlit's session threads, the app's cache) was left
    with its log. A CHECKPOINT can only fail here while a thread is still
    inside a write transaction; the log then stays and is folded in at the
    next open (``_fold_in_wal``). Nothing is lost either way.
    """
    for con in list(_opened):
        try:
            con.execute("CHECKPOINT")
        except duckdb.ConnectionException:
            continue  # closed by its owner, which checkpointed it
        except duckdb.Error:
            _LOG.warning("No checkpoint at exit; the next open folds the log in", exc_info=True)
        con.close()


def migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped with the package as (version, name, sql), oldest first."""
    found = []
    for entry in resources.files(_MIGRATIONS_PACKAGE).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet applied, each in its own transaction.

    Safe to run on every start: applied versions are recorded in
    ``schema_migrations``. Returns the versions applied by this call.
    """
    cur = con.cursor()
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp())"
    )
    applied = {row[0] for row in cur.execute("SELECT version FROM schema_migrations").fetchall()}
    done = []
    for version, name, sql in migrations():
        if version in applied:
            continue
        # Not counted in committed_changes: that table comes with migration 016.
        with _transaction(con, counted=False) as tx:
            tx.execute(sql)
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
        done.append(version)
    return done


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The versions of the migrations this database has not had yet (reads only)."""
    cur = con.cursor()
    known = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'"
        " AND database_name = current_database() AND schema_name = 'main'"
    ).fetchone()
    applied: set[int] = set()
    if known and known[0]:
        rows = cur.execute("SELECT version FROM schema_migrations").fetchall()
        applied = {row[0] for row in rows}
    return [version for version, _, _ in migrations() if version not in applied]


def _refuse_if_migrations_pending(con: duckdb.DuckDBPyConnection, location: Database) -> None:
    pending = pending_migrations(con)
    if pending:
        con.close()
        listed = ", ".join(f"{v:03d}" for v in pending)
        raise DatabaseUnavailable(
            f"The database {location} needs upgrading (migrations {listed}) before this "
            "version of Customer Hub can show it, and CRM_READ_ONLY forbids changing it. "
            "Open it once without CRM_READ_ONLY (the upgrade is automatic), then read-only again."
        )


def is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether DuckDB refuses writes on this connection (opened read-only)."""
    mode = con.cursor().execute("SELECT current_setting('access_mode')").fetchone()
    return mode is not None and str(mode[0]).lower() == "read_only"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor inside BEGIN ... COMMIT, one writer at a time; any exception rolls back.

    The transaction adds its row to ``committed_changes``, so every instance's
    caches see it committed. An INSERT, not an UPDATE of one counter row: two
    instances' transactions would both update that row, and DuckDB refuses the
    later one (a write-write conflict), so every write would conflict with
    every other one in flight, an import of a minute with all of them.
    """
    with _transaction(con, counted=True) as cur:
        yield cur


@contextmanager
def _transaction(
    con: duckdb.DuckDBPyConnection, counted: bool
) -> Iterator[duckdb.DuckDBPyConnection]:
    with _write_lock:
        cur = con.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
            if counted:
                cur.execute("INSERT INTO committed_changes DEFAULT VALUES")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
            global _committed_writes
            _committed_writes += 1
        finally:
            cur.close()


# --- Replacing a database file (crm.demo.seed --force, crm.exchange.backup restore) ----------

_IN_USE_ADVICE = "Stop that process before replacing the file; nothing was changed."


def remove_database(target: Path) -> None:
    """Delete a database file and its WAL; only under ``locked_for_replacement``'s lock."""
    for path in (target, wal_path(target)):
        path.unlink(missing_ok=True)


def _in_use(target: Path) -> DatabaseInUse:
    """The refusal for ``target``, naming the process that holds it as DuckDB reports it."""
    try:
        # Read-only: this never changes the file, even if the holder has just let go.
        duckdb.connect(str(target), read_only=True).close()
    except duckdb.Error as error:
        found = in_use_error(target, error, _IN_USE_ADVICE)
        if found is not None:
            return found
    return DatabaseInUse(str(target), None, _IN_USE_ADVICE)


@contextmanager
def locked_for_replacement(target: Path, force: bool) -> Iterator[bool]:
    """Hold DuckDB's lock on ``target``, creating it empty if missing; yields whether it was.

    DuckDB locks a database file with a POSIX record lock over the whole file
    (fcntl F_SETLK, write lock for a writer) before it reads it or its WAL, and
    ``fcntl.lockf`` takes the same lock: while it is held, no DuckDB process can
    open ``target``. Without ``force`` an existing file is refused. POSIX locks
    belong to the process and go when any of its descriptors of the file
    closes, so nothing else here may open ``target`` while it is held.
    """
    while True:
        try:
            fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL)
            created = True
        except FileExistsError:
            if not force:
                raise FileExistsError(
                    f"{target} already exists; use --force to replace it"
                ) from None
            fd = os.open(target, os.O_RDWR)
            created = False
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _in_use(target) from None
        if os.fstat(fd).st_ino == os.stat(target).st_ino:
            break
        os.close(fd)  # another seeder put a new file there meanwhile: lock that one
    try:
        yield created
    finally:
        os.close(fd)  # releases the lock
