"""Every modal dialog of the app: one state, one map of dialogs, one close.

Use from a page::

    st.button("Edit", on_click=dialogs.open_edit_dialog, args=(customer_id,))
    st.button("Send message", on_click=dialogs.open_dialog, args=("message", customer_id))
    ...
    dialogs.render_dialogs()  # once per run; a customer's page passes its customer's id

Which dialog is open, and for whom, is one ``DialogState`` in session state
(``STATE``). The ``open_*`` functions only set it; ``render_dialogs`` draws
the dialog it names on every run until it is saved, cancelled or dismissed,
each of which calls ``close_dialog``. Streamlit shows one dialog at a time,
and so does this state: opening one replaces the other. (A dialog opened
straight from ``if st.button(...)`` could not be submitted from AppTest,
which only does full reruns.)

``DIALOGS`` maps each kind to the function that draws it: the add, edit and
delete dialogs are defined here, the customer page's message, campaign and
picture dialogs in ``crm.ui.actions`` and the saved segments' in ``crm.ui.saved``,
which register them with ``register``.

An edit remembers the record's ``version`` from when the dialog opened, so a
save after someone else's save is refused with a sentence instead of
overwriting their change.

Every dialog is drawn with the same parts (below ``render_dialogs``): ``guarded``
draws its body and says a data-layer error in words, ``form_buttons`` and
``confirm_buttons`` are its Cancel and primary button, ``submit`` parses and writes
a form and lists what was refused, ``attempt`` and ``refuse`` keep why a write of a
record changed or deleted meanwhile was refused, ``refusal`` shows it, and ``done``
closes the dialog with a toast.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NoReturn, TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crm import formatting, queries, writes
from crm.errors import ConflictError, CrmError, NotFound, ValidationFailed
from crm.formatting import escape_markdown
from crm.models import (
    FIELD_LABELS,
    Customer,
    CustomerCreate,
    CustomerUpdate,
    Model,
    customer_form_values,
    parse,
)
from crm.ui import auth, theme
from crm.ui.data import connection, flash

STATE = "_crm_dialog"
_JUST_ADDED = "_crm_just_added"
_REVISION = "_crm_dialog_rev"
JUST_ADDED_MAX = 6
# Material icons, not emoji: some machines have no emoji font.
_DONE = ":material/check_circle:"

DialogKind = Literal[
    "add",
    "edit",
    "delete",
    "message",
    "campaign",
    "picture",
    # The customer page's marketing consent, registered by crm.ui.consent.
    "consent",
    # Saved segments' dialogs, registered by crm.ui.saved.
    "save_segment",
    "rename_segment",
    "update_segment",
    "delete_segment",
    # A whole segment added to a campaign, registered by crm.ui.bulk_add.
    "bulk_add",
    # A campaign's dialogs, registered by crm.ui.campaigns.
    "rename_campaign",
    "edit_campaign",
    "delete_campaign",
    # The segment's Export (crm.ui.export).
    "export_segment",
    # Undoing an import, registered by crm.ui.importing.
    "undo_import",
]
# Dialogs that work on the customer page's data: drawn only on that customer's page.
CUSTOMER_PAGE_KINDS: frozenset[DialogKind] = frozenset(
    {"message", "campaign", "picture", "consent"}
)

# Form fields in the order of the form; the widths pair them into rows.
FORM_ROWS: tuple[tuple[str, ...], ...] = (
    ("first_name", "last_name"),
    ("email", "phone"),
    ("street",),
    ("city", "state"),
    ("zip", "country"),
)
# The fields the model requires (first name, last name, email). Streamlit marks
# their inputs "(required)" beside the label and sets aria-required for screen
# readers; the browser will not submit them empty. The model checks every field
# again on save, and sets every length limit: the inputs have none.
REQUIRED = frozenset(
    name for name, info in CustomerCreate.model_fields.items() if info.is_required()
)
NOT_SAVED_GONE = (
    "Your changes were not saved: this customer was deleted, perhaps by someone else, "
    "after you opened the form."
)
_PLACEHOLDERS = {"email": "name@example.com", "phone": "+1 555 010 0199"}


@dataclass(frozen=True)
class DialogState:
    """Which dialog is open, for whom, and what it read when it opened."""

    kind: DialogKind
    # Bumped on every open, so each opening's form widgets are new (no stale text).
    revision: int
    customer_id: int | None = None
    version: int | None = None
    name: str = ""
    values: dict[str, str] = field(default_factory=dict)
    orders: int = 0
    visits: int = 0
    then_go_to: str | None = None
    # A saved segment's dialog: which segment, and the filters it would keep.
    segment_id: int | None = None
    # A campaign's dialog: which campaign (its version is ``version``).
    campaign_id: int | None = None
    filters: dict[str, str | list[str]] = field(default_factory=dict)
    # Set when a save was refused because the record changed or vanished.
    problem: str | None = None
    gone: bool = False


def _next_revision() -> int:
    revision = int(st.session_state.get(_REVISION, 0)) + 1
    st.session_state[_REVISION] = revision
    return revision


def _from_customer(kind: DialogKind, customer: Customer, then_go_to: str | None) -> DialogState:
    return DialogState(
        kind=kind,
        revision=_next_revision(),
        customer_id=customer.id,
        version=customer.version,
        name=customer.name,
        values={k: str(v or "") for k, v in customer_form_values(customer).items()},
        orders=customer.order_count,
        visits=customer.visit_count,
        then_go_to=then_go_to,
    )


def current() -> DialogState | None:
    """The open dialog, or None."""
    state = st.session_state.get(STATE)
    return state if isinstance(state, DialogState) else None


def close_dialog() -> None:
    """Close whichever dialog is open (also the ``on_dismiss`` of every dialog)."""
    st.session_state.pop(STATE, None)


def open_dialog(kind: DialogKind, customer_id: int | None = None, **fields: Any) -> None:
    """Open a dialog with what it needs: ``fields`` are ``DialogState``'s (a campaign's
    id, version and name, a segment's filters...); the add dialog and a customer
    page's dialogs read the rest themselves."""
    st.session_state[STATE] = DialogState(
        kind=kind, revision=_next_revision(), customer_id=customer_id, **fields
    )


