"""Chart builders: marks, encodings, the time axis, tooltips, empty states, no fixed colours."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd
import pytest

from crm import charts
from crm.models import CampaignRates

MONTHLY = pd.DataFrame(
    {
        # Deliberately out of order: the chart must not rely on the input's order.
        "month": pd.to_datetime(["2025-03-01", "2025-01-01", "2025-02-01", "2024-12-01"]),
        "amount": [120.5, 80.0, 0.0, 42.25],
        "orders": [2, 1, 0, 1],
    }
)
ITEMS = pd.DataFrame(
    {
        "product": ["Espresso beans", "Oat milk", "Ceramic mug"],
        "category": ["Coffee", "Dairy", "Kitchen"],
        "quantity": [9, 5, 2],
        "spent": [180.0, 15.0, 30.0],
    }
)
CATEGORIES = pd.DataFrame(
    {
        "category": ["Coffee", "Kitchen", "Dairy"],
        "quantity": [9, 2, 5],
        "spent": [180.0, 30.0, 15.0],
    }
)
RATES = CampaignRates(
    sends=6,
    delivered=4,
    failed=1,
    queued=1,
    opened=3,
    clicked=1,
    success_rate=0.8,
    failure_rate=0.2,
    open_rate=0.75,
    click_rate=0.25,
)


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec = chart.to_dict()  # also validates against the Vega-Lite schema
    assert isinstance(spec, dict)
    return spec


def _rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    datasets = spec["datasets"]
    assert len(datasets) == 1
    return list(next(iter(datasets.values())))


def _tooltip_fields(encoding: dict[str, Any]) -> list[str]:
    return [t["field"] for t in encoding["tooltip"]]


def _no_fixed_colours(spec: dict[str, Any]) -> None:
    """Only the theme's colours: none named, none in hex; text may follow the page's colour."""
    text = json.dumps(spec).replace('"color": "currentColor"', "")
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b", text)
    assert '"color"' not in text and '"fill"' not in text and '"stroke"' not in text


def _labels_follow_the_page_colour(text_layer: dict[str, Any]) -> None:
    assert text_layer["mark"]["color"] == "currentColor"


def test_spending_over_time_is_bars_on_a_monthly_time_axis() -> None:
    spec = _spec(charts.spending_over_time(MONTHLY))
    assert spec["mark"]["type"] == "bar"
    assert spec["title"]["text"] == "Spending by month"
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert (x["field"], x["type"], x["timeUnit"]) == ("month", "temporal", "yearmonth")
    assert x["title"] == "Month"
    assert x["axis"]["format"] == "%b %Y"
    assert (y["field"], y["type"], y["title"]) == ("amount", "quantitative", "Spending")
    assert _tooltip_fields(spec["encoding"]) == ["month", "amount", "orders"]
    _no_fixed_colours(spec)


def test_spending_over_time_puts_months_in_order() -> None:
    rows = _rows(_spec(charts.spending_over_time(MONTHLY)))
    months = [r["month"] for r in rows]
    assert months == sorted(months)
    assert months[0].startswith("2024-12-01")
    # Every month is there, the empty one included, with its amount.
    expected = MONTHLY.sort_values("month")["amount"].tolist()
    assert [r["amount"] for r in rows] == expected


def test_spending_accepts_dates_as_duckdb_returns_them() -> None:
    as_dates = MONTHLY.assign(month=MONTHLY["month"].dt.date)
    rows = _rows(_spec(charts.spending_over_time(as_dates)))
    assert [r["month"][:10] for r in rows] == [
        "2024-12-01",
        "2025-01-01",
        "2025-02-01",
        "2025-03-01",
    ]


def _layers(chart: alt.TopLevelMixin) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    spec = _spec(chart)
    bars, text = spec["layer"]
    return spec, bars, text


def test_top_items_are_ranked_bars_with_labels() -> None:
    spec, bars, text = _layers(charts.top_items_chart(ITEMS))
    assert bars["mark"]["type"] == "bar"
    assert text["mark"]["type"] == "text"
    assert spec["title"]["text"] == "Top items · units bought"
    y, x = bars["encoding"]["y"], bars["encoding"]["x"]
    assert (y["field"], y["type"], y["title"]) == ("product", "nominal", "Product")
    assert y["sort"] == {"field": "quantity", "order": "descending"}
    assert (x["field"], x["type"], x["title"]) == ("quantity", "quantitative", "Units bought")
    assert text["encoding"]["text"]["field"] == "quantity"
    _labels_follow_the_page_colour(text)
    assert _tooltip_fields(bars["encoding"]) == ["product", "category", "quantity", "spent"]
    assert [r["product"] for r in _rows(spec)] == ITEMS["product"].tolist()
    _no_fixed_colours(spec)


def test_top_categories_rank_by_spending_in_dollars() -> None:
    spec, bars, _ = _layers(charts.top_categories_chart(CATEGORIES))
    assert spec["title"]["text"] == "Top categories · spending"
    x = bars["encoding"]["x"]
    assert (x["field"], x["title"], x["axis"]["format"]) == ("spent", "Spent", "$,.0f")
    assert bars["encoding"]["y"]["sort"] == {"field": "spent", "order": "descending"}
    assert _tooltip_fields(bars["encoding"]) == ["category", "spent", "quantity"]
    _no_fixed_colours(spec)


def test_rates_frame_matches_the_record() -> None:
    frame = charts.rates_frame(RATES)
    assert frame["metric"].tolist() == ["Delivered", "Failed", "Opened", "Clicked"]
    assert frame["rate"].tolist() == [0.8, 0.2, 0.75, 0.25]
    assert frame["count"].tolist() == [4, 1, 3, 1]
    assert frame["out_of"].tolist() == [5, 5, 4, 4]


def test_campaign_rates_chart_is_a_percent_scale() -> None:
    spec, bars, text = _layers(charts.campaign_rates_chart(RATES))
    assert spec["title"]["text"] == "Campaign engagement"
    x = bars["encoding"]["x"]
    assert x["scale"]["domain"] == [0, 1]
    assert x["axis"]["format"] == "%"
    assert bars["encoding"]["y"]["sort"] == ["Delivered", "Failed", "Opened", "Clicked"]
    assert text["encoding"]["text"]["format"] == ".0%"
    _labels_follow_the_page_colour(text)
    assert _tooltip_fields(bars["encoding"]) == ["metric", "rate", "count", "out_of", "basis"]
    _no_fixed_colours(spec)


def test_nothing_delivered_leaves_out_open_and_click_rates() -> None:
    all_failed = CampaignRates(2, 0, 2, 0, 0, 0, 0.0, 1.0, None, None)
    assert charts.rates_frame(all_failed)["metric"].tolist() == ["Delivered", "Failed"]


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (charts.spending_over_time(MONTHLY.iloc[0:0]), "No orders yet"),
        (charts.top_items_chart(ITEMS.iloc[0:0]), "No items bought yet"),
        (charts.top_categories_chart(CATEGORIES.iloc[0:0]), "No items bought yet"),
        (
            charts.campaign_rates_chart(CampaignRates(1, 0, 0, 1, 0, 0, None, None, None, None)),
            "No campaign sends yet",
        ),
    ],
)
def test_empty_data_gives_a_chart_that_says_so(chart: alt.Chart, message: str) -> None:
    spec = _spec(chart)
    assert spec["mark"]["type"] == "text"
    assert _rows(spec) == [{"message": message}]


def _as_datetime(value: dict[str, Any]) -> datetime:
    """A Vega-Lite DateTime (local time, month counted from 1) as a Python datetime."""
    assert set(value) <= {"year", "month", "date", "hours", "minutes"}
    return datetime(
        value["year"], value["month"], value["date"], value.get("hours", 0), value.get("minutes", 0)
    )


def _middle(year: int, month: int) -> datetime:
    start = datetime(year, month, 1)
    end = datetime(year + month // 12, month % 12 + 1, 1)
    return start + (end - start) / 2


def test_month_labels_sit_under_the_middle_of_their_own_bars() -> None:
    """A bar fills its month, so its label belongs at the month's middle, not its first day
    (there the last bar, November, stood over the "Dec" label at the axis's end)."""
    x = _spec(charts.spending_over_time(MONTHLY))["encoding"]["x"]
    assert x["axis"]["labelFlush"] is False, "a flush end label moves off its tick"
    ticks = [_as_datetime(v) for v in x["axis"]["values"]]
    assert ticks == [_middle(2024, 12), _middle(2025, 1), _middle(2025, 2), _middle(2025, 3)]


def test_a_long_history_labels_some_months_and_always_the_last() -> None:
    months = pd.date_range("2023-06-01", "2026-11-01", freq="MS")  # 42 months
    monthly = pd.DataFrame({"month": months, "amount": 10.0, "orders": 1})
    ticks = [
        _as_datetime(v)
        for v in _spec(charts.spending_over_time(monthly))["encoding"]["x"]["axis"]["values"]
    ]
    assert ticks[-1] == _middle(2026, 11)
    assert 2 <= len(ticks) <= charts.MONTH_LABELS_AT_MOST
    steps = {(b.year - a.year) * 12 + b.month - a.month for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1, "evenly spaced"
    assert ticks[0] >= datetime(2023, 6, 1)
