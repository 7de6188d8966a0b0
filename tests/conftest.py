"""Fixtures shared by the three tiers: seeded databases, the app, a live server.

Every test gets its own DuckDB file, copied from one database the seed
generator built for the session, so tests never share state and never mock.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from live_server import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from smtp_server import Recorder, recording_server

from crm import db
from crm.demo.seed import seed_database

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "tests" / "screenshots"
SEED = 7
CUSTOMERS = 300
# The data is laid out relative to today so "visited in the last 30 days" finds people.
AS_OF = date.today()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database seeded once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "crm.duckdb"
    seed_database(path, customers=CUSTOMERS, seed=SEED, as_of=AS_OF)
    return path


@pytest.fixture
def db_path(seeded_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the seeded database."""
    path = tmp_path / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    return path


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def app_env(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app (AppTest runs it in this process) at this test's database."""
    monkeypatch.setenv("CRM_DB_PATH", str(db_path))
    return db_path


# --- Browser tier ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(seeded_template: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The data the live server started from, read-only, to compute expectations."""
    connection = duckdb.connect(str(seeded_template), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def live_server(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run Home.py`` on a free port, on this module's own copy of the seeded database.

    One server per module, not per session: browser tests add orders, campaigns and
    messages, and a later module that computes its expectations from the template
    (``seeded``) then disagreed with a server earlier modules had changed (CI, stop 14:
    17 campaigns expected, 18 shown). Starting a server costs about 3 s."""
    folder = tmp_path_factory.mktemp("live")
    path = folder / "crm.duckdb"
    shutil.copyfile(seeded_template, path)
    with streamlit_server(path, folder / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def base_url(live_server: str) -> str:
    """pytest-playwright's ``page.goto("/")`` resolves against this module's live server."""
    return live_server


@pytest.fixture(scope="module")
def browser_context_args(base_url: str) -> dict[str, object]:
    """pytest-playwright's own is session-scoped; each module has its own server's URL."""
    return {"base_url": base_url}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    # Playwright cannot download its own browser here: use Debian's Chromium.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where browser tests save the pictures a person looks at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --- Email delivery --------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Recorder]:
    """A real SMTP server (aiosmtpd) on a free port that records what it receives."""
    with recording_server() as server:
        yield server


def pytest_report_header() -> str:
    """CI runs the unit and app tiers on DuckDB 2.0.x and 1.5.6: say which this is."""
    return f"duckdb {duckdb.__version__}"
