"""``crm.db.connect(..., read_only=True)``: what CRM_READ_ONLY opens."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from crm import db, scores
from crm.errors import DatabaseUnavailable


def test_an_up_to_date_database_opens_and_reads(db_path: Path) -> None:
    con = db.connect(db_path, read_only=True)
    try:
        assert db.is_read_only(con)
        assert db.pending_migrations(con) == []
        row = con.execute("SELECT count(*) FROM customers").fetchone()
        assert row is not None and row[0] > 0
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM customers")
    finally:
        con.close()


def test_a_database_that_needs_a_migration_is_refused_in_words(db_path: Path) -> None:
    con = db.connect(db_path)
    latest = max(version for version, _, _ in db.migrations())
    con.execute("DELETE FROM schema_migrations WHERE version = $v", {"v": latest})
    con.close()
    with pytest.raises(DatabaseUnavailable, match=rf"needs upgrading \(migrations {latest:03d}\)"):
        db.connect(db_path, read_only=True)
    # Nothing was applied meanwhile.
    check = duckdb.connect(str(db_path), read_only=True)
    assert check.execute(
        "SELECT count(*) FROM schema_migrations WHERE version = $v", {"v": latest}
    ).fetchone() == (0,)
    check.close()


def test_a_missing_file_is_refused_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    with pytest.raises(DatabaseUnavailable, match="no database at"):
        db.connect(path, read_only=True)
    assert not path.exists()


def test_old_cut_points_stay_on_a_read_only_connection(db_path: Path) -> None:
    con = db.connect(db_path)
    stored = scores.read_boundaries(con)
    con.close()
    assert stored is not None
    con = db.connect(db_path, read_only=True)
    try:
        later = stored.computed_at + scores.MAX_AGE * 2  # due for a recomputation
        assert scores.current_boundaries(con, now=later) == stored
    finally:
        con.close()
