"""A real SMTP server for tests (aiosmtpd), recording every message it accepts.

``recording_server()`` starts ``aiosmtpd.controller.Controller`` on a free
port of 127.0.0.1 and yields a ``Recorder``: its ``messages`` are what
arrived, parsed; addresses in ``refuse`` are answered "550 mailbox
unavailable" at RCPT TO, as a real server refuses an unknown mailbox.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from crm.mail.settings import SmtpSettings

REFUSAL = "550 mailbox unavailable"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Recorder:
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    # How many SMTP sessions (connections) were opened.
    sessions: int = 0
    # Who signed in (AUTH), in order.
    signed_in: list[str] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content)
        parsed = message_from_bytes(raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]

    def settings(self, **overrides: Any) -> SmtpSettings:
        """Settings that send here, as fast as the tests like."""
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "user": None,
            "from_address": "shop@example.com",
            "from_name": "Customer Hub Shop",
            "rate_limit": 1_000.0,
            "batch_size": 10,
            "timeout": 5.0,
        }
        values.update(overrides)
        return SmtpSettings(**values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def recording_server(
    security: str = "none", cert: Certificate | None = None, users: dict[str, str] | None = None
) -> Iterator[Recorder]:
    """The server, plain (``security="none"``), offering STARTTLS (required) or speaking
    TLS from the start (``"tls"``) with ``cert``; ``users`` (name -> password) must sign in."""
    recorder = Recorder(port=free_port())
    options: dict[str, Any] = {}
    if security != "none":
        assert cert is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert.cert, cert.key)
        # With TLS from the start, aiosmtpd's SMTP layer does not know the socket is
        # encrypted and would hide AUTH (auth_require_tls): it is encrypted, so allow it.
        options = (
            {"ssl_context": context, "auth_require_tls": False}
            if security == "tls"
            else {
                "tls_context": context,
                "require_starttls": True,
            }
        )
    if users is not None:
        known = dict(users)

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
        ) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and known.get(auth_data.login.decode()) == auth_data.password.decode()
            )
            if ok:
                recorder.signed_in.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticate, auth_required=True)
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port, **options)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 (files), and a client context trusting it."""

    cert: Path
    key: Path

    def trusting_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)
