"""The app on a database it must not seed, and its caches across instances (AppTest).

An empty MotherDuck database cannot be reached here: a file named in
CRM_DB_PATH is treated the same way (never seeded), so an empty one stands in.
Another instance's write is stood in for by a second connection writing plain
SQL, as crm.db.transaction would in another process: it never touches this
process's own count of writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import db
from crm.ui import first_run

ROOT = Path(__file__).resolve().parent.parent


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _first_names(at: AppTest) -> list[str]:
    (grid,) = [g for g in at.get("bidi_component") if g.key == "customer_grid"]
    cards: list[dict[str, Any]] = json.loads(grid.proto.json)["cards"]
    return [str(card["name"]).split(" ")[0] for card in cards]


def test_an_empty_database_named_in_crm_db_path_is_migrated_and_invites_an_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "team.duckdb"
    monkeypatch.setenv("CRM_DB_PATH", str(empty))
    at = _run(AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60))
    assert "**No customers yet**" in [m.value for m in at.markdown]
    assert any("import a file of them" in c.value for c in at.caption)
    assert [c.value for c in at.code] == [f"python -m crm.demo.seed --db {empty}"]
    assert first_run.seed_command() == f"python -m crm.demo.seed --db {empty}"
    with duckdb.connect(str(empty)) as con:  # the app holds it open in this process
        counts = con.execute(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM products),"
            " (SELECT max(version) FROM schema_migrations)"
        ).fetchone()
    assert counts is not None and counts[:2] == (0, 0)
    assert counts[2] == max(version for version, _, _ in db.migrations())  # all applied


def test_a_write_by_another_instance_shows_on_the_next_run(app_env: Path) -> None:
    at = _run(AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60))
    first = _first_names(at)
    with duckdb.connect(str(app_env)) as other:
        cid = other.execute(
            "SELECT id FROM customers WHERE first_name = $name ORDER BY id LIMIT 1",
            {"name": first[0]},
        ).fetchone()
        assert cid is not None
        # Not counted: the cached page stays as it was (this is what the key is for).
        other.execute("UPDATE customers SET first_name = 'Zoltan' WHERE id = $id", {"id": cid[0]})
        assert _first_names(_run(at)) == first
        # Counted, as another instance's crm.db.transaction does: read afresh.
        other.execute("INSERT INTO committed_changes DEFAULT VALUES")
    assert _first_names(_run(at)) == ["Zoltan", *first[1:]]
