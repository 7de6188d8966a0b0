"""The Send panel (``crm.ui.sending.render_send``) and the message dialog's delivery, in AppTest.

The panel is drawn by a one-line script (``AppTest.from_function``) until the
campaign page places it; sending goes to a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from mail_data import email_campaign, people, statuses, subscribe
from smtp_server import REFUSAL, Recorder
from streamlit.testing.v1 import AppTest

from crm import db, writes
from crm.formatting import escape_markdown
from crm.mail.settings import SmtpConfigError, parse_settings
from crm.models import CampaignCreate
from crm.ui import actions

ROOT = Path(__file__).resolve().parent.parent
Con = duckdb.DuckDBPyConnection


def _send_page(campaign_id: int) -> None:
    from crm.ui.data import show_flashes
    from crm.ui.sending import render_send

    show_flashes()
    render_send(campaign_id)


@pytest.fixture
def dbc(app_env: Path) -> Iterator[Con]:
    """A second connection to the app's database, to set up and check."""
    connection = db.connect(app_env)
    yield connection
    connection.close()


def smtp_secrets(server: Recorder, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "from_address": "shop@example.com",
        "from_name": "Example Shop",
        "rate_limit": 1000,
        "batch_size": 2,
        **extra,
    }


def panel(campaign_id: int, secrets: dict[str, Any] | None) -> AppTest:
    at = AppTest.from_function(_send_page, args=(campaign_id,), default_timeout=60)
    # Secrets given (an unrelated section when there is no [smtp]), so a developer's
    # own .streamlit/secrets.toml never decides a test.
    at.secrets["smtp" if secrets is not None else "elsewhere"] = secrets or {"x": 1}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def parse_problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SmtpConfigError) as refused:
        parse_settings(raw)
    return refused.value.problems


def button(at: AppTest, key: str) -> Any:
    return at.button(key=key)


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def test_send_delivers_the_queued_and_says_what_happened(dbc: Con, smtp_server: Recorder) -> None:
    chosen = people(dbc, 5)
    smtp_server.refuse.add(chosen[4][3])
    campaign_id = email_campaign(dbc, [p[0] for p in chosen])
    at = panel(campaign_id, smtp_secrets(smtp_server))
    send = button(at, f"send_queued_{campaign_id}")
    assert send.label == "Send 5 queued" and not send.disabled
    assert "5 queued" in texts(at.caption)

    send.click()
    at.run()

    assert not at.exception, [e.value for e in at.exception]
    assert texts(at.warning) == ["4 delivered, 1 failed: see members for the reasons."]
    assert sorted(m.recipients[0] for m in smtp_server.messages) == sorted(p[3] for p in chosen[:4])
    assert statuses(dbc, campaign_id)[chosen[4][0]] == ("Failed", REFUSAL)
    assert "4 delivered · 1 failed" in texts(at.caption)
    assert f"Why sends failed:\n- {REFUSAL} (1)" in texts(at.caption)
    assert button(at, f"send_queued_{campaign_id}").label == "Nothing queued to send"
    assert button(at, f"send_queued_{campaign_id}").disabled

    # The mailbox works again: Retry failed re-queues and sends it.
    smtp_server.refuse.clear()
    button(at, f"send_retry_{campaign_id}").click()
    at.run()
    assert texts(at.success) == ["1 delivered."]
    assert len(smtp_server.to(chosen[4][3])) == 1
    assert {s for s, _ in statuses(dbc, campaign_id).values()} == {"Delivered"}


def test_without_smtp_nothing_is_sent_and_the_panel_says_how_to_configure(
    dbc: Con, smtp_server: Recorder
) -> None:
    campaign_id = email_campaign(dbc, [p[0] for p in people(dbc, 3)])
    at = panel(campaign_id, None)
    [info] = texts(at.info)
    assert info.startswith("Email delivery is not configured, so sends stay Queued.")
    assert "`.streamlit/secrets.toml`" in info and "`from_address`" in info
    assert "README.md#delivery-by-email" in info
    send = button(at, f"send_queued_{campaign_id}")
    assert send.disabled and send.label == "Send 3 queued"
    assert {s for s, _ in statuses(dbc, campaign_id).values()} == {"Queued"}
    assert smtp_server.messages == []


