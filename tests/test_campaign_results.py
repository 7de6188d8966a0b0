"""Campaign results (crm.campaigns.results) against brute force over the raw tables.

The seeded demo has no control groups yet, so ``with_control`` holds some
customers out of two campaigns by inserting Control rows straight into
campaign_sends (as a bulk add would), with orders after the first delivery
for some of them. Expected figures are counted in pandas from the raw sends
and orders, with the definitions written out again here.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from crm import templates, writes
from crm.campaigns import facts, lift, results
from crm.models import OrderCreate, OrderItemCreate

Con = duckdb.DuckDBPyConnection
WINDOW = pd.Timedelta(days=14)
NOW = datetime(2030, 1, 1)  # every window closed


# --- Brute force ----------------------------------------------------------------------


def raw(con: Con) -> tuple[pd.DataFrame, pd.DataFrame]:
    sends = con.execute(
        "SELECT id, campaign_id, customer_id, status, sent_at, opens, clicks FROM campaign_sends"
    ).df()
    orders = con.execute("SELECT customer_id, ordered_at, amount FROM orders").df()
    orders["amount"] = orders["amount"].astype(float)
    return sends, orders


def expected(con: Con) -> dict[int, dict[str, float]]:
    """Every campaign's figures, by the definitions, from the raw rows."""
    sends, orders = raw(con)
    firsts = sends[sends.status == "Delivered"].groupby("campaign_id")["sent_at"].min()
    sends["start"] = sends["sent_at"].where(sends.status.isin(["Delivered", "Failed"]))
    control = sends.status == "Control"
    sends.loc[control, "start"] = sends.loc[control, "campaign_id"].map(firsts)
    windows = sends.dropna(subset=["start"]).merge(orders, on="customer_id", how="left")
    inside = (windows.ordered_at > windows.start) & (windows.ordered_at <= windows.start + WINDOW)
    windows = windows[inside]
    bought = windows.groupby("id").agg(orders=("amount", "size"), revenue=("amount", "sum"))
    sends = sends.merge(bought, left_on="id", right_index=True, how="left").fillna(
        {"orders": 0, "revenue": 0.0}
    )
    out: dict[int, dict[str, float]] = {}
    for campaign_id, group in sends.groupby("campaign_id"):
        sent = group[group.status.isin(["Delivered", "Failed"]) & group.start.notna()]
        held = group[group.status == "Control"]
        held = held[held.start.notna()]
        delivered = group[group.status == "Delivered"]
        out[int(campaign_id)] = {
            "audience": int((group.status != "Control").sum()),
            "control": int((group.status == "Control").sum()),
            "delivered": len(delivered),
            "failed": int((group.status == "Failed").sum()),
            "opened": int((delivered.opens > 0).sum()),
            "clicked": int((delivered.clicks > 0).sum()),
            "sent_counted": len(sent),
            "sent_converted": int((sent.orders > 0).sum()),
            "delivered_converted": int((delivered.orders > 0).sum()),
            "clicked_converted": int(((delivered.orders > 0) & (delivered.clicks > 0)).sum()),
            "control_counted": len(held),
            "control_converted": int((held.orders > 0).sum()),
            "revenue": float(delivered.revenue.sum()),
        }
    return out


def figures(result: results.CampaignResult) -> dict[str, float]:
    names = (
        "audience",
        "control",
        "delivered",
        "failed",
        "opened",
        "clicked",
        "sent_counted",
        "sent_converted",
        "delivered_converted",
        "clicked_converted",
        "control_counted",
        "control_converted",
    )
    found: dict[str, float] = {name: getattr(result, name) for name in names}
    found["revenue"] = float(result.revenue)
    return found


def assert_matches(con: Con) -> list[results.CampaignResult]:
    want = expected(con)
    got = results.campaign_results(con, now=NOW)
    assert {r.id for r in got if r.members} == set(want)
    for r in got:
        if r.members:
            have = figures(r)
            assert have["revenue"] == pytest.approx(want[r.id]["revenue"], abs=0.005), r.name
            assert {k: v for k, v in have.items() if k != "revenue"} == {
                k: v for k, v in want[r.id].items() if k != "revenue"
            }, r.name
    return got


