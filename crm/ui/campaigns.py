"""The Campaigns page (every campaign and what it achieved) and one campaign's page
(``Campaign?id=12``): funnel, opens and clicks by day, lift, members, message and actions.

The figures come from ``crm.campaigns.results`` through reads cached until the
next write (``data.data_version()``). Names, subjects and templates are user
text: every one reaches Markdown through ``escape_markdown`` (or is drawn as
plain text). The rename, edit and delete dialogs go through the dialog
registry (``crm.ui.dialogs``); each remembers the campaign's version from when
it opened, so a change made meanwhile by someone else is refused in words.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from crm import config, formatting
from crm.campaigns import charts, manage, results
from crm.campaigns.results import CampaignResult, MemberPage, MergeCheck
from crm.errors import NotFound
from crm.formatting import escape_markdown
from crm.models import CampaignMessageUpdate, CampaignRename
from crm.ui import auth, dialogs, sending
from crm.ui.data import connection, data_version, db_key
from crm.ui.dialogs import DialogKind, DialogState
from crm.ui.navigation import CAMPAIGN_PAGE, CAMPAIGNS_PAGE, CUSTOMER_PAGE, CUSTOMERS_PAGE

MEMBERS_PAGE_SIZE = 50
READ_ONLY_REASON = "This is a read-only copy: campaigns cannot be changed here."
_PENDING = "_campaigns_open"  # a campaign or customer picked in a table: open it next run
_READ_TTL_SECONDS = 60  # only ages the "windows still open" count
_SAVED = ":material/check_circle:"


# --- Cached reads ---------------------------------------------------------------------


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=4, show_spinner=False)
def _all_results(path: str, writes: int) -> list[CampaignResult]:
    return results.campaign_results(connection())


def cached_results() -> list[CampaignResult]:
    """Every campaign's results, read again only after a write (or a minute)."""
    return _all_results(db_key(), data_version())


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=32, show_spinner=False)
def _one_result(path: str, campaign_id: int, writes: int) -> CampaignResult | None:
    return results.campaign_result(connection(), campaign_id)


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=64, show_spinner=False)
def _members(path: str, campaign_id: int, page: int, status: str | None, writes: int) -> MemberPage:
    return results.members(connection(), campaign_id, page, MEMBERS_PAGE_SIZE, status)


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=32, show_spinner=False)
def _merge_check(path: str, campaign: CampaignResult, writes: int) -> MergeCheck:
    return results.merge_check(connection(), campaign)


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=32, show_spinner=False)
def _engagement(path: str, campaign_id: int, writes: int) -> pd.DataFrame:
    return results.engagement_by_day(connection(), campaign_id)


def _path() -> str:
    return db_key()


# --- Opening what was picked in a table -----------------------------------------------


def take_pending() -> None:
    """Open the campaign or customer picked in a table in the last run (call at the top)."""
    pending = st.session_state.pop(_PENDING, None)
    if pending is not None:
        page, item_id = pending
        st.switch_page(page, query_params={"id": str(item_id)})


def _picked(table_key: str, ids: list[int], page: str) -> None:
    """A row selected in a table: open it on the next run, and clear the selection so
    coming back does not open it again."""
    rows = st.session_state[table_key]["selection"]["rows"]
    if rows:
        st.session_state[_PENDING] = (page, ids[rows[0]])
    st.session_state[table_key] = {"selection": {"rows": [], "columns": []}}


# --- The Campaigns page ---------------------------------------------------------------


def _percent_column(label: str, help: str, width: int) -> Any:
    """A column of percentages (the values are already × 100), one decimal."""
    return st.column_config.NumberColumn(label, format="%.1f %%", help=help, width=width)


