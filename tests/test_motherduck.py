"""A MotherDuck database as CRM_DB_PATH: everything short of the connection itself.

DuckDB downloads its motherduck extension on first use, and this machine
reaches no network but the package registries: the connection is tried for
real (and fails at the download, in a sentence without the token); the
location, the token's precedence, the connection string and the refusal of
local-file-only operations are checked here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest

from crm import config, db
from crm.config import BadDatabaseSetting, LocalDatabase, MotherDuckDatabase
from crm.demo import seed
from crm.errors import CrmError, DatabaseUnavailable
from crm.exchange import backup
from crm.ui import data

TOKEN = "tok-7Hq2-secret"  # a made-up token: it must never show in a sentence or a log


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("CRM_DB_PATH", *config.TOKEN_VARIABLES):
        monkeypatch.delenv(variable, raising=False)


# --- Where the data is ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("md:customer_hub", "customer_hub"),
        ("motherduck:customer_hub", "customer_hub"),
        ("MD:Sales_2026", "Sales_2026"),
        ("  md: team  ", "team"),
    ],
)
def test_md_forms_name_a_motherduck_database(text: str, name: str) -> None:
    location = config.parse_database(text)
    assert location == MotherDuckDatabase(name)
    assert str(location) == f"md:{name}"


@pytest.mark.parametrize("text", ["data/crm.duckdb", "/tmp/x/crm.duckdb", ":memory:", "mdx.duckdb"])
def test_anything_else_is_a_local_file(text: str) -> None:
    assert config.parse_database(text) == LocalDatabase(Path(text))


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("md:", "“md:” names no MotherDuck database: write md: followed by its name"),
        ("md:my-db", "“my-db” cannot be a MotherDuck database name here"),
        ("md:1st", "“1st” cannot be a MotherDuck database name here"),
        ("md:a b", "“a b” cannot be a MotherDuck database name here"),
        (f"md:hub?motherduck_token={TOKEN}", "Put no parameters in “md:hub?…”"),
    ],
)
def test_a_bad_md_form_is_a_sentence(text: str, sentence: str) -> None:
    with pytest.raises(BadDatabaseSetting) as caught:
        config.parse_database(text)
    assert isinstance(caught.value, CrmError)  # the pages show it as it is
    assert str(caught.value).startswith(sentence)
    assert TOKEN not in str(caught.value)


def test_the_environment_comes_before_the_secrets_and_the_default_is_the_demo_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = config.database()
    assert default == LocalDatabase(config.DEFAULT_DB_PATH) and default.is_default
    assert config.database("md:from_secrets") == MotherDuckDatabase("from_secrets")
    monkeypatch.setenv("CRM_DB_PATH", "md:from_env")
    assert config.database("md:from_secrets") == MotherDuckDatabase("from_env")
    monkeypatch.setenv("CRM_DB_PATH", "data/other.duckdb")
    other = config.database()
    assert other == LocalDatabase(Path("data/other.duckdb")) and not other.is_default


def test_file_only_tools_refuse_a_motherduck_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DB_PATH", "md:customer_hub")
    with pytest.raises(BadDatabaseSetting, match="md:customer_hub is a MotherDuck database"):
        config.db_path()


# --- The token --------------------------------------------------------------------------


def test_the_token_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.motherduck_token(None) is None
    assert config.motherduck_token("   ") is None
    assert config.motherduck_token(" from-secrets ") == "from-secrets"
    monkeypatch.setenv("motherduck_token", "lower-env")  # how DuckDB's extension spells it
    assert config.motherduck_token("from-secrets") == "lower-env"
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "upper-env")
    assert config.motherduck_token("from-secrets") == "upper-env"
    monkeypatch.setenv("MOTHERDUCK_TOKEN", " ")
    assert config.motherduck_token("from-secrets") == "lower-env"


def test_the_connection_string_names_the_database_and_never_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, token = db.motherduck_connection(MotherDuckDatabase("customer_hub"), TOKEN)
    assert (path, token) == ("md:customer_hub?attach_mode=single", TOKEN)
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "from-env")
    assert db.motherduck_connection(MotherDuckDatabase("hub"), TOKEN) == (
        "md:hub?attach_mode=single",
        "from-env",
    )


def test_no_token_is_a_sentence_before_any_connection() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        db.connect("md:customer_hub")
    assert str(caught.value) == (
        "Customer Hub is set to use the MotherDuck database md:customer_hub but has no access"
        " token. Set MOTHERDUCK_TOKEN in the environment, or token under [motherduck] in"
        " .streamlit/secrets.toml (on Community Cloud: the app's Settings, Secrets)."
    )


def test_the_connection_is_tried_and_its_failure_is_a_sentence_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What could not be run here: DuckDB fetches the motherduck extension over the
    internet. The attempt is real; what it says is checked, not that it connects."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DatabaseUnavailable) as caught:
        db.connect(MotherDuckDatabase("customer_hub"), token=TOKEN)
    said = str(caught.value)
    assert said.startswith("Could not open the MotherDuck database md:customer_hub: ")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert TOKEN not in said and TOKEN not in caplog.text


def test_a_failure_sentence_cuts_the_token_out_and_says_what_to_check() -> None:
    # DuckDB's words on this machine (2.0.1), and an error repeating the token.
    download = duckdb.IOException(
        'IO Error: Failed to download extension "motherduck" at URL'
        ' "http://extensions.duckdb.org/v2.0.1/linux_amd64/motherduck.duckdb_extension.gz"'
        " (ERROR Could not establish connection)"
    )
    said = str(db.motherduck_failure(MotherDuckDatabase("hub"), download, TOKEN, "2.0.1"))
    assert said.endswith(
        " MotherDuck accepts DuckDB 1.4.0 to 1.5.6 and this app runs DuckDB 2.0.1: pin"
        " duckdb==1.5.6 in requirements.txt (see the README, DuckDB versions)."
        " DuckDB downloads its motherduck extension on first use: the machine needs to"
        " reach the internet."
    )
    refused = duckdb.IOException(f"Invalid token {TOKEN} for hub")
    said = str(db.motherduck_failure(MotherDuckDatabase("hub"), refused, TOKEN, "1.5.6"))
    assert said == (
        "Could not open the MotherDuck database md:hub: Invalid token *** for hub"
        " Check the token, that the database exists in MotherDuck, and the network."
    )


# --- Never seeded automatically ---------------------------------------------------------


def test_only_the_missing_default_file_is_built_as_a_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # data/crm.duckdb is relative to the app's folder
    default = LocalDatabase(config.DEFAULT_DB_PATH)
    assert data.opens_demo(default)
    assert not data.opens_demo(MotherDuckDatabase("customer_hub"))
    assert not data.opens_demo(LocalDatabase(tmp_path / "imported.duckdb"))
    (tmp_path / "data").mkdir()
    db.connect(config.DEFAULT_DB_PATH).close()
    assert not data.opens_demo(default)


def test_the_seeder_refuses_to_replace_a_motherduck_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert seed.main(["--db", "md:customer_hub", "--force", "--no-progress"]) == 2
    assert capsys.readouterr().err == (
        "error: --force replaces a local file; md:customer_hub is kept by MotherDuck and is"
        " never replaced. Seed an empty MotherDuck database instead (drop and create it"
        " there).\n"
    )


def test_the_seeder_on_motherduck_without_a_token_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert seed.main(["--db", "md:customer_hub", "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: Customer Hub is set to use the MotherDuck database md:customer_hub but has no"
        " access token."
    )


def test_md_given_as_a_path_is_motherduck_and_makes_no_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scripts take --db as a Path: "md:customer_hub" must not become a file of that name."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseUnavailable):
        db.connect(Path("md:customer_hub"))
    assert backup.main(["create", "--db", "md:customer_hub", "--out", "b.zip"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: Customer Hub is set to use the MotherDuck database md:customer_hub but has no"
    )
    assert backup.main(["restore", "b.zip", "--db", "md:customer_hub"]) == 2
    assert capsys.readouterr().err == (
        "error: a restore builds a database file on this machine, not md:customer_hub: restore"
        " to a file, check it (python -m crm.checks), then copy it to MotherDuck (README: from"
        " the demo database to your own data). Nothing was changed.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []
