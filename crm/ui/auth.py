"""Sign-in: the gate every run passes before its page (``crm.ui.navigation.run_app``).

``[auth]`` in the secrets turns on ``st.login`` (OIDC); ``[access]`` says who
may come in (``crm.access``). The decision is ``crm.access.decide`` over
``st.user``; this module only draws it: the sidebar's account box, the
sign-in screen, the refusal with its sign-out button.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitAuthError, StreamlitSecretNotFoundError

from crm import access
from crm.formatting import escape_markdown
from crm.ui import theme

AUTH_SECTION = "auth"
ACCESS_SECTION = "access"
OPEN_NOTE = "Open: no sign-in configured"


def _section(name: str) -> Mapping[str, object] | None:
    """A section of the app's secrets, or None (no such section, or no secrets file)."""
    try:
        section = st.secrets.get(name)
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return None
    return section if isinstance(section, Mapping) and section else None


def configured() -> bool:
    """Whether sign-in is on (an ``[auth]`` section in the secrets)."""
    return _section(AUTH_SECTION) is not None


def current_user() -> str | None:
    """The signed-in person's address, to record as who did a write; None when open."""
    return access.signed_in_email(configured(), st.user)


def decision() -> access.Decision:
    """The gate's decision for this run."""
    return access.decide(configured(), st.user, access.access_list(_section(ACCESS_SECTION)))


def gate() -> bool:
    """Draw the gate; True when the run may go on to its page.

    Open (no ``[auth]``) and allowed: the sidebar says so, and the page runs.
    Otherwise the sign-in screen or the refusal is all the run shows.
    """
    verdict = decision()
    if verdict.verdict == "open":
        with st.sidebar.container(key="account"):
            st.caption(
                f":material/lock_open: {OPEN_NOTE}",
                help="Anyone who can open this address can use the app. Add [auth] and "
                "[access] to the app's secrets to ask for sign-in (README, Sign-in).",
            )
        return True
    if verdict.verdict == "allowed":
        with st.sidebar.container(key="account"):
            st.caption(
                f":material/account_circle: Signed in as {escape_markdown(verdict.email or '')}"
            )
            _sign_out_button("sign_out")
        return True
    theme.page_setup("Sign in", icon=":material/lock:")
    # A narrow card in the middle, as sign-in pages are: at full width the title sat at
    # the far left of a 1,400 px window and the button alone in the middle.
    outer = st.container(key="sign_in_gate", horizontal_alignment="center")
    with outer.container(border=True, width=440, horizontal_alignment="center", gap="medium"):
        st.title("Customer Hub", anchor=False, text_alignment="center")
        if verdict.verdict == "sign_in":
            _sign_in()
        else:
            st.error(escape_markdown(verdict.reason), icon=":material/block:")
            _sign_out_button("refused_sign_out")
    return False


def _sign_in() -> None:
    st.markdown("Sign in to see the customers.", text_alignment="center")
    names = access.providers(_section(AUTH_SECTION))
    if not names:
        st.error(
            "Sign-in is not set up completely, so nobody can sign in yet: [auth] in the "
            "app's secrets names no provider (client_id, client_secret, server_metadata_url).",
            icon=":material/error:",
        )
    for provider in names:
        label = "Sign in" if provider is None else f"Sign in with {provider.title()}"
        if st.button(
            label, key=f"sign_in_{provider or 'default'}", type="primary", width="stretch"
        ):
            try:
                st.login(provider)
            except StreamlitAuthError as problem:
                # [auth] present but incomplete (no cookie_secret, no redirect_uri...).
                st.error(
                    "Sign-in is not set up completely, so nobody can sign in yet: "
                    f"{escape_markdown(str(problem))}",
                    icon=":material/error:",
                )
    if names:
        st.caption(
            "Only people the owners of this app have allowed can come in.",
            text_alignment="center",
        )


def _sign_out_button(key: str) -> None:
    if st.button("Sign out", key=key, icon=":material/logout:"):
        st.logout()  # the browser is sent to Streamlit's sign-out address...
        st.rerun()  # ...and meanwhile this session shows the sign-in screen, not the page
