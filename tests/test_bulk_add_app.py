"""The "Add to campaign" dialog (AppTest): from the overview to an existing campaign and to
a new one, from a saved segment's row, a changed segment, an empty one, read-only mode.

Expected numbers are counted in the test with plain SQL over the raw tables.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import db, formatting, writes
from crm.models import SegmentCreate
from crm.ui import bulk_add

ROOT = Path(__file__).resolve().parent.parent
Con = duckdb.DuckDBPyConnection
SPEND_MIN = 300


@pytest.fixture
def con(db_path: Path) -> Con:
    connection = db.connect(db_path)
    # Half subscribed to email (odd ids), the rest not asked.
    connection.execute(
        "UPDATE customers SET email_consent = CASE WHEN id % 2 = 1 THEN 'Subscribed'"
        " ELSE 'Not asked' END"
    )
    return connection


@pytest.fixture
def at(app_env: Path, con: Con) -> AppTest:
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    app.query_params["spend_min"] = str(SPEND_MIN)
    return app


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    return run(app)


def texts(app: AppTest) -> str:
    return "\n".join(str(m.value) for m in [*app.markdown, *app.info, *app.warning, *app.error])


def one(con: Con, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def in_segment(con: Con) -> int:
    return one(con, "SELECT count(*) FROM customers WHERE total_spending >= ?", [SPEND_MIN])


def email_campaign(con: Con) -> tuple[int, str]:
    row = con.execute(
        "SELECT id, name FROM campaigns WHERE channel = 'Email' ORDER BY id LIMIT 1"
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def review_existing(at: AppTest, con: Con) -> int:
    """Open the dialog on the overview, choose an Email campaign, review; its id."""
    campaign_id, _ = email_campaign(con)
    run(at)
    click(at, bulk_add.OPEN_HEADER)
    at.selectbox(key=bulk_add.PICK).set_value(campaign_id)
    click(at, bulk_add.REVIEW)
    return campaign_id


def test_add_the_overview_segment_to_an_existing_campaign(at: AppTest, con: Con) -> None:
    campaign_id, name = email_campaign(con)
    run(at)
    click(at, bulk_add.OPEN_HEADER)
    at.selectbox(key=bulk_add.PICK).set_value(campaign_id)
    at.slider(key=bulk_add.SHARE).set_value(20)
    click(at, bulk_add.REVIEW)
    members = one(
        con,
        "SELECT count(*) FROM customers WHERE total_spending >= ? AND id IN"
        " (SELECT customer_id FROM campaign_sends WHERE campaign_id = ?)",
        [SPEND_MIN, campaign_id],
    )
    eligible = one(
        con,
        "SELECT count(*) FROM customers WHERE total_spending >= ? AND id % 2 = 1 AND id NOT IN"
        " (SELECT customer_id FROM campaign_sends WHERE campaign_id = ?)",
        [SPEND_MIN, campaign_id],
    )
    control = (eligible * 20 + 50) // 100
    shown = texts(at)
    assert f"{formatting.number(in_segment(con))} customers in the segment." in shown
    assert f"{members} already in the campaign: skipped." in shown
    no_consent = in_segment(con) - members - eligible
    assert f"{no_consent} not subscribed to email: skipped." in shown
    assert f"{control} held out at random as the control group (20\u00a0%)" in shown
    assert f"{eligible - control} queued to be sent." in shown
    assert one(con, "SELECT count(*) FROM campaign_additions") == 0  # nothing written yet
    assert at.button(key=bulk_add.ADD).label == f"Add {eligible} customers"
    click(at, bulk_add.ADD)
    toasts = [t.value for t in at.toast]
    assert toasts == [
        f"Queued {eligible - control} customers in “{name}”"
        f" and held out {control} as the control group."
    ]
    assert con.execute(
        "SELECT control, queued, control_share FROM campaign_additions"
    ).fetchall() == [(control, eligible - control, Decimal("0.200"))]
    assert not [b for b in at.button if b.key == bulk_add.ADD]  # the dialog closed


def test_add_to_a_new_campaign_with_a_merge_field_template(at: AppTest, con: Con) -> None:
    run(at)
    click(at, bulk_add.OPEN_HEADER)
    at.segmented_control(key=bulk_add.MODE).set_value(bulk_add.NEW)
    run(at)
    at.text_input(key=bulk_add.NAME).input("Big *spenders*")
    at.text_input(key=bulk_add.SUBJECT).input("For you, [First Name]")
    # A click on the City chip, as the component sends it.
    at.session_state[bulk_add.TEMPLATE_BOX.insert] = {
        "field": "City",
        "text": "See you in",
        "start": 10,
        "end": 10,
    }
    run(at)
    assert at.text_area(key=bulk_add.TEMPLATE).value == "See you in [City]"
    click(at, bulk_add.REVIEW)
    eligible = one(
        con, "SELECT count(*) FROM customers WHERE total_spending >= ? AND id % 2 = 1", [SPEND_MIN]
    )
    control = (eligible + 5) // 10
    assert f"{control} held out at random as the control group (10\u00a0%)" in texts(at)
    click(at, bulk_add.ADD)
    assert [t.value for t in at.toast] == [
        f"Queued {eligible - control} customers in “Big \\*spenders\\*”"
        f" and held out {control} as the control group."
    ]
    row = con.execute(
        "SELECT c.name, c.channel, c.subject, c.template, a.queued, a.filters"
        " FROM campaigns c JOIN campaign_additions a ON a.campaign_id = c.id"
    ).fetchall()
    assert row == [
        (
            "Big *spenders*",
            "Email",
            "For you, [First Name]",
            "See you in [City]",
            eligible - control,
            f'{{"spend_min":"{SPEND_MIN}"}}',
        )
    ]


def test_a_bad_template_or_taken_name_is_refused_before_the_numbers(at: AppTest, con: Con) -> None:
    _, taken = email_campaign(con)
    run(at)
    click(at, bulk_add.OPEN_HEADER)
    at.segmented_control(key=bulk_add.MODE).set_value(bulk_add.NEW)
    run(at)
    at.text_input(key=bulk_add.NAME).input(taken.lower())
    at.text_area(key=bulk_add.TEMPLATE).input("Hi [Frist Name]")
    click(at, bulk_add.REVIEW)
    errors = " ".join(e.value for e in at.error)
    assert formatting.escape_markdown("Did you mean [First Name]?") in errors
    assert at.button(key=bulk_add.REVIEW)  # still the first step
    at.text_area(key=bulk_add.TEMPLATE).input("Hi [First Name]")
    click(at, bulk_add.REVIEW)
    refused = formatting.escape_markdown(f"There is already an Email campaign called “{taken}”.")
    assert refused in " ".join(e.value for e in at.error)
    assert one(con, "SELECT count(*) FROM campaign_additions") == 0


def test_a_segment_changed_before_the_click_shows_the_new_numbers(at: AppTest, con: Con) -> None:
    campaign_id = review_existing(at, con)
    # Someone unsubscribes meanwhile.
    leaver = one(
        con,
        "SELECT min(id) FROM customers WHERE total_spending >= ? AND id % 2 = 1 AND id NOT IN"
        " (SELECT customer_id FROM campaign_sends WHERE campaign_id = ?)",
        [SPEND_MIN, campaign_id],
    )
    con.execute("UPDATE customers SET email_consent = 'Unsubscribed' WHERE id = ?", [leaver])
    click(at, bulk_add.ADD)
    warnings = " ".join(w.value for w in at.warning)
    assert "The segment changed since these numbers were counted" in warnings
    assert one(con, "SELECT count(*) FROM campaign_additions") == 0
    click(at, bulk_add.ADD)  # the new numbers, confirmed
    assert one(con, "SELECT count(*) FROM campaign_additions") == 1
    assert next(t.value for t in at.toast).startswith("Queued ")


def test_from_a_saved_segments_row(at: AppTest, con: Con) -> None:
    segment_id = writes.create_segment(
        con, SegmentCreate(name="Nobody", filters={"q": "no such customer at all"})
    )
    run(at)
    at.switch_page("app_pages/Segments.py")
    run(at)
    click(at, f"bulk_add_segment_{segment_id}")
    assert "The customers in the saved segment **Nobody** are added" in texts(at)
    at.segmented_control(key=bulk_add.MODE).set_value(bulk_add.NEW)
    run(at)
    at.text_input(key=bulk_add.NAME).input("Empty one")
    click(at, bulk_add.REVIEW)
    assert "Nobody is in this segment: there is no one to add." in texts(at)
    assert not [b for b in at.button if b.key == bulk_add.ADD]
    assert one(con, "SELECT count(*) FROM campaigns WHERE name = 'Empty one'") == 0


def test_read_only_disables_the_buttons_with_a_reason(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No "at" fixture: its writable connection would stand beside the app's read-only one,
    # which DuckDB refuses in one process.
    monkeypatch.setenv("CRM_READ_ONLY", "1")
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.query_params["spend_min"] = str(SPEND_MIN)
    run(at)
    button = at.button(key=bulk_add.OPEN_HEADER)
    assert button.disabled and button.help == bulk_add.READ_ONLY_REASON


def test_back_returns_to_the_choice_and_writes_nothing(at: AppTest, con: Con) -> None:
    campaign_id = review_existing(at, con)
    assert at.button(key=bulk_add.ADD)
    click(at, bulk_add.BACK)
    assert at.button(key=bulk_add.REVIEW) and not [b for b in at.button if b.key == bulk_add.ADD]
    assert at.selectbox(key=bulk_add.PICK).value == campaign_id  # the choice is kept
    assert one(con, "SELECT count(*) FROM campaign_additions") == 0