def open_add_dialog() -> None:
    """Open the empty "Add customer" form."""
    open_dialog("add")


def _open_with_customer(kind: DialogKind, customer_id: int, then_go_to: str | None) -> None:
    customer = queries.get_customer(connection(), int(customer_id))
    if customer is None:
        close_dialog()
        flash(
            "That customer no longer exists; someone may have deleted them.",
            icon=":material/warning:",
        )
    else:
        st.session_state[STATE] = _from_customer(kind, customer, then_go_to)


def open_edit_dialog(customer_id: int) -> None:
    """Open the form pre-filled with the customer as stored now."""
    _open_with_customer("edit", customer_id, None)


def open_delete_dialog(customer_id: int, *, then_go_to: str | None = None) -> None:
    """Ask to confirm deleting the customer.

    ``then_go_to`` is a page (e.g. ``navigation.CUSTOMERS_PAGE``) to switch to after the
    delete; without it the current page reruns. The Customer page passes it,
    since the page of a deleted customer has nothing left to show.
    """
    _open_with_customer("delete", customer_id, then_go_to)


def state_of(kind: DialogKind) -> DialogState:
    """The open dialog's state, inside the dialog that draws ``kind``.

    Read here, not passed in: a dialog is a fragment, and a fragment's own
    reruns reuse the arguments of the full run that drew it.
    """
    state = current()
    if state is None or state.kind != kind:
        st.rerun()  # closed or replaced meanwhile (e.g. in another tab of this session)
    assert state is not None
    return state


DrawDialog = Callable[[], None]
DIALOGS: dict[DialogKind, DrawDialog] = {}


def register(kind: DialogKind) -> Callable[[DrawDialog], DrawDialog]:
    """Decorator: ``render_dialogs`` draws the decorated ``st.dialog`` for ``kind``."""

    def add(draw: DrawDialog) -> DrawDialog:
        DIALOGS[kind] = draw
        return draw

    return add


def render_dialogs(customer_id: int | None = None) -> None:
    """Draw the open dialog, if this page has it. Call once per run.

    ``customer_id`` is the customer whose page this is (None on the
    overview): a message, campaign or picture dialog is drawn only there.
    """
    state = current()
    if state is None:
        return
    draw = DIALOGS.get(state.kind)
    if draw is None:
        return
    if state.kind in CUSTOMER_PAGE_KINDS and state.customer_id != customer_id:
        return
    draw()


