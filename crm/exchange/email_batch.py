"""Checking many email addresses in another process (``python -m crm.exchange.email_batch``).

Reads one address a line on standard input (printable ASCII, so no address
holds a line break) and writes one character a line to standard output: 1
when ``crm.models.CustomerBase``'s email rule accepts it, 0 when not. The
import runs one of these per core for a long file (``crm.exchange.import_checks``):
a plain subprocess rather than ``multiprocessing``, which would re-run the
parent's main script (the Streamlit server's, a test runner's) in each worker.
"""

from __future__ import annotations

import sys

from crm.models import CustomerBase


def accepted(emails: list[str]) -> list[bool]:
    """Whether the model's email rule accepts each address, as it is."""
    verdicts = []
    for email in emails:
        try:
            CustomerBase._email_syntax(email)
        except ValueError:
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


def main() -> int:
    emails = sys.stdin.read().split("\n")
    if emails and emails[-1] == "":
        emails.pop()
    sys.stdout.write("".join("1" if ok else "0" for ok in accepted(emails)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
