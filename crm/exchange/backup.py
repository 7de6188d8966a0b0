"""Backups of a whole Customer Hub database as one zip, and restoring them.

A backup is DuckDB's ``EXPORT DATABASE`` as Parquet (one file per table),
zipped with ``manifest.json``: the app's schema version, the DuckDB version,
the rows of each table, where each id sequence stood, and when it was made.

    python -m crm.exchange.backup create --db PATH --out FILE.zip
    python -m crm.exchange.backup restore FILE.zip --db PATH [--force]

A restore never runs SQL from the zip (``IMPORT DATABASE`` would run the
export's schema.sql and load.sql, which a crafted zip could fill with any
statement): it builds a fresh database with the app's own migrations
(``crm.db.connect``), which also brings back the UNIQUE index on
(channel, lower(name)) of campaigns and the uncompressed ``search_text``,
loads each table's Parquet into the columns the app knows, moves the
sequences past the restored ids, and swaps the result in for the target the
way ``crm.demo.seed --force`` does: under DuckDB's lock on the old file, so
a database another process has open is never replaced.

Measured at a million customers on a 2-core machine shared with other work
(so the spread): a backup takes 16-74 s and 445 MB; a restore 64-135 s, of
which the invariant checks (crm.checks) take 8-60 s, and the restored file
matches the original table by table. DuckDB's own IMPORT DATABASE of the
same tables took 100 s where this restore took 94 s, so building from the
migrations costs nothing extra.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm import checks, config, db
from crm.errors import CrmError

Con = duckdb.DuckDBPyConnection

MANIFEST_NAME = "manifest.json"
BACKUP_FORMAT = "customer-hub-backup"
BACKUP_FORMAT_VERSION = 1


class BadBackup(CrmError):
    """The file is not a backup this Customer Hub can restore; nothing was written."""


class Manifest(BaseModel):
    """What ``manifest.json`` says about the backup beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    format_version: int
    schema_version: int
    duckdb_version: str
    created_at: datetime
    # Rows per table, and the next id each sequence hands out.
    tables: dict[str, int] = Field(min_length=1)
    sequences: dict[str, int]


@dataclass(frozen=True)
class RestoreSummary:
    tables: dict[str, int]
    # Broken invariants of the restored data (crm.checks); a faithful copy of
    # a database that had them has them too, so they are reported, not refused.
    problems: list[str]
    seconds: float


def _sql_string(text: str) -> str:
    """``text`` as an SQL string literal: EXPORT DATABASE takes no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def _tables(cur: Con) -> list[str]:
    """The database's own tables, the allow-list of names a backup may contain."""
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary"
        " ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _columns(cur: Con, table: str) -> list[str]:
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main'"
        " AND table_name = $table ORDER BY column_index",
        {"table": table},
    ).fetchall()
    return [name for (name,) in rows]


def _next_ids(cur: Con) -> dict[str, int]:
    """The value each sequence hands out next (``crm.checks.next_values``)."""
    return checks.next_values(cur)


def _row_count(cur: Con, table: str) -> int:
    row = cur.execute("SELECT count(*) FROM query_table($table)", {"table": table}).fetchone()
    return int(row[0]) if row else 0


def _schema_version(cur: Con) -> int:
    row = cur.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def create_backup(con: Con, target_zip: Path | str) -> Manifest:
    """Write a backup of the database behind ``con`` to ``target_zip`` (replaced if there).

    The export and the manifest's figures come from one transaction, so they
    agree even while the app keeps writing. The zip appears complete or not
    at all (written beside it, then renamed).
    """
    target = Path(target_zip)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    # The export goes to a folder of the system's own temporary directory, so
    # its path (written into the statement: EXPORT takes no bound parameters)
    # holds no text from the caller.
    with tempfile.TemporaryDirectory(prefix="crm-backup-") as folder:
        export = Path(folder) / "export"
        cur = con.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            # zstd: at a million customers the tables take 443 MB against
            # 728 MB with DuckDB's default (snappy); the zip stores them as
            # they are (compressed Parquet does not deflate further).
            cur.execute(
                f"EXPORT DATABASE {_sql_string(str(export))} (FORMAT parquet, COMPRESSION zstd)"
            )
            tables = {table: _row_count(cur, table) for table in _tables(cur)}
            manifest = Manifest(
                format=BACKUP_FORMAT,
                format_version=BACKUP_FORMAT_VERSION,
                schema_version=_schema_version(cur),
                duckdb_version=duckdb.__version__,
                created_at=datetime.now(UTC),
                tables=tables,
                sequences=_next_ids(cur),
            )
        finally:
            cur.execute("ROLLBACK")  # it only read
            cur.close()
        try:
            with zipfile.ZipFile(partial, "w") as archive:
                archive.writestr(
                    MANIFEST_NAME, manifest.model_dump_json(indent=2), zipfile.ZIP_DEFLATED
                )
                for table in tables:
                    archive.write(export / f"{table}.parquet", f"{table}.parquet")
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


