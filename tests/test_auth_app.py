"""The sign-in gate through AppTest: open, allowed, asked to sign in, refused.

AppTest (Streamlit 1.67) fakes the signed-in person through ``at.user`` (what
``st.user`` reads) and the configuration through ``at.secrets``; the real
``st.login`` round trip to an identity provider cannot run here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from crm import db
from crm.formatting import escape_markdown
from crm.ui import auth, navigation

ROOT = Path(__file__).resolve().parent.parent
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
}
ACCESS = {"allowed_emails": ["ana@example.org"], "allowed_domains": ["shop.com"]}


def app(*, configured: bool, user: dict[str, Any], page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    if configured:
        at.secrets["auth"] = AUTH
        at.secrets["access"] = ACCESS
    at.user = user
    at.run()
    if page is not None:
        at.switch_page(page)
        at.query_params["id"] = "5"
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sidebar_text(at: AppTest) -> str:
    return " ".join(str(e.value) for e in at.sidebar.caption)


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_not_configured_is_open_and_says_so(app_env: Path) -> None:
    at = app(configured=False, user={"email": "anyone@example.com"})
    assert auth.OPEN_NOTE in sidebar_text(at)
    assert "Customers" in titles(at)  # the page ran
    assert not [b for b in at.button if b.label == "Sign out"]


@pytest.mark.parametrize("email", ["ana@example.org", "Carla@shop.com"])
@pytest.mark.parametrize("page", [None, navigation.CUSTOMER_PAGE])
def test_configured_and_allowed(app_env: Path, email: str, page: str | None) -> None:
    at = app(configured=True, user={"is_logged_in": True, "email": email}, page=page)
    assert f"Signed in as {escape_markdown(email.lower())}" in sidebar_text(at)
    assert auth.OPEN_NOTE not in sidebar_text(at)
    assert at.button(key="sign_out").label == "Sign out"
    if page is None:
        assert "Customers" in titles(at)
    else:
        assert at.get("metric")  # the customer page ran: its figures are there


@pytest.mark.parametrize("page", [None, navigation.CUSTOMER_PAGE, navigation.SEGMENTS_PAGE])
def test_configured_asks_to_sign_in_on_every_page(app_env: Path, page: str | None) -> None:
    at = app(configured=True, user={"is_logged_in": False}, page=page)
    assert titles(at) == ["Customer Hub"]
    assert at.button(key="sign_in_default").label == "Sign in"
    assert not at.get("metric")
    assert not sidebar_text(at)


@pytest.mark.parametrize("page", [None, navigation.CUSTOMER_PAGE, navigation.SEGMENTS_PAGE])
def test_configured_refuses_in_words_with_a_way_out(app_env: Path, page: str | None) -> None:
    at = app(configured=True, user={"is_logged_in": True, "email": "mallory@evil.io"}, page=page)
    assert titles(at) == ["Customer Hub"]
    assert [e.value for e in at.error] == [
        escape_markdown(
            "mallory@evil.io may not use this Customer Hub. Ask whoever runs it to add your "
            "address (or your domain) to the allowed ones, or sign in with another account."
        )
    ]
    assert not at.get("metric")
    at.button(key="refused_sign_out").click().run()
    # Signed out: back to the sign-in screen.
    assert at.user == {"is_logged_in": False}
    assert at.button(key="sign_in_default").label == "Sign in"


def test_named_providers_get_a_button_each(app_env: Path) -> None:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": AUTH["redirect_uri"],
        "cookie_secret": "x",
        "google": {"client_id": "g"},
        "microsoft": {"client_id": "m"},
    }
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in with Google", "Sign in with Microsoft"]


def test_a_write_records_the_signed_in_person(app_env: Path) -> None:
    # Saving a segment through the overview, signed in: the row says who (by= from the UI).
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["access"] = ACCESS
    at.user = {"is_logged_in": True, "email": "Carla@Shop.com"}
    at.query_params["country"] = "Italy"
    at.run()
    at.button(key="save_segment").click().run()
    next(t for t in at.text_input if t.label == "Name").input("Italians")
    at.button(key="dialog_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    con = db.connect(app_env)
    try:
        row = con.execute(
            "SELECT created_by, updated_by FROM segments WHERE name = 'Italians'"
        ).fetchone()
    finally:
        con.close()
    assert row == ("carla@shop.com", "carla@shop.com")
