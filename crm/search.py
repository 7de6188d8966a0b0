"""A customer's search signature: which pairs of adjacent letters their search text holds.

A search finds the customers whose search text contains the term
(``crm.queries``). Every pair of adjacent letters of the term is then a pair
of the text as well, so the text's signature (one bit per pair: the pair's
code points folded into 64 bits) has every bit of the term's signature. A
row whose signature lacks one of them cannot match, and is passed over
without its text being read. The test never drops a match; it only spares
the text scan of rows that cannot match.

Why: the text scan is the costliest part of a search. At a million
customers (DuckDB 2.0.1, 2 cores) 175,013 rows have the signature bits of
"bar" (19,852 contain it), so the text of the other 825,000 is never read.

The signature is computed in SQL from the stored text in the same statement
that writes the text (``SIGNATURE_OF_*``: crm.writes, crm.exchange.importer,
crm.demo.seed, migration 017), and a missing one (NULL: a row written some
other way) passes the test, so a forgotten writer could only cost speed.
``crm.checks`` finds any row whose signature disagrees with its text.
``signature`` is the same computation in Python: for the term of a search,
and for the tests.
"""

from __future__ import annotations

import itertools

# Bit ((first letter's code point * 31 + second's) % 64) for each adjacent pair,
# OR-ed together; 0 for a text shorter than two letters. DuckDB counts and cuts
# strings by code point, as Python does.
_TEMPLATE = """coalesce(list_aggregate(list_transform(range(1, length({text})),
    lambda i: CAST(1 AS UBIGINT) << CAST((unicode(substr({text}, i, 1)) * 31
        + unicode(substr({text}, i + 1, 1))) % 64 AS UBIGINT)), 'bit_or'), CAST(0 AS UBIGINT))"""

# The signature of a column named search_text, and of the named parameters the
# writers bind the text to.
SIGNATURE_OF_COLUMN = _TEMPLATE.format(text="search_text")
SIGNATURE_OF_PARAMETER = _TEMPLATE.format(text="$search_text")
# The import's new text (n) and the text an undone import puts back (ic).
SIGNATURE_OF_NEW = _TEMPLATE.format(text="n.search_text")
SIGNATURE_OF_OLD = _TEMPLATE.format(text="ic.search_text")
# Whether a row may match a search: its signature holds the term's ($term_sig,
# ``signature(term)``), or it has none. Bound as a number and written so DuckDB
# tests it while scanning, before the text: counting "bar" at a million
# customers took 11.4 ms this way against 17.9 ms by the text alone, and 20.7 ms
# with "search_sig IS NULL OR ..." (not tested while scanning) or 22.4 ms with the
# term's signature computed in SQL.
MAY_MATCH = """(coalesce(search_sig, CAST($term_sig AS UBIGINT)) & CAST($term_sig AS UBIGINT))
    = CAST($term_sig AS UBIGINT)"""


def signature(text: str) -> int:
    """The signature of ``text``, as the SQL above computes it."""
    bits = 0
    for first, second in itertools.pairwise(text):
        bits |= 1 << ((ord(first) * 31 + ord(second)) % 64)
    return bits
