"""What each campaign achieved: delivery, engagement, conversion, lift and revenue.

Definitions (also in the README):

- **Audience**: members not held out (Queued, Sending, Delivered, Failed);
  **control**: members held out at random (status Control), sent nothing.
- **Sent**: sends that went out, delivered or failed. Delivered and failed
  rates are per send that went out; open and click rates per delivered send.
- **Conversion**: the share of a group who ordered within 14 days of the
  start of their window (``crm.campaigns.facts``): for the sent group, their
  send's ``sent_at``; for the control group, the campaign's first delivery.
  The sent group counts failed sends too: the control group was drawn from
  the same customers, bad addresses included, so leaving the failures out
  would flatter the campaign (a comparison "as assigned").
- **Lift**: sent conversion minus control conversion, in percentage points,
  with Newcombe's 95 % interval (``crm.campaigns.lift``).
- **Revenue attributed**: the amount of the orders placed within 14 days of
  a delivered send (customers who received it).

Everything is read from the stored per-send facts with one scan of the
campaign's sends; sends not yet counted for their current window are counted
from the orders here (``facts.STALE_COUNTED_SQL``), so the figures never lag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from crm import templates
from crm.campaigns import facts
from crm.campaigns.lift import Lift, lift, percent, points, wilson

Con = duckdb.DuckDBPyConnection

# Which campaigns a query reads: every one, or the one bound as $campaign.
_ALL = "TRUE"
_ONE = "s.campaign_id = $campaign"

# Per campaign and status: a few rows per campaign, added up in Python
# (_add_up). One scan of the sends grouped by two keys, summing boolean casts:
# at 1M customers (3.8M sends) on a busy 2-core machine 310-630 ms where a
# two-count scan took 160-340 ms, against 600-1,240 ms for the same sums
# wrapped in coalesce() and grouped also by each control member's window, and
# 1.6-1.9 s for twenty FILTERed counts after a join with each campaign's first
# delivery. In CPU time, which the busy machine inflates less: ~100 ms for the
# whole list against ~45 ms for the two-count scan, so about 50-100 ms on a quiet
# 2-core machine. A control group is counted from storage when all its windows start
# at the campaign's first delivery (count, min and max of window_start say
# so), else by _CONTROL_SQL.
_COUNTS_SQL = """
    SELECT campaign_id, status,
           count(*) AS members,
           sum((opens > 0)::INTEGER) AS opened,
           sum((clicks > 0)::INTEGER) AS clicked,
           sum((sent_at IS NOT NULL)::INTEGER) AS counted,
           sum((window_start = sent_at)::INTEGER) AS fresh,
           sum((window_start = sent_at AND window_orders > 0)::INTEGER) AS sent_converted,
           sum((window_start = sent_at AND window_orders > 0 AND clicks > 0)::INTEGER)
               AS clicked_converted,
           sum((window_orders > 0)::INTEGER) AS converted,
           sum(CASE WHEN window_start = sent_at THEN window_revenue END) AS revenue,
           sum((sent_at > $now - INTERVAL 14 DAY)::INTEGER) AS open_windows,
           min(sent_at) AS first_sent,
           max(sent_at) AS last_sent,
           count(window_start) AS windows,
           min(window_start) AS first_window,
           max(window_start) AS last_window
    FROM campaign_sends s
    WHERE {where}
    GROUP BY campaign_id, status
"""

# A control group whose windows do not all start at the first delivery: those
# that do, counted from storage, and how many do not (counted by _STALE_SQL).
_CONTROL_SQL = """
    SELECT count(*) FILTER (WHERE window_start = $first AND window_orders > 0),
           count(*) FILTER (WHERE window_start IS DISTINCT FROM $first)
    FROM campaign_sends
    WHERE campaign_id = $campaign AND status = 'Control'