# --- Fixtures -------------------------------------------------------------------------


def _first_delivery(con: Con, campaign_id: int) -> datetime:
    row = con.execute(
        "SELECT min(sent_at) FROM campaign_sends WHERE campaign_id = $c AND status = 'Delivered'",
        {"c": campaign_id},
    ).fetchone()
    assert row is not None and row[0] is not None
    return row[0]


def hold_out(con: Con, campaign_id: int, count: int, buyers: int) -> list[int]:
    """Put ``count`` customers not in the campaign in its control group (raw rows, facts not
    counted), and give the first ``buyers`` of them an order 3 days after its first delivery
    (and everyone an order 20 days after, outside the window). Customers in no campaign:
    the orders go in raw, so a member of another campaign would leave that campaign's
    stored window behind (the app keeps it current; this test's inserts do not)."""
    first = _first_delivery(con, campaign_id)
    ids = [
        int(r[0])
        for r in con.execute(
            """
            SELECT id FROM customers
            WHERE id NOT IN (SELECT customer_id FROM campaign_sends)
            ORDER BY id LIMIT $n
            """,
            {"n": count},
        ).fetchall()
    ]
    assert len(ids) == count
    con.executemany(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status) VALUES (?, ?, 'Control')",
        [[campaign_id, i] for i in ids],
    )
    rows = [[i, first + timedelta(days=3), 25] for i in ids[:buyers]]
    rows += [[i, first + timedelta(days=20), 40] for i in ids]
    con.executemany("INSERT INTO orders (customer_id, ordered_at, amount) VALUES (?, ?, ?)", rows)
    return ids


def controls(con: Con, campaign_id: int) -> int:
    row = con.execute(
        "SELECT count(*) FROM campaign_sends WHERE campaign_id = $c AND status = 'Control'",
        {"c": campaign_id},
    ).fetchone()
    assert row is not None
    return int(row[0])


def campaign_ids(con: Con) -> list[int]:
    return [int(r[0]) for r in con.execute("SELECT id FROM campaigns ORDER BY id").fetchall()]


@pytest.fixture
def with_control(con: Con) -> Con:
    first, second = campaign_ids(con)[-2:]
    hold_out(con, first, 40, 12)
    hold_out(con, second, 25, 1)
    return con


# --- Figures --------------------------------------------------------------------------


def test_seeded_figures_match_brute_force(con: Con) -> None:
    got = assert_matches(con)
    assert any(r.sent_converted for r in got)  # the check compared something
    assert all(r.stale == 0 for r in got)  # the seeder counted every send


def test_control_rows_not_yet_counted_are_counted_from_the_orders(with_control: Con) -> None:
    got = {r.id: r for r in assert_matches(with_control)}
    first, second = campaign_ids(with_control)[-2:]
    assert got[first].stale == 40 and got[first].control_converted >= 12  # + their own orders
    assert got[second].stale == 25 and got[second].control_converted >= 1
    assert got[second].control_counted == controls(with_control, second)


def test_facts_filled_again_give_the_same_figures_from_storage(with_control: Con) -> None:
    facts.fill_all(with_control)
    got = assert_matches(with_control)
    assert all(r.stale == 0 for r in got)


def test_a_delivery_recorded_without_a_refresh_is_still_counted(con: Con) -> None:
    campaign = campaign_ids(con)[-1]
    first = _first_delivery(con, campaign)
    customer = int(
        con.execute(
            "SELECT id FROM customers WHERE id NOT IN "
            "(SELECT customer_id FROM campaign_sends WHERE campaign_id = $c) LIMIT 1",
            {"c": campaign},
        ).fetchone()[0]  # type: ignore[index]
    )
    con.execute(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status, sent_at)"
        " VALUES ($c, $id, 'Delivered', $at)",
        {"c": campaign, "id": customer, "at": first + timedelta(hours=1)},
    )
    con.execute(
        "INSERT INTO orders (customer_id, ordered_at, amount) VALUES ($id, $at, 80)",
        {"id": customer, "at": first + timedelta(days=2)},
    )
    (stale,) = [r for r in assert_matches(con) if r.id == campaign]
    assert stale.stale == 1
    facts.refresh_campaign(con, campaign)  # what the sender calls with a batch
    (fresh,) = [r for r in assert_matches(con) if r.id == campaign]
    assert fresh.stale == 0 and fresh.sent_converted == stale.sent_converted


