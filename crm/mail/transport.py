"""One SMTP connection per batch, and the pace messages leave at.

A failure is a sentence with the server's own words when it gave some
("550 mailbox unavailable"), recorded as the send's ``failure_reason``.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

from crm.mail.settings import SmtpSettings

# Opens a connection for the settings (tests pass their own to count connections).
Connector = Callable[[SmtpSettings], smtplib.SMTP]


class ServerUnavailable(Exception):
    """The server could not be reached, or refused the sign-in: nothing in the batch can go."""


def reason(error: BaseException) -> str:
    """What went wrong, in the server's words when it gave any ("550 mailbox unavailable")."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = list(error.recipients.values())
        if codes:
            code, text = codes[0]
            return _code_text(code, text)
    if isinstance(error, smtplib.SMTPResponseException):
        return _code_text(error.smtp_code, error.smtp_error)
    if isinstance(error, socket.timeout | TimeoutError):
        return "The mail server did not answer in time."
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"The mail server closed the connection ({error or 'no reason given'})."
    if isinstance(error, ConnectionRefusedError):
        return "The mail server refused the connection (is it running, and is the port right?)."
    if isinstance(error, ssl.SSLError):
        return f"The secure connection failed ({error.reason or error}); check security and port."
    if isinstance(error, socket.gaierror):
        return "The mail server's name could not be found; check host."
    return str(error) or type(error).__name__


def _code_text(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


def tls_context() -> ssl.SSLContext:
    """The system's trusted authorities, with the host name checked (tests trust their own)."""
    return ssl.create_default_context()


def open_connection(settings: SmtpSettings) -> smtplib.SMTP:
    """A connection ready to send (secured and signed in as the settings say).

    Raises ServerUnavailable with the reason when that is not possible.
    """
    context = tls_context()
    try:
        smtp: smtplib.SMTP
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.user and settings.password:
                smtp.login(settings.user, settings.password)
        except BaseException:
            smtp.close()
            raise
    except (OSError, smtplib.SMTPException) as error:
        raise ServerUnavailable(
            f"Could not send through {settings.server}: {reason(error)}"
        ) from error
    return smtp


def close_quietly(smtp: smtplib.SMTP) -> None:
    """QUIT, or just drop a connection the server already closed."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def send_one(smtp: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str) -> None:
    """Hand one message for one recipient to the server; raises what the server said."""
    smtp.send_message(message, from_addr=sender, to_addrs=[recipient])


class RateLimit:
    """At most ``per_second`` messages a second: each waits for its slot."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval
