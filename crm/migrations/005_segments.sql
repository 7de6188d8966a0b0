-- Saved segments (issue 9): a name for a set of filters, applied afresh each
-- time it is opened, so the segment follows the data.
--
-- ``filters`` is the segment as URL query parameters (crm.segments'
-- params_from_filter, without the page), as a JSON object of text values:
-- {"spend_min": "500", "last": "older", "days": "90"}. JSON text rather than
-- a MAP(VARCHAR, VARCHAR) so a filter that takes several values (countries)
-- can keep a list, and so it reads back on any DuckDB without the json
-- extension (crm.saved_segments parses it in Python).
CREATE SEQUENCE segment_id_seq START 1;

CREATE TABLE segments (
    id          BIGINT PRIMARY KEY DEFAULT nextval('segment_id_seq'),
    name        VARCHAR NOT NULL,
    description VARCHAR NOT NULL DEFAULT '',
    filters     VARCHAR NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    updated_at  TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    -- Optimistic concurrency, as for customers: every write checks and bumps
    -- it in its own WHERE clause, so a stale write changes no row.
    version     INTEGER NOT NULL DEFAULT 1,
    -- Who created and last changed it: NULL until sign-in exists (issue 11).
    created_by  VARCHAR,
    updated_by  VARCHAR
);

-- Names are unique case-insensitively, enforced by the database itself, so
-- two app instances writing one database cannot both save "VIP" and "vip".
-- The table is new and empty here: an index may be created in the same
-- transaction (DuckDB refuses only after the table's rows were changed).
CREATE UNIQUE INDEX segments_name_key ON segments (lower(name));
