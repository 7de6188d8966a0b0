-- The search signature (crm/search.py): one bit per pair of adjacent letters
-- of the search text, so a search skips rows that cannot contain its term
-- before reading their text. Written by every statement that writes the text;
-- NULL passes the test. The expression is crm.search.SIGNATURE_OF_COLUMN
-- (tests/test_search_signature.py checks that the two agree).
ALTER TABLE customers ADD COLUMN search_sig UBIGINT;

UPDATE customers SET search_sig = coalesce(list_aggregate(list_transform(range(1, length(search_text)),
    lambda i: CAST(1 AS UBIGINT) << CAST((unicode(substr(search_text, i, 1)) * 31
        + unicode(substr(search_text, i + 1, 1))) % 64 AS UBIGINT)), 'bit_or'), CAST(0 AS UBIGINT));
