-- Imports of customers and orders from files (issue 11, crm.exchange.importer).
--
-- Each confirmed import is one batch. What it wrote is listed in mapping
-- tables rather than in a column of customers and orders, so the core tables
-- and every query over them stay as they are. "Undo this import" removes a
-- batch as a whole, and only while its customers are otherwise unchanged.
CREATE SEQUENCE import_batch_id_seq START 1;
CREATE TABLE import_batches (
    id              BIGINT PRIMARY KEY DEFAULT nextval('import_batch_id_seq'),
    -- 'customers' or 'orders'.
    kind            VARCHAR NOT NULL CHECK (kind IN ('customers', 'orders')),
    file_name       VARCHAR NOT NULL,
    -- SHA-256 of the file's bytes, to name it and to see the same file twice.
    file_sha256     VARCHAR NOT NULL,
    file_rows       BIGINT NOT NULL,
    created         BIGINT NOT NULL DEFAULT 0,
    updated         BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    refused         BIGINT NOT NULL DEFAULT 0,
    orders          BIGINT NOT NULL DEFAULT 0,
    imported_at     TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    imported_by     VARCHAR,
    -- Set when the import was undone (then its rows are gone).
    undone_at       TIMESTAMP,
    undone_by       VARCHAR
);

-- Customers a batch created or updated. For an update, the values it
-- replaced, so an undo puts them back; version_after is the customer's
-- version right after the import: a different one means someone edited the
-- customer since, and the import is then not undone.
CREATE TABLE import_customers (
    batch_id        BIGINT NOT NULL,
    customer_id     BIGINT NOT NULL,
    action          VARCHAR NOT NULL CHECK (action IN ('created', 'updated')),
    version_after   INTEGER NOT NULL,
    first_name      VARCHAR,
    last_name       VARCHAR,
    email           VARCHAR,
    email_key       VARCHAR,
    phone           VARCHAR,
    street          VARCHAR,
    city            VARCHAR,
    state           VARCHAR,
    zip             VARCHAR,
    country         VARCHAR,
    search_text     VARCHAR,
    updated_at      TIMESTAMP
);
CREATE INDEX import_customers_batch_idx ON import_customers (batch_id);

-- Orders a batch created (with their items and visits).
CREATE TABLE import_orders (
    batch_id        BIGINT NOT NULL,
    order_id        BIGINT NOT NULL,
    customer_id     BIGINT NOT NULL
);
CREATE INDEX import_orders_batch_idx ON import_orders (batch_id);
