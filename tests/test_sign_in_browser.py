"""The sign-in gate in a real Chromium, with ``[auth]`` and ``[access]`` in the secrets.

The identity provider cannot be reached from this machine, so the round trip of
``st.login`` is not run (tests/test_auth_app.py covers allowed and refused people
through AppTest's ``at.user``): this checks that every page, asked for by its
address, shows the sign-in screen and nothing of the data, and takes its pictures.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from browser_helpers import settled
from live_server import streamlit_server
from playwright.sync_api import Page, expect
from test_theme_browser import choose_theme

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SECRETS = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "not-a-real-secret"
client_id = "id"
client_secret = "secret"
server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"

[access]
allowed_emails = ["ana@example.org"]
allowed_domains = ["shop.com"]
"""


@pytest.fixture(scope="module")
def gated(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("gated")
    path = folder / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    secrets = folder / "secrets.toml"
    secrets.write_text(SECRETS, encoding="utf-8")
    with streamlit_server(path, folder / "streamlit.log", secrets=secrets) as url:
        yield url


def the_gate(page: Page) -> None:
    settled(page)
    expect(page.get_by_role("heading", name="Customer Hub")).to_be_visible()
    expect(page.get_by_text("Sign in to see the customers.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.parametrize("address", ["/", "/Segments", "/Campaigns", "/Import", "/Customer?id=5"])
def test_every_page_by_its_address_shows_only_the_sign_in_screen(
    page: Page, gated: str, seeded: duckdb.DuckDBPyConnection, address: str
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(gated + address)
    the_gate(page)
    # Nothing of the data: no card, no table, no menu of pages, no customer's name.
    expect(page.locator("article.card")).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
    row = seeded.execute("SELECT first_name || ' ' || last_name FROM customers WHERE id = 5")
    name = row.fetchone()
    assert name is not None
    expect(page.get_by_text(str(name[0]))).to_have_count(0)
    expect(page).to_have_title("Sign in · Customer Hub")


def test_the_sign_in_screen_pictures(page: Page, gated: str, screenshots: Path) -> None:
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(gated + "/")
        the_gate(page)
        page.screenshot(path=screenshots / f"sign-in-{width}.png")
    choose_theme(page, "Dark")
    the_gate(page)
    page.screenshot(path=screenshots / "sign-in-dark-phone.png")
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=screenshots / "sign-in-dark-desktop.png")
