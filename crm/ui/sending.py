"""Sending a campaign (``render_send``) and delivering a personalised message.

The panel says where the campaign's sends stand, sends the queued ones in
batches with a progress bar (the delivery loop runs inside this script run,
updating ``st.progress`` after each result), and says afterwards what
happened in words. Sends left 'Sending' by a sender that stopped are never
sent again on their own; the panel offers to mark them as not sent, after
asking. Without ``[smtp]`` in the secrets nothing is sent and the panel says
how to configure it; SMS and Push have no provider and stay Queued.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from crm import config, formatting
from crm.errors import CrmError, NotFound
from crm.formatting import escape_markdown
from crm.mail import delivery
from crm.mail.delivery import CampaignDelivery, DeliveryReport
from crm.mail.settings import SECRETS_FILE, SECTION, SmtpConfigError, SmtpSettings, parse_settings
from crm.ui import auth, read_only
from crm.ui.data import connection, flash

Con = duckdb.DuckDBPyConnection

README_SECTION = "README.md#delivery-by-email"
NOT_CONFIGURED = (
    f"Email delivery is not configured, so sends stay Queued. Add an `[{SECTION}]` section"
    f" to `{SECRETS_FILE}` (on Community Cloud: the app's Secrets box) with `host`, `port`,"
    " `security`, `user`, `password` and `from_address`, then reload. The example file"
    f" `.streamlit/secrets.toml.example` shows every key; see {README_SECTION}."
)
READ_ONLY = "Read-only mode: nothing can be sent from this app."
BUSY = "This campaign is being sent right now; wait until that finishes."
# Session state: the last Send's result in words, per campaign, shown after the rerun.
_RESULT = "_send_result_{}"
_CONFIRM_RELEASE = "_send_confirm_release_{}"


def smtp_settings() -> SmtpSettings | None:
    """The ``[smtp]`` settings from the app's secrets; None when there is no such section.

    Raises SmtpConfigError (every problem in a sentence) when it is there but unusable.
    """
    try:
        if SECTION not in st.secrets:
            return None
        section = st.secrets[SECTION]
    except StreamlitSecretNotFoundError:
        # No secrets file at all (or one Streamlit could not read).
        return None
    if not isinstance(section, Mapping):
        raise SmtpConfigError([f'[{SECTION}] must be a section of keys, like host = "…".'])
    return parse_settings(section)


def _counts(state: CampaignDelivery) -> str:
    parts = [
        (state.queued, "queued"),
        (state.sending, "sending now"),
        (state.interrupted, "interrupted"),
        (state.delivered, "delivered"),
        (state.failed, "failed"),
        (state.control, "held out as control"),
    ]
    shown = [f"{formatting.number(n)} {what}" for n, what in parts if n]
    return " · ".join(shown) if shown else "No members yet: add customers to the campaign first."


def result_sentence(report: DeliveryReport, left: int) -> str:
    """What a Send did, in words ("1,204 delivered, 3 failed: see members"); Markdown-safe."""
    said = f"{formatting.number(report.delivered)} delivered"
    if report.failed:
        said += f", {formatting.number(report.failed)} failed: see members for the reasons"
    said += "."
    if report.stopped:
        said += f" Stopped: {escape_markdown(report.stopped)}"
        if left:
            said += f" {formatting.number(left)} are still queued; send again once it is back."
    elif report.done == 0:
        said = "Nothing was sent: no sends were queued."
    return said


def _deliver(con: Con, campaign_id: int, settings: SmtpSettings) -> None:
    """Send the queued sends with a progress bar, then rerun with the result in words."""
    bar = st.progress(0.0, text="Connecting to the mail server…")
    shown = [-1]

    def progress(report: DeliveryReport) -> None:
        share = min(report.done / report.total, 1.0) if report.total else 1.0
        # Once per percent: at a fast server's pace, one message to the browser per
        # email would be thousands a minute for a bar that moves by pixels.
        if int(share * 100) == shown[0] and report.done < report.total:
            return
        shown[0] = int(share * 100)
        bar.progress(
            share,
            text=f"{formatting.number(report.done)} of {formatting.number(report.total)} sent…",
        )

    try:
        report = delivery.deliver_campaign(
            con, campaign_id, settings, by=auth.current_user(), on_progress=progress
        )
    except CrmError as problem:
        bar.empty()
        st.error(escape_markdown(str(problem)), icon=":material/error:")
        return
    left = delivery.campaign_delivery(
        con, campaign_id, stale=delivery.interrupted_after(settings)
    ).queued
    st.session_state[_RESULT.format(campaign_id)] = (
        result_sentence(report, left),
        report.failed > 0 or report.stopped is not None,
    )
    st.rerun()


def _how_it_went(campaign_id: int) -> None:
    kept = st.session_state.pop(_RESULT.format(campaign_id), None)
    if kept is None:
        return
    sentence, troubled = kept
    if troubled:
        st.warning(sentence, icon=":material/warning:")
    else:
        st.success(sentence, icon=":material/check_circle:")


def _failure_reasons(con: Con, campaign_id: int) -> None:
    reasons = delivery.failure_reasons(con, campaign_id)
    if reasons:
        lines = [f"- {escape_markdown(why)} ({formatting.number(n)})" for why, n in reasons]
        st.caption("Why sends failed:\n" + "\n".join(lines))


def _interrupted(con: Con, state: CampaignDelivery, settings: SmtpSettings | None) -> bool:
    """The warning about sends a stopped sender left behind, and the asked-first release.

    Returns True when the person confirmed (the caller then sends)."""
    n = formatting.number(state.interrupted)
    since = (
        f" since {formatting.short_date(state.oldest_interrupted)}"
        if state.oldest_interrupted
        else ""
    )
    st.warning(
        f"{n} sends were interrupted while sending{since}: the sender stopped (a closed tab,"
        " a crash) before their outcome was recorded. Whether they reached the customer is"
        " unknown, so they are never sent again automatically.",
        icon=":material/help:",
    )
    key = _CONFIRM_RELEASE.format(state.campaign.id)
    disabled = config.read_only()
    if not st.session_state.get(key):
        st.button(
            f"Mark {n} as not sent and retry…",
            key=f"send_release_{state.campaign.id}",
            disabled=disabled,
            help=READ_ONLY if disabled else None,
            on_click=lambda: st.session_state.__setitem__(key, True),
        )
        return False
    with st.container(border=True, key=f"send_release_confirm_{state.campaign.id}"):
        st.markdown(
            f"Mark these {n} sends as not sent and send them again? Some of these customers"
            " may already have the email and would get it twice."
        )
        with st.container(horizontal=True):
            confirmed = st.button(
                "Yes, mark as not sent and send",
                type="primary",
                key=f"send_release_yes_{state.campaign.id}",
                disabled=disabled,
            )
            st.button(
                "Cancel",
                key=f"send_release_no_{state.campaign.id}",
                on_click=lambda: st.session_state.pop(key, None),
            )
    if not confirmed:
        return False
    st.session_state.pop(key, None)
    released = delivery.release_interrupted(
        con, state.campaign.id, stale=delivery.interrupted_after(settings), by=auth.current_user()
    )
    flash(f"{formatting.number(released)} interrupted sends are queued again.", ":material/replay:")
    return True


def render_send(campaign_id: int) -> None:
    """The campaign's Send panel: counts, Send N queued, progress, results, recovery."""
    con = connection()
    problem: SmtpConfigError | None = None
    try:
        settings = smtp_settings()
    except SmtpConfigError as bad:
        settings, problem = None, bad
    try:
        state = delivery.campaign_delivery(
            con, campaign_id, stale=delivery.interrupted_after(settings)
        )
    except NotFound as gone:
        # crm.mail.delivery's own sentence: it quotes nothing a user typed.
        st.warning(str(gone), icon=":material/search_off:")
        return
    with st.container(key=f"send_panel_{campaign_id}"):
        _how_it_went(campaign_id)
        st.caption(_counts(state))
        channel = state.campaign.channel
        if channel != "Email":
            st.info(
                f"{channel} has no delivery provider in Customer Hub, so this campaign's"
                f" {formatting.number(state.queued)} queued sends stay Queued. Only email is"
                " delivered (over SMTP).",
                icon=":material/sms:",
            )
            return
        if problem is not None:
            lines = "\n".join(f"- {escape_markdown(p)}" for p in problem.problems)
            st.error(
                f"The `[{SECTION}]` settings in `{SECRETS_FILE}` cannot be used, so nothing is"
                f" sent:\n{lines}",
                icon=":material/settings:",
            )
        elif settings is None:
            st.info(NOT_CONFIGURED, icon=":material/settings:")
        if state.sending:
            st.info(
                f"{formatting.number(state.sending)} sends are going out right now"
                " (another tab, or someone else, pressed Send).",
                icon=":material/outgoing_mail:",
            )
        send_now = False
        if state.interrupted:
            send_now = _interrupted(con, state, settings)
        _failure_reasons(con, campaign_id)
        read_only = config.read_only()
        why_not = (
            READ_ONLY
            if read_only
            else "Configure [smtp] first (see above)."
            if settings is None
            else None
        )
        # One sender at a time keeps the server's pace (rate_limit is per sender).
        busy = BUSY if state.sending else None
        with st.container(horizontal=True, key=f"send_buttons_{campaign_id}"):
            send = st.button(
                f"Send {formatting.number(state.queued)} queued"
                if state.queued
                else "Nothing queued to send",
                type="primary",
                icon=":material/send:",
                key=f"send_queued_{campaign_id}",
                disabled=why_not is not None or busy is not None or state.queued == 0,
                help=why_not or busy,
            )
            retry = False
            if state.retryable:
                retry = st.button(
                    f"Retry failed ({formatting.number(state.retryable)})",
                    icon=":material/replay:",
                    key=f"send_retry_{campaign_id}",
                    disabled=why_not is not None or busy is not None,
                    help=why_not
                    or busy
                    or "Queue the failed sends again (not those who unsubscribed) and send them.",
                )
        if read_only:
            st.caption(READ_ONLY)
        if settings is None or read_only:
            return
        if retry:
            delivery.requeue_failed(con, campaign_id, by=auth.current_user())
        if send or retry or send_now:
            _deliver(con, campaign_id, settings)


