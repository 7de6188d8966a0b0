"""What a marketer does on the customer page: message, campaign and picture dialogs.

The dialogs are kinds of ``crm.ui.dialogs`` (one state, one map of dialogs,
one close, shared with the edit and delete dialogs): a button opens one,
``render_dialogs`` draws it on every run until it is saved or dismissed. A
success is flashed and shown as a toast at the top of the next run; a
failure is a sentence in the dialog, and nothing is written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from crm import avatars, catalogue, consent, formatting, queries, templates, writes
from crm.errors import CrmError, DuplicateError, ValidationFailed
from crm.formatting import escape_markdown
from crm.models import CampaignCreate, Channel, Customer, MessageCreate, parse
from crm.ui import auth, dialogs, read_only, sending, theme
from crm.ui.data import cached_customer_detail, connection, data_version, db_key
from crm.ui.dialogs import DialogKind
from crm.ui.navigation import CUSTOMERS_PAGE
from crm.ui.profile import avatar_html

Con = duckdb.DuckDBPyConnection
_HERE = Path(__file__).parent

MESSAGE: DialogKind = "message"
CAMPAIGN: DialogKind = "campaign"
PICTURE: DialogKind = "picture"

# Widget keys, shared with the tests.
BODY, SUBJECT, CHANNEL = "msg_body", "msg_subject", "msg_channel"
# The merge-field chips component, and the insertion a click on a chip asked for:
# {"field": "City", "text": <the box's text>, "start": 5, "end": 5} (tests set it too).
CHIPS, INSERT = "msg_chips", "_msg_insert"
_INSERTED = "_msg_inserted"  # (the new text, the cursor after the field), for one redraw
_INSERTIONS = "_msg_insertions"  # how many so far: the chips show each insertion once
BODY_PLACEHOLDER = "Write the message here, or start from the example."
CAMPAIGN_MODE, CAMPAIGN_PICK = "campaign_mode", "campaign_pick"
NEW_NAME, NEW_CHANNEL, NEW_TEMPLATE = "campaign_name", "campaign_channel", "campaign_template"
UPLOAD = "avatar_upload"
# (file id, (bytes, mime) or the refusal) of the last upload processed.
_PROCESSED = "_avatar_processed"
EXISTING, NEW = "Existing campaign", "New campaign"
SMS_SEGMENT = 160
CONSENT_HINT = "If they agreed, change it under Marketing on this page."


# A Material icon: emoji need a font that not every machine has.
_DONE = ":material/check_circle:"


def _errors(problem: CrmError) -> None:
    # Sentences may quote what the user typed (a file or campaign name): no Markdown.
    sentences = problem.errors.values() if isinstance(problem, ValidationFailed) else [str(problem)]
    for sentence in sentences:
        st.error(escape_markdown(sentence), icon=":material/error:")


def with_customer(kind: DialogKind, form: Callable[[Customer], None], what: str) -> None:
    """Draw ``form`` for the dialog's customer, or say they are gone."""
    state = dialogs.state_of(kind)
    assert state.customer_id is not None
    with theme.friendly_errors(what):
        detail = cached_customer_detail(state.customer_id)
        if detail is None:
            st.warning(
                "This customer was deleted, perhaps by someone else: nothing was sent or saved.",
                icon=":material/person_off:",
            )
            st.button("Close", key="dialog_close", on_click=dialogs.close_dialog, type="primary")
            return
        form(detail.customer)


# --- Personalised message -------------------------------------------------------


_chips = st.components.v2.component(
    "merge_field_chips",
    css=(_HERE / "merge_fields.css").read_text(encoding="utf-8"),
    js=(_HERE / "merge_fields.js").read_text(encoding="utf-8"),
)
_FIELD_LABELS = [merge.label for merge in templates.FIELDS]


@dataclass(frozen=True)
class MergeBox:
    """A text box with merge-field chips: the box's key, the chips' key, and the
    session keys of a pending insertion, of the text just inserted and of a count."""

    target: str
    chips: str
    insert: str
    inserted: str
    insertions: str


MESSAGE_BOX = MergeBox(BODY, CHIPS, INSERT, _INSERTED, _INSERTIONS)


