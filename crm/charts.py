"""Altair charts for one customer: pure functions from small frames to charts.

The frames come from ``crm.purchases`` (monthly spending, top items and
categories, built from the customer's order rows), the rates from a
``CampaignRates`` record; these functions only describe how to draw them. No colours
are hard-coded: Streamlit's chart theme picks them, and its text and grid
colours follow the light or dark theme. Each builder still returns a valid
chart for an empty frame (a chart with a sentence instead of marks), though
the page shows a friendlier note instead.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm.models import CampaignRates

# Value labels take the page's text colour (SVG's currentColor), so they stay
# readable in the light and the dark theme; Vega's default would be black.
LABEL_COLOUR = "currentColor"
MONEY = "$,.2f"
MONEY_AXIS = "$,.0f"
HEIGHT = 260
BAR_STEP = alt.Step(34)  # one bar band per row, so a label never collides
# "Nov 2026" takes about 45 px; a phone leaves the month axis about 290 px.
MONTH_LABELS_AT_MOST = 6


def empty_chart(message: str) -> alt.Chart:
    """A chart that says ``message`` where its marks would be."""
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(size=14, color=LABEL_COLOUR)
        .encode(text="message:N")
        .properties(height=80)
    )
    return chart


def _month_ticks(months: pd.Series) -> list[alt.DateTime]:
    """Where the month labels go: the middle of every n-th month, counted back from the last.

    A bar fills its month, from its first day to the next month's; a label on
    the first day (Vega's default) stands under the gap before the bar, and
    the axis's end label, "Dec", stood under November's bar. Counting back
    keeps the latest month labelled; every n-th keeps the labels apart.
    """
    first, last = months.min().to_period("M"), months.max().to_period("M")
    count = (last - first).n + 1
    step = -(-count // MONTH_LABELS_AT_MOST)  # ceiling division
    ticks = []
    for back in range(0, count, step):
        period = last - back
        start, end = period.start_time, (period + 1).start_time
        middle = start + (end - start) / 2
        ticks.append(
            alt.DateTime(
                year=middle.year,
                month=middle.month,
                date=middle.day,
                hours=middle.hour,
                minutes=middle.minute,
            )
        )
    return ticks[::-1]


def spending_over_time(monthly: pd.DataFrame) -> alt.Chart:
    """Spending per month as bars on a real time axis (``month``, ``amount``, ``orders``).

    ``monthly`` is ``crm.purchases.purchase_history(...).monthly``: one row
    per calendar month with orders. The axis is time, so a month without
    orders is an empty slot, not a gap closed up.
    """
    if monthly.empty:
        return empty_chart("No orders yet")
    data = monthly.assign(month=pd.to_datetime(monthly["month"])).sort_values("month")
    chart: alt.Chart = (
        alt.Chart(data, title=alt.Title("Spending by month", anchor="start"))
        .mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
        .encode(
            x=alt.X(
                "yearmonth(month):T",
                title="Month",
                axis=alt.Axis(
                    format="%b %Y",
                    labelAngle=0,
                    labelOverlap=True,
                    labelFlush=False,
                    values=_month_ticks(data["month"]),
                ),
            ),
            y=alt.Y("amount:Q", title="Spending", axis=alt.Axis(format=MONEY_AXIS)),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month", format="%B %Y"),
                alt.Tooltip("amount:Q", title="Spending", format=MONEY),
                alt.Tooltip("orders:Q", title="Orders"),
            ],
        )
        .properties(height=HEIGHT)
    )
    return chart


def _ranked_bars(
    data: pd.DataFrame,
    *,
    label: str,
    label_title: str,
    value: str,
    value_title: str,
    value_format: str | None,
    title: str,
    tooltip: list[alt.Tooltip],
) -> alt.LayerChart:
    """Horizontal bars, largest first, each labelled with its value at its end."""
    sort = alt.EncodingSortField(field=value, order="descending")
    base = alt.Chart(data).encode(
        y=alt.Y(f"{label}:N", title=label_title, sort=sort, axis=alt.Axis(labelLimit=160)),
        x=alt.X(
            f"{value}:Q",
            title=value_title,
            axis=alt.Axis(format=value_format) if value_format else alt.Axis(tickMinStep=1),
        ),
        tooltip=tooltip,
    )
    bars = base.mark_bar(cornerRadiusTopRight=2, cornerRadiusBottomRight=2)
    text = base.mark_text(align="left", dx=4, color=LABEL_COLOUR).encode(
        text=alt.Text(f"{value}:Q", format=value_format or "d")
    )
    return alt.LayerChart(
        layer=[bars, text], title=alt.Title(title, anchor="start"), height=BAR_STEP
    )


def top_items_chart(items: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """The most bought products by quantity (``product``, ``category``, ``quantity``, ``spent``)."""
    if items.empty:
        return empty_chart("No items bought yet")
    return _ranked_bars(
        items,
        label="product",
        label_title="Product",
        value="quantity",
        value_title="Units bought",
        value_format=None,
        title="Top items · units bought",
        tooltip=[
            alt.Tooltip("product:N", title="Product"),
            alt.Tooltip("category:N", title="Category"),
            alt.Tooltip("quantity:Q", title="Units"),
            alt.Tooltip("spent:Q", title="Spent", format=MONEY),
        ],
    )


def top_categories_chart(categories: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """The categories with the most spending (``category``, ``quantity``, ``spent``)."""
    if categories.empty:
        return empty_chart("No items bought yet")
    return _ranked_bars(
        categories,
        label="category",
        label_title="Category",
        value="spent",
        value_title="Spent",
        value_format=MONEY_AXIS,
        title="Top categories · spending",
        tooltip=[
            alt.Tooltip("category:N", title="Category"),
            alt.Tooltip("spent:Q", title="Spent", format=MONEY),
            alt.Tooltip("quantity:Q", title="Units"),
        ],
    )


def rates_frame(rates: CampaignRates) -> pd.DataFrame:
    """The four campaign rates as rows (``metric``, ``rate``, ``count``, ``out_of``, ``basis``).

    Delivery and failure are shares of the sends attempted; opens and clicks
    are shares of the sends delivered (as ``crm.queries.rates_from_history``
    computes them). A rate with nothing to divide by is left out.
    """
    attempted = rates.delivered + rates.failed
    rows = [
        ("Delivered", rates.success_rate, rates.delivered, attempted, "sends attempted"),
        ("Failed", rates.failure_rate, rates.failed, attempted, "sends attempted"),
        ("Opened", rates.open_rate, rates.opened, rates.delivered, "sends delivered"),
        ("Clicked", rates.click_rate, rates.clicked, rates.delivered, "sends delivered"),
    ]
    return pd.DataFrame(
        [
            {"metric": m, "rate": r, "count": c, "out_of": n, "basis": b}
            for m, r, c, n, b in rows
            if r is not None
        ],
        columns=["metric", "rate", "count", "out_of", "basis"],
    )


RATE_ORDER = ["Delivered", "Failed", "Opened", "Clicked"]


def campaign_rates_chart(rates: CampaignRates) -> alt.LayerChart | alt.Chart:
    """Success, failure, open and click rate of the customer's campaigns, as 0-100 % bars."""
    data = rates_frame(rates)
    if data.empty:
        return empty_chart("No campaign sends yet")
    base = alt.Chart(data).encode(
        y=alt.Y("metric:N", title=None, sort=RATE_ORDER),
        x=alt.X(
            "rate:Q",
            title="Rate",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
        ),
        tooltip=[
            alt.Tooltip("metric:N", title="Metric"),
            alt.Tooltip("rate:Q", title="Rate", format=".0%"),
            alt.Tooltip("count:Q", title="Sends"),
            alt.Tooltip("out_of:Q", title="Out of"),
            alt.Tooltip("basis:N", title="Counted over"),
        ],
    )
    bars = base.mark_bar(cornerRadiusTopRight=2, cornerRadiusBottomRight=2)
    text = base.mark_text(align="left", dx=4, color=LABEL_COLOUR).encode(
        text=alt.Text("rate:Q", format=".0%")
    )
    return alt.LayerChart(
        layer=[bars, text],
        title=alt.Title("Campaign engagement", anchor="start"),
        height=BAR_STEP,
    )


# --- Insights: the make-up of a segment of customers (crm.insights) -------------------

# The click selection of the Insights bar charts. Streamlit hands a click back
# as ``{"selection": {PICK: [{<field>: <value>}]}}`` (``on_select``), which
# crm.ui.insights turns into a narrower segment.
PICK = "pick"
# Bars not picked fade while one is picked (opacity, so the theme keeps its colours).
_FADED = 0.35


def _pick(field: str) -> alt.Parameter:
    return alt.selection_point(name=PICK, fields=[field], on="click")


def _count_bars(
    data: pd.DataFrame,
    *,
    label_title: str,
    value_title: str,
    title: str,
    order: list[str] | None,
    tooltip: list[alt.Tooltip],
) -> alt.LayerChart:
    """Horizontal bars of customers per ``name`` (largest first, or in ``order``),
    each labelled with its count, a click picking the bar's ``name``."""
    pick = _pick("name")
    sort: list[str] | alt.EncodingSortField = (
        order if order is not None else alt.EncodingSortField(field="customers", order="descending")
    )
    base = alt.Chart(data).encode(
        y=alt.Y("name:N", title=label_title, sort=sort, axis=alt.Axis(labelLimit=160)),
        # Room after the longest bar for its label: on a phone "251" was cut to "25".
        x=alt.X(
            "customers:Q",
            title=value_title,
            axis=alt.Axis(tickMinStep=1),
            scale=alt.Scale(domainMax=max(1.0, 1.15 * float(data["customers"].max()))),
        ),
        tooltip=tooltip,
    )
    bars = (
        base.mark_bar(cornerRadiusTopRight=2, cornerRadiusBottomRight=2, cursor="pointer")
        .encode(opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(_FADED)))
        .add_params(pick)
    )
    text = base.mark_text(align="left", dx=4, color=LABEL_COLOUR).encode(
        text=alt.Text("customers:Q", format=",d")
    )
    return alt.LayerChart(
        layer=[bars, text], title=alt.Title(title, anchor="start"), height=BAR_STEP
    )


