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
