"""The purchase history and favourites built from hand-made order rows.

The figures on real seeded data are checked against SQL brute force in
``test_queries``; these pin down the orderings and the edge cases.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd

from crm import purchases
from crm.frames import typed_frame
from crm.purchases import LineRow, OrderRow

ORDERS = [
    OrderRow(1, datetime(2026, 1, 5, 10), Decimal("30.00")),
    OrderRow(2, datetime(2026, 1, 20, 9), Decimal("12.50")),
    OrderRow(3, datetime(2026, 3, 2, 8), Decimal("8.00")),
    # Same time as order 3: the higher id is the newer.
    OrderRow(4, datetime(2026, 3, 2, 8), Decimal("4.00")),
]
LINES = [
    LineRow(1, "Tea", "Drinks", 2, Decimal("5.00")),
    LineRow(1, "Cake", "Bakery", 1, Decimal("20.00")),
    LineRow(2, "Tea", "Drinks", 1, Decimal("5.00")),
    LineRow(2, "Bun", "Bakery", 3, Decimal("2.50")),
    LineRow(3, "Mug", "Home", 1, Decimal("8.00")),
    LineRow(4, "Bun", "Bakery", 1, Decimal("2.50")),
    LineRow(4, "Sticker", "Home", 3, Decimal("0.50")),
]


def test_orders_are_newest_first_with_items_by_name() -> None:
    orders = purchases.purchase_history(ORDERS, LINES).orders
    assert list(orders["order_id"]) == [4, 3, 2, 1]
    assert list(orders["items"]) == [
        ["1 × Bun", "3 × Sticker"],
        ["1 × Mug"],
        ["3 × Bun", "1 × Tea"],
        ["1 × Cake", "2 × Tea"],
    ]
    assert list(orders["item_count"]) == [4, 1, 4, 3]
    assert list(orders["amount"]) == [4.0, 8.0, 12.5, 30.0]


def test_an_order_without_lines_has_no_items() -> None:
    orders = purchases.purchase_history(ORDERS[:1], []).orders
    assert list(orders["items"]) == [[]] and list(orders["item_count"]) == [0]


def test_months_with_orders_oldest_first() -> None:
    monthly = purchases.purchase_history(ORDERS, LINES).monthly
    assert list(monthly["month"]) == [pd.Timestamp(2026, 1, 1), pd.Timestamp(2026, 3, 1)]
    assert list(monthly["amount"]) == [42.5, 12.0]
    assert list(monthly["orders"]) == [2, 2]


def test_top_items_by_quantity_then_spend_then_name() -> None:
    items = purchases.favourites(LINES).items
    # Bun and Tea were bought 4 and 3 times; Sticker and Tea tie on 3, Tea spent more.
    assert list(items["product"]) == ["Bun", "Tea", "Sticker"]
    assert list(items["quantity"]) == [4, 3, 3]
    assert list(items["spent"]) == [10.0, 15.0, 1.5]
    assert list(purchases.favourites(LINES, top=1).items["product"]) == ["Bun"]


def test_top_categories_by_spend() -> None:
    categories = purchases.favourites(LINES).categories
    assert list(categories["category"]) == ["Bakery", "Drinks", "Home"]
    assert list(categories["spent"]) == [30.0, 15.0, 9.5]
    assert list(categories["quantity"]) == [5, 3, 4]


def test_nothing_bought_gives_empty_frames_of_the_same_types() -> None:
    full_history, full_likes = (
        purchases.purchase_history(ORDERS, LINES),
        purchases.favourites(LINES),
    )
    none_history, none_likes = purchases.purchase_history([], []), purchases.favourites([])
    for empty, full in [
        (none_history.orders, full_history.orders),
        (none_history.monthly, full_history.monthly),
        (none_likes.items, full_likes.items),
        (none_likes.categories, full_likes.categories),
    ]:
        assert empty.empty and not full.empty
        assert empty.dtypes.to_dict() == full.dtypes.to_dict()


def test_typed_frame_keeps_nulls_lists_and_types() -> None:
    columns = {"n": "Int64", "text": "str", "when": "datetime64[us]", "x": "float64", "l": "object"}
    frame = typed_frame(
        [(None, None, None, None, [1, 2]), (7, "a", datetime(2026, 1, 1), Decimal("1.25"), [3, 4])],
        columns,
    )
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == columns
    assert frame["n"].isna().tolist() == [True, False] and frame["n"].iloc[1] == 7
    assert frame["text"].isna().tolist() == [True, False]
    assert pd.isna(frame["when"].iloc[0]) and pd.isna(frame["x"].iloc[0])
    assert frame["x"].iloc[1] == 1.25
    # Lists of equal length stay lists, not a 2-D array.
    assert frame["l"].tolist() == [[1, 2], [3, 4]]
