"""The Import page: upload, match the columns, dry run, confirm; past imports; backups.

The work is ``crm.exchange.importer``'s; this module only lays it out. What
the user chose lives in widget state; the file's rows (read once per
upload) and the dry run's plan live in session state, each with what they
were made from, so a new file, kind or mapping drops a stale plan. The
confirm takes the plan out of session state before it writes, so a double
click imports once.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from crm import config
from crm.errors import ConflictError, CrmError, DuplicateError, NotFound
from crm.exchange import backup, importer
from crm.exchange.import_fields import FIELDS, missing_fields
from crm.formatting import escape_markdown
from crm.ui import auth, dialogs, navigation
from crm.ui.data import connection, flash

READ_ONLY_REASON = "Read-only mode: nothing can be imported or undone here."
_RAW = "_crm_import_raw"
_PLAN = "_crm_import_plan"
_UPLOADS = "_crm_import_uploads"
_NOT_IN_FILE = "— not in the file —"
_SHOWN_PROBLEMS = 1_000
_KIND_LABELS = {"customers": "Customers", "orders": "Orders"}
_DATE_ORDERS: dict[str, bool | None] = {
    "Work it out from the file": None,
    "Day first (31/03/2024)": True,
    "Month first (03/31/2024)": False,
}
_UPDATE_CHOICES = {
    "Leave them as they are": False,
    "Update them with the file's values": True,
}


@dataclass(frozen=True)
class _Staged:
    file_id: str
    raw: importer.RawFile
    sha256: str


@dataclass(frozen=True)
class _Planned:
    signature: tuple[object, ...]
    plan: importer.Plan


def import_link() -> None:
    """A link to the Import page (the overview's header)."""
    st.page_link(navigation.IMPORT_PAGE, label="Import", icon=":material/upload_file:")


def _stage(uploaded: UploadedFile) -> _Staged | None:
    """The uploaded file's rows, read once per upload; None (with a sentence) when unreadable."""
    staged: _Staged | None = st.session_state.get(_RAW)
    if staged is not None and staged.file_id == uploaded.file_id:
        return staged
    st.session_state.pop(_RAW, None)
    st.session_state.pop(_PLAN, None)
    data = uploaded.getvalue()
    suffix = Path(uploaded.name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="crm-import-") as folder:
        # The file is written under a name of ours: the user's name only says
        # how to read it (its ending) and is shown, never used as a path.
        path = Path(folder) / f"upload{suffix if suffix.isascii() else ''}"
        path.write_bytes(data)
        try:
            raw = importer.read_file(path, name=uploaded.name)
        except importer.BadFile as problem:
            st.error(escape_markdown(str(problem)), icon=":material/error:")
            return None
    staged = _Staged(uploaded.file_id, raw, hashlib.sha256(data).hexdigest())
    st.session_state[_RAW] = staged
    return staged


def _mapping_editor(kind: importer.Kind, staged: _Staged) -> importer.Mapping:
    """A box per field, preset from the headers, saying which column holds it."""
    suggested = importer.suggest_mapping(kind, staged.raw.headers)
    options: list[int | None] = [None, *range(len(staged.raw.headers))]
    headers = staged.raw.headers

    def shown(index: int | None) -> str:
        return _NOT_IN_FILE if index is None else headers[index] or f"Column {index + 1}"

    st.markdown("**Which column holds what**")
    st.caption("Matched by the headers; change any that are wrong.")
    mapping: importer.Mapping = {}
    fields = FIELDS[kind]
    # A row of three boxes at a time, so a phone stacks them in the fields' order.
    for position, field in enumerate(fields):
        if position % 3 == 0:
            columns = st.columns(3)
        with columns[position % 3]:
            mapping[field.name] = st.selectbox(
                field.label,
                options,
                index=options.index(suggested[field.name]),
                format_func=shown,
                key=f"import_map_{kind}_{field.name}_{staged.file_id}",
            )
    return mapping


def _dry_run(kind: importer.Kind, staged: _Staged, mapping: importer.Mapping) -> None:
    day_first = _DATE_ORDERS[st.session_state.get("import_date_order", "Work it out from the file")]
    signature = (staged.file_id, kind, tuple(sorted(mapping.items(), key=str)), day_first)
    bar = st.progress(0.0, text="Checking the file…")

    def progress(share: float, step: str) -> None:
        bar.progress(min(max(share, 0.0), 1.0), text=f"{step}…")

    try:
        plan = importer.dry_run(
            connection(),
            kind,
            staged.raw,
            mapping,
            file_sha256=staged.sha256,
            day_first=day_first,
            progress=progress,
        )
    except importer.BadFile as problem:
        bar.empty()
        st.error(escape_markdown(str(problem)), icon=":material/error:")
        return
    bar.empty()
    st.session_state[_PLAN] = _Planned(signature, plan)


def _current_plan(
    kind: importer.Kind, staged: _Staged, mapping: importer.Mapping
) -> importer.Plan | None:
    planned: _Planned | None = st.session_state.get(_PLAN)
    if planned is None:
        return None
    day_first = _DATE_ORDERS[st.session_state.get("import_date_order", "Work it out from the file")]
    signature = (staged.file_id, kind, tuple(sorted(mapping.items(), key=str)), day_first)
    return planned.plan if planned.signature == signature else None


def _report(plan: importer.Plan) -> None:
    """The dry run's summary, what blocks the import, and every problem (downloadable)."""
    summary = plan.summary()  # numbers only, no user text
    if plan.blocking:
        st.error(f"**Dry run:** {summary}", icon=":material/block:")
        for sentence in plan.blocking:
            st.error(escape_markdown(sentence), icon=":material/error:")
    elif plan.refused:
        st.warning(f"**Dry run:** {summary}", icon=":material/warning:")
    else:
        st.success(
            f"**Dry run:** {summary} Nothing is written until you confirm.",
            icon=":material/task_alt:",
        )
    if plan.problems.empty:
        return
    total = len(plan.problems)
    shown = plan.problems.head(_SHOWN_PROBLEMS).rename(
        columns={"row": "Row", "field": "Field", "column": "File column", "problem": "Problem"}
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "Row": st.column_config.NumberColumn(width=70, format="%d"),
            "Field": st.column_config.TextColumn(width=110),
            "File column": st.column_config.TextColumn(width=140),
            "Problem": st.column_config.TextColumn(width="large"),
        },
        height=min(38 + 35 * len(shown), 360),
        key="import_problems",
    )
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(
            f"{total:,} problems"
            + (f"; the first {_SHOWN_PROBLEMS:,} are shown." if total > _SHOWN_PROBLEMS else ".")
        )
        stem = Path(plan.file_name).stem or "import"
        st.download_button(
            "Download the report (CSV)",
            data=importer.report_csv(plan),
            file_name=f"{stem}-problems.csv",
            mime="text/csv",
            icon=":material/download:",
            key="import_report_download",
            on_click="ignore",
        )


