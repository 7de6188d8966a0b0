-- The categories each customer bought, on the customer row as one bit per
-- category (crm.facts keeps it current with customer_categories), so the
-- Insights panel counts a segment's buyers per category while it reads the
-- segment's rows: one GROUP BY over the masks instead of a join of the
-- segment's ids with the ~7 M (customer, category) pairs at a million
-- customers (25-45 ms per panel, see crm.insights.profile).
--
-- Each category gets a bit for good, when its first product is written (in
-- alphabetical order among those written together); bits 0-63 fit
-- the mask. A category without a bit below 64 makes crm.insights read the
-- pairs as before.
CREATE TABLE category_bits (
    category VARCHAR PRIMARY KEY,
    bit      INTEGER NOT NULL UNIQUE
);

INSERT INTO category_bits
SELECT category, CAST(row_number() OVER (ORDER BY category) - 1 AS INTEGER)
FROM (SELECT DISTINCT category FROM products);

ALTER TABLE customers ADD COLUMN category_mask UBIGINT DEFAULT 0;

UPDATE customers SET category_mask = m.mask
FROM (
    SELECT cc.customer_id,
           bit_or(CAST(1 AS UBIGINT) << CAST(b.bit AS UBIGINT)) AS mask
    FROM customer_categories AS cc JOIN category_bits AS b USING (category)
    WHERE b.bit < 64
    GROUP BY cc.customer_id
) AS m
WHERE customers.id = m.customer_id;
