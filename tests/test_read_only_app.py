"""``CRM_READ_ONLY=1`` through AppTest: the banner on every page, every write
button disabled with the reason (the cards drawn without Edit and Delete), and
the database opened read-only underneath.

On each page every button still enabled must be one that only reads (an
allow-list): a write button added later without the read-only guard fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import db, writes
from crm.models import SegmentCreate
from crm.ui import navigation, read_only

ROOT = Path(__file__).resolve().parent.parent
# Buttons that change nothing: downloads, filters and their chips, closing a panel.
READING = {"Export", "Clear filters"}


@pytest.fixture
def demo(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A read-only app on a copy of the seeded database with one saved segment."""
    con = db.connect(db_path)
    segment = writes.create_segment(
        con, SegmentCreate(name="Italians", description="", filters={"country": ["Italy"]})
    )
    row = con.execute("SELECT id FROM campaigns ORDER BY id LIMIT 1").fetchone()
    customer = con.execute("SELECT min(id) FROM customers").fetchone()
    con.close()  # the app opens it read-only: DuckDB allows no writer beside it in-process
    assert row is not None and customer is not None
    monkeypatch.setenv("CRM_DB_PATH", str(db_path))
    monkeypatch.setenv("CRM_READ_ONLY", "1")
    return {"segment": segment, "campaign": int(row[0]), "customer": int(customer[0])}


def visit(page: str | None, ids: dict[str, int]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.query_params["country"] = "Italy"  # a filtered overview offers "Save segment"
    at.run()
    if page is not None:
        at.switch_page(page)
        if page == navigation.CUSTOMER_PAGE:
            at.query_params["id"] = str(ids["customer"])
        if page == navigation.CAMPAIGN_PAGE:
            at.query_params["id"] = str(ids["campaign"])
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert read_only.BANNER in [i.value for i in at.info]
    return at


def enabled_writes(at: AppTest) -> list[str]:
    return [
        b.label
        for b in at.button
        if not b.disabled and b.label not in READING and not (b.key or "").startswith("chip_")
    ]


def disabled(at: AppTest) -> dict[str, str]:
    return {str(b.key): b.help or "" for b in at.button if b.disabled}


def test_the_overview(demo: dict[str, int]) -> None:
    at = visit(None, demo)
    assert enabled_writes(at) == []
    found = disabled(at)
    for key in ("add_customer", "save_segment"):
        assert read_only.REASON in found[key], key
    (grid,) = [g for g in at.get("bidi_component") if g.key == "customer_grid"]
    data = json.loads(grid.proto.json)
    assert data["read_only"] is True and data["cards"]  # cards, without Edit and Delete
    assert any(b.label == "Export" and not b.disabled for b in at.button)  # reading stays


def test_the_customer_page(demo: dict[str, int]) -> None:
    at = visit(navigation.CUSTOMER_PAGE, demo)
    assert enabled_writes(at) == []
    found = disabled(at)
    for key in ("open_edit", "open_message", "open_campaign", "open_picture", "open_delete"):
        assert found[key] == read_only.REASON, key
    assert "open_consent" in found


def test_the_segments_page(demo: dict[str, int]) -> None:
    at = visit(navigation.SEGMENTS_PAGE, demo)
    assert enabled_writes(at) == []
    found = disabled(at)
    sid = demo["segment"]
    for key in (f"rename_segment_{sid}", f"update_segment_{sid}", f"duplicate_segment_{sid}"):
        assert found[key] == read_only.REASON, key
    assert found[f"delete_segment_{sid}"] == read_only.REASON


@pytest.mark.parametrize(
    "page", [navigation.CAMPAIGNS_PAGE, navigation.CAMPAIGN_PAGE, navigation.IMPORT_PAGE]
)
def test_the_other_pages(demo: dict[str, int], page: str) -> None:
    at = visit(page, demo)
    assert enabled_writes(at) == []


def test_without_the_setting_the_same_buttons_work(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test above can fail: here the same page has its write buttons enabled.
    monkeypatch.setenv("CRM_DB_PATH", str(db_path))
    monkeypatch.delenv("CRM_READ_ONLY", raising=False)
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.query_params["country"] = "Italy"
    at.run()
    assert read_only.BANNER not in [i.value for i in at.info]
    assert {"Add customer", "Save segment"} <= set(enabled_writes(at))


def test_the_database_refuses_writes_underneath(demo: dict[str, int], db_path: Path) -> None:
    con = db.connect(db_path, read_only=True)
    try:
        assert db.is_read_only(con)
        with pytest.raises(duckdb.Error, match="read-only"):
            writes.create_segment(
                con, SegmentCreate(name="Sneaky", description="", filters={"country": ["Italy"]})
            )
    finally:
        con.close()
