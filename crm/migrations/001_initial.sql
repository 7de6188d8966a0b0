-- Customer Hub schema, version 1.
--
-- No FOREIGN KEY constraints: DuckDB refuses to delete or update a parent row
-- that any committed child row still references, even inside the transaction
-- that deletes the children first. Referential integrity is kept by crm.writes,
-- which changes parents and children in one transaction.

CREATE SEQUENCE customer_id_seq START 1;
CREATE SEQUENCE product_id_seq START 1;
CREATE SEQUENCE order_id_seq START 1;
CREATE SEQUENCE visit_id_seq START 1;
CREATE SEQUENCE campaign_id_seq START 1;
CREATE SEQUENCE campaign_send_id_seq START 1;
CREATE SEQUENCE message_id_seq START 1;

CREATE TABLE customers (
    id             BIGINT PRIMARY KEY DEFAULT nextval('customer_id_seq'),
    first_name     VARCHAR NOT NULL,
    last_name      VARCHAR NOT NULL,
    email          VARCHAR NOT NULL,
    -- lower(email); the UNIQUE index makes "Ana@x.com" and "ana@x.com" one address.
    email_key      VARCHAR NOT NULL UNIQUE,
    phone          VARCHAR NOT NULL DEFAULT '',
    street         VARCHAR NOT NULL DEFAULT '',
    city           VARCHAR NOT NULL DEFAULT '',
    state          VARCHAR NOT NULL DEFAULT '',
    zip            VARCHAR NOT NULL DEFAULT '',
    country        VARCHAR NOT NULL DEFAULT '',
    avatar         BLOB,
    avatar_type    VARCHAR,
    created_at     TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    updated_at     TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    -- Optimistic concurrency: every profile write checks and bumps it.
    version        INTEGER NOT NULL DEFAULT 1,
    -- lower(first || ' ' || last || ' ' || email), so a search is one
    -- substring test per row instead of three lower() calls per keystroke.
    -- Stored uncompressed: a substring scan of 1M rows then takes about a
    -- third of the time it takes over DuckDB's dictionary/FSST compression.
    search_text    VARCHAR USING COMPRESSION uncompressed NOT NULL,
    -- Per-customer figures, kept current by every write that changes orders
    -- or visits, so no page aggregates the orders table on a rerun.
    total_spending DECIMAL(14, 2) NOT NULL DEFAULT 0,
    order_count    INTEGER NOT NULL DEFAULT 0,
    visit_count    INTEGER NOT NULL DEFAULT 0,
    last_visit     TIMESTAMP
);

CREATE TABLE products (
    id       BIGINT PRIMARY KEY DEFAULT nextval('product_id_seq'),
    name     VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    price    DECIMAL(10, 2) NOT NULL CHECK (price >= 0)
);

CREATE TABLE orders (
    id          BIGINT PRIMARY KEY DEFAULT nextval('order_id_seq'),
    customer_id BIGINT NOT NULL,
    ordered_at  TIMESTAMP NOT NULL,
    -- Always the sum of the order's items (crm.writes computes it).
    amount      DECIMAL(12, 2) NOT NULL CHECK (amount >= 0)
);
CREATE INDEX orders_customer_idx ON orders (customer_id);

CREATE TABLE order_items (
    order_id    BIGINT NOT NULL,
    -- Denormalised from orders so one customer's items are found without a
    -- join over every order item.
    customer_id BIGINT NOT NULL,
    product_id  BIGINT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    unit_price  DECIMAL(10, 2) NOT NULL CHECK (unit_price >= 0)
);
CREATE INDEX order_items_customer_idx ON order_items (customer_id);

CREATE TABLE visits (
    id          BIGINT PRIMARY KEY DEFAULT nextval('visit_id_seq'),
    customer_id BIGINT NOT NULL,
    visited_at  TIMESTAMP NOT NULL,
    channel     VARCHAR NOT NULL CHECK (channel IN ('store', 'web')),
    -- Set when the visit is the one an order was placed in.
    order_id    BIGINT
);
CREATE INDEX visits_customer_idx ON visits (customer_id);

CREATE TABLE campaigns (
    id         BIGINT PRIMARY KEY DEFAULT nextval('campaign_id_seq'),
    name       VARCHAR NOT NULL,
    channel    VARCHAR NOT NULL CHECK (channel IN ('Email', 'SMS', 'Push')),
    template   VARCHAR NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp()
);

CREATE TABLE campaign_sends (
    id          BIGINT PRIMARY KEY DEFAULT nextval('campaign_send_id_seq'),
    campaign_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    -- NULL while the send is queued (the customer was just added).
    sent_at     TIMESTAMP,
    status      VARCHAR NOT NULL CHECK (status IN ('Queued', 'Delivered', 'Failed')),
    opens       INTEGER NOT NULL DEFAULT 0 CHECK (opens >= 0),
    clicks      INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    UNIQUE (campaign_id, customer_id)
);
CREATE INDEX campaign_sends_customer_idx ON campaign_sends (customer_id);

-- Personalised one-to-one messages: an outbox a mail provider can read later.
CREATE TABLE messages (
    id          BIGINT PRIMARY KEY DEFAULT nextval('message_id_seq'),
    customer_id BIGINT NOT NULL,
    channel     VARCHAR NOT NULL DEFAULT 'Email' CHECK (channel IN ('Email', 'SMS')),
    subject     VARCHAR NOT NULL DEFAULT '',
    body        VARCHAR NOT NULL,
    sent_at     TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    status      VARCHAR NOT NULL DEFAULT 'Queued' CHECK (status IN ('Queued', 'Sent', 'Failed'))
);
CREATE INDEX messages_customer_idx ON messages (customer_id);