# --- Restore --------------------------------------------------------------------------


def _expected_schema() -> tuple[int, dict[str, list[str]], set[str]]:
    """The schema version, tables (with their columns) and sequences this app builds."""
    con = db.connect(":memory:")
    try:
        cur = con.cursor()
        columns = {table: _columns(cur, table) for table in _tables(cur)}
        return _schema_version(cur), columns, set(_next_ids(cur))
    finally:
        con.close()


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names))


def read_manifest(zip_path: Path | str) -> Manifest:
    """The manifest of the backup at ``zip_path`` once the zip is found fit to restore.

    Raises ``BadBackup`` with a sentence saying what is wrong: no such file,
    not a zip, no or a foreign manifest, another schema version, or tables,
    sequences or files other than the app's.
    """
    path = Path(zip_path)
    if not path.is_file():
        raise BadBackup(f"{path} does not exist (or is not a file); nothing was changed.")
    if not zipfile.is_zipfile(path):
        raise BadBackup(
            f"{path} is not a zip file, so it is no Customer Hub backup; nothing was changed."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if MANIFEST_NAME not in names:
                raise BadBackup(
                    f"{path} has no {MANIFEST_NAME}, so it is no Customer Hub backup;"
                    " nothing was changed."
                )
            manifest_text = archive.read(MANIFEST_NAME)
    except zipfile.BadZipFile as error:
        raise BadBackup(f"{path} is a damaged zip file ({error}); nothing was changed.") from None
    try:
        manifest = Manifest.model_validate_json(manifest_text)
    except ValidationError:
        raise BadBackup(
            f"The {MANIFEST_NAME} in {path} is not a Customer Hub backup manifest;"
            " nothing was changed."
        ) from None
    if manifest.format != BACKUP_FORMAT or manifest.format_version != BACKUP_FORMAT_VERSION:
        raise BadBackup(
            f"{path} is a {manifest.format!r} file of version {manifest.format_version},"
            f" not a Customer Hub backup of version {BACKUP_FORMAT_VERSION};"
            " nothing was changed."
        )
    version, columns, sequences = _expected_schema()
    if manifest.schema_version != version:
        newer = "a newer" if manifest.schema_version > version else "an older"
        raise BadBackup(
            f"{path} was made by {newer} Customer Hub (database schema version"
            f" {manifest.schema_version}); this one restores schema version {version} only;"
            " nothing was changed."
        )
    missing, unknown = set(columns) - set(manifest.tables), set(manifest.tables) - set(columns)
    if missing or unknown:
        raise BadBackup(
            f"{path} does not hold the app's tables"
            + (f"; missing: {_names(missing)}" if missing else "")
            + (f"; unknown: {_names(unknown)}" if unknown else "")
            + "; nothing was changed."
        )
    if set(manifest.sequences) != sequences:
        raise BadBackup(
            f"{path} does not list the app's id sequences ({_names(sequences)});"
            " nothing was changed."
        )
    # Every member must be one of the files this module writes, by exact name:
    # no folders, no "../", nothing extracted under a name taken from the zip.
    expected = {MANIFEST_NAME} | {f"{table}.parquet" for table in columns}
    if sorted(names) != sorted(expected):
        strange = set(names) - expected
        absent = expected - set(names)
        raise BadBackup(
            f"{path} does not hold the files of a Customer Hub backup"
            + (f"; unexpected: {_names(strange)}" if strange else "")
            + (f"; missing: {_names(absent)}" if absent else "")
            + ("; some files are in it twice" if len(names) > len(set(names)) else "")
            + "; nothing was changed."
        )
    return manifest


def _check_free_space(path: Path, zip_path: Path, unpacked: int) -> None:
    # The unpacked tables stay until the database built from them is complete.
    # Measured at a million customers: 443 MB of Parquet became a 1.18 GB
    # database, so about 1 + 2.7 times the unpacked size; refuse early rather
    # than fill the disk half way.
    needed = 4 * unpacked
    free = shutil.disk_usage(path).free
    if free < needed:
        raise BadBackup(
            f"Restoring {zip_path} needs about {needed / 1e9:.1f} GB free in {path},"
            f" which has {free / 1e9:.1f} GB; nothing was changed."
        )


def _unpack(zip_path: Path, manifest: Manifest, folder: Path) -> dict[str, Path]:
    """Each table's Parquet file, copied out of the zip under a name made here."""
    files = {}
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for table in manifest.tables:
                file = folder / f"{table}.parquet"
                with archive.open(f"{table}.parquet") as source, file.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
                files[table] = file
    except zipfile.BadZipFile as error:  # a CRC that does not match: the file is damaged
        raise BadBackup(f"{zip_path} is damaged ({error}); nothing was changed.") from None
    return files


def _load(con: Con, manifest: Manifest, files: dict[str, Path], zip_path: Path) -> None:
    """Fill the freshly migrated database behind ``con`` from the unpacked tables."""
    with db.transaction(con) as tx:
        # The backup's own record of its migrations (with their dates) replaces
        # the one this fresh file just wrote.
        tx.execute("DELETE FROM schema_migrations")
        for table, file in files.items():
            columns = _columns(tx, table)  # the allow-list: names from the app's own schema
            try:
                found = [
                    row[0]
                    for row in tx.execute(
                        "DESCRIBE SELECT * FROM read_parquet($file)", {"file": str(file)}
                    ).fetchall()
                ]
            except duckdb.Error:
                raise BadBackup(
                    f"The table {table} in {zip_path} is not a readable Parquet file;"
                    " nothing was changed."
                ) from None
            missing, unknown = set(columns) - set(found), set(found) - set(columns)
            if missing or unknown:
                raise BadBackup(
                    f"The table {table} in {zip_path} does not have the app's columns"
                    + (f"; missing: {_names(missing)}" if missing else "")
                    + (f"; unknown: {_names(unknown)}" if unknown else "")
                    + "; nothing was changed."
                )
            try:
                # The relation API names the columns and the table as values,
                # in the order of the app's schema: no SQL is built from names.
                tx.read_parquet(str(file)).select(
                    *(duckdb.ColumnExpression(column) for column in columns)
                ).insert_into(table)
            except duckdb.Error as error:  # a type that does not fit, a duplicate key, ...
                raise BadBackup(
                    f"The table {table} in {zip_path} does not fit the app's schema ({error});"
                    " nothing was changed."
                ) from None
            rows = _row_count(tx, table)
            if rows != manifest.tables[table]:
                raise BadBackup(
                    f"The table {table} in {zip_path} holds {rows:,} rows,"
                    f" its manifest says {manifest.tables[table]:,}; nothing was changed."
                )
        _advance_sequences(tx, manifest)


def _advance_sequences(cur: Con, manifest: Manifest) -> None:
    """Move each fresh sequence (at 1) to where the backed-up one stood.

    DuckDB can neither ALTER a sequence's value nor drop one a column's
    default uses, so the values are drawn: ``nextval`` over a range, about
    0.1 s per million. Never below the highest id on file, whatever the
    manifest says, so new rows get fresh ids.
    """
    for ids in checks.id_sequences(cur):
        if ids.sequence is None or ids.next_id is None:
            continue  # checks.database_problems reports it after the load
        wanted = max(manifest.sequences[ids.sequence], (ids.max_id or 0) + 1)
        if wanted > ids.next_id:
            cur.execute(
                "SELECT max(nextval($sequence)) FROM range($draws)",
                {"sequence": ids.sequence, "draws": wanted - ids.next_id},
            )


def restore_backup(
    zip_path: Path | str, db_path: Path | str, force: bool = False
) -> RestoreSummary:
    """Make ``db_path`` the database saved in the backup ``zip_path``.

    Raises ``BadBackup`` for a file that is not a backup this app can
    restore, ``FileExistsError`` for an existing ``db_path`` without
    ``force`` and ``DatabaseInUse`` while another process has it open; in
    each case nothing is written. A failed restore leaves the old file as
    it was.
    """
    started = time.perf_counter()
    source, target = Path(zip_path), Path(db_path)
    manifest = read_manifest(source)
    if not force and db.wal_path(target).exists():
        raise FileExistsError(f"{db.wal_path(target)} already exists; use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as archive:
        _check_free_space(target.parent, source, sum(i.file_size for i in archive.infolist()))
    # The same order as crm.demo.seed's --force (its comment says why each
    # step is safe): lock the old file, build beside it, drop the old WAL
    # under the lock, rename the new file over it.
    with db.locked_for_replacement(target, force) as created:
        building = target.with_name(f".{target.name}.{os.getpid()}.restoring")
        db.remove_database(building)  # left by a killed run of a process with this id
        try:
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".restore-") as folder:
                files = _unpack(source, manifest, Path(folder))
                con = db.connect(building)
                try:
                    con.execute("SET preserve_insertion_order = true")  # rows keep their order
                    _load(con, manifest, files, source)
                    problems = checks.database_problems(con)
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
            db.wal_path(target).unlink(missing_ok=True)
            os.replace(building, target)
        except BaseException:
            db.remove_database(building)
            if created:
                target.unlink()  # the empty file made to hold the lock; nobody could open it
            raise
    return RestoreSummary(dict(manifest.tables), problems, time.perf_counter() - started)


# --- Command line -------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm.exchange.backup",
        description="Back up a Customer Hub database to a zip, or restore one.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write a backup zip of a database")
    create.add_argument("--db", type=Path, required=True, help="database file to back up")
    create.add_argument("--out", type=Path, required=True, help="backup zip to write")
    restore = commands.add_parser("restore", help="make a database from a backup zip")
    restore.add_argument("file", type=Path, help="backup zip to restore")
    restore.add_argument("--db", type=Path, required=True, help="database file to create")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database file (never one another process has open)",
    )
    return parser


