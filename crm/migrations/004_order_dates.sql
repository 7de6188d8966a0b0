-- Customer scores (crm.scores): the first and last order dates become figures
-- of their own, kept current by crm.writes like total_spending and
-- order_count. The last order is the R of RFM (last_visit counts visits
-- without a purchase too); with the first one it gives the buying rhythm, as
-- the average gap between orders telescopes to (last - first) / (orders - 1).
ALTER TABLE customers ADD COLUMN first_order_at TIMESTAMP;
ALTER TABLE customers ADD COLUMN last_order_at TIMESTAMP;

-- The customer's RFM group (crm.scores.GROUPS), stored so a segment filters
-- and counts groups without scoring a million rows on every keystroke (see
-- crm/scores.py for the measurements). Kept current
-- with the cut points below: by crm.writes for the customer whose orders
-- change, by crm.scores.refresh_boundaries for everyone whose group the new
-- cut points move. NULL until the cut points are first computed; a new
-- customer has no orders yet.
ALTER TABLE customers ADD COLUMN rfm_group VARCHAR;
ALTER TABLE customers ALTER COLUMN rfm_group SET DEFAULT 'No orders';

-- The buying rhythm, stored so a segment filters on it with a comparison per
-- row instead of date arithmetic (crm.scores.RHYTHM_STATUS_SQL): the average
-- days between orders, rounded half up, at least 1, and the day the next
-- order is expected; NULL below two orders. Kept by crm.writes with the
-- order figures. Every column is added before any row is
-- updated: DuckDB 1.5 refuses to commit a transaction that updates a table
-- between two changes of its columns.
ALTER TABLE customers ADD COLUMN order_gap_days INTEGER;
ALTER TABLE customers ADD COLUMN expected_order_on DATE;

-- A database written before this migration: its customers' dates from their orders.
UPDATE customers
SET first_order_at = dates.first_order_at, last_order_at = dates.last_order_at
FROM (
    SELECT customer_id, min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at
    FROM orders
    GROUP BY customer_id
) AS dates
WHERE customers.id = dates.customer_id;

UPDATE customers
SET order_gap_days = greatest(1,
        (2 * (CAST(last_order_at AS DATE) - CAST(first_order_at AS DATE)) + order_count - 1)
        // (2 * (order_count - 1)))
WHERE order_count > 1;
UPDATE customers
SET expected_order_on = CAST(last_order_at AS DATE) + order_gap_days
WHERE order_count > 1;

-- The RFM quintile cut points among customers with orders (one row at most),
-- recomputed now and then by crm.scores.refresh_boundaries. Recency's are
-- last-order dates, so they do not age: a customer's R only moves when
-- someone orders. See crm/scores.py for how a value is scored against them.
CREATE TABLE score_boundaries (
    computed_at  TIMESTAMP NOT NULL,
    -- Customers with orders when the cut points were computed.
    customers    BIGINT NOT NULL,
    recency_1    DATE,
    recency_2    DATE,
    recency_3    DATE,
    recency_4    DATE,
    frequency_1  INTEGER,
    frequency_2  INTEGER,
    frequency_3  INTEGER,
    frequency_4  INTEGER,
    monetary_1   DECIMAL(14, 2),
    monetary_2   DECIMAL(14, 2),
    monetary_3   DECIMAL(14, 2),
    monetary_4   DECIMAL(14, 2)
);
