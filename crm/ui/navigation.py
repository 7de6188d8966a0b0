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

from crm.ui import auth, data

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

# The menu sits in the header: four pages fit there (on a phone Streamlit moves
# it into the sidebar, behind its button), and the cards keep the width that a
# sidebar menu would take from them on a desktop.
MENU_POSITION: Final = "top"


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
    """The entry point's body: the sign-in gate, then the page the URL names."""
    data.start_run()  # this run reads the database's change count afresh (cache keys)
    auth.gate()
    st.navigation(streamlit_pages(), position=MENU_POSITION).run()
