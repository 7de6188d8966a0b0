"""A real SMTP server for tests (aiosmtpd), recording every message it accepts.

``recording_server()`` starts ``aiosmtpd.controller.Controller`` on a free
port of 127.0.0.1 and yields a ``Recorder``: its ``messages`` are what
arrived, parsed; addresses in ``refuse`` are answered "550 mailbox
unavailable" at RCPT TO, as a real server refuses an unknown mailbox.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

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
def recording_server() -> Iterator[Recorder]:
    recorder = Recorder(port=free_port())
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()
