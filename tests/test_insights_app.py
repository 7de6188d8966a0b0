"""The Insights panel on the overview through AppTest, on a per-test copy of the seeded database.

AppTest cannot draw Altair charts (they come back as unknown elements), so
the charts' specs and data are checked in tests/test_insights_charts.py's
unit tests and here through what the panel computed; a click on a bar is
driven through the same path a chart's selection callback takes
(``insights.PENDING``), and the callback's reading of a selection state is
checked against the state Streamlit hands back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from crm import db, formatting, segments
from crm.ui import insights

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def at(app_env: Path) -> AppTest:
    return AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not list(app.error), [e.value for e in app.error]
    return app


def opened(app: AppTest) -> AppTest:
    run(app)
    app.session_state[insights.OPEN] = True
    return run(app)


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_closed_by_default_and_reads_nothing(at: AppTest) -> None:
    run(at)
    assert [e.label for e in at.expander] == ["Insights: this segment in charts"]
    assert metrics(at) == {}


def test_everyone(at: AppTest, db_path: Path) -> None:
    opened(at)
    con = db.connect(db_path)
    count, spent = con.execute("SELECT count(*), sum(amount) FROM orders").fetchone() or (0, 0)
    customers = con.execute("SELECT count(*) FROM customers").fetchone()
    (top, top_n), *_ = con.execute(
        "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    con.close()
    assert customers is not None
    shown = metrics(at)
    assert shown["Customers"] == formatting.number(customers[0])
    assert shown["Share of all customers"] == "100\u00a0%"
    assert shown["Total spending"] == formatting.compact_money(spent)
    assert shown["Average order value"] == formatting.money(spent / count)
    words = " ".join(m.value for m in at.markdown)
    assert f"{top} holds {100 * top_n / customers[0]:.0f}\u00a0% of all customers" in words


def test_a_segment(at: AppTest, db_path: Path) -> None:
    con = db.connect(db_path)
    (country, n), *_ = con.execute(
        "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1 OFFSET 1"
    ).fetchall()
    con.close()
    at.query_params[segments.COUNTRY] = country
    opened(at)
    assert metrics(at)["Customers"] == formatting.number(n)
    words = " ".join(m.value for m in at.markdown)
    # All of one country: the filter says so, the words say something else.
    assert f"{country} holds" not in words
    assert "of this segment" in words


def test_an_empty_segment(at: AppTest) -> None:
    at.query_params[segments.SEARCH] = "nobody is called this at all"
    opened(at)
    assert metrics(at) == {}
    assert "**No customers to describe.**" in [m.value for m in at.markdown]


def test_a_click_on_a_country_narrows_the_segment(at: AppTest, db_path: Path) -> None:
    con = db.connect(db_path)
    country, n = con.execute(
        "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1 OFFSET 2"
    ).fetchone() or ("", 0)
    con.close()
    opened(at)
    # What the chart's on_select callback queues for the state Streamlit hands it.
    state: dict[str, Any] = {"selection": {"pick": [{"name": country}]}}
    assert insights.picked_value(state) == country
    at.session_state[insights.PENDING] = (segments.COUNTRY, country)
    run(at)
    assert at.query_params[segments.COUNTRY] == country
    assert metrics(at)["Customers"] == formatting.number(n)
    summary = " ".join(m.value for m in at.markdown)
    assert f"**{formatting.number(n)}** of" in summary


@pytest.mark.parametrize(
    ("param", "value", "sql"),
    [
        (segments.RFM, "At risk", "SELECT count(*) FROM customers WHERE rfm_group = $value"),
        (
            segments.CATEGORY,
            "Coffee",
            "SELECT count(DISTINCT i.customer_id) FROM order_items i"
            " JOIN products p ON p.id = i.product_id WHERE p.category = $value",
        ),
    ],
)
def test_a_click_on_a_group_or_category_narrows_the_segment(
    at: AppTest, db_path: Path, param: str, value: str, sql: str
) -> None:
    con = db.connect(db_path)
    (n,) = con.execute(sql, {"value": value}).fetchone() or (0,)
    con.close()
    assert n > 0
    opened(at)
    at.session_state[insights.PENDING] = (param, value)
    run(at)
    assert at.query_params[param] == value
    assert metrics(at)["Customers"] == formatting.number(n)
    assert f"**{formatting.number(n)}** of" in " ".join(m.value for m in at.markdown)


def test_a_second_click_adds_to_the_list(at: AppTest, db_path: Path) -> None:
    con = db.connect(db_path)
    rows = con.execute(
        "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2"
    ).fetchall()
    con.close()
    opened(at)
    # Two countries picked one after the other (from a segment that had both).
    for country, _ in rows:
        at.session_state[insights.PENDING] = (segments.COUNTRY, country)
        run(at)
    assert at.query_params[segments.COUNTRY] == [c for c, _ in rows]
    assert metrics(at)["Customers"] == formatting.number(sum(n for _, n in rows))


def test_the_blank_country_bar_changes_nothing(at: AppTest) -> None:
    opened(at)
    everyone = metrics(at)["Customers"]
    at.session_state[insights.PENDING] = (segments.COUNTRY, "(no country)")
    run(at)
    assert segments.COUNTRY not in at.query_params
    assert metrics(at)["Customers"] == everyone
