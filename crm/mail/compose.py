"""One email as it goes over the wire: merged text, headers, UTF-8 MIME."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from crm.mail.settings import SmtpSettings


def build_email(
    settings: SmtpSettings,
    *,
    to_name: str,
    to_address: str,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> EmailMessage:
    """A plain-text email (UTF-8) from the configured sender to one person.

    Headers are encoded by the ``email`` package (RFC 2047 for non-ASCII
    names and subjects); a CR or LF in a header value raises ValueError
    rather than letting text become a header of its own.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = formataddr((to_name, to_address))
    message["Subject"] = subject
    message["Date"] = format_datetime((now or datetime.now()).astimezone())
    # The sender's domain, so receiving servers see an id that belongs to it.
    message["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2])
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message.set_content(body, subtype="plain", charset="utf-8")
    return message