def test_bad_settings_are_listed_and_nothing_is_sent(dbc: Con, smtp_server: Recorder) -> None:
    campaign_id = email_campaign(dbc, [p[0] for p in people(dbc, 2)])
    at = panel(campaign_id, smtp_secrets(smtp_server, security="ssl", from_address="nobody"))
    [error] = texts(at.error)
    assert "cannot be used, so nothing is sent" in error
    # Each sentence as the settings check wrote it (escaped: they quote the file's values).
    wrong = smtp_secrets(smtp_server, security="ssl", from_address="nobody")
    for sentence in parse_problems(wrong):
        assert f"- {escape_markdown(sentence)}" in error.splitlines()
    assert len(error.splitlines()) == 3
    assert button(at, f"send_queued_{campaign_id}").disabled


def test_an_sms_campaign_stays_queued_and_says_so(dbc: Con, smtp_server: Recorder) -> None:
    [(customer_id, *_rest)] = people(dbc, 1)
    campaign_id = writes.create_campaign(
        dbc, CampaignCreate(name="Texts", channel="SMS", template="Hi"), first_member=customer_id
    )
    at = panel(campaign_id, smtp_secrets(smtp_server))
    assert texts(at.info) == [
        "SMS has no delivery provider in Customer Hub, so this campaign's 1 queued sends stay"
        " Queued. Only email is delivered (over SMTP)."
    ]
    assert len(at.button) == 0


