""" "Add to campaign" for a whole segment: the overview's, or a saved one's.

A dialog of ``crm.ui.dialogs`` in two steps. First the campaign (an existing
one, or a new one with its name, channel, subject and template with merge
fields, as the customer page's campaign dialog) and the control group's
share. Then the numbers in words, counted by ``crm.campaigns.audience``
before anything is written; "Add" writes them in one transaction, which
counts again: if the segment changed meanwhile, nothing is written and the
new numbers are shown to be confirmed. The seed of the control group's draw
is chosen when the numbers are shown, so a double click repeats the same
addition (written once) instead of making a second one.

Read-only mode (``CRM_READ_ONLY``): the buttons are disabled and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from crm import config, formatting, templates
from crm.campaigns import audience
from crm.campaigns.audience import AudiencePreview, NothingToAdd, SegmentChanged
from crm.errors import CrmError, NotFound, ValidationFailed
from crm.formatting import escape_markdown
from crm.models import CampaignCreate, Channel, CustomerFilter, parse
from crm.segments import filter_from_params
from crm.ui import actions, auth, dialogs, theme
from crm.ui.data import connection, flash
from crm.ui.dialogs import DialogKind, DialogState

KIND: DialogKind = "bulk_add"
# Widget keys, shared with the tests.
MODE, PICK, SHARE = "bulk_mode", "bulk_pick", "bulk_share"
NAME, CHANNEL, SUBJECT, TEMPLATE = "bulk_name", "bulk_channel", "bulk_subject", "bulk_template"
REVIEW, ADD, BACK, CANCEL = "bulk_review", "bulk_add_confirm", "bulk_back", "bulk_cancel"
OPEN_HEADER = "bulk_add_open"
EXISTING, NEW = actions.EXISTING, actions.NEW
TEMPLATE_BOX = actions.MergeBox(
    TEMPLATE, "bulk_chips", "_bulk_insert", "_bulk_inserted", "_bulk_insertions"
)
_PLAN = "_bulk_add_plan"
_ERRORS = "_bulk_add_errors"
# The first step's choices while the second is shown: Streamlit forgets the state of
# a widget that a run does not draw, and "Back" must find them as they were.
_KEPT = "_bulk_add_kept"
_WIDGETS = (MODE, PICK, SHARE, NAME, CHANNEL, SUBJECT, TEMPLATE)
READ_ONLY_REASON = "Read-only mode: campaigns cannot be changed here."
_DONE = ":material/campaign:"


@dataclass(frozen=True)
class Plan:
    """The confirmation step: what would be added, and the seed that will draw the control."""

    revision: int  # the dialog opening it belongs to
    campaign: int | CampaignCreate
    campaign_name: str
    preview: AudiencePreview
    seed: int
    problem: str | None = None


# --- Opening ------------------------------------------------------------------------


def open_for_segment(filters: dict[str, str | list[str]], name: str = "") -> None:
    """Open the dialog for the segment these filters (URL query parameters) describe;
    ``name`` is a saved segment's name, "" for the overview's segment."""
    for key in (*_WIDGETS, _PLAN, _ERRORS, _KEPT):
        st.session_state.pop(key, None)
    dialogs.open_dialog(KIND)
    opened = dialogs.current()
    assert opened is not None
    st.session_state[dialogs.STATE] = replace(opened, filters=dict(filters), name=name)


def _open_overview_segment() -> None:
    """Button callback: the segment the overview showed when the button was clicked."""
    from crm.saved_segments import filters_of
    from crm.ui.saved import CURRENT  # the overview's segment, kept by crm.ui.saved

    current = st.session_state.get(CURRENT)
    open_for_segment(dict(filters_of(current if current is not None else CustomerFilter())))


def _button_help(what: str) -> str:
    return READ_ONLY_REASON if config.read_only() else what


def header_button() -> None:
    """ "Add to campaign" in the overview's header: everyone the overview shows."""
    st.button(
        "Add to campaign",
        key=OPEN_HEADER,
        icon=":material/campaign:",
        on_click=_open_overview_segment,
        disabled=config.read_only(),
        help=_button_help("Add everyone the overview shows to a campaign, with a control group."),
    )


