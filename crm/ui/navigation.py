"""The app's pages: one registry, run by one entry point (``Home.py``).

``streamlit run Home.py`` runs ``Home.py`` on every rerun of every page: it
runs the sign-in gate, then ``st.navigation`` over ``PAGES`` runs the page the
URL asks for. No URL reaches a page without passing the gate.

A page is a file in ``app_pages/`` added with one line in ``PAGES`` (in the
order of the menu). Not ``pages/``: Streamlit serves a ``pages/`` directory by
itself, running its files without ``Home.py`` until some session has called
``st.navigation`` since the server started, so the first visitor's link to
``/Customer?id=5`` would skip the gate (seen on a fresh server), and AppTest
would run every page but the default that way. Links and ``st.switch_page``
name a page by its file (``CUSTOMERS_PAGE``...), which Streamlit matches
against the registered pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import streamlit as st

from crm.ui import auth, data, read_only

CUSTOMERS_PAGE = "app_pages/Customers.py"
CUSTOMER_PAGE = "app_pages/Customer.py"
SEGMENTS_PAGE = "app_pages/Segments.py"
CAMPAIGNS_PAGE = "app_pages/Campaigns.py"
CAMPAIGN_PAGE = "app_pages/Campaign.py"
IMPORT_PAGE = "app_pages/Import.py"


@dataclass(frozen=True)
class PageSpec:
    """One page: its file (relative to Home.py), menu title, icon and URL path.

    ``url_path`` None is the default page, at ``/``. A ``hidden`` page is not in
    the menu but opens by link (it needs a ``?id=``).
    """

    path: str
    title: str
    icon: str
    url_path: str | None
    hidden: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec(CUSTOMERS_PAGE, "Customers", ":material/groups:", None),
    PageSpec(SEGMENTS_PAGE, "Segments", ":material/bookmarks:", "Segments"),
    PageSpec(CAMPAIGNS_PAGE, "Campaigns", ":material/campaign:", "Campaigns"),
    PageSpec(IMPORT_PAGE, "Import", ":material/upload_file:", "Import"),
    PageSpec(CUSTOMER_PAGE, "Customer", ":material/person:", "Customer", hidden=True),
    PageSpec(CAMPAIGN_PAGE, "Campaign", ":material/campaign:", "Campaign", hidden=True),
)

# The menu and the account box (who is signed in, or "Open") share the sidebar:
# one place for both. In the header, the menu left a sidebar holding one line;
# the cards still sit three abreast at 1400 px. On a phone both fold away
# behind the sidebar's button.
MENU_POSITION: Final = "sidebar"


def streamlit_pages() -> list[st.Page]:
    """``PAGES`` as ``st.Page`` objects (call inside a script run)."""
    return [
        st.Page(
            spec.path,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.url_path is None,
            visibility="hidden" if spec.hidden else "visible",
        )
        for spec in PAGES
    ]


def run_app() -> None:
    """The entry point's body: the sign-in gate, then the page the URL names.

    Someone not (yet) let in gets the gate's screen only: the pages are still
    registered (so the URL stays valid) but none runs, and the menu is hidden.
    """
    data.start_run()  # this run reads the database's change count afresh (cache keys)
    let_in = auth.gate()
    page = st.navigation(streamlit_pages(), position=MENU_POSITION if let_in else "hidden")
    if let_in:
        read_only.banner()
        page.run()