def _queue_insert(box: MergeBox = MESSAGE_BOX) -> None:
    """Chips callback: keep the click for the box's form, which is drawn next."""
    asked = st.session_state[box.chips].get("insert")
    if asked is not None:
        st.session_state[box.insert] = asked


def take_insert(box: MergeBox = MESSAGE_BOX) -> None:
    """Insert the merge field a chip asked for where the cursor was; call before the
    box is drawn. A space keeps it apart from the words beside it."""
    asked = st.session_state.pop(box.insert, None)
    if not isinstance(asked, dict) or asked.get("field") not in _FIELD_LABELS:
        return
    text = str(asked.get("text") or "")
    start = min(max(int(asked.get("start") or 0), 0), len(text))
    end = min(max(int(asked.get("end") or start), start), len(text))
    before, after = text[:start], text[end:]
    token = f"[{asked['field']}]"
    if before and not before[-1].isspace() and before[-1] not in "([{“‘\"'":
        token = f" {token}"
    caret = len(before) + len(token)
    if after and after[0].isalnum():
        token = f"{token} "
    st.session_state[box.target] = f"{before}{token}{after}"
    st.session_state[box.insertions] = st.session_state.get(box.insertions, 0) + 1
    st.session_state[box.inserted] = (st.session_state[box.target], caret)


def merge_field_chips(box: MergeBox = MESSAGE_BOX) -> None:
    """The chips that insert a merge field at the cursor of ``box``'s text area."""
    text, caret = st.session_state.pop(box.inserted, (None, None))
    _chips(
        data={
            "label": "Insert a merge field at the cursor",
            "fields": _FIELD_LABELS,
            "target": box.target,
            "seq": st.session_state.get(box.insertions, 0),
            "text": text,
            "caret": caret,
        },
        key=box.chips,
        on_insert_change=functools.partial(_queue_insert, box),
    )


def _use_example() -> None:
    """Button callback: start from the example, unless something was written meanwhile."""
    if not str(st.session_state.get(BODY, "")).strip():
        st.session_state[BODY] = templates.EXAMPLE


