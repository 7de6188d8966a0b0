"""Settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB_PATH = Path("data") / "crm.duckdb"
DEMO_CUSTOMERS = 1_000
DEMO_SEED = 42


def db_path() -> Path:
    """The database file: ``CRM_DB_PATH`` or ``data/crm.duckdb``."""
    return Path(os.environ.get("CRM_DB_PATH") or DEFAULT_DB_PATH)


def read_only() -> bool:
    """``CRM_READ_ONLY=1``: a public demo. The database opens read-only and every
    write action is hidden or disabled with a short explanation."""
    return os.environ.get("CRM_READ_ONLY", "").strip().lower() in {"1", "true", "yes", "on"}
