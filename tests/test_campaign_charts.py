"""The campaign page's charts (crm.campaigns.charts): what they draw, from which figures."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from crm.campaigns import charts, results


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


def _values(chart: object) -> list[dict[str, object]]:
    spec = chart.to_dict()  # type: ignore[attr-defined]
    (data,) = spec["datasets"].values()
    return list(data)


def test_funnel_bars_carry_count_and_share_of_sent() -> None:
    r = _result(delivered=90, failed=10, opened=40, clicked=12, clicked_converted=6)
    rows = _values(charts.funnel_chart(results.funnel(r)))
    assert [(row["step"], row["members"], row["label"]) for row in rows] == [
        ("Sent", 100, "100 (100%)"),
        ("Delivered", 90, "90 (90%)"),
        ("Opened", 40, "40 (40%)"),
        ("Clicked", 12, "12 (12%)"),
        ("Ordered", 6, "6 (6%)"),
    ]


def test_nothing_sent_draws_a_sentence() -> None:
    spec = charts.funnel_chart(results.funnel(_result(queued=5))).to_dict()
    assert spec["mark"]["type"] == "text"
    assert (
        charts.lift_chart(results.conversion_groups(_result())).to_dict()["mark"]["type"] == "text"
    )


def test_lift_chart_has_both_groups_with_their_intervals() -> None:
    r = _result(sent_counted=1000, sent_converted=61, control_counted=100, control_converted=4)
    rows = _values(charts.lift_chart(results.conversion_groups(r)))
    assert [row["group"] for row in rows] == ["Sent", "Control"]
    for row in rows:
        assert row["low"] < row["conversion"] < row["high"]  # type: ignore[operator]
    assert rows[0]["conversion"] == 6.1 and rows[1]["conversion"] == 4.0


def test_engagement_chart_draws_opens_and_clicks_per_day() -> None:
    days = pd.DataFrame(
        {"day": pd.to_datetime(["2026-01-02", "2026-01-03"]), "opened": [5, 2], "clicked": [1, 0]}
    )
    rows = _values(charts.engagement_chart(days))
    assert sorted((row["what"], row["members"]) for row in rows) == [
        ("Clicked", 0),
        ("Clicked", 1),
        ("Opened", 2),
        ("Opened", 5),
    ]
    empty = charts.engagement_chart(days.iloc[0:0]).to_dict()
    assert empty["mark"]["type"] == "text"