def _preview(customer: Customer, subject: str, body: str) -> None:
    """The message as this customer will read it, or why it cannot be sent yet."""
    st.markdown("**Preview**")
    if not body.strip():
        st.caption("Write a message above; the preview shows it with this customer's details.")
        return
    # With the customer: a message can merge past its limit with their details.
    found = templates.problems(body, customer)
    if subject.strip():
        found += templates.problems(subject, customer, "subject")
    if found:
        for sentence in found:
            st.warning(escape_markdown(sentence), icon=":material/warning:")
        return
    rendered = templates.render(body, customer)
    with st.container(border=True, key="message_preview"):
        if subject.strip():
            st.text(f"Subject: {templates.render(subject, customer, 'subject').text}")
        st.text(rendered.text)
    for label, phrase in rendered.fallbacks:
        # The phrase may be the user's own ([Last Visit|a while]): the caption is escaped.
        st.caption(
            escape_markdown(
                f"No {label.lower()} on file for this customer, so [{label}] reads “{phrase}”."
            )
        )
    if st.session_state.get(CHANNEL) == "SMS":
        parts = -(-len(rendered.text) // SMS_SEGMENT)
        st.caption(f"{len(rendered.text):,} characters · {parts} SMS")  # numbers only


def send_message(
    con: Con, customer: Customer, channel: str, subject: str, body: str
) -> tuple[str, bool]:
    """Merge, validate, put the message in the outbox and deliver it (email over SMTP,
    when configured); returns the toast's sentence and whether it went well."""
    rendered = templates.render(body, customer)
    subject_text = templates.render(subject, customer, "subject").text if subject.strip() else ""
    data = parse(
        MessageCreate, {"body": rendered.text, "subject": subject_text, "channel": channel}
    )
    message_id = writes.record_message(con, customer.id, data, by=auth.current_user())
    return sending.deliver_personal_message(con, message_id, channel, customer.name)


def _refused(customer: Customer, channel: str) -> str | None:
    """Why ``customer`` may not be contacted on ``channel`` (crm.consent), shown as a
    warning with the way to change it; None when they may."""
    reason = consent.customer_refusal(customer, channel)
    if reason is not None:
        st.warning(escape_markdown(f"{reason} {CONSENT_HINT}"), icon=":material/unsubscribe:")
    return reason


def _message_form(customer: Customer) -> None:
    # The first channel the customer subscribed to, so the form opens ready to send.
    allowed = [c for c in ("Email", "SMS") if consent.customer_refusal(customer, c) is None]
    channel = st.segmented_control(
        "Channel",
        ["Email", "SMS"],
        default=allowed[0] if allowed else "Email",
        key=CHANNEL,
        required=True,
    )
    refused = _refused(customer, channel or "Email")
    subject = ""
    if channel == "Email":
        # Placeholders are instructions, never sample text: grey sample text was
        # taken for a written message, and Send then said it was empty.
        subject = st.text_input("Subject", key=SUBJECT, placeholder="Optional subject line")
    take_insert()
    merge_field_chips()
    body = st.text_area(
        "Message",
        key=BODY,
        height=150,
        placeholder=BODY_PLACEHOLDER,
        help=(
            f"Merge fields: {templates.FIELD_LIST}. A field with no value uses a phrase "
            "such as “your last visit”; choose your own with [Last Visit|a while]."
        ),
    )
    if not body.strip():
        st.button(
            "Start from the example",
            key="msg_use_example",
            icon=":material/edit_note:",
            type="tertiary",
            on_click=_use_example,
        )
    _preview(customer, subject or "", body)
    # Cancel closes the dialog as every other dialog's does: nothing is sent or kept,
    # and the draft's widgets, no longer drawn, go with it.
    if dialogs.confirm_buttons(
        "Send message",
        ":material/send:",
        key="msg_send",
        disabled=refused is not None,
        why_not=refused,
    ):
        try:
            sentence, went_well = send_message(
                connection(), customer, channel or "Email", subject or "", body
            )
        except CrmError as problem:
            _errors(problem)
        else:
            for key in (BODY, SUBJECT):
                st.session_state.pop(key, None)
            dialogs.done(sentence, _DONE if went_well else ":material/error:")


@dialogs.register(MESSAGE)
@st.dialog("Send a personalised message", width="large", on_dismiss=dialogs.close_dialog)
def _message_dialog() -> None:
    with_customer(MESSAGE, _message_form, "the message form")


# --- Campaigns ------------------------------------------------------------------


def add_to_new_campaign(
    con: Con, customer: Customer, name: str, channel: str, template: str
) -> str:
    """Create a campaign with the customer in it (one transaction: a refusal leaves no
    campaign behind); returns the toast's sentence."""
    data = parse(CampaignCreate, {"name": name, "channel": channel, "template": template})
    if data.template:
        templates.validate(data.template, field="template")
    writes.create_campaign(con, data, first_member=customer.id, by=auth.current_user())
    return f"Created “{escape_markdown(data.name)}” and added {escape_markdown(customer.name)}."


@st.cache_resource(max_entries=4, show_spinner=False)
def _campaign_choices(path: str, writes_seen: int) -> dict[int, tuple[str, str]]:
    """Campaign id -> ("Spring sale (Email)", "Mar 3, 2026 · 1,204 sent"), newest first.

    Counting the sends reads all of campaign_sends (3.8 million rows, 75-190 ms
    at a million customers), so the labels are kept until the next write
    (``writes_seen``) instead of being read on every run of the dialog.
    """
    labels = {}
    for campaign_id, name, channel, created, sent in queries.campaign_choices(connection()):
        went = f"{formatting.number(sent)} sent" if sent else "not sent yet"
        labels[campaign_id] = (
            f"{name} ({channel})",
            f"{formatting.short_date(created)} · {went}",
        )
    return labels


def campaign_labels() -> dict[int, tuple[str, str]]:
    """Every campaign's label and facts, newest first, read again only after a write."""
    return _campaign_choices(db_key(), data_version())


def _campaign_form(customer: Customer) -> None:
    con = connection()
    choices = campaign_labels()
    member_of = queries.customer_campaign_ids(con, customer.id)
    known = catalogue.catalogue(con, campaigns=list(choices)).campaigns
    refusals = {c.value: consent.customer_refusal(customer, c) for c in Channel}
    modes = [EXISTING, NEW] if choices else [NEW]
    mode = st.segmented_control("Add to", modes, default=modes[0], key=CAMPAIGN_MODE, required=True)
    if mode == EXISTING:

        def label(campaign_id: int) -> str:
            # Options are plain text, not Markdown: the name shows as typed.
            title, facts = choices[campaign_id]
            already = " · already in" if campaign_id in member_of else ""
            channel = known.get(campaign_id, ("", "Push"))[1]
            closed = " · not subscribed" if refusals.get(channel) else ""
            return f"{title} · created {facts}{already}{closed}"

        picked = st.selectbox(
            "Campaign",
            list(choices),
            format_func=label,
            key=CAMPAIGN_PICK,
            index=None,
            placeholder="Choose a campaign",
        )
        refused = None
        if picked is not None:
            # The options are cut short on a phone: the chosen one's facts in full.
            # A date and a count of sends (``_campaign_choices``), escaped all the same
            # so the caption never depends on what that label holds.
            st.caption(f"Created {escape_markdown(choices[int(picked)][1])}")
            refused = _refused(customer, known.get(int(picked), ("", "Push"))[1])
        # Cancel closes the dialog, as every other dialog's does.
        if dialogs.confirm_buttons(
            "Add to campaign",
            ":material/campaign:",
            key="campaign_add",
            disabled=picked is None or refused is not None,
            why_not=refused if picked is not None else "Choose a campaign first.",
        ):
            assert picked is not None
            try:
                writes.add_to_campaign(con, int(picked), customer.id, by=auth.current_user())
            except DuplicateError as problem:
                st.warning(escape_markdown(str(problem)), icon=":material/info:")
            except CrmError as problem:
                _errors(problem)
            else:
                name = catalogue.catalogue(con, campaigns=[int(picked)]).campaigns[int(picked)][0]
                dialogs.done(
                    f"Added {escape_markdown(customer.name)} to “{escape_markdown(name)}”.", _DONE
                )
        return
    closed = [reason for reason in refusals.values() if reason is not None]
    if closed:
        # The channel is chosen inside the form: say up front which ones cannot include them.
        st.caption(escape_markdown(" ".join(closed) + f" {CONSENT_HINT}"))
    with st.form("new_campaign", border=False, enter_to_submit=False):
        # No max_chars (here and on every text field): the browser drops a longer
        # paste without a word; the model refuses it with a sentence.
        name = st.text_input("Campaign name", key=NEW_NAME)
        channel = st.selectbox("Channel", [c.value for c in Channel], key=NEW_CHANNEL)
        template = st.text_area(
            "Message template",
            key=NEW_TEMPLATE,
            height=110,
            placeholder="Optional: the message every customer in the campaign gets",
            help=f"Optional. Merge fields: {templates.FIELD_LIST}.",
        )
        submitted = dialogs.form_buttons("Create and add", ":material/add:", key="campaign_create")
    if submitted:
        try:
            sentence = add_to_new_campaign(con, customer, name, channel or "Email", template)
        except CrmError as problem:
            _errors(problem)
        else:
            for key in (NEW_NAME, NEW_TEMPLATE):
                st.session_state.pop(key, None)
            dialogs.done(sentence, _DONE)


@dialogs.register(CAMPAIGN)
@st.dialog("Add to a campaign", width="medium", on_dismiss=dialogs.close_dialog)
def _campaign_dialog() -> None:
    with_customer(CAMPAIGN, _campaign_form, "the campaign form")


# --- Picture --------------------------------------------------------------------


def _processed(upload: UploadedFile | None) -> tuple[bytes, str] | None:
    """The upload re-encoded as it would be saved (bytes, mime), or None with the
    reason shown. Kept per uploaded file: Save stores what the preview showed
    without decoding the upload again."""
    if upload is None:
        st.session_state.pop(_PROCESSED, None)
        return None
    kept = st.session_state.get(_PROCESSED)
    if kept is None or kept[0] != upload.file_id:
        outcome: tuple[bytes, str] | CrmError
        try:
            outcome = avatars.process_upload(upload.getvalue(), upload.name)
        except CrmError as problem:
            outcome = problem
        kept = (upload.file_id, outcome)
        st.session_state[_PROCESSED] = kept
    if isinstance(kept[1], CrmError):
        _errors(kept[1])
        return None
    result: tuple[bytes, str] = kept[1]
    return result


def _picture_form(customer: Customer) -> None:
    face = st.empty()
    upload = st.file_uploader(
        "Upload a new picture",
        type=avatars.UPLOAD_TYPES,
        max_upload_size=avatars.MAX_UPLOAD_BYTES // (1024 * 1024),
        key=UPLOAD,
        help="PNG, JPEG or WebP, up to 2 MB. It is cropped to a square and scaled down.",
    )
    new = _processed(upload)
    if new is None:
        face.html(avatar_html(customer, large=True))
    else:
        with face.container():
            st.html(avatar_html(replace(customer, avatar=new[0], avatar_type=new[1]), large=True))
            st.caption("Preview: the picture as it will be saved. Save to keep it.")
    remove = (
        st.button("Remove picture", key="avatar_remove", icon=":material/delete:", type="tertiary")
        if customer.avatar
        else False
    )
    save = dialogs.confirm_buttons(
        "Save picture",
        ":material/check:",
        key="avatar_save",
        disabled=new is None,
        why_not="Upload a picture first." if new is None else None,
    )
    con = connection()
    if save and new is not None:
        try:
            writes.set_avatar(con, customer.id, *new, by=auth.current_user())
        except CrmError as problem:
            _errors(problem)
        else:
            st.session_state.pop(_PROCESSED, None)
            dialogs.done(f"New picture saved for {escape_markdown(customer.name)}.", _DONE)
    if remove:
        try:
            writes.remove_avatar(con, customer.id, by=auth.current_user())
        except CrmError as problem:
            _errors(problem)
        else:
            dialogs.done(
                f"Picture removed; {escape_markdown(customer.name)} shows initials again.", _DONE
            )


@dialogs.register(PICTURE)
@st.dialog("Profile picture", width="small", on_dismiss=dialogs.close_dialog)
def _picture_dialog() -> None:
    with_customer(PICTURE, _picture_form, "the picture form")


# --- Buttons --------------------------------------------------------------------


def render_dialogs(customer: Customer) -> None:
    """Draw the open dialog on this customer's page: one of these, or edit or delete."""
    dialogs.render_dialogs(customer.id)


def render_buttons(customer: Customer) -> None:
    """The page's actions, in one row that wraps on a phone."""
    with st.container(horizontal=True, gap="small", key="customer_actions"):
        st.button(
            "Edit",
            icon=":material/edit:",
            on_click=dialogs.open_edit_dialog,
            args=(customer.id,),
            key="open_edit",
            disabled=read_only.on(),
            help=read_only.why(),
        )
        st.button(
            "Send message",
            icon=":material/mail:",
            type="primary",
            on_click=dialogs.open_dialog,
            args=(MESSAGE, customer.id),
            key="open_message",
            disabled=read_only.on(),
            help=read_only.why(),
        )
        st.button(
            "Add to campaign",
            icon=":material/campaign:",
            on_click=dialogs.open_dialog,
            args=(CAMPAIGN, customer.id),
            key="open_campaign",
            disabled=read_only.on(),
            help=read_only.why(),
        )
        st.button(
            "Picture",
            icon=":material/add_a_photo:",
            on_click=dialogs.open_dialog,
            args=(PICTURE, customer.id),
            key="open_picture",
            disabled=read_only.on(),
            help=read_only.why(),
        )
        st.button(
            "Delete",
            icon=":material/delete:",
            on_click=dialogs.open_delete_dialog,
            args=(customer.id,),
            # The page of a deleted customer has nothing left to show: back to the overview.
            kwargs={"then_go_to": CUSTOMERS_PAGE},
            key="open_delete",
            disabled=read_only.on(),
            help=read_only.why(),
        )