def recently_added() -> list[int]:
    """Ids of the customers added in this session, newest first (for a "Just added" row)."""
    return list(st.session_state.get(_JUST_ADDED, []))


def forget_recently_added(customer_id: int | None = None) -> None:
    """Stop showing one customer (or all) as just added."""
    if customer_id is None:
        st.session_state.pop(_JUST_ADDED, None)
    else:
        st.session_state[_JUST_ADDED] = [i for i in recently_added() if i != customer_id]


def _remember_added(customer_id: int) -> None:
    st.session_state[_JUST_ADDED] = [customer_id, *recently_added()][:JUST_ADDED_MAX]


# --- What every dialog shares -------------------------------------------------------
# Drawing a dialog safely, its Cancel button, what a write refused and the close after
# a write, written once: a dialog's body is then its fields, its model, its write and
# its toast (the customer dialogs below, and those registered from other modules).

DialogBody = Callable[[DialogState], None]
Written = TypeVar("Written")
# What a write refuses because the record changed or vanished since the dialog opened.
REFUSED: tuple[type[CrmError], ...] = (ConflictError, NotFound)


def guarded(kind: DialogKind, body: DialogBody, icon: str | None = ":material/error:") -> None:
    """Draw ``body`` for the open dialog of ``kind``; a data-layer error is said in words."""
    state = state_of(kind)
    with theme.friendly_errors("this form"):
        try:
            body(state)
        except CrmError as problem:
            st.error(escape_markdown(str(problem)), icon=icon)


def form_key(form: str, state: DialogState) -> str:
    """The key of the dialog's ``st.form``: new on each opening, so no stale text."""
    return f"{form}_{state.revision}"


def field_key(form: str, state: DialogState, name: str) -> str:
    return f"{form_key(form, state)}_{name}"


def typed(form: str, state: DialogState, name: str) -> str:
    """What the form's field ``name`` holds ("" when empty)."""
    return str(st.session_state.get(field_key(form, state, name)) or "")


def _cancel_or(
    button: Callable[..., bool],
    label: str,
    key: str,
    icon: str,
    disabled: bool,
    why_not: str | None = None,
) -> bool:
    with st.container(horizontal=True, horizontal_alignment="right"):
        cancelled = button("Cancel", key="dialog_cancel")
        chosen = button(label, key=key, type="primary", icon=icon, disabled=disabled, help=why_not)
    if cancelled:
        close_dialog()
        st.rerun()
    return chosen


def form_buttons(
    label: str, icon: str = ":material/check:", *, key: str = "dialog_save", disabled: bool = False
) -> bool:
    """A form's Cancel (closes the dialog) and its primary submit ``label``; True when submitted."""
    return _cancel_or(st.form_submit_button, label, key, icon, disabled)


def confirm_buttons(
    label: str,
    icon: str,
    key: str = "dialog_confirm_delete",
    *,
    disabled: bool = False,
    why_not: str | None = None,
) -> bool:
    """Cancel (closes the dialog) and the primary ``label`` of a confirmation; True when
    chosen. A ``disabled`` primary button says ``why_not`` as its tooltip."""
    return _cancel_or(st.button, label, key, icon, disabled, why_not)


def refusal(state: DialogState, reload: DialogBody | None = None) -> bool:
    """Show why a write was refused (changed or deleted meanwhile); True when there was one.

    Under it Close, or, given ``reload`` and while the record exists, Reload.
    """
    if state.problem is None:
        return False
    st.warning(escape_markdown(state.problem), icon=":material/sync_problem:")
    with st.container(horizontal=True, horizontal_alignment="right"):
        if reload is None or state.gone:
            st.button("Close", key="dialog_close", on_click=close_dialog, type="primary")
        else:
            st.button(
                "Reload",
                key="dialog_reload",
                icon=":material/refresh:",
                type="primary",
                on_click=reload,
                args=(state,),
            )
    return True