# What a campaign achieved first (lift, its interval, the verdict, revenue), so the
# answer is on screen without scrolling sideways at 1,400 px; then how it went out.
LIST_COLUMNS: dict[str, Any] = {
    "name": st.column_config.TextColumn("Campaign", width=220, pinned=True),
    "channel": st.column_config.TextColumn("Channel", width=70),
    "lift": st.column_config.NumberColumn(
        "Lift",
        format="%+.1f pts",
        help="Ordered (sent) minus ordered (control), in percentage points",
        width=84,
    ),
    "interval": st.column_config.TextColumn(
        "95\u00a0% interval",
        help="The lift is in this range with 95\u00a0% confidence (Newcombe's method)",
        width=120,
    ),
    "verdict": st.column_config.TextColumn("Result", width=230),
    "revenue": st.column_config.NumberColumn(
        "Revenue",
        format="dollar",
        help="Orders placed within 14 days of a delivered send",
        width=110,
    ),
    "audience": st.column_config.NumberColumn(
        "Audience", format="localized", help="Members not held out", width=86
    ),
    "control": st.column_config.NumberColumn(
        "Control", format="localized", help="Members held out at random: sent nothing", width=76
    ),
    "delivered_rate": _percent_column("Delivered", "Share of the sends that went out", 84),
    "failed_rate": _percent_column("Failed", "Share of the sends that went out", 70),
    "open_rate": _percent_column("Opened", "Share of the delivered sends", 76),
    "click_rate": _percent_column("Clicked", "Share of the delivered sends", 76),
    "sent_conversion": _percent_column(
        "Ordered (sent)", "Members it was sent to who ordered within 14 days of their send", 110
    ),
    "control_conversion": _percent_column(
        "Ordered (control)",
        "Control members who ordered within 14 days of the campaign's first delivery",
        124,
    ),
    "created": st.column_config.DatetimeColumn("Created", format="MMM D, YYYY", width=100),
}


def render_list_page() -> None:
    """Every campaign with its results; a row opens the campaign."""
    st.title("Campaigns", anchor=False)
    found = cached_results()
    if not found:
        _empty_state()
        return
    st.caption(
        "Lift compares customers who were sent a campaign with a control group held out at "
        "random: the difference in how many ordered within 14 days, in percentage points. "
        "When its 95\u00a0% interval leaves out zero, the campaign made a real difference. "
        "Select a row to open a campaign."
    )
    frame = results.results_frame(found)
    text = st.text_input(
        "Search campaigns",
        key="campaigns_search",
        placeholder="Name or channel",
        icon=":material/search:",
    )
    shown = results.search(frame, text)
    if shown.empty:
        st.info(
            f"No campaign name or channel contains “{escape_markdown(text.strip())}”.",
            icon=":material/search_off:",
        )
        return
    ids = [int(i) for i in shown["id"]]
    st.dataframe(
        shown,
        hide_index=True,
        column_config=LIST_COLUMNS,
        column_order=list(LIST_COLUMNS),
        on_select=lambda: _picked("campaigns_table", ids, CAMPAIGN_PAGE),
        selection_mode="single-row",
        key="campaigns_table",
        placeholder=formatting.MISSING,
    )
    st.caption(
        f"{formatting.plural(len(shown), 'campaign')} · newest first · click a header to sort"
    )
    # The table selects a row with Shift+Space, which nobody guesses: a picker too.
    names = dict(zip(ids, shown["name"], strict=True))
    st.selectbox(
        "Open a campaign",
        ids,
        index=None,
        format_func=names.__getitem__,
        placeholder="Choose a campaign",
        key="campaigns_pick",
        on_change=_chosen,
        args=("campaigns_pick", CAMPAIGN_PAGE),
    )


def _chosen(picker_key: str, page: str) -> None:
    """A campaign chosen in the picker: open it next run; the picker forgets it."""
    chosen = st.session_state.get(picker_key)
    if chosen is not None:
        st.session_state[_PENDING] = (page, int(chosen))
    st.session_state[picker_key] = None


def _empty_state() -> None:
    with st.container(border=True, key="empty_state", horizontal_alignment="center"):
        st.html('<div class="ch-empty-icon" aria-hidden="true">campaign</div>')
        st.markdown("**No campaigns yet**")
        st.caption(
            "Add a segment to a campaign from the customer overview (“Add to campaign”), "
            "or one customer from their page. Its results show here once it is sent."
        )
        st.page_link(CUSTOMERS_PAGE, label="Go to the customers", icon=":material/groups:")


# --- One campaign ---------------------------------------------------------------------