def _create(db_path: Path, out: Path) -> int:
    source = config.parse_database(str(db_path))  # md:NAME backs up a MotherDuck database
    if isinstance(source, config.LocalDatabase) and not db_path.is_file():
        print(f"error: {db_path} does not exist; there is nothing to back up.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    con = db.connect(source)
    try:
        manifest = create_backup(con, out)
    finally:
        con.close()
    print(
        f"Backed up {db_path} to {out}: {manifest.tables.get('customers', 0):,} customers,"
        f" {sum(manifest.tables.values()):,} rows in {len(manifest.tables)} tables,"
        f" {out.stat().st_size / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _restore(zip_path: Path, db_path: Path, force: bool) -> int:
    if isinstance(config.parse_database(str(db_path)), config.MotherDuckDatabase):
        print(
            f"error: a restore builds a database file on this machine, not {db_path}: restore"
            " to a file, check it (python -m crm.checks), then copy it to MotherDuck"
            " (README: from the demo database to your own data). Nothing was changed.",
            file=sys.stderr,
        )
        return 2
    summary = restore_backup(zip_path, db_path, force=force)
    print(
        f"Restored {db_path} from {zip_path}: {summary.tables.get('customers', 0):,} customers,"
        f" {sum(summary.tables.values()):,} rows in {len(summary.tables)} tables"
        f" in {summary.seconds:.1f} s"
    )
    for problem in summary.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "create":
            return _create(args.db, args.out)
        return _restore(args.file, args.db, args.force)
    except (BadBackup, FileExistsError, CrmError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
