"""The customer page's "Marketing" panel: email and SMS consent, and its dialog.

As on a Shopify customer page: each channel's status with the day it last
changed, in words, and one dialog to change them, "Manage marketing" (not
"Edit …": a person and the browser tests look for the page's own "Edit"
button by that word). The dialog is a kind of ``crm.ui.dialogs`` (one state,
one close). It remembers the customer's ``version`` from when it opened, so a
save after someone else's change is refused with a sentence instead of
overwriting it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal

import streamlit as st

from crm import config, consent, writes
from crm.errors import ConflictError, CrmError, NotFound
from crm.formatting import escape_markdown
from crm.models import ConsentChange, Customer, parse
from crm.ui import actions, auth, dialogs
from crm.ui.data import connection, flash
from crm.ui.dialogs import DialogKind

CONSENT: DialogKind = "consent"
OPEN = "open_consent"
SAVE = "consent_save"
# The dialog's radio for a channel: f"{CHOICE}_{channel}_{revision}" (tests set it).
CHOICE = "consent_choice"
READ_ONLY_REASON = "Read-only mode: marketing consent cannot be changed here."
GUIDANCE = (
    "Subscribe a customer only when they agreed to receive marketing on that channel. "
    "Campaigns and messages reach Subscribed customers only."
)

BadgeColour = Literal["green", "blue", "orange", "red", "gray"]
_COLOURS: dict[str, BadgeColour] = {
    consent.SUBSCRIBED: "green",
    consent.UNSUBSCRIBED: "red",
    consent.NOT_ASKED: "gray",
}
_ICONS = {"Email": ":material/mail:", "SMS": ":material/sms:"}
_CHANNELS = ("Email", "SMS")


def _stored(customer: Customer, channel: str) -> tuple[str, datetime | None]:
    if channel == "Email":
        return customer.email_consent or consent.NOT_ASKED, customer.email_consent_at
    return customer.sms_consent or consent.NOT_ASKED, customer.sms_consent_at


def channel_sentence(customer: Customer, channel: str) -> str:
    """What the panel says under a channel's badge, in words."""
    status, changed_at = _stored(customer, channel)
    word = consent.channel_word(channel)
    day = consent.describe(status, changed_at)
    if status == consent.SUBSCRIBED:
        return f"Gets {word} marketing. {day}."
    if status == consent.UNSUBSCRIBED:
        return f"No {word} marketing. {day}."
    if channel == "SMS" and not customer.phone.strip():
        return "No phone number on file."
    return f"Not asked yet, so no {word} marketing until they subscribe."


def render_panel(customer: Customer) -> None:
    """The Marketing panel: each channel's status and when it changed, and "Edit"."""
    with st.container(border=True, key="customer_marketing"):
        st.markdown("**Marketing**")
        for channel in _CHANNELS:
            status, _ = _stored(customer, channel)
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                # An icon and a channel name, both the code's own.
                st.markdown(f"{_ICONS[channel]} {channel}", width="content")
                st.badge(status, color=_COLOURS.get(status, "gray"))
            # Our own words and a date: no user text, nothing to escape.
            st.caption(channel_sentence(customer, channel))
        read_only = config.read_only()
        st.button(
            "Manage marketing",
            key=OPEN,
            icon=":material/edit_notifications:",
            on_click=dialogs.open_dialog,
            args=(CONSENT, customer.id),
            disabled=read_only,
            help=READ_ONLY_REASON if read_only else "Change email and SMS consent.",
        )


def choice_key(channel: str, revision: int) -> str:
    return f"{CHOICE}_{channel}_{revision}"


def _save(customer: Customer, version: int, chosen: dict[str, str]) -> str | None:
    """Write the chosen statuses; the toast's sentence, or None with the problem shown."""
    try:
        changes = [
            parse(ConsentChange, {"channel": channel, "status": status, "version": version})
            for channel, status in chosen.items()
        ]
        writes.set_consents(connection(), customer.id, changes, by=auth.current_user())
    except (ConflictError, NotFound) as problem:
        st.warning(escape_markdown(str(problem)), icon=":material/sync_problem:")
        st.button("Close", key="consent_close", on_click=dialogs.close_dialog)
        return None
    except CrmError as problem:
        st.error(escape_markdown(str(problem)), icon=":material/error:")
        return None
    changed = [
        f"{consent.channel_word(channel)} {status.lower()}"
        for channel, status in chosen.items()
        if status != _stored(customer, channel)[0]
    ]
    if not changed:
        return f"Nothing changed for {escape_markdown(customer.name)}."
    return f"Marketing for {escape_markdown(customer.name)}: {', '.join(changed)}."


def _form(customer: Customer) -> None:
    state = dialogs.state_of(CONSENT)
    if state.version is None:
        # The version this dialog edits: the one read when it opened.
        state = replace(state, version=customer.version, name=customer.name)
        st.session_state[dialogs.STATE] = state
    assert state.version is not None
    st.caption(GUIDANCE)
    chosen: dict[str, str] = {}
    for channel in _CHANNELS:
        status, _ = _stored(customer, channel)
        picked = st.radio(
            f"{channel} marketing",
            options=list(consent.STATUSES),
            index=consent.STATUSES.index(status),
            key=choice_key(channel, state.revision),
            horizontal=True,
        )
        chosen[channel] = str(picked)
        st.caption(consent.describe(*_stored(customer, channel)))
    if chosen["SMS"] == consent.SUBSCRIBED and not customer.phone.strip():
        st.warning(
            "Add a phone number first (Edit): SMS marketing needs one to subscribe.",
            icon=":material/phone_disabled:",
        )
    with st.container(horizontal=True, horizontal_alignment="right"):
        cancel = st.button("Cancel", key="consent_cancel")
        save = st.button(
            "Save",
            key=SAVE,
            type="primary",
            icon=":material/check:",
            disabled=config.read_only(),
            help=READ_ONLY_REASON if config.read_only() else None,
        )
    if cancel:
        dialogs.close_dialog()
        st.rerun()
    if save:
        sentence = _save(customer, state.version, chosen)
        if sentence is not None:
            dialogs.close_dialog()
            flash(sentence, icon=":material/check_circle:")
            st.rerun(scope="app")


@dialogs.register(CONSENT)
@st.dialog("Marketing consent", width="small", on_dismiss=dialogs.close_dialog)
def _consent_dialog() -> None:
    actions.with_customer(CONSENT, _form, "the marketing form")
