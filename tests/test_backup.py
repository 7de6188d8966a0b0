"""crm.exchange.backup: a backup restores to the same data; a bad zip or a busy target
changes nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from db_holder import held_open
from duckdb_versions import DRAWN_TO_READ

from crm import checks, db, writes
from crm.errors import DatabaseInUse
from crm.exchange import backup
from crm.models import CampaignCreate, CustomerCreate, parse

ROOT = Path(__file__).resolve().parent.parent
NEW_CUSTOMER: dict[str, Any] = {
    "first_name": "Rita",
    "last_name": "Restored",
    "email": "rita.restored@example.com",
}


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows]


def _contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, each table ordered by all its columns (keys first)."""
    return {
        table: con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
        for table in _tables(con)
    }


def _restored_contents(restored: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """``_contents`` of a restored database without the row its restore added to
    committed_changes: a restore is a committed write like any other (the newest row)."""
    contents = _contents(restored)
    *before, _restore = contents["committed_changes"]
    contents["committed_changes"] = before
    return contents


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def backup_zip(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> Path:
    path = tmp_path / "backups" / "crm-backup.zip"
    backup.create_backup(con, path)
    return path


def test_a_backup_holds_every_table_and_a_manifest(
    con: duckdb.DuckDBPyConnection, backup_zip: Path
) -> None:
    with zipfile.ZipFile(backup_zip) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    tables = _tables(con)
    assert names == sorted(["manifest.json", *(f"{table}.parquet" for table in tables)])
    assert manifest["format"] == "customer-hub-backup"
    assert manifest["duckdb_version"] == duckdb.__version__
    assert manifest["schema_version"] == max(version for version, _, _ in db.migrations())
    assert manifest["tables"] == {table: len(rows) for table, rows in _contents(con).items()}
    highest = _one(con, "SELECT max(id) FROM customers")
    # The manifest's next id is the one the original hands out next.
    created = writes.create_customer(con, parse(CustomerCreate, NEW_CUSTOMER))
    assert manifest["sequences"]["customer_id_seq"] == created == highest + 1 + DRAWN_TO_READ
    assert _files(backup_zip.parent) == ["crm-backup.zip"]  # no export folder left behind


def test_restore_gives_the_same_data_with_no_problems(
    con: duckdb.DuckDBPyConnection, backup_zip: Path, tmp_path: Path
) -> None:
    expected = _contents(con)
    target = tmp_path / "restored" / "crm.duckdb"
    summary = backup.restore_backup(backup_zip, target)
    assert summary.problems == []
    assert summary.tables == {table: len(rows) for table, rows in expected.items()}
    restored = db.connect(target)
    try:
        assert _restored_contents(restored) == expected
        assert checks.database_problems(restored) == []
    finally:
        restored.close()
    assert _files(target.parent) == ["crm.duckdb"]  # no unpacked tables, no WAL, no temp file


def test_new_rows_after_a_restore_get_fresh_ids(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # The newest customer is deleted before the backup: its id stays used up,
    # as in the original database (a link to it must not reach someone else).
    newest = _one(con, "SELECT max(id) FROM customers")
    writes.delete_customer(con, newest)
    path = tmp_path / "b.zip"
    backup.create_backup(con, path)
    original_next = writes.create_customer(con, parse(CustomerCreate, NEW_CUSTOMER))
    target = tmp_path / "restored.duckdb"
    backup.restore_backup(path, target)
    restored = db.connect(target)
    try:
        created = writes.create_customer(restored, parse(CustomerCreate, NEW_CUSTOMER))
        campaign = writes.create_campaign(
            restored, parse(CampaignCreate, {"name": "After restore", "channel": "Email"})
        )
        highest_campaign = _one(con, "SELECT max(id) FROM campaigns")
    finally:
        restored.close()
    assert created == original_next == newest + 1 + DRAWN_TO_READ
    assert campaign == highest_campaign + 1 + DRAWN_TO_READ


def test_the_restored_schema_keeps_its_index_and_compression(
    backup_zip: Path, tmp_path: Path
) -> None:
    target = tmp_path / "restored.duckdb"
    backup.restore_backup(backup_zip, target)
    restored = db.connect(target)
    try:
        name, channel = restored.execute(
            "SELECT name, channel FROM campaigns ORDER BY id LIMIT 1"
        ).fetchone() or ("", "")
        with pytest.raises(duckdb.ConstraintException):
            restored.execute(
                "INSERT INTO campaigns (name, channel) VALUES ($name, $channel)",
                {"name": name.upper(), "channel": channel},
            )
        compression = restored.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('customers')"
            " WHERE column_name = 'search_text' AND segment_type = 'VARCHAR'"
        ).fetchall()
    finally:
        restored.close()
    assert compression == [("Uncompressed",)]


# --- Refusals: each in words, and nothing written --------------------------------------


def _rewrite(
    source: Path, target: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]
) -> Path:
    """A copy of the backup ``source`` with its members changed by ``change``."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in change(members).items():
            archive.writestr(name, data)
    return target


def _parquet(sql: str) -> bytes:
    """The result of ``sql`` as a Parquet file's bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.parquet"
        duckdb.connect().execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
        return path.read_bytes()


def _edit_manifest(**changes: Any) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def change(members: dict[str, bytes]) -> dict[str, bytes]:
        manifest = json.loads(members["manifest.json"])
        for key, value in changes.items():
            if callable(value):
                manifest[key] = value(manifest[key])
            else:
                manifest[key] = value
        return {**members, "manifest.json": json.dumps(manifest).encode()}

    return change


BAD_ZIPS: dict[str, tuple[Callable[[dict[str, bytes]], dict[str, bytes]], str]] = {
    "no manifest": (
        lambda m: {k: v for k, v in m.items() if k != "manifest.json"},
        "has no manifest.json, so it is no Customer Hub backup",
    ),
    "manifest not json": (
        lambda m: {**m, "manifest.json": b"\xff\xfe not json"},
        "is not a Customer Hub backup manifest",
    ),
    "another format": (
        _edit_manifest(format="someone-elses-backup"),
        "is a 'someone-elses-backup' file of version 1, not a Customer Hub backup",
    ),
    "newer schema": (
        _edit_manifest(schema_version=lambda v: v + 1),
        "was made by a newer Customer Hub",
    ),
    "table missing": (
        lambda m: _edit_manifest(tables=lambda t: {k: v for k, v in t.items() if k != "visits"})(
            {k: v for k, v in m.items() if k != "visits.parquet"}
        ),
        "does not hold the app's tables; missing: visits; nothing",
    ),
    "path traversal": (
        lambda m: {**m, "../../evil.parquet": b"PAR1"},
        "does not hold the files of a Customer Hub backup; unexpected: ../../evil.parquet;",
    ),
    "file missing": (
        lambda m: {k: v for k, v in m.items() if k != "orders.parquet"},
        "missing: orders.parquet",
    ),
    "rows missing": (
        _edit_manifest(tables=lambda t: {**t, "orders": t["orders"] + 1}),
        "The table orders in",
    ),
    "a column missing": (
        lambda m: {**m, "visits.parquet": _parquet("SELECT 1 AS id, 2 AS customer_id")},
        "does not have the app's columns; missing: channel, order_id, visited_at;",
    ),
    "not parquet": (
        lambda m: {**m, "visits.parquet": b"plain text, not a table"},
        "The table visits in",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ZIPS))
def test_a_bad_backup_is_refused_in_words_and_writes_nothing(
    case: str, backup_zip: Path, tmp_path: Path
) -> None:
    change, words = BAD_ZIPS[case]
    bad = _rewrite(backup_zip, tmp_path / "bad.zip", change)
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    with pytest.raises(backup.BadBackup, match="nothing was changed") as info:
        backup.restore_backup(bad, target_dir / "crm.duckdb")
    assert words in str(info.value)
    assert _files(target_dir) == []


def test_a_damaged_zip_is_refused(backup_zip: Path, tmp_path: Path) -> None:
    # Bytes in the middle of a table changed on the way (a broken download or
    # disk): the zip's checksum of that file no longer matches.
    with zipfile.ZipFile(backup_zip) as archive:
        info = archive.getinfo("customers.parquet")
    data = bytearray(backup_zip.read_bytes())
    header = info.header_offset
    name_length = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_length = int.from_bytes(data[header + 28 : header + 30], "little")
    middle = header + 30 + name_length + extra_length + info.compress_size // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    with pytest.raises(backup.BadBackup, match=r"bad\.zip is damaged \(.*nothing was changed"):
        backup.restore_backup(bad, target_dir / "crm.duckdb")
    assert _files(target_dir) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        (
            b"first_name,last_name\nAna,Lopez\n",
            "is not a zip file, so it is no Customer Hub backup",
        ),
    ],
)
def test_a_missing_or_non_zip_file_is_refused(
    content: bytes | None, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "backup.zip"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(backup.BadBackup, match=words):
        backup.restore_backup(path, tmp_path / "crm.duckdb")
    assert not (tmp_path / "crm.duckdb").exists()


def _leftovers(folder: Path) -> list[str]:
    """Files a restore makes beside its target while it works (a dot in front)."""
    return [name for name in _files(folder) if name.startswith(".")]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_existing_database_is_replaced_only_with_force(
    con: duckdb.DuckDBPyConnection, db_path: Path, backup_zip: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.duckdb"
    other_con = db.connect(other)  # an empty database of the app
    other_con.close()
    before = _digest(other)
    with pytest.raises(FileExistsError, match="already exists; use --force to replace it"):
        backup.restore_backup(backup_zip, other)
    assert _digest(other) == before
    expected = _contents(con)
    backup.restore_backup(backup_zip, other, force=True)
    restored = db.connect(other)
    try:
        assert _restored_contents(restored) == expected
    finally:
        restored.close()
    assert _leftovers(tmp_path) == []


def test_a_database_another_process_has_open_is_not_replaced(
    backup_zip: Path, tmp_path: Path
) -> None:
    target = tmp_path / "busy.duckdb"
    db.connect(target).close()
    before = _digest(target)
    with held_open(target) as pid:
        with pytest.raises(DatabaseInUse) as info:
            backup.restore_backup(backup_zip, target, force=True)
        assert f"(process id {pid})" in str(info.value)
        assert "nothing was changed" in str(info.value)
    assert _digest(target) == before
    assert _leftovers(tmp_path) == []


# --- Command line ----------------------------------------------------------------------


def test_the_commands_back_up_and_restore(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    restored = tmp_path / "restored.duckdb"
    run = [sys.executable, "-m", "crm.exchange.backup"]
    created = subprocess.run(
        [*run, "create", "--db", str(db_path), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"Backed up {db_path} to {out}: 300 customers")
    again = subprocess.run(
        [*run, "restore", str(out), "--db", str(restored)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"Restored {restored} from {out}: 300 customers")
    refused = subprocess.run(
        [*run, "restore", str(out), "--db", str(restored)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr == f"error: {restored} already exists; use --force to replace it\n"


def test_the_restore_command_refuses_a_busy_target_in_words(
    backup_zip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "busy.duckdb"
    db.connect(target).close()
    with held_open(target) as pid:
        code = backup.main(["restore", str(backup_zip), "--db", str(target), "--force"])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: The database file {target} is in use by another process (process id {pid})."
        " Stop that process before replacing the file; nothing was changed.\n"
    )


def test_the_create_command_refuses_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.duckdb"
    assert backup.main(["create", "--db", str(missing), "--out", str(tmp_path / "b.zip")]) == 2
    assert capsys.readouterr().err == (
        f"error: {missing} does not exist; there is nothing to back up.\n"
    )
    assert _files(tmp_path) == []