def test_read_only_disables_sending_with_a_reason(
    dbc: Con, smtp_server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_READ_ONLY", "1")
    campaign_id = email_campaign(dbc, [p[0] for p in people(dbc, 2)])
    # The app opens the file read-only, which DuckDB refuses beside a writer in one process.
    dbc.close()
    at = panel(campaign_id, smtp_secrets(smtp_server))
    send = button(at, f"send_queued_{campaign_id}")
    assert send.disabled and send.help == "Read-only mode: nothing can be sent from this app."
    assert "Read-only mode: nothing can be sent from this app." in texts(at.caption)


def test_interrupted_sends_are_released_only_when_asked(dbc: Con, smtp_server: Recorder) -> None:
    chosen = people(dbc, 4)
    campaign_id = email_campaign(dbc, [p[0] for p in chosen])
    # A sender that died an hour ago left two claimed; one more was claimed just now.
    dbc.execute(
        """
        UPDATE campaign_sends SET status = 'Sending',
            claimed_at = current_localtimestamp() - INTERVAL (CASE WHEN customer_id = $recent
                                                                   THEN 0 ELSE 60 END) MINUTE
        WHERE campaign_id = $c AND list_contains($ids, customer_id)
        """,
        {"c": campaign_id, "ids": [p[0] for p in chosen[:3]], "recent": chosen[2][0]},
    )
    at = panel(campaign_id, smtp_secrets(smtp_server))
    [warning] = texts(at.warning)
    assert warning.startswith("2 sends were interrupted while sending since ")
    assert "never sent again automatically" in warning
    assert "1 sends are going out right now" in texts(at.info)[0]
    # One sender at a time: Send waits for the live one.
    send = button(at, f"send_queued_{campaign_id}")
    assert (
        send.disabled
        and send.help == "This campaign is being sent right now; wait until that finishes."
    )

    button(at, f"send_release_{campaign_id}").click()
    at.run()
    assert smtp_server.messages == []  # asked first, nothing done yet
    assert "would get it twice" in texts(at.markdown)[-1]
    button(at, f"send_release_no_{campaign_id}").click()
    at.run()
    assert len(at.button(key=f"send_release_{campaign_id}").label) > 0
    assert {s for s, _ in statuses(dbc, campaign_id).values()} == {"Sending", "Queued"}

    button(at, f"send_release_{campaign_id}").click()
    at.run()
    button(at, f"send_release_yes_{campaign_id}").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # The two interrupted ones and the queued one went; the one claimed just now did not.
    assert sorted(m.recipients[0] for m in smtp_server.messages) == sorted(
        [chosen[0][3], chosen[1][3], chosen[3][3]]
    )
    assert statuses(dbc, campaign_id)[chosen[2][0]] == ("Sending", None)
    assert "2 interrupted sends are queued again." in [t.value for t in at.toast]


def test_an_unknown_campaign_says_so(app_env: Path) -> None:
    at = panel(987_654, None)
    assert texts(at.warning) == ["That campaign no longer exists; someone may have deleted it."]


# --- The customer page's message dialog ------------------------------------------------


def customer_page(customer_id: int, secrets: dict[str, Any] | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.secrets["smtp" if secrets is not None else "elsewhere"] = secrets or {"x": 1}
    at.run()
    at.switch_page("app_pages/Customer.py")
    at.query_params["id"] = str(customer_id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def message_dialog(customer_id: int, secrets: dict[str, Any] | None) -> AppTest:
    at = customer_page(customer_id, secrets)
    at.button(key="open_message").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_personalised_email_is_delivered_and_its_outcome_shown(
    dbc: Con, smtp_server: Recorder
) -> None:
    [(customer_id, first, last, email, _city)] = people(dbc, 1)
    subscribe(dbc, [customer_id])
    at = message_dialog(customer_id, smtp_secrets(smtp_server))
    at.text_input(key=actions.SUBJECT).input("For [First Name]")
    at.text_area(key=actions.BODY).input("Hello [First Name]").run()
    at.button(key="msg_send").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    name = f"{first} {last}".strip()
    assert f"Email to {name} delivered." in [t.value for t in at.toast]
    [received] = smtp_server.messages
    assert received.recipients == [email]
    assert received.message["Subject"] == f"For {first}"
    assert received.message.get_content().strip() == f"Hello {first}"
    row = dbc.execute(
        "SELECT status, failure_reason, delivered_at IS NOT NULL FROM messages"
        " WHERE customer_id = $id ORDER BY id DESC LIMIT 1",
        {"id": customer_id},
    ).fetchone()
    assert row == ("Sent", None, True)


def test_a_refused_personalised_email_says_why_and_the_history_keeps_it(
    dbc: Con, smtp_server: Recorder
) -> None:
    [(customer_id, first, last, email, _city)] = people(dbc, 1)
    subscribe(dbc, [customer_id])
    smtp_server.refuse.add(email)
    at = message_dialog(customer_id, smtp_secrets(smtp_server))
    at.text_area(key=actions.BODY).input("Hello").run()
    at.button(key="msg_send").click()
    at.run()
    name = f"{first} {last}".strip()
    assert f"Email to {name} failed: {REFUSAL}. It is in the history with the reason." in [
        t.value for t in at.toast
    ]
    history = dbc.execute(
        "SELECT status, failure_reason FROM messages WHERE customer_id = $id",
        {"id": customer_id},
    ).fetchall()
    assert ("Failed", REFUSAL) in history


def test_emails_written_before_delivery_was_configured_go_out_later(
    dbc: Con, smtp_server: Recorder
) -> None:
    """Written without [smtp], a personalised email stayed Queued for ever; once [smtp]
    is set, the customer page offers to send what waits, and sends each once."""
    [(customer_id, first, last, email, _city)] = people(dbc, 1)
    subscribe(dbc, [customer_id])
    name = f"{first} {last}".strip()
    at = message_dialog(customer_id, None)
    at.text_input(key=actions.SUBJECT).input("For [First Name]")
    at.text_area(key=actions.BODY).input("Hello [First Name]").run()
    at.button(key="msg_send").click()
    at.run()
    assert (
        f"Email to {escape_markdown(name)} queued in the outbox: email delivery is not configured."
        in [t.value for t in at.toast]
    )
    queued = dbc.execute(
        "SELECT id FROM messages WHERE customer_id = $id AND status = 'Queued'",
        {"id": customer_id},
    ).fetchall()
    assert len(queued) == 1
    waiting = [str(c.value) for c in at.caption if "outbox" in str(c.value)]
    assert waiting and "once email delivery is configured" in waiting[0]
    assert not [b for b in at.button if b.key == f"send_queued_{customer_id}"]

    at = customer_page(customer_id, smtp_secrets(smtp_server))
    at.button(key=f"send_queued_{customer_id}").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Delivered 1 email to {escape_markdown(name)}." in [t.value for t in at.toast]
    [received] = smtp_server.messages
    assert received.recipients == [email]
    assert received.message["Subject"] == f"For {first}"
    row = dbc.execute(
        "SELECT status, delivered_at IS NOT NULL FROM messages WHERE id = $id",
        {"id": queued[0][0]},
    ).fetchone()
    assert row == ("Sent", True)
    # Nothing waits any more: no button, and a second page run sends nothing again.
    assert not [b for b in at.button if b.key == f"send_queued_{customer_id}"]
    assert len(smtp_server.messages) == 1
