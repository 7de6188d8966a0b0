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
    # An email campaign with MEMBERS queued (welcome and refused among them).
    campaign_id: int
    members: tuple[str, ...]


MEMBERS = 12


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
            " WHERE order_count > 0 AND first_name <> '' ORDER BY id DESC LIMIT $n",
            {"n": MEMBERS},
        ).fetchall()
        people = [Person(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
        con.execute(
            "UPDATE customers SET email_consent = 'Subscribed' WHERE list_contains($ids, id)",
            {"ids": [p.id for p in people]},
        )
        [(campaign_id,)] = con.execute(
            "INSERT INTO campaigns (name, channel, subject, template)"
            " VALUES ('Winter letter', 'Email', 'Hello [First Name]', 'Dear [Name], warm wishes.')"
            " RETURNING id"
        ).fetchall()
        con.execute(
            "INSERT INTO campaign_sends (campaign_id, customer_id, status)"
            " SELECT $c, unnest($ids), 'Queued'",
            {"c": campaign_id, "ids": [p.id for p in people]},
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
            yield MailSite(
                url, server, people[0], people[1], int(campaign_id), tuple(p.email for p in people)
            )


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
    # Delivery happens in the click's run: on a busy machine it takes a while.
    expect(dialog).to_be_hidden(timeout=30_000)


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
    [received] = [
        m for m in mail_site.server.to(welcome.email) if "parcel" in m.message.get_content()
    ]
    assert received.message.get_content().strip() == (
        f"Hello {welcome.first}, your parcel is on its way."
    )
    history_cell(page, "Sent")

    refused = mail_site.refused
    send_message(page, mail_site, refused, "Hello [First Name]")
    failed = page.get_by_test_id("stToast").filter(has_text="failed:")
    expect(failed).to_be_visible()
    expect(failed).to_contain_text(REFUSAL)
    assert [m for m in mail_site.server.to(refused.email) if m.message["Subject"] == ""] == []
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


def test_send_a_campaign_from_its_page_and_read_the_results(
    page: Page, mail_site: MailSite, screenshots: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(f"{mail_site.url}/Campaign?id={mail_site.campaign_id}")
    expect(page.get_by_role("heading", name="Winter letter")).to_be_visible(timeout=30_000)
    settled(page)
    panel = page.locator(f".st-key-send_panel_{mail_site.campaign_id}")
    expect(panel).to_contain_text(f"{MEMBERS} queued")
    panel.get_by_role("button", name=f"Send {MEMBERS} queued").click()
    settled(page)
    expect(panel).to_contain_text(
        f"{MEMBERS - 1} delivered, 1 failed: see members for the reasons.", timeout=60_000
    )
    expect(panel).to_contain_text(f"{REFUSAL} (1)")
    expect(panel.get_by_role("button", name="Retry failed (1)")).to_be_visible()
    expect(panel.get_by_role("button", name="Nothing queued to send")).to_be_disabled()
    campaign_mail = [
        m for m in mail_site.server.messages if m.message["Subject"].startswith("Hello ")
    ]
    delivered = {m.recipients[0] for m in campaign_mail}
    assert delivered == set(mail_site.members) - {mail_site.refused.email}
    assert len(campaign_mail) == MEMBERS - 1
    expect(page.get_by_test_id("stException")).to_have_count(0)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "campaign-sent-desktop.png")
    page.set_viewport_size(PHONE)
    settled(page)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "campaign-sent-phone.png")