def _share_tooltip(label: str) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("name:N", title=label),
        alt.Tooltip("customers:Q", title="Customers", format=","),
        alt.Tooltip("share:Q", title="Share of this segment", format=".1%"),
        alt.Tooltip("share_of_all:Q", title="Share of all customers", format=".1%"),
    ]


def countries_chart(countries: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Customers per country, largest first (``name``, ``customers``, ``share``,
    ``share_of_all``); a click picks the country."""
    if countries.empty:
        return empty_chart("No customers in this segment")
    return _count_bars(
        countries,
        label_title="Country",
        value_title="Customers",
        title="Customers by country · top 10",
        order=None,
        tooltip=_share_tooltip("Country"),
    )


def rfm_mix_chart(groups: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Customers per RFM group, best group first (``name``, ``customers``, ``share``,
    ``share_of_all``, ``meaning``); a click picks the group."""
    if groups.empty:
        return empty_chart("No customers in this segment")
    return _count_bars(
        groups,
        label_title="RFM group",
        value_title="Customers",
        title="Customers by RFM group",
        order=list(groups["name"]),
        tooltip=[*_share_tooltip("Group"), alt.Tooltip("meaning:N", title="Means")],
    )


def rhythm_mix_chart(statuses: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Customers per buying-rhythm status, healthiest first (``name``, ``customers``,
    ``share``, ``share_of_all``); a click picks the status."""
    if statuses.empty:
        return empty_chart("No customers in this segment")
    return _count_bars(
        statuses,
        label_title="Buying rhythm",
        value_title="Customers",
        title="Customers by buying rhythm",
        order=list(statuses["name"]),
        tooltip=_share_tooltip("Status"),
    )


def categories_chart(categories: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """The categories the most customers bought (``name``, ``customers``, ``share``:
    of the segment's customers); a click picks the category."""
    if categories.empty:
        return empty_chart("Nobody in this segment has bought anything")
    return _count_bars(
        categories,
        label_title="Category",
        value_title="Customers who bought it",
        title="Top categories · customers who bought",
        order=None,
        tooltip=[
            alt.Tooltip("name:N", title="Category"),
            alt.Tooltip("customers:Q", title="Customers who bought it", format=","),
            alt.Tooltip("share:Q", title="Share of this segment", format=".1%"),
        ],
    )


def spending_histogram_chart(bands: pd.DataFrame) -> alt.Chart:
    """Customers per total-spending band (``low``, ``high``, ``customers``), each bar
    spanning its band on a money axis."""
    if bands.empty:
        return empty_chart("No customers in this segment")
    chart: alt.Chart = (
        alt.Chart(bands, title=alt.Title("Customers by total spending", anchor="start"))
        .mark_bar(binSpacing=1)
        .encode(
            x=alt.X(
                "low:Q",
                bin="binned",
                title="Total spending",
                axis=alt.Axis(format=MONEY_AXIS, labelOverlap=True),
            ),
            x2="high:Q",
            y=alt.Y("customers:Q", title="Customers", axis=alt.Axis(tickMinStep=1)),
            tooltip=[
                alt.Tooltip("low:Q", title="From", format=MONEY_AXIS),
                alt.Tooltip("high:Q", title="Up to (not incl.)", format=MONEY_AXIS),
                alt.Tooltip("customers:Q", title="Customers", format=","),
            ],
        )
        .properties(height=HEIGHT)
    )
    return chart


def revenue_by_month_chart(monthly: pd.DataFrame) -> alt.Chart:
    """The segment's revenue per month (``month``, ``amount``, ``orders``), bars centred
    over their months as in ``spending_over_time``."""
    if monthly.empty or not monthly["orders"].any():
        return empty_chart("No orders in the last 24 months")
    chart: alt.Chart = (
        spending_over_time(monthly)
        .encode(
            y=alt.Y("amount:Q", title="Revenue", axis=alt.Axis(format=MONEY_AXIS)),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month", format="%B %Y"),
                alt.Tooltip("amount:Q", title="Revenue", format=MONEY),
                alt.Tooltip("orders:Q", title="Orders", format=","),
            ],
        )
        .properties(title=alt.Title("Revenue by month · last 24 months", anchor="start"))
    )
    return chart
