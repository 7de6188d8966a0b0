"""What an empty database says: where the customers come from.

A MotherDuck database, or a file named in ``CRM_DB_PATH``, is never filled
with demo data by the app (``crm.ui.data.opens_demo``): it opens empty, and
the overview invites an import, or the demo generator for a try-out.
"""

from __future__ import annotations

import streamlit as st

from crm.ui.data import database


def seed_command() -> str:
    """The command that fills this database with demo data (the token stays in the
    environment or the secrets, never on the screen)."""
    return f"python -m crm.demo.seed --db {database()}"


def render_invitation() -> None:
    """The caption of the overview's "No customers yet" (the Import link follows it)."""
    st.caption(
        "Add your first customer, or import a file of them, to build segments. For a"
        " try-out with demo data, run this from the app's folder:"
    )
    st.code(seed_command(), language="bash", wrap_lines=True)  # not Markdown: shown as is
