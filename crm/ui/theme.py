"""Page setup and the few styles Streamlit's theme options cannot express."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from crm.errors import CrmError
from crm.formatting import escape_markdown

APP_NAME = "Customer Hub"
ABOUT = (
    "**Customer Hub**: find, understand and reach your customers. "
    "Light or dark: choose in Settings, in this menu."
)
_LOG = logging.getLogger("crm.ui")

# Class names prefixed "ch-" belong to HTML this app writes (always escaped);
# "st-key-..." classes come from containers given a key. Streamlit's theme
# variables (--st-*) reach only components, but the app's root sets color-scheme
# to the viewer's theme, so a colour of our own is a light-dark() pair.
_CSS = """
<style>
.block-container { padding-top: 2.2rem; padding-bottom: 3rem; max-width: 1320px; }
/* The toolbar shows its menu (and with it the theme choice): its bar is see-through
   and lets clicks pass, so it neither hides the page title nor covers a header button.
   Only its own buttons take clicks: the toolbar spans the whole width, and while it
   took them it swallowed clicks on the customer and campaign pages' "All customers" /
   "All campaigns" links beneath it (seen in the browser tests). */
[data-testid="stHeader"] { background: transparent; pointer-events: none; }
[data-testid="stHeader"] [data-testid="stToolbar"],
[data-testid="stHeader"] [data-testid="stToolbar"] * { pointer-events: none; }
[data-testid="stHeader"] button, [data-testid="stHeader"] a { pointer-events: auto !important; }
/* Avatars written as HTML (the customer page's profile). */
.ch-avatar { width: 44px; height: 44px; border-radius: 50%; flex: none; display: flex;
  align-items: center; justify-content: center; color: #fff; font-weight: 600;
  font-size: 1rem; letter-spacing: .02em; overflow: hidden; user-select: none; }
.ch-avatar img { width: 100%; height: 100%; object-fit: cover; }
.ch-field-error { color: light-dark(#b91c1c, #fca5a5); font-size: .82rem; margin-top: -.35rem; }
/* Destructive confirmations are red, not the brand colour. */
.st-key-dialog_confirm_delete button { background: #dc2626; border-color: #dc2626; color: #fff; }
.st-key-dialog_confirm_delete button:hover { background: #b91c1c; border-color: #b91c1c;
  color: #fff; }
.st-key-segment_summary { margin: .35rem 0 .3rem; }
.st-key-segment_summary p { margin: 0; color: light-dark(#374151, #d1d5db); }
.st-key-empty_state { text-align: center; padding: 2.5rem 1rem; }
.st-key-empty_state [data-testid="stMarkdownContainer"] p,
.st-key-empty_state [data-testid="stCaptionContainer"] { text-align: center; width: 100%; }
.st-key-empty_state [data-testid="stMarkdownContainer"] p { font-size: 1.1rem; }
.ch-empty-icon { font-family: "Material Symbols Rounded"; font-size: 3rem;
  color: light-dark(#9ca3af, #6b7280); }
/* Toasts at the bottom right: at the top right (Streamlit's place) they covered
   "Add customer" and the sort box. */
[data-testid="stToastContainer"] { top: auto !important; bottom: .75rem !important; }
/* Nothing may push the page sideways on a phone. */
html, body, [data-testid="stAppViewContainer"] { overflow-x: hidden; }
@media (max-width: 640px) {
  .block-container { padding-left: 1rem; padding-right: 1rem; padding-top: 3.5rem; }
  .st-key-search_row > [data-testid="stElementContainer"] { width: 100% !important;
    max-width: 100% !important; flex: 1 1 100% !important; }
}
</style>
"""


def page_setup(title: str, icon: str = ":material/groups:") -> None:
    """The browser tab's title and icon, the wide layout and the app's styles."""
    st.set_page_config(
        page_title=f"{title} · {APP_NAME}",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="auto",
        # The "minimal" toolbar shows its menu only when the app gives it an item; with
        # it comes the Settings' theme choice (Light, Dark, or the system's setting).
        menu_items={"About": ABOUT},
    )
    st.html(_CSS)


@contextmanager
def friendly_errors(what: str = "this page") -> Iterator[None]:
    """Turn any error into a sentence (the traceback goes to the log only).

    The data layer's errors (``CrmError``) carry their own sentence, which says
    what happened and what to do (the database file in use by another process,
    a customer deleted meanwhile): that one is shown. Anything else gets the
    generic one. Streamlit's own rerun and stop signals are BaseExceptions,
    not Exceptions, so they pass through untouched.
    """
    try:
        yield
    except CrmError as problem:
        _LOG.warning("%s while showing %s: %s", type(problem).__name__, what, problem)
        # The sentence can hold user text (a file name, a customer's name).
        st.error(escape_markdown(str(problem)), icon=":material/error:")
    except Exception:
        _LOG.exception("Unexpected error while showing %s", what)
        st.error(
            f"Something went wrong while showing {what}. Reload the page to try again; "
            "if it keeps happening, tell the team that runs Customer Hub.",
            icon=":material/error:",
        )
