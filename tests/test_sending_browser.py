"""Delivery by email in a real Chromium: ``streamlit run`` with an [smtp] section that
points at a test SMTP server (aiosmtpd), on the module's own copy of the seeded data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from browser_helpers import settled
from live_server import streamlit_server
from playwright.sync_api import Locator, Page, expect
from smtp_server import REFUSAL, Recorder, recording_server

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Person:
    id: int
    first: str
    name: str
    email: str


@dataclass(frozen=True)
class MailSite:
    url: str
    server: Recorder
    welcome: Person
    refused: Person


@pytest.fixture(scope="module")
def mail_site(
    seeded_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MailSite]:
    folder = tmp_path_factory.mktemp("mail_site")
    path = folder / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    with duckdb.connect(str(path)) as con:
        rows = con.execute(
            "SELECT id, first_name, first_name || ' ' || last_name, email FROM customers"
            " WHERE order_count > 0 AND first_name <> '' ORDER BY id DESC LIMIT 2"
        ).fetchall()
        people = [Person(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
        con.execute(
            "UPDATE customers SET email_consent = 'Subscribed' WHERE list_contains($ids, id)",
            {"ids": [p.id for p in people]},
        )
    with recording_server() as server:
        server.refuse.add(people[1].email)
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[smtp]\n"
            'host = "127.0.0.1"\n'
            f"port = {server.port}\n"
            'security = "none"\n'
            'from_address = "shop@example.com"\n'
            'from_name = "Example Shop"\n',
            encoding="utf-8",
        )
        with streamlit_server(path, folder / "streamlit.log", secrets=secrets) as url:
            yield MailSite(url, server, *people)


def send_message(page: Page, site: MailSite, person: Person, body: str) -> None:
    page.goto(f"{site.url}/Customer?id={person.id}")
    expect(page.get_by_role("heading", name=person.name, exact=True)).to_be_visible(timeout=30_000)
    settled(page)
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Send message").click()
    dialog = page.get_by_role("dialog")
    box = dialog.get_by_role("textbox", name="Message")
    box.fill(body)
    box.press("Control+Enter")
    settled(page)
    dialog.get_by_role("button", name="Send message").click()
    expect(dialog).to_be_hidden()


def history(page: Page) -> Locator:
    """The customer's campaigns-and-messages grid (its rows are in an accessible table)."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator('th[role="columnheader"]', has_text="Campaign")
    )


def history_cell(page: Page, text: str) -> None:
    expect(history(page).locator("td", has_text=text).first).to_be_attached()


def test_a_message_is_delivered_and_a_refused_one_shows_why(
    page: Page, mail_site: MailSite, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    welcome = mail_site.welcome
    send_message(page, mail_site, welcome, "Hello [First Name], your parcel is on its way.")
    toast = page.get_by_test_id("stToast").filter(has_text="delivered.")
    expect(toast).to_be_visible()
    [received] = mail_site.server.to(welcome.email)
    assert received.message.get_content().strip() == (
        f"Hello {welcome.first}, your parcel is on its way."
    )
    history_cell(page, "Sent")

    refused = mail_site.refused
    send_message(page, mail_site, refused, "Hello [First Name]")
    failed = page.get_by_test_id("stToast").filter(has_text="failed:")
    expect(failed).to_be_visible()
    expect(failed).to_contain_text(REFUSAL)
    assert mail_site.server.to(refused.email) == []
    history_cell(page, "Failed")
    history_cell(page, REFUSAL)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    table = history(page)
    table.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "message-refused-desktop.png")
    page.set_viewport_size(PHONE)
    settled(page)
    table.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "message-refused-phone.png")