def find_campaign(raw_id: str | None) -> CampaignResult:
    """The campaign ``?id=`` names; NotFound with a sentence for a missing, malformed or
    unknown id."""
    if raw_id is None or not raw_id.strip():
        raise NotFound("No campaign was chosen: open one from the list of campaigns.")
    text = raw_id.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound(
            f"“{text[:40]}” is not a campaign number: open a campaign from the list instead."
        )
    found = _one_result(_path(), int(text), data_version())
    if found is None:
        raise NotFound(
            f"There is no campaign number {int(text):,}; it may have been deleted. "
            "Open one from the list of campaigns."
        )
    return found


def render_not_found(problem: NotFound) -> None:
    st.title("Campaign not found", anchor=False)
    st.info(escape_markdown(str(problem)), icon=":material/campaign:")
    st.page_link(CAMPAIGNS_PAGE, label="Back to all campaigns", icon=":material/arrow_back:")
    dialogs.render_dialogs()  # a dialog open when the campaign vanished still says why


def render_campaign_page(campaign: CampaignResult) -> None:
    st.page_link(CAMPAIGNS_PAGE, label="All campaigns", icon=":material/arrow_back:")
    st.title(escape_markdown(campaign.name), anchor=False)
    st.caption(
        f"{campaign.channel} campaign · created {formatting.short_date(campaign.created_at)}"
        f" · {formatting.plural(campaign.members, 'member')}"
        f" ({campaign.audience:,} in the audience, {campaign.control:,} held out)"
        + (f" · {campaign.queued:,} queued" if campaign.queued else "")
        + (f" · {campaign.sending:,} sending" if campaign.sending else "")
    )
    _actions(campaign)
    # The Send panel (counts, "Send N queued" with progress and results, or how to
    # configure SMTP; read-only mode and channels without a provider are explained
    # there): first while something is left to send, else after the results.
    waiting = bool(campaign.queued or campaign.sending)
    if waiting:
        sending.render_send(campaign.id)
    _metrics(campaign)
    _lift(campaign)
    left, right = st.columns(2, gap="large")
    with left:
        st.altair_chart(charts.funnel_chart(results.funnel(campaign)), width="stretch")
    with right:
        st.altair_chart(charts.lift_chart(results.conversion_groups(campaign)), width="stretch")
    days = _engagement(_path(), campaign.id, data_version())
    st.altair_chart(charts.engagement_chart(days), width="stretch")
    if campaign.opened and days.empty:
        st.caption("Opens and clicks recorded before their times were kept have no day.")
    if not waiting:
        st.subheader("Sending", anchor=False)
        sending.render_send(campaign.id)
    _message(campaign)
    _members_table(campaign)
    dialogs.render_dialogs()


# Each action button opens its dialog: (label, key, icon, dialog).
_ACTIONS: tuple[tuple[str, str, str, DialogKind], ...] = (
    ("Rename", "campaign_rename", ":material/edit:", "rename_campaign"),
    ("Edit message", "campaign_edit", ":material/edit_note:", "edit_campaign"),
    ("Delete", "campaign_delete", ":material/delete:", "delete_campaign"),
)


def _actions(campaign: CampaignResult) -> None:
    read_only = config.read_only()
    why = READ_ONLY_REASON if read_only else None
    with st.container(horizontal=True, key="campaign_actions"):
        for label, key, icon, kind in _ACTIONS:
            st.button(
                label,
                key=key,
                icon=icon,
                disabled=read_only,
                help=why,
                on_click=_open_campaign_dialog,
                args=(kind, campaign),
            )


def _rate(value: float | None) -> str:
    # A no-break space before "%" (as everywhere the app shows a percentage).
    return formatting.MISSING if value is None else f"{value * 100:.1f}\u00a0%"


def _metrics(campaign: CampaignResult) -> None:
    with st.container(horizontal=True, key="campaign_metrics"):
        st.metric("Sent", f"{campaign.sent:,}", border=True)
        # Rates as email tools give them (opens and clicks of the delivered); the
        # funnel below shows each step as a share of the sent, so both say their base.
        st.metric(
            "Delivered",
            _rate(campaign.delivered_rate),
            border=True,
            help="Of the sends that went out",
        )
        st.metric("Opened, of delivered", _rate(campaign.open_rate), border=True)
        st.metric("Clicked, of delivered", _rate(campaign.click_rate), border=True)
        st.metric(
            "Revenue attributed",
            formatting.money(campaign.revenue),
            border=True,
            help="Orders placed within 14 days of a delivered send",
        )


