"""Page setup and the few styles Streamlit's theme options cannot express."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

APP_NAME = "Customer Hub"
_LOG = logging.getLogger("crm.ui")

# Class names prefixed "ch-" belong to HTML this app writes (always escaped);
# "st-key-..." classes come from containers given a key.
_CSS = """
<style>
.block-container { padding-top: 2.2rem; padding-bottom: 3rem; max-width: 1320px; }
/* Cards: white on the page tint, a soft lift on hover. */
[class*="st-key-card_"] { background: #ffffff; transition: box-shadow .15s ease; min-width: 0; }
[class*="st-key-card_"]:hover { box-shadow: 0 4px 14px rgba(15, 23, 42, .08); }
.ch-avatar { width: 44px; height: 44px; border-radius: 50%; flex: none; display: flex;
  align-items: center; justify-content: center; color: #fff; font-weight: 600;
  font-size: 1rem; letter-spacing: .02em; overflow: hidden; user-select: none; }
.ch-avatar img { width: 100%; height: 100%; object-fit: cover; }
.ch-line { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: #4b5563;
  font-size: .875rem; line-height: 1.45; }
.ch-line .ch-icon { font-family: "Material Symbols Rounded"; font-size: 1rem;
  vertical-align: -3px; margin-right: .35rem; color: #9ca3af; }
.ch-muted { color: #9ca3af; }
.ch-stats { display: grid; grid-template-columns: 1.2fr .8fr 1.3fr; gap: .5rem;
  border-top: 1px solid #eef0f3; padding-top: .65rem; margin-top: .15rem; }
.ch-stat-label { display: block; font-size: .72rem; text-transform: uppercase;
  letter-spacing: .05em; color: #6b7280; }
.ch-stat-value { display: block; font-weight: 600; font-variant-numeric: tabular-nums;
  color: #111827; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ch-stat-note { display: block; font-size: .75rem; color: #6b7280; white-space: nowrap; }
/* The card grid: one container laid out by CSS, not st.columns (fewer elements
   to send and draw on every search). Streamlit stacks columns below 641px too. */
.st-key-customer_grid, .st-key-new_customer_grid { display: grid;
  grid-template-columns: repeat(3, minmax(0, 1fr)); }
/* A card is one wrapping row: name, then the HTML body, then the buttons on
   the right. The avatar (first in the body) sits beside the name. */
[class*="st-key-card_"] { position: relative; }
[class*="st-key-card_"] > [data-testid="stLayoutWrapper"],
[class*="st-key-card_"] > [data-testid="stElementContainer"]:not([class*="st-key-"]) {
  flex: 1 1 100%; min-width: 0; max-width: 100%; }
/* The avatar is placed against the card itself, not the HTML element. (No
   :has() here: it is re-checked on every DOM change, and a search makes many.) */
[class*="st-key-card_"] > [data-testid="stElementContainer"]:not([class*="st-key-"]),
[class*="st-key-card_"] [data-testid="stHtml"] { position: static; }
[class*="st-key-card_"] > [class*="st-key-edit_"] { margin-left: auto; }
.ch-card-avatar { position: absolute; top: 14px; left: 14px; }
[class*="st-key-cardhead_"] { min-height: 44px; justify-content: center;
  padding-left: calc(44px + 1rem); }
/* The name link on a card reads as a heading, not as a navigation pill. */
[class*="st-key-cardhead_"] [data-testid="stElementContainer"] { width: 100%; }
[class*="st-key-cardhead_"] [data-testid="stPageLink"] > div,
[class*="st-key-cardhead_"] [data-testid="stPageLink"] > div > div {
  justify-content: flex-start; width: 100%; }
[class*="st-key-cardhead_"] [data-testid="stPageLink-NavLink"] { padding: 0; margin: 0;
  min-height: 0; background: none; max-width: 100%; }
[class*="st-key-cardhead_"] [data-testid="stPageLink-NavLink"] p { font-weight: 600;
  font-size: 1.05rem; color: #111827; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
[class*="st-key-cardhead_"] [data-testid="stPageLink-NavLink"]:hover p { color: #4f46e5;
  text-decoration: underline; }
[class*="st-key-card_"] button { min-height: 2rem; padding: .15rem .75rem;
  font-size: .85rem; }
[class*="st-key-card_"] button:hover { border-color: #c7cbd4; }
[class*="st-key-delete_"] button:hover { color: #b91c1c; border-color: #f3b4b4; }
.ch-field-error { color: #b91c1c; font-size: .82rem; margin-top: -.35rem; }
/* Destructive confirmations are red, not the brand colour. */
.st-key-dialog_confirm_delete button { background: #dc2626; border-color: #dc2626; color: #fff; }
.st-key-dialog_confirm_delete button:hover { background: #b91c1c; border-color: #b91c1c;
  color: #fff; }
.st-key-segment_summary { margin: .35rem 0 .3rem; }
.st-key-segment_summary p { margin: 0; color: #374151; }
.st-key-empty_state { text-align: center; padding: 2.5rem 1rem; }
.st-key-empty_state [data-testid="stMarkdownContainer"] p,
.st-key-empty_state [data-testid="stCaptionContainer"] { text-align: center; width: 100%; }
.st-key-empty_state [data-testid="stMarkdownContainer"] p { font-size: 1.1rem; }
.ch-empty-icon { font-family: "Material Symbols Rounded"; font-size: 3rem; color: #9ca3af; }
/* Nothing may push the page sideways on a phone. */
html, body, [data-testid="stAppViewContainer"] { overflow-x: hidden; }
@media (max-width: 640px) {
  .st-key-customer_grid, .st-key-new_customer_grid { grid-template-columns: minmax(0, 1fr); }
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
    )
    st.html(_CSS)


@contextmanager
def friendly_errors(what: str = "this page") -> Iterator[None]:
    """Turn any unexpected error into a sentence (the traceback goes to the log only).

    Streamlit's own rerun and stop signals are BaseExceptions, not Exceptions,
    so they pass through untouched.
    """
    try:
        yield
    except Exception:
        _LOG.exception("Unexpected error while showing %s", what)
        st.error(
            f"Something went wrong while showing {what}. Reload the page to try again; "
            "if it keeps happening, tell the team that runs Customer Hub.",
            icon=":material/error:",
        )
