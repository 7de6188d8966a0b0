"""Export: the segment's customers as a CSV, Excel or Parquet file, from a dialog.

"Export" sits in the overview's header (the segment shown) and on each saved
segment's row (that segment). It opens one dialog (``dialogs.register``) that
holds the segment as query parameters, like the "Save segment" dialog, so both
places export exactly what the overview would count.

The file is built when the download button is clicked, not before: the
button's ``data`` is a function (Streamlit 1.67 runs it in a thread on click,
showing a spinner on the button meanwhile). CSV and Parquet are a DuckDB
``COPY`` (a million customers in about 2 s). An Excel file of more than
``EXCEL_PROGRESS_ROWS`` rows is far slower (openpyxl, cell by cell), so it is
built by a button of its own with a progress bar, then offered for download.
"""

from __future__ import annotations

import functools
import json
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crm import formatting, segments
from crm.exchange import segment_export
from crm.exchange.segment_export import FORMAT_LABELS, FileFormat
from crm.formatting import escape_markdown
from crm.models import CustomerFilter
from crm.ui import dialogs, theme
from crm.ui.data import cached_customer_page, connection

KIND: dialogs.DialogKind = "export_segment"
_FORMAT = "export_format"
_BUILT = "_export_built"  # (what was built, file name, bytes) for a large Excel file
# Above this many rows an Excel file is built with a progress bar first. Measured on
# a busy 2-core machine (load 8-10): openpyxl wrote 1,700-2,200 rows a second with
# lxml (half that without), so 10,000 rows take about 5 s and a million 8-10 minutes.
EXCEL_PROGRESS_ROWS = 10_000
EXCEL_ROWS_PER_SECOND = 2_000
_FORMAT_NOTES: dict[FileFormat, str] = {
    FileFormat.CSV: "Opens in Excel, Numbers, Google Sheets; accents kept (UTF-8).",
    FileFormat.EXCEL: "A workbook with one sheet; best for a few thousand customers.",
    FileFormat.PARQUET: "Keeps numbers and dates typed: for pandas, DuckDB or a BI tool.",
}


def segment_label(f: CustomerFilter) -> str:
    """The segment in a few words for a file name: its filters' values ("Italy Coffee")."""
    words = [chip.label.split(": ", 1)[-1] for chip in segments.chips(f)]
    if f.search.strip():
        words.insert(0, f.search.strip())
    return " ".join(words) if words else "all"


def open_export_dialog(f: CustomerFilter, name: str = "") -> None:
    """Open the Export dialog for the segment ``f``; ``name`` is a saved segment's name."""
    dialogs.open_dialog(KIND)
    opened = dialogs.current()
    assert opened is not None
    params = segments.params_from_filter(segments.without_page(f))
    st.session_state[dialogs.STATE] = dialogs.DialogState(
        kind=KIND, revision=opened.revision, name=name, filters=params
    )
    st.session_state.pop(_FORMAT, None)
    st.session_state.pop(_BUILT, None)


def export_button(slot: DeltaGenerator, f: CustomerFilter) -> None:
    """The overview header's "Export" (drawn into ``slot``, kept in the header)."""
    slot.button(
        "Export",
        key="export_segment",
        icon=":material/download:",
        on_click=open_export_dialog,
        args=(segments.without_page(f),),
        help="Download the customers of this segment as CSV, Excel or Parquet.",
    )


def _file_bytes(con: duckdb.DuckDBPyConnection, f: CustomerFilter, fmt: FileFormat) -> bytes:
    """The file, built now (the download button's deferred data)."""
    with tempfile.TemporaryDirectory(prefix="crm-export-") as folder:
        target = Path(folder) / f"customers.{fmt.value}"
        segment_export.write_segment(con, f, fmt, target)
        return target.read_bytes()


def _choose_csv() -> None:
    st.session_state[_FORMAT] = FORMAT_LABELS[FileFormat.CSV]


def _close() -> None:
    st.session_state.pop(_BUILT, None)  # a built Excel file can be large
    dialogs.close_dialog()


def _excel_note(rows: int) -> bool:
    """Say what limits an Excel file of ``rows``; False when it cannot be made."""
    problem = segment_export.too_large_for_excel(rows)
    if problem:
        st.error(problem, icon=":material/table_rows:")
        st.button(
            "Export as CSV instead",
            key="export_as_csv",
            icon=":material/csv:",
            on_click=_choose_csv,
        )
        return False
    if rows > EXCEL_PROGRESS_ROWS:
        seconds = rows / EXCEL_ROWS_PER_SECOND
        took = f"about {max(1, round(seconds / 60))} minutes" if seconds >= 90 else "a while"
        st.warning(
            f"Excel files of many rows are slow to build: this one may take {took}. "
            "CSV holds the same and takes a few seconds.",
            icon=":material/hourglass_top:",
        )
    return True


def _build_excel(f: CustomerFilter, rows: int, key: str, file_name: str) -> None:
    bar = st.progress(0.0, text="Writing the Excel file…")

    def show(share: float) -> None:
        done = formatting.number(round(share * rows))
        bar.progress(share, text=f"Writing the Excel file… {done} of {formatting.number(rows)}")

    with tempfile.TemporaryDirectory(prefix="crm-export-") as folder:
        target = Path(folder) / file_name
        segment_export.write_segment(connection(), f, FileFormat.EXCEL, target, on_progress=show)
        st.session_state[_BUILT] = (key, file_name, target.read_bytes())
    bar.empty()


def _body(state: dialogs.DialogState) -> None:
    f = segments.filter_from_params(state.filters)
    rows = cached_customer_page(f).totals.customers
    named = f"**{escape_markdown(state.name)}**: " if state.name else ""
    st.markdown(f"{named}{escape_markdown(formatting.plural(rows, 'customer'))} to export.")
    labels = [FORMAT_LABELS[fmt] for fmt in FileFormat]
    label = st.segmented_control("File type", labels, default=labels[0], key=_FORMAT, required=True)
    fmt = next(fmt for fmt in FileFormat if FORMAT_LABELS[fmt] == label)
    st.caption(
        f"{_FORMAT_NOTES[fmt]} Columns: "
        + escape_markdown(", ".join(segment_export.HEADERS[:14]))
        + ", the scores and the marketing consent per channel."
    )
    if fmt is FileFormat.EXCEL and not _excel_note(rows):
        return
    name = segment_export.file_name(state.name or segment_label(f), fmt, date.today())
    mime = segment_export.MIME_TYPES[fmt]
    download = functools.partial(
        st.download_button,
        f"Download {FORMAT_LABELS[fmt]}",
        file_name=name,
        mime=mime,
        key="export_download",
        icon=":material/download:",
        type="primary",
        on_click="ignore",
        disabled=rows == 0,
    )
    if fmt is not FileFormat.EXCEL or rows <= EXCEL_PROGRESS_ROWS:
        download(functools.partial(_file_bytes, connection(), f, fmt))
        return
    key = json.dumps([state.revision, state.filters, rows], sort_keys=True)
    built = st.session_state.get(_BUILT)
    if built is None or built[0] != key:
        if not st.button("Build the Excel file", key="export_build", icon=":material/build:"):
            return
        _build_excel(f, rows, key, name)
        built = st.session_state[_BUILT]
    download(built[2])


@dialogs.register(KIND)
@st.dialog("Export customers", width="small", on_dismiss=_close)
def _export_dialog() -> None:
    state = dialogs.state_of(KIND)
    with theme.friendly_errors("the export"):
        _body(state)