def _lift(campaign: CampaignResult) -> None:
    said = escape_markdown(results.lift_sentence(campaign))
    measured = campaign.lift
    if measured is None:
        st.info(said, icon=":material/info:")
    elif not measured.distinguishable:
        st.info(said, icon=":material/balance:")
    elif measured.difference > 0:
        st.success(said, icon=":material/trending_up:")
    else:
        st.warning(said, icon=":material/trending_down:")
    if campaign.stale:
        st.caption(
            f"{campaign.stale:,} members' orders were counted just now from the order history "
            "(their send was recorded without its results)."
        )


def _message(campaign: CampaignResult) -> None:
    st.subheader("Message", anchor=False)
    with st.container(border=True, key="campaign_message"):
        if campaign.subject:
            st.caption("Subject")
            st.text(campaign.subject)
        st.caption("Message")
        if campaign.template.strip():
            st.text(campaign.template)
        else:
            st.text("(empty)")
    check = _merge_check(_path(), campaign, data_version())
    for problem in check.problems:
        st.warning(escape_markdown(problem), icon=":material/error:")
    if not campaign.queued:
        st.caption("Nothing is queued, so no merge fields are left to fill.")
        return
    if not check.missing and not check.problems:
        st.caption(
            f"Merge-field check: every one of the {check.queued:,} queued members has "
            "the values this message uses."
        )
    for _, _, sentence in check.missing:
        st.caption(f":material/info: {escape_markdown(sentence)}")


MEMBER_COLUMNS: dict[str, Any] = {
    "name": st.column_config.TextColumn("Customer", width=170),
    "email": st.column_config.TextColumn("Email", width=220),
    "status": st.column_config.TextColumn("Status", width=170),
    "sent_at": st.column_config.DatetimeColumn("Sent", format="MMM D, YYYY HH:mm", width=140),
    "opens": st.column_config.NumberColumn("Opens", width=64),
    "clicks": st.column_config.NumberColumn("Clicks", width=64),
    "ordered": st.column_config.CheckboxColumn(
        "Ordered in 14 days", help="Ordered within 14 days of the send", width=130
    ),
    "revenue": st.column_config.NumberColumn("Revenue", format="dollar", width=90),
    "failure_reason": st.column_config.TextColumn("Why it failed", width=200),
}
_ALL_STATUSES = "All members"


def _members_table(campaign: CampaignResult) -> None:
    st.subheader("Members", anchor=False)
    if not campaign.members:
        st.info("Nobody is in this campaign yet.")
        return
    statuses = [_ALL_STATUSES, *results.MEMBER_STATUSES]
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    with left:
        chosen = st.selectbox(
            "Show",
            statuses,
            format_func=lambda s: results.STATUS_LABELS.get(s, s),
            key=f"members_status_{campaign.id}",
        )
    status = None if chosen == _ALL_STATUSES else chosen
    page_key = f"members_page_{campaign.id}_{chosen}"
    asked = int(st.session_state.get(page_key, 1))
    page = _members(_path(), campaign.id, asked, status, data_version())
    if page.page != asked:  # past the end (members deleted meanwhile): the last page
        st.session_state[page_key] = page.page
    with right:
        st.number_input(
            f"Page (of {page.pages:,})",
            min_value=1,
            max_value=page.pages,
            value=page.page,
            step=1,
            key=page_key,
        )
    if page.rows.empty:
        st.caption("No member has this status.")
        return
    first = (page.page - 1) * MEMBERS_PAGE_SIZE + 1
    st.caption(
        f"{first:,}–{first + len(page.rows) - 1:,} of {page.total:,}, in the order they were "
        "added. Select a row to open the customer."
    )
    ids = [int(i) for i in page.rows["customer_id"]]
    key = f"members_{campaign.id}_{chosen}_{page.page}"
    st.dataframe(
        page.rows,
        hide_index=True,
        column_config=MEMBER_COLUMNS,
        column_order=list(MEMBER_COLUMNS),
        on_select=lambda: _picked(key, ids, CUSTOMER_PAGE),
        selection_mode="single-row",
        key=key,
        placeholder=formatting.MISSING,
    )


