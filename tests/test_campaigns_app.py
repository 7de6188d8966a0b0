"""The Campaigns page and one campaign's page (AppTest): the list, search, empty state,
bad ids, the lift in words, members, the merge-field check, and the rename, edit and
delete dialogs driven through their widgets. Expectations come from the database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from crm import formatting
from crm.campaigns import manage, results
from crm.models import CampaignRename
from crm.ui import campaigns as campaigns_ui

ROOT = Path(__file__).resolve().parent.parent
LIST = "app_pages/Campaigns.py"
ONE = "app_pages/Campaign.py"

Con = duckdb.DuckDBPyConnection


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def open_page(page: str, campaign_id: object = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=90)
    run(at)
    at.switch_page(page)
    if campaign_id is not None:
        at.query_params["id"] = str(campaign_id)
    return run(at)


def texts(app: AppTest) -> str:
    parts = [str(m.value) for m in [*app.markdown, *app.caption, *app.title]]
    parts += [str(e.value) for e in [*app.info, *app.success, *app.warning, *app.error]]
    return "\n".join(parts)


def newest(con: Con) -> tuple[int, str]:
    row = con.execute("SELECT id, name FROM campaigns ORDER BY created_at DESC LIMIT 1").fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def with_control(con: Con, campaign_id: int, count: int = 30) -> None:
    """Hold ``count`` customers out of the campaign, some ordering after its first delivery."""
    first = con.execute(
        "SELECT min(sent_at) FROM campaign_sends WHERE campaign_id = $c AND status = 'Delivered'",
        {"c": campaign_id},
    ).fetchone()
    assert first is not None
    ids = [
        int(r[0])
        for r in con.execute(
            "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM campaign_sends"
            " WHERE campaign_id = $c) ORDER BY id LIMIT $n",
            {"c": campaign_id, "n": count},
        ).fetchall()
    ]
    con.executemany(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status) VALUES (?, ?, 'Control')",
        [[campaign_id, i] for i in ids],
    )
    con.executemany(
        "INSERT INTO orders (customer_id, ordered_at, amount) VALUES (?, ?, 10)",
        [[i, first[0] + timedelta(days=2)] for i in ids[:3]],
    )


# --- The list -------------------------------------------------------------------------


def test_the_list_shows_every_campaign_newest_first(app_env: Path, con: Con) -> None:
    at = open_page(LIST)
    (table,) = at.dataframe
    shown = table.value
    stored = con.execute("SELECT id FROM campaigns ORDER BY created_at DESC, id DESC").fetchall()
    assert shown["id"].tolist() == [int(r[0]) for r in stored]
    expected = {r.id: r for r in results.campaign_results(con)}
    first = shown.iloc[0]
    assert first["audience"] == expected[int(first["id"])].audience
    assert f"{len(stored)} campaigns" in texts(at)


def test_search_narrows_the_list_and_says_when_nothing_matches(app_env: Path, con: Con) -> None:
    _, name = newest(con)
    word = name.split()[0]
    at = open_page(LIST)
    at.text_input(key="campaigns_search").set_value(word.lower())
    run(at)
    names = at.dataframe[0].value["name"].tolist()
    assert names and all(word.lower() in n.lower() for n in names)
    at.text_input(key="campaigns_search").set_value("*nothing* like this")
    run(at)
    assert not at.dataframe
    assert f"contains “{formatting.escape_markdown('*nothing* like this')}”" in texts(at)


def test_choosing_a_campaign_opens_its_page(app_env: Path, con: Con) -> None:
    campaign_id, name = newest(con)
    at = open_page(LIST)
    at.selectbox(key="campaigns_pick").set_value(campaign_id)
    run(at)  # the pick is opened at the top of the run its change starts
    assert at.query_params["id"] == str(campaign_id)
    assert [t.value for t in at.title] == [formatting.escape_markdown(name)]


def test_empty_state_when_there_are_no_campaigns(app_env: Path, con: Con) -> None:
    con.execute("DELETE FROM campaign_sends")
    con.execute("DELETE FROM campaigns")
    at = open_page(LIST)
    assert "No campaigns yet" in texts(at)
    assert not at.dataframe


# --- One campaign ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        (None, "No campaign was chosen"),
        ("abc", "“abc” is not a campaign number"),
        ("-3", "“-3” is not a campaign number"),
        ("999999", "There is no campaign number 999,999"),
    ],
)
def test_a_bad_or_unknown_id_says_so_with_a_way_back(
    app_env: Path, asked: str | None, said: str
) -> None:
    at = open_page(ONE, asked)
    assert [t.value for t in at.title] == ["Campaign not found"]
    assert formatting.escape_markdown(said) in texts(at)
    assert not at.button  # no actions on nothing


def test_the_page_says_the_lift_in_words(app_env: Path, con: Con) -> None:
    campaign_id, _ = newest(con)
    before = results.campaign_result(con, campaign_id)
    with_control(con, campaign_id)
    at = open_page(ONE, campaign_id)
    found = results.campaign_result(con, campaign_id)
    assert before is not None and found is not None and found.control == before.control + 30
    assert formatting.escape_markdown(results.lift_sentence(found)) in texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sent"] == f"{found.sent:,}"
    assert metrics["Revenue attributed"] == formatting.money(found.revenue)
    # The cards' rates say their base: opens and clicks of the delivered sends.
    assert metrics["Opened, of delivered"] == campaigns_ui._rate(found.open_rate)
    assert metrics["Clicked, of delivered"] == campaigns_ui._rate(found.click_rate)
    members = at.dataframe[0].value
    assert len(members) == min(50, found.members)
    assert f"of {found.members:,}" in texts(at)


def test_members_filtered_to_the_control_group(app_env: Path, con: Con) -> None:
    campaign_id, _ = newest(con)
    with_control(con, campaign_id, 12)
    at = open_page(ONE, campaign_id)
    at.selectbox(key=f"members_status_{campaign_id}").set_value("Control")
    run(at)
    shown = at.dataframe[0].value
    held = con.execute(
        "SELECT count(*) FROM campaign_sends WHERE campaign_id = $c AND status = 'Control'",
        {"c": campaign_id},
    ).fetchone()
    assert held is not None and held[0] >= 12
    assert len(shown) == min(50, held[0]) and set(shown["status"]) == {"Held out (control group)"}


def test_merge_field_check_counts_queued_members_without_a_city(app_env: Path, con: Con) -> None:
    campaign_id, _ = newest(con)
    queued = [
        int(r[0])
        for r in con.execute(
            "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM campaign_sends"
            " WHERE campaign_id = $c) AND trim(city) <> '' ORDER BY id LIMIT 10",
            {"c": campaign_id},
        ).fetchall()
    ]
    con.executemany(
        "INSERT INTO campaign_sends (campaign_id, customer_id, status) VALUES (?, ?, 'Queued')",
        [[campaign_id, i] for i in queued],
    )
    con.execute("UPDATE customers SET city = '' WHERE list_contains($ids, id)", {"ids": queued[:4]})
    con.execute(
        "UPDATE campaigns SET template = 'Hi [First Name] in [City]' WHERE id = $c",
        {"c": campaign_id},
    )
    at = open_page(ONE, campaign_id)
    said = "4 members have no city: they will get the fallback “your city” for [City]."
    assert formatting.escape_markdown(said) in texts(at)


# --- Dialogs --------------------------------------------------------------------------


def test_rename_dialog(app_env: Path, con: Con) -> None:
    campaign_id, name = newest(con)
    at = open_page(ONE, campaign_id)
    at.button(key="campaign_rename").click()
    run(at)
    field = next(t for t in at.text_input if t.label == "Name")
    assert field.value == name
    field.set_value("  ")
    at.button(key="dialog_save").click()
    run(at)
    assert "Nothing was saved" in texts(at)
    next(t for t in at.text_input if t.label == "Name").set_value("Spring *Tea* [x](http://e.x)")
    at.button(key="dialog_save").click()
    run(at)
    stored = con.execute("SELECT name, version FROM campaigns WHERE id = $c", {"c": campaign_id})
    assert stored.fetchone() == ("Spring *Tea* [x](http://e.x)", 2)
    escaped = formatting.escape_markdown("Spring *Tea* [x](http://e.x)")
    assert [t.value for t in at.toast] == [f"Renamed to {escaped}"]
    assert escaped in [t.value for t in at.title]


def test_rename_after_someone_else_renamed_is_refused(app_env: Path, con: Con) -> None:
    campaign_id, _ = newest(con)
    at = open_page(ONE, campaign_id)
    at.button(key="campaign_rename").click()
    run(at)
    manage.rename_campaign(con, campaign_id, CampaignRename(name="Theirs", version=1))
    next(t for t in at.text_input if t.label == "Name").set_value("Mine")
    at.button(key="dialog_save").click()
    run(at)
    assert "changed by someone else" in texts(at)
    row = con.execute("SELECT name FROM campaigns WHERE id = $c", {"c": campaign_id}).fetchone()
    assert row == ("Theirs",)


def test_edit_message_dialog_refuses_a_broken_template(app_env: Path, con: Con) -> None:
    campaign_id, _ = newest(con)
    before = con.execute(
        "SELECT template, version FROM campaigns WHERE id = $c", {"c": campaign_id}
    ).fetchone()
    at = open_page(ONE, campaign_id)
    at.button(key="campaign_edit").click()
    run(at)
    next(t for t in at.text_area if t.label == "Message").set_value("Hi [Frist Name]")
    at.button(key="dialog_save").click()
    run(at)
    assert formatting.escape_markdown("Did you mean [First Name]?") in texts(at)
    after = con.execute("SELECT template, version FROM campaigns WHERE id = $c", {"c": campaign_id})
    assert after.fetchone() == before
    next(t for t in at.text_input if t.label == "Subject").set_value("For you, [First Name]")
    next(t for t in at.text_area if t.label == "Message").set_value("Hi [First Name]!")
    at.button(key="dialog_save").click()
    run(at)
    saved = con.execute("SELECT subject, template FROM campaigns WHERE id = $c", {"c": campaign_id})
    assert saved.fetchone() == ("For you, [First Name]", "Hi [First Name]!")
    assert "Hi [First Name]!" in [t.value for t in at.text]


def test_delete_asks_first_then_goes_back_to_the_list(app_env: Path, con: Con) -> None:
    campaign_id, name = newest(con)
    at = open_page(ONE, campaign_id)
    at.button(key="campaign_delete").click()
    run(at)
    assert f"Delete the campaign **{formatting.escape_markdown(name)}**" in texts(at)
    at.button(key="dialog_cancel").click()
    run(at)
    assert con.execute(
        "SELECT count(*) FROM campaigns WHERE id = $c", {"c": campaign_id}
    ).fetchone() == (1,)
    at.button(key="campaign_delete").click()
    run(at)
    at.button(key="dialog_confirm_delete").click()
    run(at)
    assert con.execute(
        "SELECT count(*) FROM campaigns WHERE id = $c", {"c": campaign_id}
    ).fetchone() == (0,)
    assert [t.value for t in at.title] == ["Campaigns"]
    assert name not in at.dataframe[0].value["name"].tolist()


def test_read_only_disables_the_actions_with_a_reason(
    app_env: Path, con: Con, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_READ_ONLY", "1")
    campaign_id, _ = newest(con)
    # The app opens the file read-only, which DuckDB refuses beside a writer in one process.
    con.close()
    at = open_page(ONE, campaign_id)
    for key in ("campaign_rename", "campaign_edit", "campaign_delete"):
        button = at.button(key=key)
        assert button.disabled and "read-only" in (button.help or "")


def test_customer_history_says_held_out_and_sending(con: Con) -> None:
    from crm import queries
    from crm.ui import history

    campaign_id, _ = newest(con)
    with_control(con, campaign_id, 1)
    member = con.execute(
        "SELECT customer_id FROM campaign_sends WHERE campaign_id = $c AND status = 'Control'",
        {"c": campaign_id},
    ).fetchone()
    assert member is not None
    view = history.history_view(queries.campaign_history(con, int(member[0])))
    mine = view[view["campaign_id"] == campaign_id]
    assert mine["status"].tolist() == ["Held out (control group)"]
    con.execute(
        "UPDATE campaign_sends SET status = 'Sending' WHERE campaign_id = $c AND customer_id = $m",
        {"c": campaign_id, "m": int(member[0])},
    )
    view = history.history_view(queries.campaign_history(con, int(member[0])))
    assert view[view["campaign_id"] == campaign_id]["status"].tolist() == ["Sending…"]
