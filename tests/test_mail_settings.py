"""The [smtp] section: parsed from a plain mapping, every problem in a sentence."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crm.mail.settings import DEFAULT_BATCH, DEFAULT_RATE, SmtpConfigError, parse_settings
from crm.mail.transport import RateLimit

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "host": "smtp.example.com",
    "user": "shop",
    "password": "s3cret",
    "from_address": "shop@example.com",
}


def problems(raw: dict[str, object]) -> list[str]:
    with pytest.raises(SmtpConfigError) as refused:
        parse_settings(raw)
    return refused.value.problems


def test_the_smallest_section_gets_sensible_defaults() -> None:
    settings = parse_settings(GOOD)
    assert (settings.host, settings.port) == ("smtp.example.com", 587)
    assert settings.security == "starttls"
    assert (settings.rate_limit, settings.batch_size) == (DEFAULT_RATE, DEFAULT_BATCH)
    assert settings.reply_to is None and settings.from_name == ""
    assert "s3cret" not in repr(settings)


def test_tls_defaults_to_port_465_and_quoted_numbers_are_numbers() -> None:
    settings = parse_settings({**GOOD, "security": "TLS", "rate_limit": "2.5", "batch_size": "20"})
    assert (settings.security, settings.port, settings.rate_limit, settings.batch_size) == (
        "tls",
        465,
        2.5,
        20,
    )


def test_every_problem_is_named_at_once() -> None:
    found = problems(
        {
            "hots": "smtp.example.com",
            "port": "five",
            "security": "ssl",
            "user": "shop",
            "from_address": "not an address",
            "batch_size": 0,
        }
    )
    assert found == [
        "hots is not a setting of [smtp]. Did you mean host? Known: host, port, security, user,"
        " password, from_address, from_name, reply_to, rate_limit, batch_size, timeout.",
        'host is missing: the mail server\'s name, like host = "smtp.example.com".',
        'security must be "starttls", "tls" or "none" ("ssl" is "tls" here); it is \'ssl\'.',
        "port must be a whole number, like port = 587; it is 'five'.",
        "password is missing: user is set ('shop') but has no password.",
        "from_address must be one email address, like name@example.com; it is 'not an address'.",
        "batch_size must be between 1 and 1,000; it is 0.",
    ]


def test_a_password_is_never_sent_unencrypted() -> None:
    [sentence] = problems({**GOOD, "security": "none"})
    assert "unencrypted" in sentence
    # Without a sign-in, a plain connection (a relay on the same machine) is fine.
    relay = parse_settings({"host": "localhost", "security": "none", "from_address": "a@b"})
    assert relay.port == 25


def test_the_example_file_documents_a_valid_section() -> None:
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")
    # The example is commented out: uncomment the [smtp] block and it must parse.
    block = example.split("# [smtp]", 1)[1].split("\n# ---", 1)[0]
    uncommented = "[smtp]\n" + "\n".join(
        line.removeprefix("# ") for line in block.splitlines() if line.startswith("# ")
    )
    section = tomllib.loads(uncommented)["smtp"]
    settings = parse_settings(section)
    assert settings.host == "smtp.example.com"
    assert set(section) >= {"host", "port", "security", "user", "password", "from_address"}


def test_the_rate_limit_spaces_messages() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limit = RateLimit(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limit.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    now[0] += 10  # a pause longer than a slot: the next one goes at once
    limit.wait()
    assert len(slept) == 4