def _confirm(plan: importer.Plan) -> None:
    read_only = config.read_only()
    update = False
    if plan.kind == "customers" and plan.existing:
        choice = st.radio(
            f"{plan.existing:,} customers are already here (same email);"
            f" {plan.existing_changed:,} of them differ from the file.",
            list(_UPDATE_CHOICES),
            key="import_update_existing",
            disabled=read_only,
        )
        update = _UPDATE_CHOICES[choice or "Leave them as they are"]
    if plan.kind == "customers":
        count = plan.new + (plan.existing_changed if update else 0)
        label = f"Import {count:,} customers"
    else:
        count = plan.order_lines
        label = f"Import {plan.orders:,} orders"
    reason = (
        READ_ONLY_REASON
        if read_only
        else plan.blocking[0]
        if plan.blocking
        else "Nothing to import."
        if not count
        else None
    )
    clicked = st.button(
        label,
        key="import_confirm",
        type="primary",
        icon=":material/upload:",
        disabled=reason is not None,
        help=reason,
    )
    if reason is not None and not plan.blocking:
        st.caption(escape_markdown(reason))
    if not clicked:
        return
    # Taken out first: a second click (or a rerun) finds no plan and writes nothing.
    st.session_state.pop(_PLAN, None)
    bar = st.progress(0.0, text="Importing…")

    def progress(share: float, step: str) -> None:
        bar.progress(min(max(share, 0.0), 1.0), text=f"{step}…")

    try:
        result = importer.commit(
            connection(), plan, update_existing=update, by=auth.current_user(), progress=progress
        )
    except CrmError as problem:
        bar.empty()
        st.error(escape_markdown(str(problem)), icon=":material/error:")
        return
    bar.empty()
    # Numbers only, no user text: shown as it is.
    flash(result.sentence(plan.kind), icon=":material/task_alt:")
    st.session_state["import_last_result"] = result.sentence(plan.kind)
    # A new uploader (a new key) starts empty: the imported file is not offered again.
    st.session_state[_UPLOADS] = st.session_state.get(_UPLOADS, 0) + 1
    st.rerun()


def _upload_section() -> None:
    read_only = config.read_only()
    st.subheader("Import customers or orders", anchor=False)
    if read_only:
        st.info(READ_ONLY_REASON, icon=":material/lock:")
    last = st.session_state.pop("import_last_result", None)
    if last:
        st.success(last, icon=":material/task_alt:")
    kind_label = st.segmented_control(
        "What the file holds",
        list(_KIND_LABELS.values()),
        default="Customers",
        key="import_kind",
        disabled=read_only,
    )
    kind: importer.Kind = "orders" if kind_label == "Orders" else "customers"
    st.caption(
        "Customers: first and last name (or one full name), email; phone, street, city,"
        " state, ZIP and country if you have them. Orders: the customer's email or id, the"
        " date, and an amount, or a product and quantity per line (import the customers first)."
    )
    uploaded = st.file_uploader(
        "CSV, Excel (.xlsx) or Parquet file",
        type=["csv", "txt", "tsv", "xlsx", "parquet"],
        key=f"import_file_{st.session_state.get(_UPLOADS, 0)}",
        disabled=read_only,
        help=f"Up to {importer.MAX_FILE_MB} MB. CSV files must be UTF-8 text.",
    )
    if uploaded is None:
        st.session_state.pop(_RAW, None)
        st.session_state.pop(_PLAN, None)
        return
    staged = _stage(uploaded)
    if staged is None:
        return
    st.caption(
        f"{escape_markdown(staged.raw.name)}: {staged.raw.rows:,} rows,"
        f" {len(staged.raw.headers)} columns."
    )
    mapping = _mapping_editor(kind, staged)
    if kind == "orders":
        st.selectbox("Dates are written", list(_DATE_ORDERS), key="import_date_order")
    missing = missing_fields(kind, mapping)
    if missing:
        st.warning(
            escape_markdown(f"Choose {' and '.join(missing)} to go on."), icon=":material/info:"
        )
        return
    if st.button(
        "Check the file (dry run)",
        key="import_dry_run",
        icon=":material/fact_check:",
        disabled=read_only,
        help=READ_ONLY_REASON if read_only else "Checks every row; writes nothing.",
    ):
        _dry_run(kind, staged, mapping)
    plan = _current_plan(kind, staged, mapping)
    if plan is None:
        return
    _report(plan)
    _confirm(plan)


