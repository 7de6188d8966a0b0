"""Saved segments in the app (AppTest): Save segment on the overview, ``?segment=``
links, and the Segments page's rename, update, duplicate and delete.

Dialogs are driven through their widgets after the button that opens them;
expected counts are counted in the test with plain SQL over the customers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import formatting, queries, saved_segments, writes
from crm.models import SegmentCreate

ROOT = Path(__file__).resolve().parent.parent

Con = duckdb.DuckDBPyConnection


@pytest.fixture
def at(app_env: Path) -> AppTest:
    return AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def toasts(app: AppTest) -> list[str]:
    return [t.value for t in app.toast]


def markdown_texts(app: AppTest) -> list[str]:
    return [str(m.value) for m in [*app.markdown, *app.caption]]


def summary(app: AppTest) -> str:
    return next(m.value for m in app.markdown if " of " in m.value and "spent" in m.value)


def stored(con: Con) -> list[tuple[Any, ...]]:
    return con.execute("SELECT id, name, description, filters, version FROM segments").fetchall()


def spending_quantile(con: Con, q: float) -> int:
    row = con.execute(
        "SELECT CAST(floor(quantile_cont(total_spending, $q)) AS INTEGER) FROM customers",
        {"q": q},
    ).fetchone()
    assert row is not None
    return int(row[0])


def count_where(con: Con, spend_min: float, visits_min: int) -> int:
    row = con.execute(
        "SELECT count(*) FROM customers WHERE total_spending >= $s AND visit_count >= $v",
        {"s": spend_min, "v": visits_min},
    ).fetchone()
    assert row is not None
    return int(row[0])


def create(con: Con, name: str, filters: dict[str, str], description: str = "") -> int:
    return writes.create_segment(
        con, SegmentCreate(name=name, description=description, filters=filters)
    )


def open_save_dialog(app: AppTest) -> None:
    app.button(key="save_segment").click()
    run(app)
    assert dialog_buttons(app) >= {"dialog_save", "dialog_cancel"}


def dialog_buttons(app: AppTest) -> set[str]:
    return {str(b.key) for b in app.button if b.key and b.key.startswith("dialog_")}


def fill_name(app: AppTest, name: str, description: str | None = None) -> None:
    next(t for t in app.text_input if t.label == "Name").input(name)
    if description is not None:
        next(t for t in app.text_area if t.label == "Description (optional)").input(description)


def segments_page(app: AppTest) -> AppTest:
    app.switch_page("app_pages/Segments.py")
    app.query_params.clear()
    return run(app)


# --- Save segment on the overview -------------------------------------------------------


def test_no_save_button_for_everyone(at: AppTest) -> None:
    run(at)
    assert not [b for b in at.button if b.key == "save_segment"]


def test_save_stores_the_filters_shown_with_an_escaped_toast(at: AppTest, con: Con) -> None:
    low = spending_quantile(con, 0.5)
    at.query_params.update({"spend_min": str(low), "visits_min": "2", "sort": "name"})
    run(at)
    shown = dict(at.query_params)
    open_save_dialog(at)
    name = "Big *spenders* [x](http://e.com)"
    fill_name(at, name, "Half of everyone, by spending")
    at.button(key="dialog_save").click()
    run(at)
    assert "dialog_save" not in dialog_buttons(at)
    assert toasts(at) == [f"Saved segment {formatting.escape_markdown(name)}"]
    ((_, saved_name, description, filters, version),) = stored(con)
    assert (saved_name, description, version) == (name, "Half of everyone, by spending", 1)
    # The filters are those of the URL the overview showed (the page left out).
    shown.pop("page", None)
    assert saved_segments.decode_filters(filters) == shown
    assert shown == {"spend_min": str(low), "visits_min": "2", "sort": "name"}
    # The overview says which saved segment is open, as typed.
    assert f"Saved segment: **{formatting.escape_markdown(name)}**" in " ".join(markdown_texts(at))


def test_a_name_in_use_in_another_case_is_refused_in_words(at: AppTest, con: Con) -> None:
    create(con, "Lapsed VIPs", {"visits_min": "3"})
    at.query_params.update({"visits_min": "1"})
    run(at)
    open_save_dialog(at)
    fill_name(at, "lapsed vips")
    at.button(key="dialog_save").click()
    run(at)
    errors = " ".join(e.value for e in at.error)
    assert "Nothing was saved" in errors
    assert "There is already a segment called “Lapsed VIPs”" in errors
    assert "dialog_save" in dialog_buttons(at)  # still open, the name still typed
    assert next(t for t in at.text_input if t.label == "Name").value == "lapsed vips"
    assert [row[1] for row in stored(con)] == ["Lapsed VIPs"]
    assert toasts(at) == []


def test_an_empty_name_is_refused_and_nothing_written(at: AppTest, con: Con) -> None:
    at.query_params.update({"visits_min": "1"})
    run(at)
    open_save_dialog(at)
    fill_name(at, "   ")
    at.button(key="dialog_save").click()
    run(at)
    assert "Name is required" in " ".join(e.value for e in at.error)
    assert stored(con) == []


# --- Opening ?segment= --------------------------------------------------------------------


def test_a_link_applies_the_saved_filters_afresh(at: AppTest, con: Con) -> None:
    low = spending_quantile(con, 0.3)
    name = "Lapsed *coffee* buyers"
    segment_id = create(con, name, {"spend_min": str(low), "visits_min": "2"})
    at.query_params["segment"] = str(segment_id)
    run(at)
    # The link became the filters, so the URL is the segment and stays live.
    assert "segment" not in at.query_params
    assert at.query_params["spend_min"] == str(low) and at.query_params["visits_min"] == "2"
    assert at.slider(key="seg_visits").value[0] == 2
    expected = count_where(con, low, 2)
    segment = saved_segments.get_segment(con, segment_id)
    assert segment is not None
    page = queries.customer_page(con, saved_segments.segment_filter(segment))
    assert page.totals.customers == expected
    assert summary(at).startswith(f"**{expected:,}** of")
    captions = " ".join(markdown_texts(at))
    assert f"Saved segment: **{formatting.escape_markdown(name)}**" in captions
    # Nothing changed, so nothing to save again or update.
    assert not [b for b in at.button if b.key in ("save_segment", "update_open_segment")]


def test_a_link_replaces_the_segment_the_session_had(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Two visits", {"visits_min": "2"})
    at.query_params.update({"q": "a", "spend_min": "10"})
    run(at)
    at.query_params.clear()
    at.query_params["segment"] = str(segment_id)
    run(at)
    assert dict(at.query_params) == {"visits_min": "2"}
    assert summary(at).startswith(f"**{count_where(con, 0, 2):,}** of")


@pytest.mark.parametrize("raw", ["999999", "abc", "deleted"])
def test_an_unknown_or_deleted_segment_says_so_over_everyone(
    at: AppTest, con: Con, raw: str
) -> None:
    if raw == "deleted":
        segment_id = create(con, "Gone soon", {"visits_min": "2"})
        writes.delete_segment(con, segment_id, 1)
        raw = str(segment_id)
    # The session had a segment: the message shows everyone behind it, not that one
    # (coming from another page, where a bare URL would bring that one back).
    at.query_params.update({"visits_min": "3"})
    run(at)
    segments_page(at)
    at.switch_page("app_pages/Customers.py")
    at.query_params["segment"] = raw
    run(at)
    warning = " ".join(w.value for w in at.warning)
    if raw.isdigit():
        assert f"There is no segment number {raw}" in warning
    else:
        assert "“abc” is not a segment number" in warning
    assert "Showing all customers" in warning
    everyone = queries.count_all_customers(con)
    assert summary(at).startswith(f"**{everyone:,}** of {everyone:,}")
    assert dict(at.query_params) == {}


def test_a_link_with_markdown_in_it_is_quoted_as_typed(at: AppTest) -> None:
    at.query_params["segment"] = "*x*"
    run(at)
    warning = " ".join(w.value for w in at.warning)
    assert f"“{formatting.escape_markdown('*x*')}” is not a segment number" in warning


def test_changed_filters_of_an_open_segment_can_update_it(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Regulars", {"visits_min": "2"})
    at.query_params["segment"] = str(segment_id)
    run(at)
    at.slider(key="seg_visits").set_range(3, at.slider(key="seg_visits").value[1])
    run(at)
    assert "(filters changed)" in " ".join(markdown_texts(at))
    at.button(key="update_open_segment").click()
    run(at)
    segment = saved_segments.get_segment(con, segment_id)
    assert segment is not None
    assert segment.filters == {"visits_min": "3"} and segment.version == 2
    assert toasts(at) == ["Updated Regulars"]
    assert "(filters changed)" not in " ".join(markdown_texts(at))


# --- The Segments page ----------------------------------------------------------------------


def test_the_segments_page_invites_to_save_one_when_there_are_none(at: AppTest) -> None:
    run(at)
    segments_page(at)
    assert "**No saved segments yet**" in markdown_texts(at)


def test_the_segments_page_lists_each_with_its_live_count_and_share(at: AppTest, con: Con) -> None:
    low = spending_quantile(con, 0.8)
    first = create(con, "Top *fifth*", {"spend_min": str(low)}, "Our best, by spending")
    second = create(con, "alpha", {"visits_min": "2"})
    run(at)
    segments_page(at)
    texts = markdown_texts(at)
    names = [
        t for t in texts if t in ("**alpha**", f"**{formatting.escape_markdown('Top *fifth*')}**")
    ]
    assert names == ["**alpha**", "**Top \\*fifth\\***"]  # by name, in any case
    assert "Our best, by spending" in texts
    everyone = queries.count_all_customers(con)
    for segment_id, expected in (
        (first, count_where(con, low, 0)),
        (second, count_where(con, 0, 2)),
    ):
        share = 100 * expected / everyone
        words = formatting.escape_markdown(f"customers · {share:.1f}\u00a0% of all")
        assert f"**{expected:,}** {words}" in texts, segment_id
    assert len([t for t in texts if t.startswith("Changed ")]) == 2


def test_rename_from_the_segments_page(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Old name", {"visits_min": "2"}, "kept")
    create(con, "Taken", {"visits_min": "3"})
    run(at)
    segments_page(at)
    at.button(key=f"rename_segment_{segment_id}").click()
    run(at)
    assert next(t for t in at.text_input if t.label == "Name").value == "Old name"
    fill_name(at, "TAKEN")
    at.button(key="dialog_save").click()
    run(at)
    assert "There is already a segment called “Taken”" in " ".join(e.value for e in at.error)
    fill_name(at, "New _name_")
    at.button(key="dialog_save").click()
    run(at)
    segment = saved_segments.get_segment(con, segment_id)
    assert segment is not None
    assert (segment.name, segment.description, segment.version) == ("New _name_", "kept", 2)
    assert toasts(at) == [f"Renamed to {formatting.escape_markdown('New _name_')}"]
    assert f"**{formatting.escape_markdown('New _name_')}**" in markdown_texts(at)


def test_rename_of_a_segment_changed_meanwhile_is_refused(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Mine", {"visits_min": "2"})
    run(at)
    segments_page(at)
    at.button(key=f"rename_segment_{segment_id}").click()
    run(at)
    writes.delete_segment(con, segment_id, 1)  # someone else, meanwhile
    fill_name(at, "Yours")
    at.button(key="dialog_save").click()
    run(at)
    assert "no longer exists" in " ".join(w.value for w in at.warning)
    assert stored(con) == []


def test_update_to_the_overviews_current_filters(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Regulars", {"visits_min": "2"})
    run(at)
    segments_page(at)
    # Nothing on the overview filtered yet: nothing to update to.
    assert at.button(key=f"update_segment_{segment_id}").disabled
    at.switch_page("app_pages/Customers.py")
    at.query_params.clear()
    at.query_params.update({"visits_min": "4", "sort": "visits"})
    run(at)
    segments_page(at)
    at.button(key=f"update_segment_{segment_id}").click()
    run(at)
    expected = count_where(con, 0, 4)
    asked = " ".join(markdown_texts(at))
    assert f"hold the {formatting.plural(expected, 'customer')}" in asked
    at.button(key="dialog_save").click()
    run(at)
    segment = saved_segments.get_segment(con, segment_id)
    assert segment is not None
    assert segment.filters == {"visits_min": "4", "sort": "visits"}
    assert toasts(at) == ["Updated Regulars"]
    # It now has the overview's filters: nothing left to update.
    assert at.button(key=f"update_segment_{segment_id}").disabled


def test_duplicate_from_the_segments_page(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Regulars", {"visits_min": "2"}, "d")
    run(at)
    segments_page(at)
    at.button(key=f"duplicate_segment_{segment_id}").click()
    run(at)
    rows = sorted(stored(con))
    assert [(r[1], r[2], saved_segments.decode_filters(r[3])) for r in rows] == [
        ("Regulars", "d", {"visits_min": "2"}),
        ("Regulars (copy)", "d", {"visits_min": "2"}),
    ]
    copy = formatting.escape_markdown("Regulars (copy)")
    assert toasts(at) == [f"Duplicated Regulars as {copy}"]
    assert f"**{copy}**" in markdown_texts(at)


def test_delete_asks_first_and_can_be_cancelled(at: AppTest, con: Con) -> None:
    segment_id = create(con, "Doomed *one*", {"visits_min": "2"})
    run(at)
    segments_page(at)
    at.button(key=f"delete_segment_{segment_id}").click()
    run(at)
    question = " ".join(markdown_texts(at))
    assert f"Delete the saved segment **{formatting.escape_markdown('Doomed *one*')}**?" in question
    assert len(stored(con)) == 1  # asked, nothing deleted yet
    at.button(key="dialog_cancel").click()
    run(at)
    assert "dialog_confirm_delete" not in dialog_buttons(at)
    assert len(stored(con)) == 1
    at.button(key=f"delete_segment_{segment_id}").click()
    run(at)
    at.button(key="dialog_confirm_delete").click()
    run(at)
    assert stored(con) == []
    assert toasts(at) == [f"Deleted {formatting.escape_markdown('Doomed *one*')}"]
    assert "**No saved segments yet**" in markdown_texts(at)


def test_open_from_the_segments_page_after_another_segment(at: AppTest, con: Con) -> None:
    low = spending_quantile(con, 0.6)
    segment_id = create(con, "Spenders", {"spend_min": str(low)})
    at.query_params.update({"visits_min": "3", "sort": "name"})
    run(at)
    segments_page(at)
    # What the page's "Open" link does: the overview with ?segment=<id>.
    at.switch_page("app_pages/Customers.py")
    at.query_params["segment"] = str(segment_id)
    run(at)
    assert dict(at.query_params) == {"spend_min": str(low)}
    assert summary(at).startswith(f"**{count_where(con, low, 0):,}** of")


def test_a_segment_the_overview_clamps_to_the_data_is_not_changed(at: AppTest, con: Con) -> None:
    """A maximum above everyone's spending is shown as no maximum: not a change by the user."""
    segment_id = create(con, "Everyone over 10", {"spend_min": "10", "spend_max": "999999999"})
    at.query_params["segment"] = str(segment_id)
    run(at)
    assert at.query_params["spend_min"] == "10"
    captions = " ".join(markdown_texts(at))
    assert "Saved segment: **Everyone over 10**" in captions
    assert "(filters changed)" not in captions
    assert not [b for b in at.button if b.key in ("save_segment", "update_open_segment")]


def test_list_filters_are_saved_and_opened_as_repeated_parameters(at: AppTest, con: Con) -> None:
    """The segment builder's lists (?country=Italy&country=Spain) survive a save and an open."""
    countries = [
        str(r[0])
        for r in con.execute(
            "SELECT country FROM customers GROUP BY country ORDER BY count(*) DESC LIMIT 2"
        ).fetchall()
    ]
    at.query_params["country"] = countries
    at.query_params["visits_min"] = "1"
    run(at)
    assert at.query_params["country"] == countries
    open_save_dialog(at)
    fill_name(at, "Two countries")
    at.button(key="dialog_save").click()
    run(at)
    ((segment_id, _, _, filters, _),) = stored(con)
    assert saved_segments.decode_filters(filters) == {"country": countries, "visits_min": "1"}

    fresh = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    fresh.query_params["segment"] = str(segment_id)
    run(fresh)
    assert fresh.query_params["country"] == countries
    row = con.execute(
        "SELECT count(*) FROM customers WHERE list_contains($c, country) AND visit_count >= 1",
        {"c": countries},
    ).fetchone()
    assert row is not None
    assert summary(fresh).startswith(f"**{row[0]:,}** of")
