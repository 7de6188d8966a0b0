"""Errors the data layer raises; each carries a sentence a user can read."""

from __future__ import annotations


class CrmError(Exception):
    """Base class: ``str(error)`` is a sentence fit to show a user."""


class ValidationFailed(CrmError):
    """Input was rejected; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class NotFound(CrmError):
    """The record asked for does not exist (any more)."""


class ConflictError(CrmError):
    """Someone else changed the record since it was read."""


class DuplicateError(CrmError):
    """The write would repeat something that must be unique."""


class DatabaseInUse(CrmError):
    """Another process has the database file open (DuckDB lets one process write a file).

    ``pid`` is that process's id when DuckDB reported it, else None; ``advice``
    says what to do, which depends on who is asking (the app or the seeder).
    """

    def __init__(self, path: str, pid: int | None, advice: str) -> None:
        self.path = path
        self.pid = pid
        holder = f" (process id {pid})" if pid is not None else ""
        super().__init__(f"The database file {path} is in use by another process{holder}. {advice}")


class DatabaseUnavailable(CrmError):
    """The database cannot be opened: a MotherDuck database without a token,
    unreachable, or refusing this client. The sentence never holds the token."""
