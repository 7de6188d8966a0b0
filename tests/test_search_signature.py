"""The search signature (crm.search): computed alike in SQL and Python, written with the
text by every writer, and a search with it finds exactly the customers whose text
contains the term (brute force over the stored texts)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import duckdb
import pytest

from crm import checks, queries, search, writes
from crm.models import CustomerCreate, CustomerFilter, CustomerUpdate

Con = duckdb.DuckDBPyConnection
MIGRATION = Path(search.__file__).parent / "migrations" / "017_search_signature.sql"


def _stored(con: Con) -> list[tuple[int, str, int | None]]:
    return [
        (int(i), str(t), None if g is None else int(g))
        for i, t, g in con.execute("SELECT id, search_text, search_sig FROM customers").fetchall()
    ]


def test_sql_and_python_agree_on_any_text() -> None:
    letters = "abcxyz @.-'éèñüßøİı😀\u0301"
    rng = random.Random(7)
    texts = [
        "",
        "a",
        "ab",
        *("".join(rng.choices(letters, k=rng.randint(0, 40))) for _ in range(300)),
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (search_text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[t] for t in texts])
    rows = con.execute(f"SELECT search_text, {search.SIGNATURE_OF_COLUMN} FROM t").fetchall()
    assert len(rows) == len(texts)
    for text, sig in rows:
        assert int(sig) == search.signature(text), repr(text)


def test_the_migration_writes_the_module_s_expression() -> None:
    sql = MIGRATION.read_text()
    match = re.search(r"SET search_sig = (.*);", sql, re.DOTALL)
    assert match is not None
    assert " ".join(match.group(1).split()) == " ".join(search.SIGNATURE_OF_COLUMN.split())


def test_every_seeded_customer_has_the_signature_of_their_text(con: Con) -> None:
    rows = _stored(con)
    assert rows
    assert all(sig == search.signature(text) for _, text, sig in rows)
    assert checks.database_problems(con) == []


def test_adding_and_editing_a_customer_write_the_signature(con: Con) -> None:
    new = writes.create_customer(
        con,
        CustomerCreate(first_name="Zoë", last_name="Quist", email="zoe.quist@example.com"),
    )
    (text, sig) = con.execute(
        "SELECT search_text, search_sig FROM customers WHERE id = ?", [new]
    ).fetchone()  # type: ignore[misc]
    assert sig == search.signature(text) == search.signature("zoë quist zoe.quist@example.com")
    customer = queries.get_customer(con, new)
    assert customer is not None
    writes.update_customer(
        con,
        new,
        CustomerUpdate(
            first_name="Yannick",
            last_name="Brûlé",
            email="yb@example.com",
            version=customer.version,
        ),
    )
    (text, sig) = con.execute(
        "SELECT search_text, search_sig FROM customers WHERE id = ?", [new]
    ).fetchone()  # type: ignore[misc]
    assert text == "yannick brûlé yb@example.com"
    assert sig == search.signature(text)
    # Found by the new name, not by the old one.
    assert queries.count_segment(con, CustomerFilter(search="brûlé")) == 1
    assert queries.count_segment(con, CustomerFilter(search="quist")) == 0


def _terms(con: Con) -> list[str]:
    rng = random.Random(11)
    texts = [text for _, text, _ in _stored(con)]
    picked = rng.sample(texts, 40)
    terms = ["a", "an", "zz", "@", "é", "xq", ".com", "son@"]
    for text in picked:
        start = rng.randrange(len(text))
        terms.append(text[start : start + rng.randint(2, 9)])
    terms.append(picked[0])  # a whole text
    return terms


def test_a_search_finds_exactly_the_texts_that_contain_the_term(con: Con) -> None:
    texts = [text for _, text, _ in _stored(con)]
    for term in _terms(con):
        wanted = term.strip().lower()
        if not wanted:
            continue
        expected = sum(wanted in text for text in texts)
        assert queries.count_segment(con, CustomerFilter(search=term)) == expected, term


def test_a_missing_signature_costs_no_match(con: Con) -> None:
    """A row written without its signature (NULL) is still found."""
    customer, text = con.execute(
        "SELECT id, search_text FROM customers ORDER BY id LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    con.execute("UPDATE customers SET search_sig = NULL WHERE id = ?", [customer])
    found = queries.customer_page(con, CustomerFilter(search=text)).rows
    assert [card.id for card in found] == [customer]
    assert checks.database_problems(con) == []


@pytest.mark.parametrize("wrong", [0, 1])
def test_a_signature_that_disagrees_with_its_text_is_reported(con: Con, wrong: int) -> None:
    (customer,) = con.execute("SELECT min(id) FROM customers").fetchone()  # type: ignore[misc]
    con.execute("UPDATE customers SET search_sig = ? WHERE id = ?", [wrong, customer])
    problems = checks.database_problems(con)
    assert len(problems) == 1
    assert "search signature of 1 customer" in problems[0]
    assert f"customer ids {customer})" in problems[0]