"""

# The stale sends' share of the same counts (run only when there are any).
_STALE_SQL = (
    facts.STALE_COUNTED_SQL  # noqa: S608 - constant fragments, no values
    + """
    SELECT campaign_id,
        count(*) FILTER (WHERE status IN ('Delivered', 'Failed') AND window_orders > 0)
            AS sent_converted,
        count(*) FILTER (WHERE status = 'Delivered' AND window_orders > 0)
            AS delivered_converted,
        count(*) FILTER (WHERE status = 'Delivered' AND window_orders > 0 AND clicks > 0)
            AS clicked_converted,
        count(*) FILTER (WHERE status = 'Control' AND window_orders > 0) AS control_converted,
        coalesce(sum(window_revenue) FILTER (WHERE status = 'Delivered'), 0) AS revenue
    FROM counted
    GROUP BY campaign_id
    """
)

_CAMPAIGNS_SQL = """
    SELECT id, name, channel, created_at, coalesce(subject, '') AS subject, template,
           coalesce(version, 1) AS version
    FROM campaigns
    {where}
"""
_CAMPAIGN_WHERE = {_ALL: "", _ONE: "WHERE id = $campaign"}


@dataclass(frozen=True)
class CampaignResult:
    """One campaign and what it achieved (counts of members; money in the shop's currency)."""

    id: int
    name: str
    channel: str
    created_at: datetime
    subject: str
    template: str
    version: int
    audience: int = 0
    control: int = 0
    queued: int = 0
    sending: int = 0
    delivered: int = 0
    failed: int = 0
    opened: int = 0
    clicked: int = 0
    # Sends that went out and control members whose 14-day window has started,
    # and how many of them ordered in it.
    sent_counted: int = 0
    sent_converted: int = 0
    delivered_converted: int = 0
    # Delivered members who clicked and ordered within the window (the funnel's last step).
    clicked_converted: int = 0
    control_counted: int = 0
    control_converted: int = 0
    revenue: Decimal = Decimal(0)
    # Counted from the orders at this read (not yet refreshed by a write).
    stale: int = 0
    # Windows still open at the time of the read: the figures can still grow.
    open_windows: int = 0
    first_sent: datetime | None = None
    last_sent: datetime | None = None
    control_start: datetime | None = None

    @property
    def members(self) -> int:
        return self.audience + self.control

    @property
    def sent(self) -> int:
        return self.delivered + self.failed

    @property
    def delivered_rate(self) -> float | None:
        return self.delivered / self.sent if self.sent else None

    @property
    def failed_rate(self) -> float | None:
        return self.failed / self.sent if self.sent else None

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.delivered if self.delivered else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.delivered if self.delivered else None

    @property
    def sent_conversion(self) -> float | None:
        return self.sent_converted / self.sent_counted if self.sent_counted else None

    @property
    def control_conversion(self) -> float | None:
        return self.control_converted / self.control_counted if self.control_counted else None

    @property
    def lift(self) -> Lift | None:
        return lift(
            self.sent_converted, self.sent_counted, self.control_converted, self.control_counted
        )


def _read_campaigns(con: Con, which: str, picked: dict[str, int]) -> dict[int, CampaignResult]:
    rows = (
        con.cursor().execute(_CAMPAIGNS_SQL.format(where=_CAMPAIGN_WHERE[which]), picked).fetchall()
    )
    return {
        int(r[0]): CampaignResult(
            id=int(r[0]),
            name=str(r[1]),
            channel=str(r[2]),
            created_at=r[3],
            subject=str(r[4]),
            template=str(r[5]),
            version=int(r[6]),
        )
        for r in rows
    }


def _number(value: Any) -> int:
    """A count or sum from SQL: NULL (a sum over no row) is 0."""
    return 0 if value is None else int(value)


def _add_up(
    rows: list[dict[str, Any]], now: datetime
) -> tuple[dict[int, dict[str, Any]], dict[int, datetime]]:
    """Each campaign's figures from its ``_COUNTS_SQL`` rows (see ``CampaignResult``), and
    the campaigns whose control group must be counted by ``_CONTROL_SQL`` (with the
    start of its windows)."""
    totals: dict[int, dict[str, Any]] = {}
    firsts = {
        int(row["campaign_id"]): row["first_sent"]
        for row in rows
        if row["status"] == "Delivered" and row["first_sent"] is not None
    }
    mixed: dict[int, datetime] = {}
    for row in rows:
        campaign_id, status, n = int(row["campaign_id"]), str(row["status"]), int(row["members"])
        t = totals.setdefault(
            campaign_id,
            dict.fromkeys(_COUNTED, 0)
            | {"revenue": Decimal(0), "first_sent": None, "last_sent": None, "control_start": None},
        )
        if status == "Control":
            t["control"] += n
            first = firsts.get(campaign_id)
            t["control_start"] = first
            if first is None:
                continue  # nothing delivered yet: the window has not started
            t["control_counted"] += n
            if first > now - timedelta(days=facts.WINDOW_DAYS):
                t["open_windows"] += n
            stored = _number(row["windows"]) == n and row["first_window"] == first
            if stored and row["last_window"] == first:
                t["control_converted"] += _number(row["converted"])
            else:
                mixed[campaign_id] = first
            continue
        t["audience"] += n
        t[status.lower()] = t.get(status.lower(), 0) + n
        if status not in ("Delivered", "Failed"):
            continue
        counted = _number(row["counted"])
        t["sent_counted"] += counted
        t["sent_converted"] += _number(row["sent_converted"])
        t["stale"] += counted - _number(row["fresh"])
        t["open_windows"] += _number(row["open_windows"])
        for name, pick in (("first_sent", min), ("last_sent", max)):
            moment = row[name]
            if moment is not None:
                t[name] = moment if t[name] is None else pick(t[name], moment)
        if status == "Delivered":
            t["opened"] += _number(row["opened"])
            t["clicked"] += _number(row["clicked"])
            t["delivered_converted"] += _number(row["sent_converted"])
            t["clicked_converted"] += _number(row["clicked_converted"])
            t["revenue"] += row["revenue"] or Decimal(0)
    return totals, mixed


_COUNTED = (
    "audience",
    "control",
    "queued",
    "sending",
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
    "stale",
    "open_windows",
)
_STALE_NAMES = ("sent_converted", "delivered_converted", "clicked_converted", "control_converted")


def _results(con: Con, which: str, picked: dict[str, int], now: datetime) -> list[CampaignResult]:
    """The campaigns ``which`` picks (``_ALL``, or ``_ONE`` with ``picked["campaign"]``)."""
    found = _read_campaigns(con, which, picked)
    if not found:
        return []
    cur = con.cursor()
    found_rows = cur.execute(_COUNTS_SQL.format(where=which), {**picked, "now": now})
    names = [d[0] for d in found_rows.description or ()]
    totals, mixed = _add_up([dict(zip(names, r, strict=True)) for r in found_rows.fetchall()], now)
    for campaign_id, first in mixed.items():
        row = cur.execute(_CONTROL_SQL, {"campaign": campaign_id, "first": first}).fetchone()
        assert row is not None
        totals[campaign_id]["control_converted"] += int(row[0])
        totals[campaign_id]["stale"] += int(row[1])
    if any(t["stale"] for t in totals.values()):
        stale = cur.execute(_STALE_SQL.format(where=which), picked).df()
        for extra in stale.to_dict("records"):
            t = totals.get(int(extra["campaign_id"]))
            if t is None:
                continue
            for name in _STALE_NAMES:
                t[name] += int(extra[name])
            t["revenue"] += Decimal(str(extra["revenue"]))
    for campaign_id, values in totals.items():
        if campaign_id in found:  # else sends of a campaign that no longer exists
            found[campaign_id] = replace(found[campaign_id], **values)
    return list(found.values())


def campaign_results(con: Con, now: datetime | None = None) -> list[CampaignResult]:
    """Every campaign with its results, newest first."""
    results = _results(con, _ALL, {}, now or datetime.now())
    return sorted(results, key=lambda r: (r.created_at, r.id), reverse=True)


def campaign_result(
    con: Con, campaign_id: int, now: datetime | None = None
) -> CampaignResult | None:
    """One campaign with its results; None when there is no such campaign."""
    found = _results(con, _ONE, {"campaign": campaign_id}, now or datetime.now())
    return found[0] if found else None


# --- In words -------------------------------------------------------------------------


def verdict(result: CampaignResult) -> str:
    """A few words for the list: whether the lift is told apart from zero."""
    measured = result.lift
    if measured is None:
        if result.control == 0:
            return "No control group"
        return "Not sent yet" if result.sent_counted == 0 else "Waiting for the first delivery"
    if not measured.distinguishable:
        return "Cannot tell apart from no effect"
    return "Real effect: more orders" if measured.difference > 0 else "Real effect: fewer orders"


def lift_sentence(result: CampaignResult) -> str:
    """The lift in plain words, for a marketer (plain text: no Markdown in it)."""
    measured = result.lift
    if measured is None:
        if result.control == 0:
            return (
                "There is no control group, so nobody can say what the campaign changed: "
                "hold some customers out (a control group) when you add them."
            )
        if result.sent_counted == 0:
            return "Nothing has been sent yet: the comparison starts with the first delivery."
        return "The control group is counted from the first delivery, which has not happened yet."
    sent, control = percent(measured.sent_rate), percent(measured.control_rate)
    interval = (
        f"{points(measured.difference)} points, 95\u00a0% interval "
        f"{points(measured.low)} to {points(measured.high)}"
    )
    if not measured.distinguishable:
        said = (
            f"Customers it was sent to ordered {sent} of the time against {control} in the "
            f"control group ({interval}): cannot tell apart from no effect."
        )
    elif measured.difference > 0:
        said = (
            f"Customers it was sent to ordered more: {sent} vs {control} in the control group "
            f"({interval}): a real effect."
        )
    else:
        said = (
            f"Customers it was sent to ordered less: {sent} vs {control} in the control group "
            f"({interval}): a real effect, in the wrong direction."
        )
    if result.open_windows:
        said += (
            f" {result.open_windows:,} of the {result.sent_counted + result.control_counted:,}"
            " windows are still open, so the figures can still change."
        )
    return said


# --- The list -------------------------------------------------------------------------

LIST_COLUMNS = {
    "id": "int64",
    "name": "str",
    "channel": "str",
    "created": "datetime64[us]",
    "audience": "int64",
    "control": "int64",
    "delivered_rate": "Float64",
    "failed_rate": "Float64",
    "open_rate": "Float64",
    "click_rate": "Float64",
    "sent_conversion": "Float64",
    "control_conversion": "Float64",
    "lift": "Float64",
    "interval": "str",
    "verdict": "str",
    "revenue": "float64",
}


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def results_frame(results: list[CampaignResult]) -> pd.DataFrame:
    """The Campaigns page's table: rates in percent (6.1 = 6.1 %), lift in points."""
    rows = []
    for r in results:
        measured = r.lift
        rows.append(
            {
                "id": r.id,
                "name": r.name,
                "channel": r.channel,
                "created": r.created_at,
                "audience": r.audience,
                "control": r.control,
                "delivered_rate": _pct(r.delivered_rate),
                "failed_rate": _pct(r.failed_rate),
                "open_rate": _pct(r.open_rate),
                "click_rate": _pct(r.click_rate),
                "sent_conversion": _pct(r.sent_conversion),
                "control_conversion": _pct(r.control_conversion),
                "lift": None if measured is None else measured.difference * 100,
                "interval": ""
                if measured is None
                else f"{points(measured.low)} to {points(measured.high)}",
                "verdict": verdict(r),
                "revenue": float(r.revenue),
            }
        )
    frame = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
    return frame.astype(LIST_COLUMNS)


def search(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows whose name or channel contains ``text`` (any case); all for blank text."""
    wanted = text.strip().lower()
    if not wanted:
        return frame
    hay = frame["name"].str.lower() + " " + frame["channel"].str.lower()
    return frame[hay.str.contains(wanted, regex=False)]


# --- One campaign's page --------------------------------------------------------------

FUNNEL_STEPS = ("Sent", "Delivered", "Opened", "Clicked", "Ordered")


def funnel(result: CampaignResult) -> pd.DataFrame:
    """Sent → delivered → opened → clicked → ordered (members who clicked and ordered
    within 14 days, so each step is part of the one before), with each step's share of
    the sent."""
    counts = [
        result.sent,
        result.delivered,
        result.opened,
        result.clicked,
        result.clicked_converted,
    ]
    shares = [c / result.sent if result.sent else None for c in counts]
    return pd.DataFrame({"step": list(FUNNEL_STEPS), "members": counts, "share": shares})


def conversion_groups(result: CampaignResult) -> pd.DataFrame:
    """Each group's conversion with its 95 % Wilson interval, in percent, for the lift chart."""
    rows = []
    for group, converted, counted in (
        ("Sent", result.sent_converted, result.sent_counted),
        ("Control", result.control_converted, result.control_counted),
    ):
        if counted:
            low, high = wilson(converted, counted)
            rows.append(
                {
                    "group": group,
                    "members": counted,
                    "ordered": converted,
                    "conversion": converted / counted * 100,
                    "low": low * 100,
                    "high": high * 100,
                }
            )
    return pd.DataFrame(rows, columns=["group", "members", "ordered", "conversion", "low", "high"])


_ENGAGEMENT_SQL = """
    SELECT day, sum(opened) AS opened, sum(clicked) AS clicked
    FROM (
        SELECT CAST(opened_at AS DATE) AS day, 1 AS opened, 0 AS clicked
        FROM campaign_sends
        WHERE campaign_id = $campaign AND opened_at IS NOT NULL
        UNION ALL
        SELECT CAST(clicked_at AS DATE), 0, 1
        FROM campaign_sends
        WHERE campaign_id = $campaign AND clicked_at IS NOT NULL
    )
    GROUP BY day
    ORDER BY day
"""


def engagement_by_day(con: Con, campaign_id: int) -> pd.DataFrame:
    """First opens and first clicks per day (members who opened or clicked that day)."""
    frame = con.cursor().execute(_ENGAGEMENT_SQL, {"campaign": campaign_id}).df()
    frame = frame.astype({"opened": "int64", "clicked": "int64"})
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


MEMBER_STATUSES = ("Queued", "Sending", "Delivered", "Failed", "Control")
STATUS_LABELS = {
    "Queued": "Queued",
    "Sending": "Sending…",
    "Delivered": "Delivered",
    "Failed": "Failed",
    "Control": "Held out (control group)",
}

# One page of members: the page of sends first (by the campaign's row groups),
# then only those customers' names (a join after the LIMIT: joining all of a
# big campaign's sends with the customers before it took ~10x longer).
_MEMBERS_SQL = """
    WITH page AS (
        SELECT id, customer_id, status, sent_at, opens, clicks, failure_reason,
               window_start, window_orders, window_revenue
        FROM campaign_sends
        WHERE campaign_id = $campaign AND ($status IS NULL OR status = $status)
        ORDER BY id
        LIMIT $limit OFFSET $offset
    )
    SELECT p.customer_id, c.first_name || ' ' || c.last_name AS name, c.email, p.status,
           p.sent_at, p.opens, p.clicks,
           CASE WHEN p.window_start IS NULL THEN NULL ELSE p.window_orders > 0 END AS ordered,
           p.window_revenue AS revenue, coalesce(p.failure_reason, '') AS failure_reason
    FROM page p
    LEFT JOIN customers c ON c.id = p.customer_id
    ORDER BY p.id
"""
_MEMBER_COUNT_SQL = """
    SELECT count(*) FROM campaign_sends
    WHERE campaign_id = $campaign AND ($status IS NULL OR status = $status)
"""

MEMBER_COLUMNS = {
    "customer_id": "int64",
    "name": "str",
    "email": "str",
    "status": "str",
    "sent_at": "datetime64[us]",
    "opens": "int64",
    "clicks": "int64",
    "ordered": "boolean",
    "revenue": "float64",
    "failure_reason": "str",
}


@dataclass(frozen=True)
class MemberPage:
    rows: pd.DataFrame
    total: int
    page: int
    pages: int


def members(
    con: Con, campaign_id: int, page: int = 1, page_size: int = 50, status: str | None = None
) -> MemberPage:
    """One page of the campaign's members, in the order they were added; ``page`` is
    clamped to the last one. ``status`` (one of ``MEMBER_STATUSES``) narrows them.

    ``ordered`` is whether they ordered within 14 days of their window's start as last
    stored (None: not counted yet); the page's figures are the exact ones."""
    if status is not None and status not in MEMBER_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    cur = con.cursor()
    params: dict[str, Any] = {"campaign": campaign_id, "status": status}
    row = cur.execute(_MEMBER_COUNT_SQL, params).fetchone()
    total = int(row[0]) if row else 0
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    frame = cur.execute(
        _MEMBERS_SQL, {**params, "limit": page_size, "offset": (page - 1) * page_size}
    ).df()
    frame["status"] = frame["status"].map(STATUS_LABELS).fillna(frame["status"])
    frame["revenue"] = frame["revenue"].astype("float64")
    frame = frame.astype({k: v for k, v in MEMBER_COLUMNS.items() if k != "revenue"})
    return MemberPage(frame, total, page, pages)


# --- The merge-field check ------------------------------------------------------------

# Which members lack the value a merge field needs (they get its fallback),
# per field label of crm.templates.FIELDS. Fields every customer has (names,
# email, figures) are not listed.
_MISSING_SQL = """
    SELECT
        count(*) FILTER (WHERE trim(c.city) = '') AS city,
        count(*) FILTER (WHERE trim(c.country) = '') AS country,
        count(*) FILTER (WHERE c.last_visit IS NULL) AS last_visit,
        count(*) FILTER (WHERE trim(c.last_name) = '') AS last_name,
        count(*) AS members
    FROM customers c
    WHERE c.id IN (
        SELECT customer_id FROM campaign_sends
        WHERE campaign_id = $campaign AND status = 'Queued'
    )
"""
# (column above, what the members lack, said of one member, said of several)
_MISSING_FIELDS = {
    "City": ("city", "has no city", "have no city"),
    "Country": ("country", "has no country", "have no country"),
    "Last Visit": ("last_visit", "has never visited", "have never visited"),
    "Last Name": ("last_name", "has no last name", "have no last name"),
}


@dataclass(frozen=True)
class MergeCheck:
    """What the queued members will get: the template's problems, and per field how
    many queued members lack the value (they get the fallback)."""

    queued: int
    problems: tuple[str, ...]
    missing: tuple[tuple[str, int, str], ...]  # (field label, members, sentence)


def merge_check(con: Con, campaign: CampaignResult) -> MergeCheck:
    """Check the campaign's subject and template, and count the queued members who lack
    a value they merge ("312 members have no city: they will get the fallback …")."""
    problems: list[str] = []
    fallbacks: dict[str, str] = {}
    for text, field in ((campaign.subject, "subject"), (campaign.template, "body")):
        if field == "subject" and not text.strip():
            continue  # no subject: the email goes without one (SMS and Push have none)
        found = templates.problems(text, field=field)
        problems.extend(found)
        for label, phrase in templates.fallbacks_used(text).items():
            fallbacks.setdefault(label, phrase)
    wanted = [label for label in _MISSING_FIELDS if label in fallbacks]
    if not wanted or campaign.queued == 0:
        return MergeCheck(campaign.queued, tuple(problems), ())
    row = con.cursor().execute(_MISSING_SQL, {"campaign": campaign.id}).fetchone()
    assert row is not None
    counts = dict(zip(("city", "country", "last_visit", "last_name", "members"), row, strict=True))
    missing = []
    for label in wanted:
        column, one, several = _MISSING_FIELDS[label]
        count = int(counts[column])
        if count:
            who = f"1 member {one}" if count == 1 else f"{count:,} members {several}"
            phrase = fallbacks[label]
            gets = f"the fallback “{phrase}”" if phrase else "nothing in its place"
            missing.append((label, count, f"{who}: they will get {gets} for [{label}]."))
    return MergeCheck(int(counts["members"]), tuple(problems), tuple(missing))