# --- Personalised messages -------------------------------------------------------------


def deliver_personal_message(
    con: Con, message_id: int, channel: str, name: str
) -> tuple[str, bool]:
    """Deliver a message just written (its row is Queued); returns the toast's sentence
    (Markdown-safe) and whether it went well."""
    who = escape_markdown(name)
    if channel != "Email":
        return (f"{channel} to {who} queued in the outbox: there is no {channel} provider.", True)
    try:
        settings = smtp_settings()
    except SmtpConfigError:
        return (f"Email to {who} queued in the outbox: the [{SECTION}] settings are wrong.", False)
    if settings is None:
        return (f"Email to {who} queued in the outbox: email delivery is not configured.", True)
    with st.spinner("Sending…"):
        outcome = delivery.deliver_message(con, message_id, settings, by=auth.current_user())
    if outcome.status == "Sent":
        return f"Email to {who} delivered.", True
    if outcome.status != "Failed":  # claimed by another sender at the same moment
        return f"Email to {who} is being sent.", True
    return (
        f"Email to {who} failed: {escape_markdown(outcome.reason or 'no reason given')}."
        " It is in the history with the reason.",
        False,
    )


def render_queued_emails(con: Con, customer_id: int, name: str, history: pd.DataFrame) -> None:
    """Under a customer's history: their personalised emails still in the outbox, and a
    button that delivers them once ``[smtp]`` is set (nothing when there are none).

    A message written while delivery was not configured stays Queued; without this it
    waited for ever after delivery was set up. How many wait is read from the history
    the page already has (``history``: ``queries.campaign_history``); their ids only
    on a click."""
    if history.empty:
        return
    waiting_count = int(
        (
            (history["kind"] == "Message")
            & (history["channel"] == "Email")
            & (history["status"] == "Queued")
        ).sum()
    )
    if not waiting_count:
        return
    count = formatting.plural(waiting_count, "email")
    wait = "waits" if waiting_count == 1 else "wait"
    try:
        settings = smtp_settings()
    except SmtpConfigError:
        settings = None
    if settings is None:
        st.caption(
            f":material/schedule_send: {count} to {escape_markdown(name)} {wait} in the outbox: "
            "they go out from here once email delivery is configured (README, Email delivery)."
        )
        return
    st.caption(
        f":material/schedule_send: {count} to {escape_markdown(name)} written before email "
        f"delivery was configured {wait} in the outbox."
    )
    if not st.button(
        f"Send {count} now",
        key=f"send_queued_{customer_id}",
        icon=":material/send:",
        disabled=read_only.on(),
        help=read_only.why(),
    ):
        return
    waiting = delivery.queued_emails(con, customer_id)
    outcomes: list[delivery.MessageOutcome] = []
    progress = st.progress(0.0, text="Sending…")
    for done, message_id in enumerate(waiting, start=1):
        outcomes.append(delivery.deliver_message(con, message_id, settings, by=auth.current_user()))
        progress.progress(done / len(waiting), text=f"Sent {done} of {len(waiting)}…")
    failed = sum(outcome.status == "Failed" for outcome in outcomes)
    delivered = sum(outcome.status == "Sent" for outcome in outcomes)
    sentence = f"Delivered {formatting.plural(delivered, 'email')} to {escape_markdown(name)}."
    if failed:
        sentence += f" {formatting.plural(failed, 'email')} failed: the history says why."
    flash(sentence, icon=":material/error:" if failed else ":material/send:")
    st.rerun()
