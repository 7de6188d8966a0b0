"""Both pages when another process (a second ``streamlit run``) has the database file open.

The holder is a real second process with DuckDB's lock on the file; the
pages must say so in a sentence that names it, never show a traceback.
"""

from __future__ import annotations

from pathlib import Path

from db_holder import held_open
from streamlit.testing.v1 import AppTest

from crm.formatting import escape_markdown

ROOT = Path(__file__).resolve().parent.parent


def _says_in_use(at: AppTest, path: Path, pid: int) -> None:
    assert not at.exception, [e.value for e in at.exception]
    bodies = [e.value for e in at.error]
    assert len(bodies) == 1, bodies
    body = bodies[0]
    assert "in use by another process" in body
    assert f"process id {pid}" in body
    assert escape_markdown(str(path)) in body  # user-facing text goes through the one helper
    assert "CRM\\_DB\\_PATH" in body  # what to do: stop the other one or use another file
    assert "Something went wrong" not in body


def test_the_overview_says_the_file_is_in_use(app_env: Path) -> None:
    with held_open(app_env) as pid:
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
        at.run()
    _says_in_use(at, app_env, pid)


def test_the_customer_page_says_the_file_is_in_use(app_env: Path) -> None:
    with held_open(app_env) as pid:
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
        at.run()
        at.switch_page("app_pages/Customer.py")
        at.query_params["id"] = "1"
        at.run()
    _says_in_use(at, app_env, pid)