def test_one_campaign_reads_as_in_the_list(with_control: Con) -> None:
    listed = {r.id: r for r in results.campaign_results(with_control, now=NOW)}
    for campaign_id in campaign_ids(with_control)[-3:]:
        assert results.campaign_result(with_control, campaign_id, now=NOW) == listed[campaign_id]
    assert results.campaign_result(with_control, 999_999) is None


def test_rates_are_shares_of_sent_and_delivered(con: Con) -> None:
    for r in results.campaign_results(con, now=NOW):
        if not r.sent:
            continue
        assert r.delivered_rate == pytest.approx(r.delivered / (r.delivered + r.failed))
        assert r.failed_rate == pytest.approx(r.failed / (r.delivered + r.failed))
        assert r.open_rate == pytest.approx(r.opened / r.delivered)
        assert r.click_rate == pytest.approx(r.clicked / r.delivered)


def test_open_windows_are_those_started_in_the_last_14_days(con: Con) -> None:
    campaign = campaign_ids(con)[-1]
    last = results.campaign_result(con, campaign, now=NOW)
    assert last is not None and last.open_windows == 0
    assert last.last_sent is not None
    soon = results.campaign_result(con, campaign, now=last.last_sent + timedelta(days=1))
    sends, _ = raw(con)
    mine = sends[(sends.campaign_id == campaign) & sends.status.isin(["Delivered", "Failed"])]
    cutoff = last.last_sent - pd.Timedelta(days=13)
    held = controls(con, campaign) if _first_delivery(con, campaign) > cutoff else 0
    assert soon is not None
    assert soon.open_windows == int((mine.sent_at > cutoff).sum()) + held
    assert "still open" in results.lift_sentence(replace_control(soon))


def replace_control(r: results.CampaignResult) -> results.CampaignResult:
    from dataclasses import replace

    return replace(r, control=100, control_counted=100, control_converted=5)


# --- Kept current by the order writes -------------------------------------------------


