-- Per-customer facts for the segment builder (issue 9): what each customer
-- bought and how they take the campaigns, so a filter reads a few rows per
-- customer instead of the 23.5 million order lines (at 1,000,000 customers).
-- Kept current by crm.writes in the transaction that changes orders or sends
-- (crm.facts), filled in bulk by the seeder (crm.facts.fill_all, the same SQL
-- as below).

-- Every (customer, product) pair bought, with the last time. Stored sorted by
-- product, so a product filter reads the few row groups of that product (zone
-- maps) instead of every pair: at 1M customers ~19M pairs.
CREATE TABLE customer_products (
    customer_id    BIGINT NOT NULL,
    product_id     BIGINT NOT NULL,
    last_bought_at TIMESTAMP NOT NULL
);

-- Every (customer, category) pair bought, with the last time, sorted by
-- category for the same reason: at 1M customers ~7M pairs for 10 categories.
CREATE TABLE customer_categories (
    customer_id    BIGINT NOT NULL,
    category       VARCHAR NOT NULL,
    last_bought_at TIMESTAMP NOT NULL
);

INSERT INTO customer_products
SELECT i.customer_id, i.product_id, max(o.ordered_at)
FROM order_items i JOIN orders o ON o.id = i.order_id
GROUP BY i.customer_id, i.product_id
ORDER BY i.product_id, i.customer_id;

INSERT INTO customer_categories
SELECT cp.customer_id, p.category, max(cp.last_bought_at)
FROM customer_products cp JOIN products p ON p.id = cp.product_id
GROUP BY cp.customer_id, p.category
ORDER BY p.category, cp.customer_id;

-- Campaign engagement on the customer row, so "engaged lately" and "never
-- opened" are comparisons per row. No open or click times are recorded, so
-- engagement is dated by the send that was opened or clicked.
ALTER TABLE customers ADD COLUMN delivered_sends INTEGER DEFAULT 0;
ALTER TABLE customers ADD COLUMN opened_sends INTEGER DEFAULT 0;
ALTER TABLE customers ADD COLUMN last_engaged_at TIMESTAMP;

UPDATE customers
SET delivered_sends = e.delivered_sends,
    opened_sends = e.opened_sends,
    last_engaged_at = e.last_engaged_at
FROM (
    SELECT customer_id,
           count(*) FILTER (WHERE status = 'Delivered') AS delivered_sends,
           count(*) FILTER (WHERE status = 'Delivered' AND opens > 0) AS opened_sends,
           max(sent_at) FILTER (WHERE opens > 0 OR clicks > 0) AS last_engaged_at
    FROM campaign_sends
    GROUP BY customer_id
) AS e
WHERE customers.id = e.customer_id;
