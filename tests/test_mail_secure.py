"""STARTTLS, implicit TLS and sign-in against a real SMTP server (aiosmtpd) with a
self-signed certificate made by openssl for the test; the client trusts it only where
a test says so (``trusted``), as it would trust a real server's authority."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from mail_data import email_campaign, people, statuses
from smtp_server import Certificate, make_certificate, recording_server

from crm.mail import transport
from crm.mail.delivery import deliver_campaign

Con = duckdb.DuckDBPyConnection
USERS = {"shop": "correct horse"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("certificate"))


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client trusts the test's certificate (and nothing else)."""
    monkeypatch.setattr(transport, "tls_context", certificate.trusting_context)


@pytest.mark.parametrize("security", ["starttls", "tls"])
@pytest.mark.usefixtures("trusted")
# aiosmtpd warns about AUTH without STARTTLS; with "tls" the whole connection is encrypted.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_secured_signed_in_connection_delivers(
    con: Con, certificate: Certificate, security: str
) -> None:
    chosen = people(con, 3)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    with recording_server(security, certificate, USERS) as server:
        settings = server.settings(security=security, user="shop", password="correct horse")
        report = deliver_campaign(con, campaign_id, settings)
    assert (report.delivered, report.failed, report.stopped) == (3, 0, None)
    assert sorted(m.recipients[0] for m in server.messages) == sorted(p[3] for p in chosen)
    assert server.signed_in == ["shop"]  # one connection for the batch, signed in once


@pytest.mark.usefixtures("trusted")
def test_a_wrong_password_fails_the_batch_with_the_servers_reason(
    con: Con, certificate: Certificate
) -> None:
    chosen = people(con, 3)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    with recording_server("starttls", certificate, USERS) as server:
        settings = server.settings(security="starttls", user="shop", password="wrong")
        report = deliver_campaign(con, campaign_id, settings)
    assert report.stopped is not None and report.stopped.startswith(
        f"Could not send through 127.0.0.1:{server.port}: 535 "
    )
    assert {s for s, _ in statuses(con, campaign_id).values()} == {"Failed"}
    assert server.messages == []


def test_an_untrusted_certificate_is_refused_and_said(con: Con, certificate: Certificate) -> None:
    campaign_id = email_campaign(con, [p[0] for p in people(con, 2)])
    with recording_server("starttls", certificate, USERS) as server:
        settings = server.settings(security="starttls", user="shop", password="correct horse")
        report = deliver_campaign(con, campaign_id, settings)
    assert report.stopped is not None
    assert "The secure connection failed (CERTIFICATE_VERIFY_FAILED)" in report.stopped
    assert server.messages == [] and server.signed_in == []


def test_a_server_that_requires_starttls_refuses_a_plain_sender_once(
    con: Con, certificate: Certificate, tmp_path: Path
) -> None:
    chosen = people(con, 15)
    campaign_id = email_campaign(con, [p[0] for p in chosen])
    with recording_server("starttls", certificate) as server:
        report = deliver_campaign(con, campaign_id, server.settings(security="none"))
    # The server refuses MAIL FROM until STARTTLS: the first send fails with its words,
    # the rest of that batch with the same reason, and the run stops there.
    assert report.stopped is not None and "refused the sender shop@example.com: 530" in (
        report.stopped
    )
    counted = [s for s, _ in statuses(con, campaign_id).values()]
    assert (counted.count("Failed"), counted.count("Queued")) == (10, 5)
    assert server.messages == []
