"""The ``[smtp]`` section of ``.streamlit/secrets.toml``, parsed and checked.

The UI passes ``st.secrets["smtp"]`` (a mapping); nothing here reads files or
the environment. Every problem is a sentence naming the key and what to write
instead, all of them at once (``SmtpConfigError.problems``), so a person
fixing the file does not discover them one reload at a time.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from crm.errors import CrmError

Security = Literal["starttls", "tls", "none"]
SECURITIES: tuple[Security, ...] = ("starttls", "tls", "none")
DEFAULT_PORTS: dict[Security, int] = {"starttls": 587, "tls": 465, "none": 25}
# Ten messages a second keeps well under what shared providers allow without
# a negotiated quota (Amazon SES starts accounts at 1/s in its sandbox and 14/s
# after; Gmail's SMTP relay throttles bursts) yet sends 10,000 in about 17 minutes.
DEFAULT_RATE = 10.0
# A batch is what one SMTP connection sends and what a crash can leave
# "Sending" at most: 50 at 10/s is 5 s of work between two looks at the database.
DEFAULT_BATCH = 50
DEFAULT_TIMEOUT = 30.0
MAX_RATE = 1_000.0
MAX_BATCH = 1_000

SECTION = "smtp"
SECRETS_FILE = ".streamlit/secrets.toml"
KEYS = (
    "host",
    "port",
    "security",
    "user",
    "password",
    "from_address",
    "from_name",
    "reply_to",
    "rate_limit",
    "batch_size",
    "timeout",
)
# One address: something@somewhere, no spaces, no second @, no brackets or commas
# that would make it a list of addresses in a header.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


class SmtpConfigError(CrmError):
    """The ``[smtp]`` section cannot be used; ``problems`` holds one sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security
    user: str | None
    password: str | None = None
    from_address: str = ""
    from_name: str = ""
    reply_to: str | None = None
    rate_limit: float = DEFAULT_RATE
    batch_size: int = DEFAULT_BATCH
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        # Never the password: settings end up in logs and tracebacks.
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r},"
            f" user={self.user!r}, from_address={self.from_address!r})"
        )

    @property
    def server(self) -> str:
        """``host:port``, as sentences name the server."""
        return f"{self.host}:{self.port}"


def _text(raw: Mapping[str, object], key: str, problems: list[str]) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f'{key} must be text in quotes, like {key} = "…".')
        return None
    return value.strip() or None


def _as_number(value: object, whole: bool) -> float | None:
    """``value`` as a number, or None when it is not one (or not whole when it must be).
    TOML users quote numbers by habit: "587" means 587."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    number = float(value)
    if whole and not number.is_integer():
        return None
    return number


def _number(
    raw: Mapping[str, object],
    key: str,
    problems: list[str],
    *,
    whole: bool,
    low: float,
    high: float,
    example: str,
) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    number = _as_number(value, whole)
    if number is None:
        kind = "a whole number" if whole else "a number"
        problems.append(f"{key} must be {kind}, like {key} = {example}; it is {value!r}.")
        return None
    if not low <= number <= high:
        problems.append(f"{key} must be between {low:g} and {high:,.0f}; it is {value!r}.")
        return None
    return number


def _address(value: str | None, key: str, problems: list[str]) -> None:
    if value is not None and not _ADDRESS.match(value):
        problems.append(f"{key} must be one email address, like name@example.com; it is {value!r}.")


def parse_settings(raw: Mapping[str, object]) -> SmtpSettings:
    """The settings in ``raw`` (the ``[smtp]`` section), or SmtpConfigError listing
    every problem in a sentence. Keys: see ``KEYS`` and ``secrets.toml.example``."""
    problems: list[str] = []
    for key in raw:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            problems.append(f"{key} is not a setting of [smtp].{hint} Known: {', '.join(KEYS)}.")
    host = _text(raw, "host", problems)
    if host is None and "host" not in raw:
        problems.append('host is missing: the mail server\'s name, like host = "smtp.example.com".')
    elif host is None:
        problems.append('host is empty: the mail server\'s name, like host = "smtp.example.com".')
    security_text = (_text(raw, "security", problems) or "starttls").lower()
    security: Security = "starttls"
    if security_text in SECURITIES:
        security = security_text
    else:
        hint = ' ("ssl" is "tls" here)' if security_text == "ssl" else ""
        problems.append(
            f'security must be "starttls", "tls" or "none"{hint}; it is {security_text!r}.'
        )
    port = _number(raw, "port", problems, whole=True, low=1, high=65_535, example="587")
    user = _text(raw, "user", problems)
    password_value = raw.get("password")
    password = password_value if isinstance(password_value, str) and password_value else None
    if password_value is not None and not isinstance(password_value, str):
        problems.append('password must be text in quotes, like password = "…".')
    if user and password is None:
        problems.append(f"password is missing: user is set ({user!r}) but has no password.")
    if password is not None and not user:
        problems.append("user is missing: a password is set but no user name to sign in with.")
    if (user or password) and security == "none":
        problems.append(
            'security = "none" would send the password unencrypted: use "starttls" or "tls",'
            " or remove user and password for a server that needs no sign-in."
        )
    from_address = _text(raw, "from_address", problems)
    if from_address is None:
        problems.append(
            'from_address is missing: the sender, like from_address = "shop@example.com".'
        )
    _address(from_address, "from_address", problems)
    reply_to = _text(raw, "reply_to", problems)
    _address(reply_to, "reply_to", problems)
    from_name = _text(raw, "from_name", problems) or ""
    if any(ch in from_name for ch in "\r\n"):
        problems.append("from_name must be on one line.")
    rate = _number(raw, "rate_limit", problems, whole=False, low=0.01, high=MAX_RATE, example="10")
    batch = _number(raw, "batch_size", problems, whole=True, low=1, high=MAX_BATCH, example="50")
    timeout = _number(raw, "timeout", problems, whole=False, low=1, high=600, example="30")
    if problems:
        raise SmtpConfigError(problems)
    assert host is not None and from_address is not None
    return SmtpSettings(
        host=host,
        port=int(port) if port is not None else DEFAULT_PORTS[security],
        security=security,
        user=user,
        password=password,
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to,
        rate_limit=rate if rate is not None else DEFAULT_RATE,
        batch_size=int(batch) if batch is not None else DEFAULT_BATCH,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
    )