def refuse(state: DialogState, problem: CrmError) -> NoReturn:
    """Keep why the write was refused in the dialog's state and draw it again, saying so."""
    st.session_state[STATE] = replace(
        state, problem=str(problem), gone=isinstance(problem, NotFound)
    )
    # A whole-app rerun: scope="fragment" raises when a full run drew the dialog
    # (every AppTest run).
    st.rerun()


def attempt(
    state: DialogState, write: Callable[[], Written], refused: tuple[type[CrmError], ...] = REFUSED
) -> Written:
    """``write()``; when it raises one of ``refused``, the dialog says why instead."""
    try:
        return write()
    except refused as problem:
        refuse(state, problem)


def _error_list(errors: Mapping[str, str]) -> None:
    # Each sentence may quote what the user typed: every one is escaped.
    lines = "\n".join(f"- {escape_markdown(sentence)}" for sentence in errors.values())
    st.error(f"Nothing was saved.\n{lines}", icon=":material/error:")


def submit(
    state: DialogState,
    errors_slot: DeltaGenerator,
    model: type[Model],
    values: dict[str, Any],
    write: Callable[[Model], object],
    refused: tuple[type[CrmError], ...] = REFUSED,
) -> Model | None:
    """Parse ``values`` as ``model`` and ``write`` it: what was written, or None when
    the model or the write refused it (each sentence listed in ``errors_slot``, the
    form left as typed)."""
    try:
        data = parse(model, values)
        attempt(state, lambda: write(data), refused)
    except ValidationFailed as problem:
        with errors_slot.container():
            _error_list(problem.errors)
        return None
    return data


def done(toast: str, icon: str, then_go_to: str | None = None) -> NoReturn:
    """Close the dialog, toast ``toast`` on the next run, and rerun (or go to ``then_go_to``).

    The toast is Markdown: user text in it is escaped by the caller. Cached reads
    need no clearing: they are keyed by ``data.data_version()``.
    """
    close_dialog()
    flash(toast, icon=icon)
    if then_go_to:
        st.switch_page(then_go_to)
    st.rerun()


# --- The form -------------------------------------------------------------------

_FORM = "customer_form"


def _field_key(state: DialogState, name: str) -> str:
    return field_key(_FORM, state, name)


# The Add form asks for marketing consent as Shopify's does: a box per channel,
# ticked only when the customer agreed (Subscribed, dated now), else Not asked.
# Changing it later is the customer page's Marketing panel (crm.ui.consent).
CONSENT_BOXES: tuple[tuple[str, str], ...] = (
    ("email_consent", "Customer agreed to receive marketing emails"),
    ("sms_consent", "Customer agreed to receive SMS marketing text messages"),
)


def consent_box_key(state: DialogState, name: str) -> str:
    return _field_key(state, name)


def _consent_values(state: DialogState) -> dict[str, str]:
    return {
        name: "Subscribed" if st.session_state.get(_field_key(state, name)) else "Not asked"
        for name, _ in CONSENT_BOXES
    }


def _form_values(state: DialogState) -> dict[str, str]:
    return {name: typed(_FORM, state, name) for row in FORM_ROWS for name in row}


def _show_errors(
    errors: dict[str, str], summary: DeltaGenerator, under_fields: dict[str, DeltaGenerator]
) -> None:
    """A summary above the form and each field's sentence under the field.

    The sentences are written as escaped HTML, not Markdown, so nothing in
    them is turned into a link or markup (e.g. "name@example.com").
    """
    count = len(errors)
    loose = [sentence for name, sentence in errors.items() if name not in under_fields]
    summary.error(
        f"{'This field needs' if count == 1 else f'{count} fields need'} attention; "
        "nothing was saved.",
        icon=":material/error:",
    )
    for name, sentence in errors.items():
        target = under_fields.get(name)
        if target is not None:
            target.html(f'<div class="ch-field-error" role="alert">{html.escape(sentence)}</div>')
    if loose:
        with summary.container():
            st.error("Nothing was saved.", icon=":material/error:")
            for sentence in loose:
                st.html(f'<div class="ch-field-error" role="alert">{html.escape(sentence)}</div>')


