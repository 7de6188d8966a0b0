"""Adding a whole segment to a campaign: numbers checked against the raw tables."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm import checks, db, writes
from crm.campaigns import audience
from crm.campaigns.audience import NothingToAdd, SegmentChanged
from crm.errors import ValidationFailed
from crm.models import CampaignCreate, Channel, CustomerFilter

# A third subscribed to email, a third unsubscribed, a third not asked; SMS by parity.
CONSENT_SQL = """
    UPDATE customers SET
        email_consent = CASE id % 3 WHEN 0 THEN 'Unsubscribed' WHEN 1 THEN 'Subscribed'
                                    ELSE 'Not asked' END,
        sms_consent = CASE WHEN id % 2 = 0 THEN 'Subscribed' ELSE 'Unsubscribed' END
"""
SEGMENT = CustomerFilter(min_spending=200.0)


@pytest.fixture
def con(db_path: Path) -> duckdb.DuckDBPyConnection:
    connection = db.connect(db_path)
    connection.execute(CONSENT_SQL)
    return connection


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> pd.DataFrame:
    return con.execute(sql, params).df()


def _brute_force(
    con: duckdb.DuckDBPyConnection, campaign_id: int | None, channel: Channel, share: Decimal
) -> dict[str, object]:
    """The numbers from the raw rows, in pandas: the segment is spending >= 200."""
    people = _frame(
        con, "SELECT id, total_spending, phone, email_consent, sms_consent FROM customers"
    )
    segment = people[people["total_spending"].astype(float) >= 200.0]
    members = set(
        _frame(con, "SELECT customer_id FROM campaign_sends WHERE campaign_id = ?", [campaign_id])[
            "customer_id"
        ]
    )
    already = segment[segment["id"].isin(members)]
    rest = segment[~segment["id"].isin(members)]
    if channel is Channel.EMAIL:
        ok = rest["email_consent"] == "Subscribed"
    elif channel is Channel.SMS:
        ok = (rest["sms_consent"] == "Subscribed") & (rest["phone"] != "")
    else:
        ok = pd.Series(True, index=rest.index)
    eligible = set(rest[ok]["id"])
    control = int((len(eligible) * share + Decimal("0.5")) // 1)
    return {
        "in_segment": len(segment),
        "already_in": len(already),
        "no_consent": int((~ok).sum()),
        "eligible": eligible,
        "control": control,
        "queued": len(eligible) - control,
    }


def _campaign(con: duckdb.DuckDBPyConnection, channel: str) -> int:
    """A campaign of ``channel`` the seed made, with members already in it."""
    row = con.execute(
        "SELECT c.id FROM campaigns c JOIN campaign_sends s ON s.campaign_id = c.id"
        " WHERE c.channel = ? GROUP BY c.id ORDER BY count(*) DESC LIMIT 1",
        [channel],
    ).fetchone()
    assert row is not None
    return int(row[0])


def _sends(con: duckdb.DuckDBPyConnection, addition_id: int) -> pd.DataFrame:
    return _frame(
        con,
        "SELECT customer_id, status, sent_at FROM campaign_sends WHERE addition_id = ?",
        [addition_id],
    )


@pytest.mark.parametrize("channel", ["Email", "SMS", "Push"])
def test_preview_counts_the_raw_tables(con: duckdb.DuckDBPyConnection, channel: str) -> None:
    campaign_id = _campaign(con, channel)
    share = Decimal("0.150")
    shown = audience.preview(con, SEGMENT, campaign_id=campaign_id, control_share=share)
    expected = _brute_force(con, campaign_id, Channel(channel), share)
    assert shown.in_segment == expected["in_segment"]
    assert shown.already_in == expected["already_in"] > 0
    assert shown.no_consent == expected["no_consent"]
    assert (shown.control, shown.queued) == (expected["control"], expected["queued"])
    if channel == "Push":
        assert shown.no_consent == 0
    else:
        assert shown.no_consent > 0


def test_what_is_written_is_what_was_shown(con: duckdb.DuckDBPyConnection) -> None:
    campaign_id = _campaign(con, "Email")
    before = _frame(con, "SELECT * FROM campaign_sends WHERE campaign_id = ?", [campaign_id])
    shown = audience.preview(con, SEGMENT, campaign_id=campaign_id)
    expected = _brute_force(con, campaign_id, Channel.EMAIL, Decimal("0.1"))
    added = audience.add_segment(
        con, SEGMENT, campaign=campaign_id, expected=shown, seed=1234, by="ana@example.com"
    )
    assert added.preview.numbers() == shown.numbers()
    sends = _sends(con, added.id)
    assert set(sends["customer_id"]) == expected["eligible"]
    assert (sends["status"] == "Control").sum() == shown.control == expected["control"] > 0
    assert (sends["status"] == "Queued").sum() == shown.queued
    assert sends["sent_at"].isna().all()
    # The control members' 14-day window starts at the campaign's first delivery.
    windows = con.execute(
        "SELECT DISTINCT window_start FROM campaign_sends WHERE addition_id = ? AND status = ?",
        [added.id, "Control"],
    ).fetchall()
    first = con.execute(
        "SELECT min(sent_at) FROM campaign_sends WHERE campaign_id = ? AND status = 'Delivered'",
        [campaign_id],
    ).fetchall()
    assert windows == first
    # Nobody without consent, and the members already in keep their rows untouched.
    consent = dict(con.execute("SELECT id, email_consent FROM customers").fetchall())
    assert {consent[c] for c in sends["customer_id"]} == {"Subscribed"}
    after = _frame(
        con,
        "SELECT * FROM campaign_sends WHERE campaign_id = ? AND addition_id IS NULL",
        [campaign_id],
    )
    pd.testing.assert_frame_equal(
        before.sort_values("id").reset_index(drop=True),
        after.sort_values("id").reset_index(drop=True),
    )
    recorded = con.execute(
        "SELECT campaign_id, added_by, seed, control_share, in_segment, skipped_member,"
        " skipped_consent, control, queued, filters FROM campaign_additions WHERE id = ?",
        [added.id],
    ).fetchone()
    assert recorded == (
        campaign_id,
        "ana@example.com",
        1234,
        Decimal("0.100"),
        shown.in_segment,
        shown.already_in,
        shown.no_consent,
        shown.control,
        shown.queued,
        '{"spend_min":"200"}',
    )


def test_control_is_never_queued_and_facts_stay(con: duckdb.DuckDBPyConnection) -> None:
    facts_sql = (
        "SELECT id, delivered_sends, opened_sends, last_engaged_at FROM customers ORDER BY id"
    )
    facts_before = con.execute(facts_sql).fetchall()
    added = audience.add_segment(
        con, SEGMENT, campaign=_campaign(con, "Push"), control_share=Decimal("0.5"), seed=9
    )
    sends = _sends(con, added.id)
    control = set(sends.loc[sends["status"] == "Control", "customer_id"])
    queued = set(sends.loc[sends["status"] == "Queued", "customer_id"])
    assert control and queued and not control & queued
    assert len(control) == audience.control_count(len(sends), Decimal("0.5"))
    # Queued and control rows change no per-customer figure (only Delivered counts).
    assert con.execute(facts_sql).fetchall() == facts_before
    assert checks.database_problems(con) == []


def test_a_double_click_adds_nobody_twice(con: duckdb.DuckDBPyConnection) -> None:
    campaign_id = _campaign(con, "Push")
    first = audience.add_segment(con, SEGMENT, campaign=campaign_id, seed=77)
    count = con.execute("SELECT count(*) FROM campaign_sends").fetchone()
    again = audience.add_segment(con, SEGMENT, campaign=campaign_id, seed=77)
    assert again.repeated and again.id == first.id
    assert again.preview.numbers() == first.preview.numbers()
    assert con.execute("SELECT count(*) FROM campaign_sends").fetchone() == count
    # Another confirmation (another seed) finds everyone already in: nothing is written.
    with pytest.raises(NothingToAdd, match="already in the campaign"):
        audience.add_segment(con, SEGMENT, campaign=campaign_id, seed=78)
    assert con.execute("SELECT count(*) FROM campaign_additions").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM campaign_sends").fetchone() == count


def test_a_new_campaign_is_created_once(con: duckdb.DuckDBPyConnection) -> None:
    new = CampaignCreate(
        name="Winback", channel=Channel.SMS, template="Hi [First Name]!", subject=""
    )
    shown = audience.preview(con, SEGMENT, channel=Channel.SMS)
    first = audience.add_segment(con, SEGMENT, campaign=new, expected=shown, seed=5)
    again = audience.add_segment(con, SEGMENT, campaign=new, expected=shown, seed=5)
    assert again.repeated and again.campaign_id == first.campaign_id
    rows = con.execute(
        "SELECT id, template FROM campaigns WHERE name = 'Winback' AND channel = 'SMS'"
    ).fetchall()
    assert rows == [(first.campaign_id, "Hi [First Name]!")]
    expected = _brute_force(con, None, Channel.SMS, Decimal("0.1"))
    assert set(_sends(con, first.id)["customer_id"]) == expected["eligible"]
    # SMS needs a phone: every one added has one and subscribed.
    phones = dict(con.execute("SELECT id, phone FROM customers").fetchall())
    assert all(phones[c] for c in expected["eligible"])  # type: ignore[attr-defined]


def test_a_taken_name_creates_nothing(con: duckdb.DuckDBPyConnection) -> None:
    name, channel = con.execute("SELECT name, channel FROM campaigns LIMIT 1").fetchone() or (
        "",
        "",
    )
    before = con.execute("SELECT count(*) FROM campaign_sends").fetchone()
    with pytest.raises(ValidationFailed, match="already an"):
        audience.add_segment(
            con, SEGMENT, campaign=CampaignCreate(name=name.upper(), channel=Channel(channel))
        )
    assert con.execute("SELECT count(*) FROM campaign_sends").fetchone() == before
    assert con.execute("SELECT count(*) FROM campaign_additions").fetchone() == (0,)


@pytest.mark.parametrize("share", [Decimal("0.6"), Decimal("-0.1"), Decimal("0.1234")])
def test_a_bad_control_share_is_refused(con: duckdb.DuckDBPyConnection, share: Decimal) -> None:
    with pytest.raises(ValidationFailed, match="Control group"):
        audience.add_segment(con, SEGMENT, campaign=_campaign(con, "Push"), control_share=share)
    assert con.execute("SELECT count(*) FROM campaign_additions").fetchone() == (0,)


def _control(path: Path, seed: int) -> set[int]:
    con = db.connect(path)
    try:
        con.execute(CONSENT_SQL)
        added = audience.add_segment(
            con, SEGMENT, campaign=CampaignCreate(name="Draw", channel=Channel.PUSH), seed=seed
        )
        assert con.execute(
            "SELECT seed FROM campaign_additions WHERE id = ?", [added.id]
        ).fetchone() == (seed,)
        sends = _sends(con, added.id)
        return set(sends.loc[sends["status"] == "Control", "customer_id"])
    finally:
        con.close()


def test_the_seed_repeats_the_draw(seeded_template: Path, tmp_path: Path) -> None:
    copies = []
    for n in range(3):
        copies.append(tmp_path / f"copy{n}.duckdb")
        shutil.copyfile(seeded_template, copies[-1])
    first, same, other = _control(copies[0], 42), _control(copies[1], 42), _control(copies[2], 43)
    assert len(first) > 5
    assert first == same
    assert first != other and len(other) == len(first)


def test_a_changed_segment_is_refused_with_the_new_numbers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    campaign_id = _campaign(con, "Email")
    shown = audience.preview(con, SEGMENT, campaign_id=campaign_id)
    # Meanwhile one of them unsubscribes, and another is added by hand.
    subscribed = con.execute(
        "SELECT id FROM customers WHERE total_spending >= 200 AND email_consent = 'Subscribed'"
        " AND id NOT IN (SELECT customer_id FROM campaign_sends WHERE campaign_id = ?)"
        " ORDER BY id LIMIT 2",
        [campaign_id],
    ).fetchall()
    con.execute(
        "UPDATE customers SET email_consent = 'Unsubscribed' WHERE id = ?", [subscribed[0][0]]
    )
    writes.add_to_campaign(con, campaign_id, subscribed[1][0])
    before = con.execute("SELECT count(*) FROM campaign_sends").fetchone()
    with pytest.raises(SegmentChanged) as refused:
        audience.add_segment(con, SEGMENT, campaign=campaign_id, expected=shown)
    assert con.execute("SELECT count(*) FROM campaign_sends").fetchone() == before
    assert con.execute("SELECT count(*) FROM campaign_additions").fetchone() == (0,)
    now = refused.value.current
    assert now.numbers() == audience.preview(con, SEGMENT, campaign_id=campaign_id).numbers()
    assert (now.already_in, now.no_consent) == (shown.already_in + 1, shown.no_consent + 1)
    assert "already in the campaign" in str(refused.value) and "(was " in str(refused.value)
    # Confirmed again with the new numbers, it goes through.
    added = audience.add_segment(con, SEGMENT, campaign=campaign_id, expected=now)
    assert len(_sends(con, added.id)) == now.eligible


def test_an_empty_segment_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    nobody = CustomerFilter(search="no such customer anywhere")
    shown = audience.preview(con, nobody, channel=Channel.EMAIL)
    assert shown.numbers() == (0, 0, 0, 0, 0)
    assert audience.describe(shown) == ["Nobody is in this segment: there is no one to add."]
    with pytest.raises(NothingToAdd):
        audience.add_segment(
            con, nobody, campaign=CampaignCreate(name="Empty", channel=Channel.EMAIL)
        )
    assert con.execute("SELECT count(*) FROM campaigns WHERE name = 'Empty'").fetchone() == (0,)


def test_the_numbers_in_words() -> None:
    shown = audience.AudiencePreview(
        campaign_id=1,
        channel=Channel.EMAIL,
        control_share=Decimal("0.125"),
        in_segment=1204,
        already_in=12,
        no_consent=300,
        control=112,
        queued=780,
        now=pd.Timestamp("2026-01-01").to_pydatetime(),
    )
    assert audience.describe(shown) == [
        "1,204 customers in the segment.",
        "12 already in the campaign: skipped.",
        "300 not subscribed to email: skipped.",
        "112 held out at random as the control group (12.5\u00a0%): never sent anything.",
        "780 queued to be sent.",
    ]
    assert audience.control_count(892, Decimal("0.125")) == 112  # 111.5 rounds up
    assert audience.share_of(10) == Decimal("0.100")
