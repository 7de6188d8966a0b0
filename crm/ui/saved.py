"""Saved segments in the app: "Save segment" on the overview, opening a link
``Home?segment=12``, and the Segments page with its dialogs.

Opening a saved segment writes its stored filters into the URL before the
filter bar reads it (``open_from_link``), so ``crm.ui.filters`` applies them
as any link from outside: afresh each time, so the segment follows the data.
The overview then remembers which saved segment it opened (``OPEN``) to say
so, and, once the filters move away from it, to offer updating it to them (as
Shopify's segment editor does). The Segments page can update a segment too:
to the segment the overview showed last in this session (``CURRENT``).

Names and descriptions are user text: every one reaches Markdown through
``escape_markdown``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crm import formatting, saved_segments, segments, writes
from crm.errors import ConflictError, NotFound
from crm.formatting import escape_markdown
from crm.models import (
    CustomerFilter,
    SavedSegment,
    SegmentCreate,
    SegmentFiltersUpdate,
    SegmentRename,
    parse,
)
from crm.saved_segments import SEGMENT_PARAM, SegmentSize
from crm.ui import auth, bulk_add, cards, dialogs, export, filters, read_only
from crm.ui.data import cached_customer_page, connection, data_version, db_key, flash
from crm.ui.dialogs import DialogKind, DialogState
from crm.ui.navigation import CUSTOMERS_PAGE

OPEN = "_saved_open"  # the saved segment the overview opened (OpenSegment)
CURRENT = "_saved_current"  # the overview's segment last shown, without its page
_LINK_PROBLEM = "_saved_link_problem"  # why a ?segment= link could not be opened
_SAVED = ":material/bookmark_added:"
_READ_TTL_SECONDS = 60  # only ages relative dates ("visited in the last 7 days")


@dataclass(frozen=True)
class OpenSegment:
    """A saved segment as the overview opened it: its filters and version then.

    ``filters`` is None until the overview has applied them: then it is the
    segment the filter bar made of them (which may clamp a value to the data,
    e.g. a maximum above everyone's spending), so only a change by the user
    counts as a change.
    """

    id: int
    name: str
    version: int
    filters: CustomerFilter | None = None


def _opened(segment: SavedSegment) -> OpenSegment:
    return OpenSegment(segment.id, segment.name, segment.version)


def _stored_filter(segment: SavedSegment) -> CustomerFilter:
    return segments.without_page(saved_segments.segment_filter(segment))


# --- Cached reads ------------------------------------------------------------------


@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=8, show_spinner=False)
def _segment_list(path: str, writes: int) -> list[SavedSegment]:
    return saved_segments.list_segments(connection())


def cached_segments() -> list[SavedSegment]:
    """Every saved segment, read again only after a write."""
    return _segment_list(db_key(), data_version())


# Keyed by the filters, not the segment: a copy shares its original's count.
# The segment itself is passed unhashed (the leading underscore).
@st.cache_resource(ttl=_READ_TTL_SECONDS, max_entries=256, show_spinner=False)
def _segment_size(path: str, filters: str, writes: int, _segment: SavedSegment) -> SegmentSize:
    return saved_segments.live_sizes(connection(), [_segment])[_segment.id]


def cached_size(segment: SavedSegment) -> SegmentSize:
    """``saved_segments.live_sizes`` of one segment, counted again only after a write."""
    key = json.dumps(segment.filters, sort_keys=True)
    return _segment_size(db_key(), key, data_version(), segment)


# --- The overview ------------------------------------------------------------------


def _replace_url_segment(params: Mapping[str, str | list[str]]) -> None:
    for name in segments.PARAM_NAMES:
        if name in st.query_params:
            del st.query_params[name]
    for name, value in params.items():
        st.query_params[name] = value


def open_from_link() -> None:
    """Apply ``?segment=12``: call before ``filters.segment_bar``.

    The link's id is replaced in the URL by the segment's stored filters, read
    now, so the filter bar applies them as a new segment. A bad, unknown or
    deleted id leaves everyone on the overview, under a message saying why.
    """
    if SEGMENT_PARAM not in st.query_params:
        return
    raw = st.query_params.get(SEGMENT_PARAM)
    del st.query_params[SEGMENT_PARAM]
    try:
        segment = saved_segments.find_segment(connection(), raw)
    except NotFound as problem:
        st.session_state.pop(OPEN, None)
        st.session_state[_LINK_PROBLEM] = str(problem)
        _replace_url_segment({})
        # A bare URL would bring back this session's last segment: everyone instead.
        filters.clear_filters()
        return
    st.session_state.pop(_LINK_PROBLEM, None)
    st.session_state[OPEN] = _opened(segment)
    _replace_url_segment(segment.filters)


def render(segment: CustomerFilter) -> None:
    """Under the filter bar: which saved segment is open, and Save / Update.

    Call after ``filters.settle`` with the segment the overview shows.
    """
    current = segments.without_page(segment)
    st.session_state[CURRENT] = current
    problem = st.session_state.pop(_LINK_PROBLEM, None)
    if problem:
        st.warning(
            f"{escape_markdown(problem)} Showing all customers.", icon=":material/bookmark_remove:"
        )
    opened: OpenSegment | None = st.session_state.get(OPEN)
    filtered = segments.is_filtered(current)
    if opened is not None and not filtered:
        # Cleared back to everyone: the user has left the saved segment.
        st.session_state.pop(OPEN, None)
        opened = None
    if opened is not None and opened.filters is None:
        opened = replace(opened, filters=current)
        st.session_state[OPEN] = opened
    if opened is None and not filtered:
        return
    with st.container(horizontal=True, vertical_alignment="center", key="saved_segment_row"):
        changed = opened is not None and opened.filters != current
        if opened is not None:
            note = " (filters changed)" if changed else ""
            st.caption(
                f":material/bookmark: Saved segment: **{escape_markdown(opened.name)}**{note}",
                width="content",
            )
        if opened is not None and changed:
            st.button(
                f"Update “{escape_markdown(opened.name)}”",
                key="update_open_segment",
                icon=":material/sync:",
                on_click=_update_open_segment,
                args=(opened, current),
                disabled=read_only.on(),
                help=read_only.why("Make the saved segment keep the filters shown now."),
            )
        if opened is None or changed:
            st.button(
                "Save segment" if opened is None else "Save as new segment",
                key="save_segment",
                icon=":material/bookmark_add:",
                on_click=open_save_dialog,
                args=(current,),
                disabled=read_only.on(),
                help=read_only.why(),
            )


def open_save_dialog(current: CustomerFilter) -> None:
    """Open the "Save segment" dialog for the segment the overview shows."""
    dialogs.open_dialog("save_segment", filters=dict(saved_segments.filters_of(current)))


def _update_open_segment(opened: OpenSegment, current: CustomerFilter) -> None:
    """Callback of "Update “name”": the open saved segment keeps the filters shown now."""
    data = parse(
        SegmentFiltersUpdate,
        {"filters": saved_segments.filters_of(current), "version": opened.version},
    )
    try:
        version = writes.update_segment_filters(
            connection(), opened.id, data, by=auth.current_user()
        )
    except (ConflictError, NotFound) as problem:
        flash(escape_markdown(str(problem)), icon=":material/sync_problem:")
        if isinstance(problem, NotFound):
            st.session_state.pop(OPEN, None)
        return
    st.session_state[OPEN] = replace(opened, filters=current, version=version)
    flash(f"Updated {escape_markdown(opened.name)}", icon=_SAVED)


# --- Dialogs -------------------------------------------------------------------------

_FORM = "segment_form"


def _name_form(state: DialogState, save_label: str) -> bool:
    """Name and description fields; True when saved (Cancel closes the dialog)."""
    with st.form(key=dialogs.form_key(_FORM, state), border=False):
        st.text_input(
            "Name",
            value=state.name,
            key=dialogs.field_key(_FORM, state, "name"),
            placeholder="e.g. Lapsed coffee buyers",
            required=True,
        )
        st.text_area(
            "Description (optional)",
            value=state.values.get("description", ""),
            key=dialogs.field_key(_FORM, state, "description"),
            placeholder="What these customers have in common, or what the segment is for",
            height=90,
        )
        return dialogs.form_buttons(save_label)


def _create(data: SegmentCreate) -> None:
    """Save the new segment; the overview then has it open."""
    new_id = writes.create_segment(connection(), data, by=auth.current_user())
    segment = saved_segments.get_segment(connection(), new_id)
    if segment is not None:
        st.session_state[OPEN] = _opened(segment)


def _save_body(state: DialogState) -> None:
    st.caption("Saves the filters the overview shows now. Opening it applies them afresh.")
    errors_slot = st.empty()
    if not _name_form(state, "Save segment"):
        return
    values = {
        "name": dialogs.typed(_FORM, state, "name"),
        "description": dialogs.typed(_FORM, state, "description"),
        "filters": state.filters,
    }
    # A new segment was read from nothing that could change meanwhile, so no refusal is
    # kept to draw: a conflict at the write is said under the form, as any error.
    data = dialogs.submit(state, errors_slot, SegmentCreate, values, _create, refused=())
    if data is not None:
        dialogs.done(f"Saved segment {escape_markdown(data.name)}", _SAVED)


def _rename_body(state: DialogState) -> None:
    if dialogs.refusal(state):
        return
    errors_slot = st.empty()
    if not _name_form(state, "Save"):
        return
    segment_id = state.segment_id
    assert segment_id is not None
    values = {
        "name": dialogs.typed(_FORM, state, "name"),
        "description": dialogs.typed(_FORM, state, "description"),
        "version": state.version,
    }
    data = dialogs.submit(
        state,
        errors_slot,
        SegmentRename,
        values,
        lambda data: writes.rename_segment(connection(), segment_id, data, by=auth.current_user()),
    )
    if data is not None:
        dialogs.done(f"Renamed to {escape_markdown(data.name)}", _SAVED)


def _update_body(state: DialogState) -> None:
    if dialogs.refusal(state):
        return
    segment_id = state.segment_id
    assert segment_id is not None
    current: CustomerFilter | None = st.session_state.get(CURRENT)
    if current is None:
        st.rerun()  # the session forgot the overview meanwhile
    assert current is not None
    now = cached_customer_page(current).totals.customers
    st.markdown(
        f"Make **{escape_markdown(state.name)}** keep the filters the overview shows now? "
        f"It will hold the {escape_markdown(formatting.plural(now, 'customer'))} shown there, "
        "and follow those filters from now on."
    )
    if not dialogs.confirm_buttons("Update segment", ":material/sync:", key="dialog_save"):
        return
    data = parse(
        SegmentFiltersUpdate,
        {"filters": saved_segments.filters_of(current), "version": state.version},
    )
    dialogs.attempt(
        state,
        lambda: writes.update_segment_filters(
            connection(), segment_id, data, by=auth.current_user()
        ),
    )
    st.session_state.pop(OPEN, None)  # its version moved on
    dialogs.done(f"Updated {escape_markdown(state.name)}", _SAVED)


def _delete_body(state: DialogState) -> None:
    if dialogs.refusal(state):
        return
    segment_id, version = state.segment_id, state.version
    assert segment_id is not None and version is not None
    st.markdown(
        f"Delete the saved segment **{escape_markdown(state.name)}**? Its customers are "
        "not affected, but links to it stop working. This cannot be undone."
    )
    if not dialogs.confirm_buttons("Delete segment", ":material/delete:"):
        return
    dialogs.attempt(
        state,
        lambda: writes.delete_segment(connection(), segment_id, version, by=auth.current_user()),
    )
    opened: OpenSegment | None = st.session_state.get(OPEN)
    if opened is not None and opened.id == segment_id:
        st.session_state.pop(OPEN, None)
    dialogs.done(f"Deleted {escape_markdown(state.name)}", ":material/delete:")


@dialogs.register("save_segment")
@st.dialog("Save segment", width="small", on_dismiss=dialogs.close_dialog)
def _save_dialog() -> None:
    dialogs.guarded("save_segment", _save_body)


@dialogs.register("rename_segment")
@st.dialog("Rename segment", width="small", on_dismiss=dialogs.close_dialog)
def _rename_dialog() -> None:
    dialogs.guarded("rename_segment", _rename_body)


@dialogs.register("update_segment")
@st.dialog("Update segment", width="small", on_dismiss=dialogs.close_dialog)
def _update_dialog() -> None:
    dialogs.guarded("update_segment", _update_body)


@dialogs.register("delete_segment")
@st.dialog("Delete segment", width="small", on_dismiss=dialogs.close_dialog)
def _delete_dialog() -> None:
    dialogs.guarded("delete_segment", _delete_body)


def _open_segment_dialog(kind: DialogKind, segment: SavedSegment) -> None:
    dialogs.open_dialog(
        kind,
        segment_id=segment.id,
        version=segment.version,
        name=segment.name,
        values={"description": segment.description},
    )


def _duplicate(segment: SavedSegment) -> None:
    """Callback of "Duplicate": a copy under the first free "Name (copy)"."""
    con = connection()
    try:
        copy_id = writes.duplicate_segment(con, segment.id, by=auth.current_user())
    except NotFound as problem:
        flash(escape_markdown(str(problem)), icon=":material/warning:")
        return
    copy = saved_segments.get_segment(con, copy_id)
    copy_name = copy.name if copy is not None else "a copy"
    flash(
        f"Duplicated {escape_markdown(segment.name)} as {escape_markdown(copy_name)}",
        icon=":material/content_copy:",
    )


# --- The Segments page -------------------------------------------------------------


def size_text(size: SegmentSize) -> str:
    """ "**1,204** customers · 0.1 % of all" (Markdown, escaped)."""
    noun = "customer" if size.customers == 1 else "customers"
    share = "" if size.share is None else f" · {share_text(size.share)} of all"
    count = escape_markdown(formatting.number(size.customers))
    return f"**{count}** {escape_markdown(noun + share)}"


def share_text(share: float) -> str:
    """A fraction as the overview's summary shows a share: "37.0 %", "under 0.1 %"
    (with its no-break space before "%")."""
    return cards.share_text(round(share * 1_000_000), 1_000_000)


# "Open" is a link (middle-click opens a new tab), drawn like the main button.
_PAGE_CSS = """
<style>
.st-key-segments_list [data-testid="stPageLink-NavLink"] {
  background: light-dark(#4f46e5, #6264f0); color: #fff; border-radius: .5rem;
  padding: .35rem .8rem; min-height: 2.4rem; }
.st-key-segments_list [data-testid="stPageLink-NavLink"]:hover {
  background: light-dark(#4338ca, #4f46e5); }
.st-key-segments_list [data-testid="stPageLink-NavLink"] * { color: #fff; }
</style>
"""


def render_page() -> None:
    """The Segments page: every saved segment with its live size and actions."""
    st.html(_PAGE_CSS)
    with st.container(horizontal=True, vertical_alignment="center", key="segments_header"):
        st.title("Segments", anchor=False, width="stretch")
        st.page_link(CUSTOMERS_PAGE, label="All customers", icon=":material/arrow_back:")
    saved = cached_segments()
    if not saved:
        with st.container(border=True, key="segments_empty", horizontal_alignment="center"):
            st.markdown("**No saved segments yet**")
            st.caption(
                "Filter the customers on the overview, then press “Save segment” to keep "
                "those filters under a name and open them again here."
            )
            st.page_link(CUSTOMERS_PAGE, label="Go to the overview", icon=":material/filter_alt:")
        return
    current: CustomerFilter | None = st.session_state.get(CURRENT)
    usable = current is not None and segments.is_filtered(current)
    # The list is drawn first and the counts filled in after, so a slow count
    # never holds back the list (each is a scan of the customers; cached).
    with st.container(key="segments_list"):
        slots = [(s, _segment_row(s, current if usable else None)) for s in saved]
    for segment, slot in slots:
        slot.markdown(size_text(cached_size(segment)))


def _segment_row(segment: SavedSegment, current: CustomerFilter | None) -> DeltaGenerator:
    """One saved segment's box; returns the place its count goes."""
    with st.container(
        border=True,
        horizontal=True,
        vertical_alignment="center",
        gap="medium",
        key=f"saved_segment_{segment.id}",
    ):
        with st.container(gap="small"):
            st.markdown(f"**{escape_markdown(segment.name)}**")
            if segment.description:
                st.caption(escape_markdown(segment.description))
            slot = st.empty()
            slot.caption("Counting customers…")
            st.caption(f"Changed {formatting.short_date(segment.updated_at)}")
        same = current is not None and current == _stored_filter(segment)
        with st.container(
            horizontal=True, gap="small", width="content", vertical_alignment="center"
        ):
            st.page_link(
                CUSTOMERS_PAGE,
                label="Open",
                icon=":material/open_in_new:",
                query_params={SEGMENT_PARAM: str(segment.id)},
            )
            st.button(
                "Rename",
                key=f"rename_segment_{segment.id}",
                icon=":material/edit:",
                on_click=_open_segment_dialog,
                args=("rename_segment", segment),
                disabled=read_only.on(),
                help=read_only.why(),
            )
            st.button(
                "Update",
                key=f"update_segment_{segment.id}",
                icon=":material/sync:",
                on_click=_open_segment_dialog,
                args=("update_segment", segment),
                disabled=read_only.on() or current is None or same,
                help=(
                    read_only.REASON
                    if read_only.on()
                    else "Filter the customers on the overview first: this makes the segment "
                    "keep the filters shown there."
                    if current is None
                    else "It already has the overview's filters."
                    if same
                    else "Make this segment keep the filters the overview shows now."
                ),
            )
            bulk_add.segment_button(segment.id, segment.filters, segment.name)
            st.button(
                "Export",
                key=f"export_segment_{segment.id}",
                icon=":material/download:",
                on_click=export.open_export_dialog,
                args=(_stored_filter(segment), segment.name),
                help="Download this segment's customers as CSV, Excel or Parquet.",
            )
            st.button(
                "Duplicate",
                key=f"duplicate_segment_{segment.id}",
                icon=":material/content_copy:",
                on_click=_duplicate,
                args=(segment,),
                disabled=read_only.on(),
                help=read_only.why(),
            )
            st.button(
                "Delete",
                key=f"delete_segment_{segment.id}",
                icon=":material/delete:",
                on_click=_open_segment_dialog,
                args=("delete_segment", segment),
                disabled=read_only.on(),
                help=read_only.why(),
            )
    return slot