def _save(
    state: DialogState, errors_slot: DeltaGenerator, under_fields: dict[str, DeltaGenerator]
) -> None:
    """Write the form and close the dialog; or show why nothing was saved."""
    values = _form_values(state)
    con = connection()
    try:
        if state.kind == "add":
            created = parse(CustomerCreate, {**values, **_consent_values(state)})
            new_id = writes.create_customer(con, created, by=auth.current_user())
            _remember_added(new_id)
            verb, name = "Added", formatting.full_name(created.first_name, created.last_name)
        else:
            assert state.customer_id is not None
            update = parse(CustomerUpdate, {**values, "version": state.version})
            writes.update_customer(con, state.customer_id, update, by=auth.current_user())
            verb, name = "Saved", formatting.full_name(update.first_name, update.last_name)
    except ValidationFailed as exc:
        _show_errors(exc.errors, errors_slot, under_fields)
        return
    except ConflictError as exc:
        refuse(state, exc)
    except NotFound:
        refuse(state, NotFound(NOT_SAVED_GONE))
    # A toast is Markdown: the name is escaped so it shows as typed.
    done(f"{verb} {escape_markdown(name)}", _DONE)


def _reload(state: DialogState) -> None:
    """Callback of "Reload": show the record as it is now, dropping this edit."""
    assert state.customer_id is not None
    customer = queries.get_customer(connection(), state.customer_id)
    if customer is None:
        st.session_state[STATE] = replace(
            state,
            problem=NOT_SAVED_GONE,
            gone=True,
        )
    else:
        st.session_state[STATE] = _from_customer("edit", customer, state.then_go_to)


def _customer_form(state: DialogState) -> None:
    if refusal(state, _reload) and state.gone:
        return
    errors_slot = st.empty()
    under_fields: dict[str, DeltaGenerator] = {}
    with st.form(key=form_key(_FORM, state), border=False):
        for row in FORM_ROWS:
            for column, name in zip(st.columns(len(row)), row, strict=True):
                with column:
                    st.text_input(
                        FIELD_LABELS[name],
                        value=state.values.get(name, ""),
                        key=_field_key(state, name),
                        # No max_chars: the browser drops a paste longer than that
                        # without a word; the model refuses it with a sentence.
                        placeholder=_PLACEHOLDERS.get(name, ""),
                        required=name in REQUIRED,
                    )
                    under_fields[name] = st.empty()
        if state.kind == "add":
            for name, label in CONSENT_BOXES:
                st.checkbox(label, key=_field_key(state, name))
                under_fields[name] = st.empty()
        saved = form_buttons(
            "Save" if state.kind == "edit" else "Add customer", disabled=state.problem is not None
        )
    if saved:
        _save(state, errors_slot, under_fields)


def _delete_body(state: DialogState) -> None:
    if refusal(state, _reload):
        return
    assert state.customer_id is not None
    name = html.escape(state.name or "this customer")
    email = html.escape(state.values.get("email", ""))
    history = []
    if state.orders:
        history.append(formatting.plural(state.orders, "order"))
    if state.visits:
        history.append(formatting.plural(state.visits, "visit"))
    also = f" and their {' and '.join(history)}" if history else ""
    st.html(
        f'<p class="ch-confirm">Delete <strong>{name}</strong>'
        f"{f' (<span>{email}</span>)' if email else ''}{html.escape(also)}? "
        "Their campaign history and messages go too. This cannot be undone.</p>"
    )
    if not confirm_buttons("Delete customer", ":material/delete:"):
        return
    customer_id = state.customer_id
    attempt(
        state,
        lambda: writes.delete_customer(
            connection(), customer_id, state.version, by=auth.current_user()
        ),
    )
    forget_recently_added(customer_id)
    done(f"Deleted {escape_markdown(state.name)}", ":material/delete:", state.then_go_to)


# The customer dialogs say a data-layer error without an icon (the others with one).
@register("add")
@st.dialog("Add customer", width="medium", on_dismiss=close_dialog)
def _add_dialog() -> None:
    guarded("add", _customer_form, icon=None)


@register("edit")
@st.dialog("Edit customer", width="medium", on_dismiss=close_dialog)
def _edit_dialog() -> None:
    guarded("edit", _customer_form, icon=None)


@register("delete")
@st.dialog("Delete customer", width="small", on_dismiss=close_dialog)
def _delete_dialog() -> None:
    guarded("delete", _delete_body, icon=None)