# --- Dialogs --------------------------------------------------------------------------

_FORM = "campaign_form"


def _open_campaign_dialog(kind: DialogKind, campaign: CampaignResult) -> None:
    dialogs.open_dialog(
        kind,
        campaign_id=campaign.id,
        version=campaign.version,
        name=campaign.name,
        values={
            "subject": campaign.subject,
            "template": campaign.template,
            "members": str(campaign.members),
        },
    )


def _rename_body(state: DialogState) -> None:
    if dialogs.refusal(state):
        return
    errors_slot = st.empty()
    with st.form(key=dialogs.form_key(_FORM, state), border=False):
        st.text_input(
            "Name", value=state.name, key=dialogs.field_key(_FORM, state, "name"), required=True
        )
        saved = dialogs.form_buttons("Save")
    if not saved:
        return
    campaign_id = state.campaign_id
    assert campaign_id is not None
    data = dialogs.submit(
        state,
        errors_slot,
        CampaignRename,
        {"name": dialogs.typed(_FORM, state, "name"), "version": state.version},
        lambda data: manage.rename_campaign(
            connection(), campaign_id, data, by=auth.current_user()
        ),
    )
    if data is not None:
        dialogs.done(f"Renamed to {escape_markdown(data.name)}", _SAVED)


def _edit_body(state: DialogState) -> None:
    if dialogs.refusal(state):
        return
    st.caption(
        "Merge fields such as [First Name] or [City|your town] are filled per member. "
        "Sends already delivered keep the message they got."
    )
    errors_slot = st.empty()
    with st.form(key=dialogs.form_key(_FORM, state), border=False):
        st.text_input(
            "Subject",
            value=state.values.get("subject", ""),
            key=dialogs.field_key(_FORM, state, "subject"),
        )
        st.text_area(
            "Message",
            value=state.values.get("template", ""),
            key=dialogs.field_key(_FORM, state, "template"),
            height=180,
            required=True,
        )
        saved = dialogs.form_buttons("Save")
    if not saved:
        return
    campaign_id = state.campaign_id
    assert campaign_id is not None
    data = dialogs.submit(
        state,
        errors_slot,
        CampaignMessageUpdate,
        {
            "subject": dialogs.typed(_FORM, state, "subject"),
            "template": dialogs.typed(_FORM, state, "template"),
            "version": state.version,
        },
        lambda data: manage.update_message(connection(), campaign_id, data, by=auth.current_user()),
    )
    if data is not None:
        dialogs.done(f"Saved the message of {escape_markdown(state.name)}", _SAVED)


def _delete_body(state: DialogState) -> None:
    if dialogs.refusal(state):
        return
    campaign_id, version = state.campaign_id, state.version
    assert campaign_id is not None and version is not None
    st.markdown(
        f"Delete the campaign **{escape_markdown(state.name)}** and its "
        f"{escape_markdown(formatting.plural(int(state.values.get('members', 0)), 'member'))}? "
        "Their sends and "
        "results go too; customers and their orders stay. This cannot be undone."
    )
    if not dialogs.confirm_buttons("Delete campaign", ":material/delete:"):
        return
    dialogs.attempt(
        state,
        lambda: manage.delete_campaign(connection(), campaign_id, version, by=auth.current_user()),
    )
    dialogs.done(f"Deleted {escape_markdown(state.name)}", ":material/delete:", CAMPAIGNS_PAGE)


@dialogs.register("rename_campaign")
@st.dialog("Rename campaign", width="small", on_dismiss=dialogs.close_dialog)
def _rename_dialog() -> None:
    dialogs.guarded("rename_campaign", _rename_body)


@dialogs.register("edit_campaign")
@st.dialog("Edit message", width="medium", on_dismiss=dialogs.close_dialog)
def _edit_dialog() -> None:
    dialogs.guarded("edit_campaign", _edit_body)


@dialogs.register("delete_campaign")
@st.dialog("Delete campaign", width="small", on_dismiss=dialogs.close_dialog)
def _delete_dialog() -> None:
    dialogs.guarded("delete_campaign", _delete_body)