# --- Past imports and undo -------------------------------------------------------------


def _what(row: dict[Hashable, Any]) -> str:
    if row["kind"] == "orders":
        return f"{row['orders']:,} orders"
    return f"{row['created']:,} new customers, {row['updated']:,} updated"


def _history() -> None:
    st.subheader("Past imports", anchor=False)
    rows = importer.imports(connection()).to_dict("records")
    if not rows:
        st.caption("No imports yet.")
        return
    read_only = config.read_only()
    for row in rows:
        with st.container(
            border=True, horizontal=True, vertical_alignment="center", key=f"import_row_{row['id']}"
        ):
            when = row["imported_at"].strftime("%Y-%m-%d %H:%M")
            by = f" by {row['imported_by']}" if row["imported_by"] else ""
            undone = row["undone_at"] is not None and str(row["undone_at"]) != "NaT"
            status = " · **undone**" if undone else ""
            st.markdown(
                f"**#{row['id']}** {escape_markdown(str(row['file_name']))} · {when}"
                f"{escape_markdown(by)} · {_what(row)}{status}",
                width="stretch",
            )
            st.button(
                "Undo",
                key=f"import_undo_{row['id']}",
                icon=":material/undo:",
                disabled=undone or read_only,
                help=READ_ONLY_REASON if read_only else None,
                on_click=_open_undo,
                args=(int(row["id"]), _what(row)),
            )


def _open_undo(batch_id: int, what: str) -> None:
    dialogs.open_dialog(
        "undo_import", name=f"import #{batch_id}", values={"batch": str(batch_id), "what": what}
    )


@dialogs.register("undo_import")
@st.dialog("Undo import", width="small", on_dismiss=dialogs.close_dialog)
def _undo_dialog() -> None:
    state = dialogs.state_of("undo_import")
    batch_id = int(state.values["batch"])
    if state.problem:
        st.error(escape_markdown(state.problem), icon=":material/error:")
        if st.button("Close", key="dialog_cancel"):
            dialogs.close_dialog()
            st.rerun()
        return
    st.markdown(
        f"Undo **{escape_markdown(state.name)}** ({escape_markdown(state.values['what'])})?"
        " The customers it created and their details are removed, customers it updated get"
        " their earlier details back, orders it added are deleted. This is refused if any"
        " of them changed since."
    )
    if not dialogs.confirm_buttons("Undo import", ":material/undo:"):
        return
    done = dialogs.attempt(
        state,
        lambda: importer.undo_import(connection(), batch_id, by=auth.current_user()),
        refused=(ConflictError, DuplicateError, NotFound),
    )
    dialogs.done(done, ":material/undo:")  # numbers only, no user text


# --- Your data -------------------------------------------------------------------------


def _backup_bytes(con: duckdb.DuckDBPyConnection) -> bytes:
    """A backup zip of the whole database, made when the button is clicked."""
    with tempfile.TemporaryDirectory(prefix="crm-download-") as folder:
        target = Path(folder) / "backup.zip"
        backup.create_backup(con, target)
        return target.read_bytes()


def _your_data() -> None:
    st.subheader("Your data", anchor=False)
    st.caption(
        "A backup is the whole database as one zip (every table as Parquet, with a manifest)."
        " Restore it with `python -m crm.backup restore FILE.zip --db PATH`."
    )
    st.download_button(
        "Download a backup",
        # A callable: the zip is built only when someone clicks (Streamlit 1.67
        # runs it then, on a thread of its own), not on every run of the page.
        data=functools.partial(_backup_bytes, connection()),
        file_name=f"customer-hub-backup-{datetime.now():%Y-%m-%d-%H%M}.zip",
        mime="application/zip",
        icon=":material/database:",
        key="backup_download",
        on_click="ignore",
    )


def render_page() -> None:
    """The whole Import page."""
    st.title("Import", anchor=False)  # the menu at the top leads back to Customers
    _upload_section()
    st.divider()
    _history()
    st.divider()
    _your_data()
