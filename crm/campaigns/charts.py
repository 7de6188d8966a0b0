"""Altair charts of one campaign: the funnel, opens and clicks by day, the lift.

Pure functions from the small frames of ``crm.campaigns.results`` to charts;
no colours are hard-coded (Streamlit's theme picks them, light or dark), as
in ``crm.charts``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm.campaigns.results import FUNNEL_STEPS
from crm.charts import BAR_STEP, HEIGHT, LABEL_COLOUR, empty_chart


def funnel_chart(steps: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Sent → delivered → opened → clicked → ordered, as bars labelled with the count
    and the share of the sent."""
    if steps.empty or int(steps["members"].iloc[0]) == 0:
        return empty_chart("Nothing sent yet")
    data = steps.assign(
        label=[
            f"{int(n):,} ({share:.0%})" if pd.notna(share) else f"{int(n):,}"
            for n, share in zip(steps["members"], steps["share"], strict=True)
        ]
    )
    base = alt.Chart(data).encode(
        y=alt.Y("step:N", title=None, sort=list(FUNNEL_STEPS)),
        # Room on the right for the longest bar's label ("1,204 (100%)") on a phone.
        x=alt.X(
            "members:Q",
            title="Members",
            axis=alt.Axis(format=",d", tickMinStep=1),
            scale=alt.Scale(domain=[0, int(steps["members"].max()) * 1.35], nice=False),
        ),
        tooltip=[
            alt.Tooltip("step:N", title="Step"),
            alt.Tooltip("members:Q", title="Members", format=","),
            alt.Tooltip("share:Q", title="Of the sent", format=".1%"),
        ],
    )
    bars = base.mark_bar(cornerRadiusTopRight=2, cornerRadiusBottomRight=2)
    text = base.mark_text(align="left", dx=4, color=LABEL_COLOUR).encode(text="label:N")
    return alt.LayerChart(
        layer=[bars, text],
        title=alt.Title(
            "Funnel",
            subtitle="Shares of the sent · Ordered: clicked, and ordered within 14 days",
            anchor="start",
        ),
        height=BAR_STEP,
    )


def _day_step(days: pd.DataFrame) -> int:
    """Days between two ticks: at most about eight ticks across the chart."""
    span = int((days["day"].max() - days["day"].min()).days) + 1
    return max(1, -(-span // 8))


def engagement_chart(days: pd.DataFrame) -> alt.Chart:
    """First opens and first clicks per day, as two lines."""
    if days.empty:
        return empty_chart("No opens or clicks with a time recorded")
    long = days.melt(
        id_vars="day", value_vars=["opened", "clicked"], var_name="what", value_name="members"
    )
    long["what"] = long["what"].map({"opened": "Opened", "clicked": "Clicked"})
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "day:T",
                title=None,
                # One tick per day (or every few days): Vega's own ticks fell on hours
                # when the opens spanned two days, each labelled with the same date.
                axis=alt.Axis(
                    format="%b %d",
                    labelOverlap=True,
                    tickCount={"interval": "day", "step": _day_step(days)},
                ),
            ),
            y=alt.Y("members:Q", title="Members", axis=alt.Axis(format=",d", tickMinStep=1)),
            color=alt.Color(
                "what:N", title=None, sort=["Opened", "Clicked"], legend=alt.Legend(orient="top")
            ),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format="%a %b %d, %Y"),
                alt.Tooltip("what:N", title="First"),
                alt.Tooltip("members:Q", title="Members", format=","),
            ],
        )
        .properties(
            title=alt.Title(
                "Opens and clicks by day", subtitle="First open, first click", anchor="start"
            ),
            height=HEIGHT - 40,
        )
    )
    return chart


def lift_chart(groups: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Each group's conversion (a point) with its 95 % interval (a bar across it)."""
    if groups.empty:
        return empty_chart("No conversion to compare yet")
    data = groups.assign(
        label=[f"{c:.1f}\u00a0%" for c in groups["conversion"]],
    )
    base = alt.Chart(data).encode(
        y=alt.Y("group:N", title=None, sort=["Sent", "Control"]),
        tooltip=[
            alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("members:Q", title="Members counted", format=","),
            alt.Tooltip("ordered:Q", title="Ordered within 14 days", format=","),
            alt.Tooltip("conversion:Q", title="Conversion %", format=".2f"),
            alt.Tooltip("low:Q", title="95\u00a0% interval from", format=".2f"),
            alt.Tooltip("high:Q", title="95\u00a0% interval to", format=".2f"),
        ],
    )
    interval = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title="Ordered within 14 days (%)", scale=alt.Scale(zero=True)),
        x2="high:Q",
    )
    point = base.mark_point(filled=True, size=110).encode(
        x="conversion:Q", color=alt.Color("group:N", legend=None, sort=["Sent", "Control"])
    )
    text = base.mark_text(dy=-12, color=LABEL_COLOUR).encode(x="conversion:Q", text="label:N")
    return alt.LayerChart(
        layer=[interval, point, text],
        title=alt.Title(
            "Conversion, with 95\u00a0% intervals",
            subtitle="Sent group against the control group",
            anchor="start",
        ),
        height=alt.Step(48),
    )
