"""Sign-in: the gate every run passes before its page (``crm.ui.navigation.run_app``)."""

from __future__ import annotations


def gate() -> None:
    """Let the run go on to its page, or stop it with a sign-in (filled in next)."""
