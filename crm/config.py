"""Settings read from the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from crm.errors import CrmError

DEFAULT_DB_PATH = Path("data") / "crm.duckdb"
DEMO_CUSTOMERS = 1_000
DEMO_SEED = 42
# The prefixes DuckDB hands to its motherduck extension ("md:my_db", "motherduck:my_db").
MOTHERDUCK_PREFIXES = ("md:", "motherduck:")
# A MotherDuck database name as the app accepts it: the name is put into SQL
# (CREATE DATABASE, USE) as a quoted identifier, so only plain names pass.
_MOTHERDUCK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
TOKEN_VARIABLES = ("MOTHERDUCK_TOKEN", "motherduck_token")


class BadDatabaseSetting(CrmError, ValueError):
    """``CRM_DB_PATH`` (or the secrets' database) names no database the app can open."""


@dataclass(frozen=True)
class LocalDatabase:
    """A DuckDB file on this machine's disk (lost on Community Cloud when the app reboots)."""

    path: Path

    @property
    def is_default(self) -> bool:
        """The demo database the app builds on its first start (``data/crm.duckdb``)."""
        return self.path == DEFAULT_DB_PATH

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class MotherDuckDatabase:
    """A database kept by MotherDuck: shared by every app instance, kept across reboots."""

    name: str

    def __str__(self) -> str:
        return f"md:{self.name}"


Database = LocalDatabase | MotherDuckDatabase


def parse_database(text: str) -> Database:
    """``md:customer_hub`` (or ``motherduck:customer_hub``) is MotherDuck; anything
    else is a local file. ``BadDatabaseSetting`` with a sentence for an
    ``md:`` form the app cannot use (no name, parameters, odd characters)."""
    raw = text.strip()
    for prefix in MOTHERDUCK_PREFIXES:
        if raw.lower().startswith(prefix):
            name = raw[len(prefix) :].strip()
            break
    else:
        return LocalDatabase(Path(raw))
    if not name:
        raise BadDatabaseSetting(
            f"“{raw}” names no MotherDuck database: write md: followed by its name,"
            " for example md:customer_hub."
        )
    if "?" in name:
        raise BadDatabaseSetting(
            f"Put no parameters in “{raw[: raw.index('?')]}?…”: the app adds what it needs,"
            " and the token belongs in MOTHERDUCK_TOKEN or the [motherduck] secrets."
        )
    if not _MOTHERDUCK_NAME.fullmatch(name):
        raise BadDatabaseSetting(
            f"“{name[:40]}” cannot be a MotherDuck database name here: use letters, digits"
            " and underscores, starting with a letter (at most 63), for example customer_hub."
        )
    return MotherDuckDatabase(name)


def database(fallback: str | None = None) -> Database:
    """Where the data is: ``CRM_DB_PATH``, else ``fallback`` (the UI passes the
    ``[motherduck] database`` secret), else ``data/crm.duckdb``."""
    raw = os.environ.get("CRM_DB_PATH", "").strip() or (fallback or "").strip()
    return parse_database(raw) if raw else LocalDatabase(DEFAULT_DB_PATH)


def db_path() -> Path:
    """The local database file; ``BadDatabaseSetting`` when ``CRM_DB_PATH`` names
    a MotherDuck database (for tools that only work on a file)."""
    found = database()
    if isinstance(found, MotherDuckDatabase):
        raise BadDatabaseSetting(f"{found} is a MotherDuck database, not a file on this machine.")
    return found.path


def motherduck_token(from_secrets: str | None = None) -> str | None:
    """The MotherDuck access token: ``MOTHERDUCK_TOKEN`` in the environment first
    (also spelled ``motherduck_token``, as DuckDB's extension reads it), else
    ``from_secrets`` (the UI passes ``[motherduck] token``). None when neither is set."""
    for variable in TOKEN_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    value = (from_secrets or "").strip()
    return value or None


def read_only() -> bool:
    """``CRM_READ_ONLY=1``: a public demo. The database opens read-only and every
    write action is hidden or disabled with a short explanation."""
    return os.environ.get("CRM_READ_ONLY", "").strip().lower() in {"1", "true", "yes", "on"}