def segment_button(segment_id: int, filters: dict[str, str | list[str]], name: str) -> None:
    """ "Add to campaign" on a saved segment's row of the Segments page."""
    st.button(
        "Add to campaign",
        key=f"bulk_add_segment_{segment_id}",
        icon=":material/campaign:",
        on_click=open_for_segment,
        args=(filters, name),
        disabled=config.read_only(),
        help=_button_help("Add everyone in this segment to a campaign, with a control group."),
    )


# --- Step 1: the campaign and the control group ---------------------------------------


def _segment_words(state: DialogState) -> str:
    if state.name:
        return (
            f"The customers in the saved segment **{escape_markdown(state.name)}**"
            " are added to a campaign."
        )
    if state.filters:
        return "The customers the overview shows now (its filters) are added to a campaign."
    return "Every customer is added to a campaign: the overview has no filter."


def _new_campaign_fields() -> None:
    st.text_input("Campaign name", key=NAME)
    channel = st.segmented_control(
        "Channel", [c.value for c in Channel], default=Channel.EMAIL.value, key=CHANNEL
    )
    if (channel or Channel.EMAIL.value) == Channel.EMAIL.value:
        st.text_input("Subject", key=SUBJECT, placeholder="Optional subject line")
    actions.take_insert(TEMPLATE_BOX)
    actions.merge_field_chips(TEMPLATE_BOX)
    st.text_area(
        "Message template",
        key=TEMPLATE,
        height=110,
        placeholder="Optional: the message every customer in the campaign gets",
        help=f"Optional. Merge fields: {templates.FIELD_LIST}.",
    )


def _typed(key: str) -> str:
    return str(st.session_state.get(key) or "")


def _new_campaign() -> CampaignCreate:
    """The new campaign as typed, validated (a taken name too), or ValidationFailed."""
    channel = _typed(CHANNEL) or Channel.EMAIL.value
    values: dict[str, Any] = {
        "name": _typed(NAME),
        "channel": channel,
        "template": _typed(TEMPLATE),
        "subject": _typed(SUBJECT) if channel == Channel.EMAIL.value else "",
    }
    data = parse(CampaignCreate, values)
    if data.template.strip():
        templates.validate(data.template, field="template")
    if data.subject.strip():
        templates.validate(data.subject, field="subject")
    taken = audience.campaign_named(connection(), data.channel, data.name)
    if taken is not None:
        raise ValidationFailed(
            {"name": f"There is already an {data.channel.value} campaign called “{taken}”."}
        )
    return data


def _review(
    state: DialogState, segment: CustomerFilter, choices: dict[int, tuple[str, str]]
) -> None:
    """Count what adding would do and move to the confirmation (or say what is wrong)."""
    share = audience.share_of(int(st.session_state.get(SHARE, 10)))
    con = connection()
    campaign: int | CampaignCreate
    if st.session_state.get(MODE, EXISTING if choices else NEW) == EXISTING:
        picked = st.session_state.get(PICK)
        if picked is None:
            raise ValidationFailed({"campaign": "Choose a campaign first."})
        campaign = int(picked)
        shown = audience.preview(con, segment, campaign_id=campaign, control_share=share)
        name = choices.get(campaign, (f"campaign {campaign}", ""))[0]
    else:
        campaign = _new_campaign()
        shown = audience.preview(con, segment, channel=campaign.channel, control_share=share)
        name = f"{campaign.name} ({campaign.channel.value})"
    st.session_state[_PLAN] = Plan(state.revision, campaign, name, shown, audience.new_seed())
    st.session_state[_KEPT] = {k: st.session_state[k] for k in _WIDGETS if k in st.session_state}


def _choose(state: DialogState, segment: CustomerFilter) -> None:
    for key, value in st.session_state.pop(_KEPT, {}).items():
        st.session_state.setdefault(key, value)
    st.markdown(_segment_words(state))
    choices = actions.campaign_labels()
    modes = [EXISTING, NEW] if choices else [NEW]
    mode = st.segmented_control("Add to", modes, default=modes[0], key=MODE, required=True)
    if mode == EXISTING:
        st.selectbox(
            "Campaign",
            list(choices),
            format_func=lambda i: f"{choices[i][0]} · created {choices[i][1]}",
            key=PICK,
            index=None,
            placeholder="Choose a campaign",
        )
    else:
        _new_campaign_fields()
    st.slider(
        "Control group",
        min_value=0,
        max_value=50,
        value=10,
        step=1,
        format="%d %%",
        key=SHARE,
        help=(
            "This share of the customers added is held out at random and never sent "
            "anything, so the campaign's effect can be measured against them."
        ),
    )
    errors: dict[str, str] = st.session_state.pop(_ERRORS, {})
    for sentence in errors.values():
        st.error(escape_markdown(sentence), icon=":material/error:")
    with st.container(horizontal=True, horizontal_alignment="right"):
        cancel = st.button("Cancel", key=CANCEL)
        review = st.button(
            "Review numbers", key=REVIEW, type="primary", icon=":material/arrow_forward:"
        )
    if cancel:
        dialogs.close_dialog()
        st.rerun()
    if review:
        try:
            _review(state, segment, choices)
        except ValidationFailed as problem:
            st.session_state[_ERRORS] = problem.errors
        st.rerun()


# --- Step 2: the numbers, then the write -----------------------------------------------


def _numbers(plan: Plan) -> None:
    st.markdown(f"Campaign: **{escape_markdown(plan.campaign_name)}**")
    # The sentences hold only numbers and fixed words.
    st.markdown("\n".join(f"- {line}" for line in audience.describe(plan.preview)))
    st.caption("Nothing is written until you press Add.")


def _added_sentence(added: audience.Addition) -> str:
    p = added.preview
    name = escape_markdown(added.campaign_name)
    if added.repeated:
        return f"Already done: these customers were added to “{name}”."
    held = f" and held out {formatting.number(p.control)} as the control group" if p.control else ""
    return f"Queued {formatting.plural(p.queued, 'customer')} in “{name}”{held}."


def _confirm(plan: Plan, segment: CustomerFilter) -> None:
    _numbers(plan)
    if plan.problem:
        st.warning(escape_markdown(plan.problem), icon=":material/sync_problem:")
    empty = plan.preview.eligible == 0
    if empty:
        st.info(audience.nothing_to_add_sentence(plan.preview), icon=":material/info:")
    with st.container(horizontal=True, horizontal_alignment="right"):
        back = st.button("Back", key=BACK, icon=":material/arrow_back:")
        add = (
            False
            if empty
            else st.button(
                f"Add {formatting.plural(plan.preview.eligible, 'customer')}",
                key=ADD,
                type="primary",
                icon=":material/check:",
                disabled=config.read_only(),
                help=READ_ONLY_REASON if config.read_only() else None,
            )
        )
    if back:
        st.session_state.pop(_PLAN, None)
        st.rerun()
    if not add:
        return
    try:
        with st.spinner(
            f"Adding {formatting.plural(plan.preview.eligible, 'customer')} to the campaign…"
        ):
            added = audience.add_segment(
                connection(),
                segment,
                campaign=plan.campaign,
                control_share=plan.preview.control_share,
                seed=plan.seed,
                expected=plan.preview,
                by=auth.current_user(),
            )
    except SegmentChanged as changed:
        st.session_state[_PLAN] = replace(plan, preview=changed.current, problem=str(changed))
        st.rerun()
    except (NothingToAdd, NotFound, ValidationFailed) as problem:
        st.session_state[_PLAN] = replace(plan, problem=str(problem))
        st.rerun()
    st.session_state.pop(_PLAN, None)
    dialogs.close_dialog()
    flash(_added_sentence(added), icon=_DONE)
    st.rerun()


def _body(state: DialogState) -> None:
    segment = filter_from_params(state.filters)
    plan = st.session_state.get(_PLAN)
    if isinstance(plan, Plan) and plan.revision == state.revision:
        _confirm(plan, segment)
    else:
        _choose(state, segment)


@dialogs.register(KIND)
@st.dialog("Add to campaign", width="medium", on_dismiss=dialogs.close_dialog)
def _dialog() -> None:
    state = dialogs.state_of(KIND)
    with theme.friendly_errors("the campaign form"):
        try:
            _body(state)
        except CrmError as problem:
            st.error(escape_markdown(str(problem)), icon=":material/error:")