def _delivered_send(con: Con) -> tuple[int, int, datetime]:
    row = con.execute(
        """
        SELECT campaign_id, customer_id, sent_at FROM campaign_sends
        WHERE status = 'Delivered' AND window_orders = 0
        ORDER BY id LIMIT 1
        """
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


def _order(con: Con, at: datetime) -> OrderCreate:
    product = con.execute("SELECT id, price FROM products ORDER BY id LIMIT 1").fetchone()
    assert product is not None
    return OrderCreate(
        ordered_at=at,
        items=[OrderItemCreate(product_id=int(product[0]), quantity=2, unit_price=product[1])],
    )


def _stored(con: Con, campaign_id: int, customer_id: int) -> tuple[int, Decimal]:
    row = con.execute(
        "SELECT window_orders, window_revenue FROM campaign_sends"
        " WHERE campaign_id = $c AND customer_id = $id",
        {"c": campaign_id, "id": customer_id},
    ).fetchone()
    assert row is not None
    return int(row[0]), Decimal(row[1])


def test_add_edit_delete_order_keep_the_facts_current(con: Con) -> None:
    campaign, customer, sent_at = _delivered_send(con)
    before = results.campaign_result(con, campaign, now=NOW)
    assert before is not None
    order = _order(con, sent_at + timedelta(days=5))
    order_id = writes.add_order(con, customer, order)
    amount = sum(i.unit_price * i.quantity for i in order.items)
    assert _stored(con, campaign, customer) == (1, amount)
    after = assert_matches(con)
    (now,) = [r for r in after if r.id == campaign]
    assert now.stale == 0
    assert now.sent_converted == before.sent_converted + 1
    assert now.revenue == before.revenue + amount

    writes.update_order(con, order_id, _order(con, sent_at + timedelta(days=15)))
    assert _stored(con, campaign, customer) == (0, Decimal(0))
    assert_matches(con)

    writes.update_order(con, order_id, _order(con, sent_at + timedelta(days=14)))
    assert _stored(con, campaign, customer)[0] == 1  # the 14th day is inside
    writes.delete_order(con, order_id)
    assert _stored(con, campaign, customer) == (0, Decimal(0))
    assert results.campaign_result(con, campaign, now=NOW) == before


def test_an_order_of_a_control_member_counts_for_the_control_group(with_control: Con) -> None:
    facts.fill_all(with_control)
    campaign = campaign_ids(with_control)[-1]
    member = with_control.execute(
        "SELECT customer_id FROM campaign_sends WHERE campaign_id = $c AND status = 'Control'"
        " AND window_orders = 0 ORDER BY customer_id LIMIT 1",
        {"c": campaign},
    ).fetchone()
    assert member is not None
    before = results.campaign_result(with_control, campaign, now=NOW)
    assert before is not None
    writes.add_order(
        with_control,
        int(member[0]),
        _order(with_control, _first_delivery(with_control, campaign) + timedelta(days=1)),
    )
    after = results.campaign_result(with_control, campaign, now=NOW)
    assert after is not None and after.stale == 0
    assert after.control_converted == before.control_converted + 1
    assert after.revenue == before.revenue  # control members' orders are not attributed
    assert_matches(with_control)


def test_deleting_the_first_delivery_moves_the_control_window(with_control: Con) -> None:
    facts.fill_all(with_control)
    campaign = campaign_ids(with_control)[-1]
    first = _first_delivery(with_control, campaign)
    row = with_control.execute(
        "SELECT customer_id FROM campaign_sends WHERE campaign_id = $c AND sent_at = $at"
        " AND status = 'Delivered'",
        {"c": campaign, "at": first},
    ).fetchone()
    assert row is not None
    writes.delete_customer(with_control, int(row[0]))
    (moved,) = [r for r in assert_matches(with_control) if r.id == campaign]
    assert moved.control_start is not None and moved.control_start > first
    # Counted from the orders until refreshed.
    assert moved.stale == moved.control == controls(with_control, campaign) > 25
    facts.refresh_campaign(with_control, campaign)
    refreshed = results.campaign_result(with_control, campaign, now=NOW)
    assert refreshed is not None and refreshed.stale == 0
    assert refreshed.control_converted == moved.control_converted


# --- Lift -----------------------------------------------------------------------------

Z = 1.959963984540054


def newcombe_by_hand(a: int, m: int, b: int, n: int) -> tuple[float, float]:
    """Newcombe (1998) method 10, written out again from the paper's formulas."""

    def score_bounds(x: int, size: int) -> tuple[float, float]:
        p = x / size
        root = math.sqrt(4 * size * p * (1 - p) + Z**2)
        low = (2 * size * p + Z**2 - Z * root) / (2 * (size + Z**2))
        high = (2 * size * p + Z**2 + Z * root) / (2 * (size + Z**2))
        return low, high

    p1, p2 = a / m, b / n
    l1, u1 = score_bounds(a, m)
    l2, u2 = score_bounds(b, n)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


@pytest.mark.parametrize(
    ("a", "m", "b", "n", "low", "high"),
    [
        # Newcombe (1998), Table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 10, -0.2775, 0.2775),
    ],
)
def test_lift_interval_matches_the_published_values(
    a: int, m: int, b: int, n: int, low: float, high: float
) -> None:
    measured = lift.lift(a, m, b, n)
    assert measured is not None
    assert measured.low == pytest.approx(low, abs=1e-4)
    assert measured.high == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize(
    ("a", "m", "b", "n"),
    [(61, 1000, 40, 1000), (3, 4000, 0, 400), (900, 950, 80, 100), (1, 2, 1, 3)],
)
def test_lift_interval_matches_the_formula_written_out(a: int, m: int, b: int, n: int) -> None:
    measured = lift.lift(a, m, b, n)
    assert measured is not None
    assert (measured.low, measured.high) == pytest.approx(newcombe_by_hand(a, m, b, n), abs=1e-12)
    assert measured.difference == pytest.approx(a / m - b / n)


def test_no_lift_without_a_group() -> None:
    assert lift.lift(5, 100, 0, 0) is None
    assert lift.lift(0, 0, 5, 100) is None


def _result(**counts: int) -> results.CampaignResult:
    return results.CampaignResult(
        id=1,
        name="x",
        channel="Email",
        created_at=datetime(2026, 1, 1),
        subject="",
        template="Hi",
        version=1,
        **counts,
    )


def test_sentences_say_whether_the_lift_is_real() -> None:
    real = _result(
        audience=2000,
        delivered=2000,
        control=2000,
        sent_counted=2000,
        sent_converted=122,
        control_counted=2000,
        control_converted=80,
    )
    said = results.lift_sentence(real)
    assert said.startswith("Customers it was sent to ordered more: 6.1\u00a0% vs 4.0\u00a0%")
    low, high = newcombe_by_hand(122, 2000, 80, 2000)
    assert f"(+2.1 points, 95\u00a0% interval +{low * 100:.1f} to +{high * 100:.1f})" in said
    assert said.endswith("a real effect.")
    assert results.verdict(real) == "Real effect: more orders"

    unsure = _result(
        audience=200,
        delivered=200,
        control=200,
        sent_counted=200,
        sent_converted=12,
        control_counted=200,
        control_converted=8,
    )
    assert results.lift_sentence(unsure).endswith("cannot tell apart from no effect.")
    assert results.verdict(unsure) == "Cannot tell apart from no effect"

    worse = _result(
        audience=2000,
        delivered=2000,
        control=2000,
        sent_counted=2000,
        sent_converted=40,
        control_counted=2000,
        control_converted=80,
    )
    assert "ordered less" in results.lift_sentence(worse)
    assert results.verdict(worse) == "Real effect: fewer orders"

    alone = _result(audience=100, delivered=100, sent_counted=100, sent_converted=5)
    assert "no control group" in results.lift_sentence(alone)
    assert results.verdict(alone) == "No control group"
    waiting = _result(audience=100, queued=100, control=10)
    assert results.verdict(waiting) == "Not sent yet"


# --- The campaign page's pieces -------------------------------------------------------


def test_funnel_steps_shrink_from_sent_to_ordered(con: Con) -> None:
    r = results.campaign_result(con, campaign_ids(con)[-1], now=NOW)
    assert r is not None
    steps = results.funnel(r)
    assert steps["members"].is_monotonic_decreasing
    assert steps["step"].tolist() == ["Sent", "Delivered", "Opened", "Clicked", "Ordered"]
    assert steps["members"].tolist() == [
        r.delivered + r.failed,
        r.delivered,
        r.opened,
        r.clicked,
        r.clicked_converted,
    ]
    assert steps["share"].iloc[0] == 1


def test_engagement_by_day_counts_first_opens_and_clicks(con: Con) -> None:
    campaign = campaign_ids(con)[-1]
    days = results.engagement_by_day(con, campaign)
    sends = con.execute(
        "SELECT opened_at, clicked_at FROM campaign_sends WHERE campaign_id = $c", {"c": campaign}
    ).df()
    opened = sends.opened_at.dropna().dt.normalize().value_counts()
    clicked = sends.clicked_at.dropna().dt.normalize().value_counts()
    assert days.opened.sum() == len(sends.opened_at.dropna()) > 0
    for _, row in days.iterrows():
        assert row.opened == opened.get(row.day, 0)
        assert row.clicked == clicked.get(row.day, 0)


def test_seeded_open_and_click_times_follow_the_send(con: Con) -> None:
    rows = con.execute(
        "SELECT sent_at, opened_at, clicked_at, opens, clicks, status FROM campaign_sends"
    ).df()
    opened = rows[rows.opens > 0]
    assert opened.opened_at.notna().all() == (opened.status == "Delivered").all()
    timed = rows.dropna(subset=["opened_at"])
    assert (timed.opened_at >= timed.sent_at).all()
    clicked = rows.dropna(subset=["clicked_at"])
    assert (clicked.clicked_at >= clicked.opened_at).all()
    assert (rows[rows.clicks == 0].clicked_at.isna()).all()


def test_members_page_in_order_with_labels(with_control: Con) -> None:
    campaign = campaign_ids(with_control)[-1]
    page = results.members(with_control, campaign, page=2, page_size=10)
    everyone = with_control.execute(
        "SELECT customer_id, status FROM campaign_sends WHERE campaign_id = $c ORDER BY id",
        {"c": campaign},
    ).fetchall()
    assert page.total == len(everyone) and page.pages == math.ceil(len(everyone) / 10)
    assert page.rows["customer_id"].tolist() == [c for c, _ in everyone[10:20]]
    held = results.members(with_control, campaign, status="Control", page_size=100)
    assert held.total == controls(with_control, campaign) >= 25
    assert set(held.rows["status"]) == {"Held out (control group)"}
    last = results.members(with_control, campaign, page=10_000, page_size=10)
    assert last.page == last.pages
    with pytest.raises(ValueError):
        results.members(with_control, campaign, status="Lost")


def test_merge_check_counts_queued_members_without_the_value(con: Con) -> None:
    campaign = campaign_ids(con)[-1]
    queued = [
        int(r[0])
        for r in con.execute(
            "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM campaign_sends"
            " WHERE campaign_id = $c) ORDER BY id LIMIT 30",
            {"c": campaign},
        ).fetchall()
    ]
    con.executemany(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status) VALUES (?, ?, 'Queued')",
        [[campaign, i] for i in queued],
    )
    con.execute("UPDATE customers SET city = '' WHERE list_contains($ids, id)", {"ids": queued[:7]})
    con.execute(
        "UPDATE campaigns SET template = 'See you in [City|town], [First Name] ([Last Visit])',"
        " subject = 'For [Country]' WHERE id = $c",
        {"c": campaign},
    )
    r = results.campaign_result(con, campaign, now=NOW)
    assert r is not None and r.queued == 30
    check = results.merge_check(con, r)
    people = con.execute(
        "SELECT city, country, last_visit FROM customers WHERE list_contains($ids, id)",
        {"ids": queued},
    ).df()
    expect = {
        "City": int((people.city.str.strip() == "").sum()),
        "Country": int((people.country.str.strip() == "").sum()),
        "Last Visit": int(people.last_visit.isna().sum()),
    }
    assert check.queued == 30 and not check.problems
    assert {label: n for label, n, _ in check.missing} == {k: v for k, v in expect.items() if v}
    said = {label: s for label, _, s in check.missing}
    assert said["City"] == "7 members have no city: they will get the fallback “town” for [City]."
    assert templates.fallbacks_used("[Country]") == {"Country": "your country"}


def test_merge_check_names_a_broken_template(con: Con) -> None:
    r = results.campaign_result(con, campaign_ids(con)[-1], now=NOW)
    assert r is not None
    from dataclasses import replace

    check = results.merge_check(con, replace(r, template="Hi [Frist Name"))
    assert check.problems and "never closes" in " ".join(check.problems)


def test_list_frame_and_search(with_control: Con) -> None:
    found = results.campaign_results(with_control, now=NOW)
    frame = results.results_frame(found)
    assert frame["id"].tolist() == [r.id for r in found]
    first = found[0]
    row = frame.iloc[0]
    assert row["audience"] == first.audience and row["control"] == first.control
    assert row["sent_conversion"] == pytest.approx(first.sent_converted / first.sent_counted * 100)
    measured = first.lift
    assert measured is not None
    assert row["lift"] == pytest.approx(measured.difference * 100)
    name = first.name.split()[0]
    hits = results.search(frame, name.upper())
    assert len(hits) == sum(name.lower() in r.name.lower() for r in found) >= 1
    assert results.search(frame, "  ").equals(frame)
    assert results.search(frame, "no such campaign at all").empty
